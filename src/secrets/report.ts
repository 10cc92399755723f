// Human text for leak findings: names files and forms, never values.
import type { Finding } from "./scan.ts";

function where(f: Finding): string {
  switch (f.in) {
    case "gzip":
      return `${f.file} (inside the gzip content)`;
    case "git-object":
      return `${f.file} (git object ${f.object})`;
    case "name":
      return `${f.file} (in the file name)`;
    case "symlink-target":
      return `${f.file} (in the symlink target)`;
    default:
      return f.file;
  }
}

/** One line per file: the place and the forms found there. */
export function describeFindings(findings: Finding[]): string {
  if (findings.length === 0) return "secret scan: no secret value or encoding of one was found.";
  const byPlace = new Map<string, Set<string>>();
  for (const f of findings) {
    const key = where(f);
    let forms = byPlace.get(key);
    if (!forms) byPlace.set(key, (forms = new Set()));
    forms.add(f.form);
  }
  const lines = [`secret scan: ${findings.length} finding(s) in ${byPlace.size} place(s):`];
  for (const [place, forms] of byPlace) lines.push(`  ${place}: ${[...forms].join(", ")}`);
  return lines.join("\n");
}

/** Text of `backend/secret-leak-detected.txt`. */
export function renderLeakMarker(findings: Finding[]): string {
  return [
    "secret leak detected",
    "",
    "Found: a secret value (the endpoint URL, its parts such as user, password, host or token, or the API key)",
    "in the run's artifacts, raw or encoded (URL-, JSON-, XML-escaped, hex, base64, Basic auth). The places:",
    describeFindings(findings)
      .split("\n")
      .slice(1)
      .join("\n"),
    "",
    "Expected: no secret value anywhere in the run directory. The agent only ever receives the run's proxy URL",
    "and a per-run token; the real endpoint URL and key never leave the harness.",
    "",
    "What to do: treat the secret as exposed — rotate the key / change the endpoint credentials; do not share this",
    "run directory. Find which component wrote it (the file names above), and re-run. The values themselves are",
    "never printed here. `cto-harness verify RUN_DIR` repeats this scan.",
    "",
  ].join("\n");
}
