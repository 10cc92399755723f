// Which byte strings count as "the secret leaked": the value, its parts (a URL's user,
// password, host, token-like query values, ...), each in the encodings a leak actually
// takes in logs, traces and HTTP dumps. Pure: no I/O, so the rules are tested directly.
// See shared/reference/sandbox-and-secrets.md: plain grep for the URL missed every
// encoded leak; these are the variants that caught them (the GitHub Actions runner masks
// the same ones).

/** Fragments shorter than this are too common to search for (the whole value is always kept). */
export const MIN_PART_LENGTH = 8;

export interface LabeledPart {
  /** What the part is (`value`, `password`, `host`, ...): safe to print, never the part itself. */
  kind: string;
  value: string;
}

const LOOPBACK_HOSTNAMES = new Set(["localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0", "[::]"]);
// Query keys whose values are secret whatever they look like.
const SECRET_KEY = /(token|key|secret|pass|pwd|auth|sig|signature|code|session|credential)/i;

/** A fragment that looks like a credential rather than a word or a date. */
function looksLikeToken(s: string): boolean {
  if (s.length < MIN_PART_LENGTH) return false;
  if (/[a-z]/i.test(s) && /[0-9]/.test(s)) return true;
  return s.length >= 16 && /^[A-Za-z0-9+/=_.~-]+$/.test(s);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The value and its meaningful parts, labelled; fragments under 8 characters are dropped. */
export function labeledSecretParts(value: string): LabeledPart[] {
  const out: LabeledPart[] = [];
  const seen = new Set<string>();
  const add = (kind: string, v: string | undefined) => {
    if (v === undefined || v === "" || seen.has(v)) return;
    if (v !== value && v.length < MIN_PART_LENGTH) return;
    seen.add(v);
    out.push({ kind, value: v });
  };
  add("value", value);
  // Parse from the original text (not only WHATWG URL, which lower-cases and re-encodes),
  // so the parts are byte-for-byte what a log would contain.
  const m = /^([a-z][a-z0-9+.-]*):\/\/(?:([^@/?#]*)@)?([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/i.exec(value.trim());
  if (!m) return out;
  const [, scheme, userinfo, host, path, query] = m;
  add("without-scheme", value.trim().slice(scheme!.length + 3));
  const hostname = host!.replace(/:\d+$/, "");
  add("origin", `${scheme}://${host}`);
  add("host", host);
  if (!LOOPBACK_HOSTNAMES.has(hostname.toLowerCase()) && !/^127\./.test(hostname)) add("hostname", hostname);
  if (path && path !== "/") add("base-url", `${scheme}://${host}${path}`);
  if (userinfo !== undefined) add("url-without-userinfo", `${scheme}://${host}${path}${query ? `?${query}` : ""}`);
  if (userinfo !== undefined && userinfo !== "") {
    const colon = userinfo.indexOf(":");
    const user = colon === -1 ? userinfo : userinfo.slice(0, colon);
    const password = colon === -1 ? undefined : userinfo.slice(colon + 1);
    add("userinfo", userinfo);
    add("userinfo", safeDecode(user) + (password === undefined ? "" : `:${safeDecode(password)}`));
    add("user", user);
    add("user", safeDecode(user));
    add("password", password);
    if (password !== undefined) add("password", safeDecode(password));
  }
  if (query) {
    add("query", query);
    for (const pair of query.split("&")) {
      const eq = pair.indexOf("=");
      const key = eq === -1 ? "" : safeDecode(pair.slice(0, eq));
      const raw = eq === -1 ? pair : pair.slice(eq + 1);
      const decoded = safeDecode(raw.replace(/\+/g, " "));
      if (looksLikeToken(decoded) || (SECRET_KEY.test(key) && decoded.length >= MIN_PART_LENGTH)) {
        add("query-value", raw);
        add("query-value", decoded);
      }
    }
  }
  for (const seg of (path ?? "").split("/")) {
    const decoded = safeDecode(seg);
    if (looksLikeToken(decoded)) {
      add("path-token", seg);
      add("path-token", decoded);
    }
  }
  return out;
}

/** The value and its parts (without scheme, origin, host, userinfo, user, password, token-like query values and path parts). */
export function secretParts(value: string): string[] {
  return labeledSecretParts(value).map((p) => p.value);
}

export interface EncodedForm {
  /** Name of the encoding (`raw`, `url-encoded`, `base64-url@1`, ...): safe to print. */
  form: string;
  needle: Buffer;
}

function xmlEscape(s: string, quot: string, apos: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, quot).replace(/'/g, apos);
}

/**
 * The part of base64(prefix ‖ value) that depends only on the value, for a prefix of
 * `align` bytes: whatever precedes the value in the encoded stream, these characters
 * appear. Leading characters mixed with the prefix and the trailing character mixed with
 * whatever follows are dropped.
 */
export function stableBase64(value: Buffer, align: 0 | 1 | 2): string {
  const enc = Buffer.concat([Buffer.alloc(align), value]).toString("base64").replace(/=+$/, "");
  const lead = align === 0 ? 0 : align === 1 ? 2 : 3;
  const total = align + value.length;
  const trail = total % 3 === 0 ? 0 : 1;
  return enc.slice(lead, enc.length - trail);
}

const toUrlSafe = (s: string) => s.replace(/\+/g, "-").replace(/\//g, "_");

/** Every encoding of `part` a leak has been seen in; duplicates (same bytes) removed, first name kept. */
export function encodedForms(part: string): EncodedForm[] {
  const forms: EncodedForm[] = [];
  const seen = new Set<string>();
  const minLen = Math.min(MIN_PART_LENGTH, Buffer.byteLength(part));
  const addBytes = (form: string, needle: Buffer) => {
    if (needle.length === 0 || needle.length < minLen) return;
    const key = needle.toString("latin1");
    if (seen.has(key)) return;
    seen.add(key);
    forms.push({ form, needle });
  };
  const add = (form: string, text: string) => addBytes(form, Buffer.from(text, "utf8"));
  const bytes = Buffer.from(part, "utf8");
  add("raw", part);
  add("url-encoded", encodeURIComponent(part));
  add("url-encoded", encodeURIComponent(part).replace(/%[0-9A-F]{2}/g, (x) => x.toLowerCase()));
  add("url-encoded", encodeURI(part));
  add("url-encoded", encodeURIComponent(part).replace(/%20/g, "+"));
  const json = JSON.stringify(part).slice(1, -1);
  add("json-escaped", json);
  add("json-escaped", json.replace(/\//g, "\\/"));
  // Go's encoding/json and others escape HTML-significant characters as \u00XX.
  add("json-escaped", json.replace(/[<>&'=]/g, (c) => `\\u00${c.charCodeAt(0).toString(16).padStart(2, "0")}`));
  // Windows tools, PowerShell logs and some editors write UTF-16: the value with a NUL after each ASCII byte.
  addBytes("utf-16le", Buffer.from(part, "utf16le"));
  addBytes("utf-16be", Buffer.from(part, "utf16le").swap16());
  add("hex", bytes.toString("hex"));
  add("hex", bytes.toString("hex").toUpperCase());
  add("xml-escaped", xmlEscape(part, "&quot;", "&apos;"));
  add("xml-escaped", xmlEscape(part, "&#34;", "&#39;"));
  add("xml-escaped", xmlEscape(part, "&#x22;", "&#x27;"));
  // Before the plain base64 forms, so a user:password whose base64 needs no padding keeps this name.
  if (part.includes(":")) {
    const basic = bytes.toString("base64");
    add("basic-auth", basic);
    add("basic-auth", toUrlSafe(basic));
  }
  for (const align of [0, 1, 2] as const) {
    const std = stableBase64(bytes, align);
    add(`base64@${align}`, std);
    add(`base64-url@${align}`, toUrlSafe(std));
  }
  return forms;
}

export interface SecretNeedle {
  needle: Buffer;
  /** `<part kind>/<encoding>`, e.g. `password/base64@1`: names the leak, never its value. */
  form: string;
}

/** All needles for a set of secret values (parts × encodings), deduplicated by bytes. */
export function secretNeedles(secrets: string[]): SecretNeedle[] {
  const out: SecretNeedle[] = [];
  const seen = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    for (const part of labeledSecretParts(secret)) {
      for (const f of encodedForms(part.value)) {
        const key = f.needle.toString("latin1");
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ needle: f.needle, form: `${part.kind}/${f.form}` });
      }
    }
  }
  return out;
}
