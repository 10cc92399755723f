#!/usr/bin/env python3
"""Focused validator of the Case provider adapter, as the planning record documents it:

    python3 harness/runner/validate-case-provider-adapter.py --harness-root harness --json

A thin shim (standard library only) over `cto-harness validate case-provider-adapter`:
it finds the repository's bin/cto-harness relative to this file and execs it, so the
exit code is the CLI's (0 pass, 1 fail, 64 usage error). --json prints the one JSON
document of `validate` on stdout; human text goes to stderr.
"""
import argparse
import os
import sys

USAGE_ERROR = 64


class Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors exit 64, like the CLI (argparse would exit 2)
        self.print_usage(sys.stderr)
        sys.stderr.write(f"validate-case-provider-adapter.py: {message}\n")
        sys.exit(USAGE_ERROR)


def main():
    parser = Parser(description="run `cto-harness validate case-provider-adapter`")
    parser.add_argument("--harness-root", metavar="DIR", help="the harness/ directory of the checkout (checked to exist)")
    parser.add_argument("--json", action="store_true", help="print the validation result as one JSON document on stdout")
    parser.add_argument("--runs-dir", metavar="DIR", help="where the artifact directory goes (default $CTO_HARNESS_RUNS_DIR or ./harness-runs)")
    args = parser.parse_args()

    if args.harness_root is not None and not os.path.isdir(args.harness_root):
        parser.error(f"--harness-root {args.harness_root}: not a directory")
    here = os.path.dirname(os.path.realpath(__file__))
    cli = os.path.join(here, "..", "..", "bin", "cto-harness")
    if not os.access(cli, os.X_OK):
        sys.stderr.write(f"validate-case-provider-adapter.py: {os.path.normpath(cli)} not found or not executable\n")
        sys.exit(3)
    argv = [cli, "validate", "case-provider-adapter"]
    if args.runs_dir:
        argv += ["--runs-dir", args.runs_dir]
    if args.json:
        argv.append("--json")
    sys.stdout.flush()
    os.execv(cli, argv)


if __name__ == "__main__":
    main()
