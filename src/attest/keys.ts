// Ed25519 key files: `keys init` writes them, `--key` loads the private half, `--key PUB` /
// `--keys DIR` / `--trust DIR` load public halves. A key's id is the sha256 of its public
// key's SPKI DER (what the DSSE envelope's `keyid` carries), so anyone can recompute it.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { closeSync, existsSync, openSync, unlinkSync, writeSync } from "node:fs";
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import { join } from "node:path";

/** A key file that cannot be used as given; the message says what is wrong and what to do. */
export class AttestKeyError extends Error {}

export interface SigningKey {
  /** Held in memory only; never serialised (a KeyObject stringifies to `{}`). */
  readonly privateKey: KeyObject;
  /** The key file's real path: its directory is hidden from sandboxed agents. Never recorded. */
  readonly path: string;
  readonly publicKey: KeyObject;
  readonly keyid: string;
}

export interface TrustedKey {
  readonly publicKey: KeyObject;
  readonly keyid: string;
  /** The file it came from (for messages). */
  readonly source: string;
}
/** Public keys by keyid. */
export type TrustedKeys = ReadonlyMap<string, TrustedKey>;

export function keyidOf(publicKey: KeyObject): string {
  return createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex");
}

function writeNew(path: string, text: string, mode: number): void {
  // `wx`: refuse to overwrite, atomically (no check-then-write race).
  let fd: number;
  try {
    fd = openSync(path, "wx", mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new AttestKeyError(`${path} already exists; refusing to overwrite a key (choose another --out, or remove it yourself)`);
    throw new AttestKeyError(`cannot create ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/** Writes a new Ed25519 key pair: private PKCS8 PEM at `out` (mode 0600), public SPKI PEM at `out.pub`. */
export function initKeyPair(out: string): { keyid: string; privatePath: string; publicPath: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const publicPath = `${out}.pub`;
  if (existsSync(publicPath)) throw new AttestKeyError(`${publicPath} already exists; refusing to overwrite a key (choose another --out, or remove it yourself)`);
  writeNew(out, privateKey.export({ type: "pkcs8", format: "pem" }) as string, 0o600);
  try {
    writeNew(publicPath, publicKey.export({ type: "spki", format: "pem" }) as string, 0o644);
  } catch (e) {
    // Only what this call created is removed: never a pair with the wrong half.
    unlinkSync(out);
    throw e;
  }
  return { keyid: keyidOf(publicKey), privatePath: out, publicPath };
}

async function readKeyFile(path: string, what: string): Promise<string> {
  let info;
  try {
    info = await stat(path);
  } catch (e) {
    throw new AttestKeyError(`${what} ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  if (!info.isFile()) throw new AttestKeyError(`${what} ${path} is not a regular file`);
  if (info.size > 64 * 1024) throw new AttestKeyError(`${what} ${path} is ${info.size} bytes; a PEM key is well under 1 KiB`);
  return readFile(path, "utf8");
}

function requireEd25519(key: KeyObject, path: string): void {
  if (key.asymmetricKeyType !== "ed25519") {
    throw new AttestKeyError(`${path} is a ${key.asymmetricKeyType ?? "unknown"} key; cto-harness signs and verifies with Ed25519 only (make one with \`cto-harness keys init --out PATH\`)`);
  }
}

/**
 * The private key to sign with. Refused when group or others may read it (like ssh): a key
 * others can read proves nothing about who signed.
 */
export async function loadSigningKey(path: string): Promise<SigningKey> {
  const text = await readKeyFile(path, "signing key");
  if (!text.includes("PRIVATE KEY")) throw new AttestKeyError(`${path} is not a private key (PKCS8 PEM); --key takes the private key written by \`keys init\`, not its .pub`);
  const mode = (await stat(path)).mode & 0o777;
  if (mode & 0o077) throw new AttestKeyError(`signing key ${path} is readable or writable by group or others (mode ${mode.toString(8)}); run \`chmod 600 ${path}\``);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(text);
  } catch (e) {
    throw new AttestKeyError(`${path} is not a readable PEM private key: ${(e as Error).message}`);
  }
  requireEd25519(privateKey, path);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyid: keyidOf(publicKey), path: await realpath(path) };
}

/** One public key file (SPKI PEM). A private key is refused: a verifier never needs one. */
export async function loadPublicKey(path: string): Promise<TrustedKey> {
  const text = await readKeyFile(path, "public key");
  if (text.includes("PRIVATE KEY")) throw new AttestKeyError(`${path} is a private key; give its public half (${path}.pub); private keys never go to a verifier`);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(text);
  } catch (e) {
    throw new AttestKeyError(`${path} is not a readable PEM public key: ${(e as Error).message}`);
  }
  requireEd25519(publicKey, path);
  return { publicKey, keyid: keyidOf(publicKey), source: path };
}

/** Every `*.pub` / `*.pem` file of a directory (not recursive); at least one is required. */
export async function loadTrustDir(dir: string): Promise<TrustedKeys> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith(".pub") || n.endsWith(".pem")).sort();
  } catch (e) {
    throw new AttestKeyError(`trusted keys directory ${dir}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such directory" : (e as NodeJS.ErrnoException).code === "ENOTDIR" ? "not a directory" : (e as Error).message}`);
  }
  if (names.length === 0) throw new AttestKeyError(`trusted keys directory ${dir} holds no *.pub or *.pem public key files`);
  const keys = new Map<string, TrustedKey>();
  for (const name of names) {
    const key = await loadPublicKey(join(dir, name));
    keys.set(key.keyid, key);
  }
  return keys;
}

/** A public key file or a directory of them (what `verify --key` accepts). */
export async function loadTrustedKeys(fileOrDir: string): Promise<TrustedKeys> {
  const info = await stat(fileOrDir).catch(() => null);
  if (info?.isDirectory()) return loadTrustDir(fileOrDir);
  const key = await loadPublicKey(fileOrDir);
  return new Map([[key.keyid, key]]);
}
