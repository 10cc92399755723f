// Scanning a planning record for endpoint values and their encodings (the needles come
// from src/secrets/variants.ts, shared with the bundle scan). Findings name the line and
// the form found (e.g. `host/raw`, `password/base64@1`), never the value itself.
import { secretNeedles } from "../secrets/variants.ts";

export interface RecordLeak {
  line: number;
  form: string;
}

/** One finding per (line, form). */
export function scanRecordText(text: string, secrets: string[]): RecordLeak[] {
  const needles = secretNeedles(secrets);
  if (needles.length === 0) return [];
  const out: RecordLeak[] = [];
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  lines.forEach((line, i) => {
    const bytes = Buffer.from(line, "utf8");
    const forms = new Set<string>();
    for (const n of needles) if (bytes.includes(n.needle)) forms.add(n.form);
    for (const form of forms) out.push({ line: i + 1, form });
  });
  // Line breaks can split an encoded value: look at the whole text too.
  if (out.length === 0) {
    const whole = Buffer.from(text.replace(/\s+/g, ""), "utf8");
    for (const n of needles) if (n.needle.length >= 16 && whole.includes(n.needle)) out.push({ line: 0, form: `${n.form} (across lines)` });
  }
  return out;
}
