// Planning records that lost their line breaks (pasted through a tool that joins lines:
// `--- title: X status: draft --- # X ... ## CTO-WORK-030 - T Status: blocked. ...
// Acceptance: - a. - b. ## Evidence - 2026-06-01 - c.`) put back into the structured form
// parse.ts reads. Pure: text in, text out. Heuristic by nature, so it only runs on text that
// is clearly flattened, and callers say that they reflowed.

/** A `## ` heading exists, but never at the start of a line: the line breaks were lost. */
export function looksFlattened(text: string): boolean {
  const lines = text.split(/\r\n?|\n/);
  return !lines.some((l) => /^\s*##\s/.test(l)) && /(^|\s)##\s/.test(text);
}

const WORK_ITEM = /^([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*-\d+)\s+-\s+(.+?)\s+(Status:\s.*)$/;
const DATED = /^(.+?)\s+-\s+(\d{4}-\d{2}-\d{2})(?:\s+(.*))?$/;
const STATUS = /^Status:\s+(.+?[.;!])(?:\s+(.*))?$/;
const STATUS_WORD = /^Status:\s+(\S+)(?:\s+(.*))?$/;
/**
 * Block labels followed by their first bullet. The record's own labels anywhere; another
 * capitalised label of up to three words only at a sentence start, so prose is not cut.
 */
const LABEL = /(?:^|\s)(Acceptance|Blocked by|Current evidence):\s+(?=-\s)|(?:^|(?<=[.!?`)]\s))([A-Z][a-z]+(?: [a-z]+){0,2}):\s+(?=-\s)/g;

/**
 * Bullets of a flattened block: `- a. - b.` → [`a.`, `b.`]. A ` - ` starts a new bullet
 * only after the end of the previous one (`.`, `!`, `?`, a closing backtick, bracket or
 * quote), so a dash inside a bullet's text stays.
 */
export function splitBullets(text: string): string[] {
  const body = text.trim().replace(/^-\s+/, "");
  if (!body) return [];
  return body
    .split(/(?<=[.!?`)\]"'])\s+-\s+/)
    .map((b) => b.trim())
    .filter(Boolean);
}

function frontMatterLines(body: string): string[] {
  const keys = [...body.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_-]*):(?=\s|$)/g)];
  return keys.map((m, i) => {
    const start = m.index + m[0].length;
    const end = i + 1 < keys.length ? keys[i + 1]!.index : body.length;
    return `${m[1]}: ${body.slice(start, end).trim()}`;
  });
}

/** Description prose, then each labelled block with its bullets. */
function itemBody(text: string): string[] {
  const out: string[] = [];
  const labels = [...text.matchAll(LABEL)];
  const prose = text.slice(0, labels[0]?.index ?? text.length).trim();
  if (prose) out.push(prose, "");
  labels.forEach((m, i) => {
    const start = m.index + m[0].length;
    const end = i + 1 < labels.length ? labels[i + 1]!.index : text.length;
    out.push(`${m[1] ?? m[2]}:`, "", ...splitBullets(text.slice(start, end)).map((b) => `- ${b}`), "");
  });
  return out;
}

export function reflowRecord(text: string): string {
  let rest = text.replace(/\s+/g, " ").trim();
  const out: string[] = [];
  let fmTitle: string | null = null;
  const fm = /^---\s+(.*?)\s+---(?:\s+|$)/.exec(rest);
  if (fm) {
    const lines = frontMatterLines(fm[1]!);
    fmTitle = lines.find((l) => l.startsWith("title: "))?.slice("title: ".length) ?? null;
    out.push("---", ...lines, "---", "");
    rest = rest.slice(fm[0].length);
  }
  const chunks = rest.split(/(?:^|\s)##\s+/);
  const preamble = chunks.shift()!.trim();
  if (preamble) {
    // The title's end is invisible once lines are joined; the front matter's title tells it.
    if (fmTitle && preamble.startsWith(`# ${fmTitle}`)) {
      out.push(`# ${fmTitle}`, "");
      const prose = preamble.slice(fmTitle.length + 2).trim();
      if (prose) out.push(prose, "");
    } else out.push(preamble, "");
  }
  for (const chunk of chunks) {
    const w = WORK_ITEM.exec(chunk);
    if (w) {
      out.push(`## ${w[1]} - ${w[2]}`, "");
      const s = STATUS.exec(w[3]!) ?? STATUS_WORD.exec(w[3]!)!;
      out.push(`Status: ${s[1]}`, "");
      out.push(...itemBody(s[2] ?? ""));
      continue;
    }
    const d = DATED.exec(chunk);
    if (d) {
      out.push(`## ${d[1]} - ${d[2]}`, "", ...splitBullets(d[3] ?? "").map((b) => `- ${b}`), "");
      continue;
    }
    // Another heading: it ends where its first bullet starts.
    const firstBullet = /\s-\s/.exec(chunk);
    if (firstBullet) out.push(`## ${chunk.slice(0, firstBullet.index)}`, "", ...splitBullets(chunk.slice(firstBullet.index)).map((b) => `- ${b}`), "");
    else out.push(`## ${chunk}`, "");
  }
  return out.join("\n").replace(/\n{3,}/g, "\n\n");
}
