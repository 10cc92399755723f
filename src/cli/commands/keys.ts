// `cto-harness keys init --out PATH`: an Ed25519 key pair for signing bundles (docs/evidence.md).
import type { Command } from "commander";
import { AttestKeyError, initKeyPair } from "../../attest/index.ts";
import { UsageError } from "../exit-codes.ts";

export function register(program: Command): void {
  const keys = program.command("keys").description("signing keys for evidence bundles (Ed25519)");
  keys
    .command("init")
    .description("write a new private key at PATH (mode 0600; never put it in a bundle or share it) and its public key at PATH.pub; refuses to overwrite")
    .requiredOption("--out <path>", "where the private key goes; the public key goes to PATH.pub")
    .option("--json", "print {keyid, private_key, public_key} as JSON")
    .action((o: { out: string; json?: boolean }) => {
      let made;
      try {
        made = initKeyPair(o.out);
      } catch (e) {
        if (e instanceof AttestKeyError) throw new UsageError(e.message);
        throw e;
      }
      const doc = { keyid: made.keyid, private_key: made.privatePath, public_key: made.publicPath };
      if (o.json) process.stdout.write(JSON.stringify(doc, null, 2) + "\n");
      process.stderr.write(
        `private key: ${made.privatePath} (mode 0600; sign with --key ${made.privatePath})\n` +
          `public key:  ${made.publicPath} (give this to verifiers: verify --key, sot check --keys DIR, loop --trust DIR)\n` +
          `keyid:       ${made.keyid}\n`,
      );
    });
}
