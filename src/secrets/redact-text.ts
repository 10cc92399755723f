// Redacting secret values (and every encoded form of their parts) out of strings and JSON
// values the harness is about to write: file names in findings, report fields, probe results.
import { MultiMatcher } from "./matcher.ts";
import { Redactor } from "./redactor.ts";
import { secretNeedles } from "./variants.ts";

export type TextRedactor = (text: string) => string;

export function createTextRedactor(secrets: string[]): TextRedactor {
  const needles = secretNeedles(secrets.filter((s) => s.length > 0)).map((n) => n.needle);
  if (needles.length === 0) return (text) => text;
  const matcher = new MultiMatcher(needles);
  return (text) => {
    const r = new Redactor(matcher);
    const out = Buffer.concat([r.push(Buffer.from(text)), r.end()]);
    return r.replaced > 0 ? out.toString("utf8") : text;
  };
}

/** A copy of a JSON-like value with every string (keys included) redacted. */
export function redactDeep<T>(value: T, redact: TextRedactor): T {
  if (typeof value === "string") return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact)) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[redact(k)] = redactDeep(v, redact);
    return out as T;
  }
  return value;
}
