// Parser for the user's planning records ("SOT" files): YAML front matter, a `# Title`,
// `## <ID> - <title>` work items (with `Status:`, `Acceptance:`, `Blocked by:`,
// `Current evidence:` blocks of `- ` bullets) and dated evidence sections
// `## <title> - YYYY-MM-DD`. Pure: text in, structure out; no file system.
import { parse as parseYaml } from "yaml";

export interface SotLine {
  /** The bullet's text without the leading `- `. */
  text: string;
  /** 1-based line number in the record. */
  line: number;
}

export interface WorkItem {
  id: string;
  title: string;
  line: number;
  /** Status word, lower case, trailing punctuation removed (`blocked`). Null when absent. */
  status: string | null;
  statusRaw: string | null;
  statusLine: number | null;
  description: string;
  acceptance: SotLine[];
  blockedBy: SotLine[];
  currentEvidence: SotLine[];
  /** Bullets under any other `Label:` block, by label. */
  otherBlocks: Record<string, SotLine[]>;
}

export interface EvidenceSection {
  title: string;
  date: string;
  line: number;
  bullets: SotLine[];
}

export interface SotRecord {
  frontMatter: Record<string, unknown>;
  title: string | null;
  items: WorkItem[];
  evidence: EvidenceSection[];
  /** Every line of the record, for scans. */
  lines: string[];
}

/** The record is not in the expected form; the message says what was expected. */
export class SotFormatError extends Error {}

export const EXPECTED_FORM =
  "a planning record in markdown: optional `---` front matter, then `## <ID> - <title>` work items " +
  "(ID like `CTO-WORK-030`), each with a `Status: <word>.` line and an `Acceptance:` list of `- ` bullets; " +
  "dated evidence sections `## <title> - YYYY-MM-DD` are optional";

const WORK_ITEM_HEADING = /^##\s+([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*-\d+)\s+-\s+(.+?)\s*$/;
const DATED_HEADING = /^##\s+(.+?)\s+-\s+(\d{4}-\d{2}-\d{2})\s*$/;
const BLOCK_LABEL = /^([A-Z][A-Za-z ]*[a-z]):\s*$/;
const STATUS_LINE = /^Status:\s*(.+?)\s*$/;
const BULLET = /^\s*[-*]\s+(.*)$/;

export function normaliseStatus(raw: string): string {
  return raw.trim().replace(/[.;,!]+$/, "").trim().toLowerCase();
}

export function parseSot(text: string): SotRecord {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  let start = 0;
  let frontMatter: Record<string, unknown> = {};
  if (lines[0]?.trim() === "---") {
    const end = lines.findIndex((l, i) => i > 0 && l.trim() === "---");
    if (end < 0) throw new SotFormatError(`front matter opened with '---' on line 1 is never closed; expected ${EXPECTED_FORM}`);
    try {
      const parsed: unknown = parseYaml(lines.slice(1, end).join("\n"));
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) frontMatter = parsed as Record<string, unknown>;
    } catch (error) {
      throw new SotFormatError(`front matter is not valid YAML (${(error as Error).message.split("\n")[0]}); expected ${EXPECTED_FORM}`);
    }
    start = end + 1;
  }

  let title: string | null = null;
  const items: WorkItem[] = [];
  const evidence: EvidenceSection[] = [];
  let item: WorkItem | null = null;
  let section: EvidenceSection | null = null;
  let block: SotLine[] | null = null;
  const description: string[] = [];

  const closeItem = (): void => {
    if (item) item.description = description.join(" ").replace(/\s+/g, " ").trim();
    description.length = 0;
    item = null;
    section = null;
    block = null;
  };

  for (let i = start; i < lines.length; i++) {
    const raw = lines[i]!;
    const lineNo = i + 1;
    const trimmed = raw.trim();
    if (/^#\s+/.test(trimmed) && title === null) {
      title = trimmed.replace(/^#\s+/, "");
      continue;
    }
    if (trimmed.startsWith("## ")) {
      closeItem();
      const w = WORK_ITEM_HEADING.exec(trimmed);
      const d = DATED_HEADING.exec(trimmed);
      if (w && !d) {
        item = {
          id: w[1]!,
          title: w[2]!,
          line: lineNo,
          status: null,
          statusRaw: null,
          statusLine: null,
          description: "",
          acceptance: [],
          blockedBy: [],
          currentEvidence: [],
          otherBlocks: {},
        };
        items.push(item);
      } else if (d) {
        section = { title: d[1]!, date: d[2]!, line: lineNo, bullets: [] };
        evidence.push(section);
        block = section.bullets;
      }
      continue;
    }
    if (trimmed === "") continue;
    const current = item as WorkItem | null;
    if (current) {
      const s = STATUS_LINE.exec(trimmed);
      if (s && current.status === null) {
        current.statusRaw = s[1]!;
        current.status = normaliseStatus(s[1]!);
        current.statusLine = lineNo;
        block = null;
        continue;
      }
      const label = BLOCK_LABEL.exec(trimmed);
      if (label) {
        const name = label[1]!;
        if (name === "Acceptance") block = current.acceptance;
        else if (name === "Blocked by") block = current.blockedBy;
        else if (name === "Current evidence") block = current.currentEvidence;
        else block = current.otherBlocks[name] = [];
        continue;
      }
      const b = BULLET.exec(raw);
      if (b && block) {
        block.push({ text: b[1]!.trim(), line: lineNo });
        continue;
      }
      if (b && !block) {
        (current.otherBlocks["(unlabelled)"] ??= []).push({ text: b[1]!.trim(), line: lineNo });
        continue;
      }
      // A wrapped bullet continues the previous bullet; otherwise it is description prose.
      const last = block?.at(-1);
      if (last && /^\s+\S/.test(raw)) last.text += " " + trimmed;
      else description.push(trimmed);
      continue;
    }
    const sec = section as EvidenceSection | null;
    if (sec) {
      const b = BULLET.exec(raw);
      if (b) sec.bullets.push({ text: b[1]!.trim(), line: lineNo });
      else if (/^\s+\S/.test(raw) && sec.bullets.length > 0) sec.bullets.at(-1)!.text += " " + trimmed;
    }
  }
  closeItem();

  if (items.length === 0) {
    const oneLine = lines.filter((l) => l.trim() !== "").length <= 2 && /\s##\s/.test(text);
    throw new SotFormatError(
      (oneLine
        ? "the record is a single line (its line breaks were lost); "
        : "no work item heading `## <ID> - <title>` found; ") + `expected ${EXPECTED_FORM}`,
    );
  }
  const noStatus = items.filter((it) => it.status === null);
  if (noStatus.length > 0) {
    throw new SotFormatError(
      `work item ${noStatus.map((it) => `${it.id} (line ${it.line})`).join(", ")} has no \`Status:\` line; expected ${EXPECTED_FORM}`,
    );
  }
  return { frontMatter, title, items, evidence, lines };
}
