// The `case-result/1` agent result protocol (DESIGN §7), as pure decisions over what arrived.
// A result is taken from, in order: the result file, a last `CASE_RESULT {...}` stdout line,
// or a Pi JSON event stream on stdout (Case is Pi-based). Anything else is a protocol
// failure whose marker says exactly what was expected and what arrived.
import { z } from "zod";
import type { AgentResult } from "./types.ts";
import { renderMarker } from "../evidence/markers.ts";
import { unusableFinalReply } from "./builtin-agent/model-output.ts";

export const CASE_PROTOCOL = "case-result/1";
export const CaseResult = z.object({
  protocol: z.literal(CASE_PROTOCOL),
  status: z.enum(["completed", "gave_up", "failed"]),
  summary: z.string(),
});
export type CaseResult = z.infer<typeof CaseResult>;

export interface PiStreamSummary {
  found: boolean;
  finalText: string | null;
  stopReason: string | null;
  errorMessage: string | null;
  /** The last assistant message had thinking but neither text nor a tool call. */
  finalReasoningOnly?: boolean;
}

export interface ArrivedEvidence {
  /** Content of the result file, or null when the agent did not write it. */
  resultFile: string | null;
  /** Why the result file was not read (a symlink, a FIFO, too large), if so. */
  resultFileRefused?: string | null;
  resultFilePath: string;
  stdoutFirstLines: string[];
  stdoutLastLines: string[];
  stdoutBytes: number;
  /** Last `CASE_RESULT ` line seen on stdout, if any (the text after the prefix). */
  caseResultLine: string | null;
  /** Parsed Pi event stream, when stdout carried one. */
  pi: PiStreamSummary | null;
  exitCode: number | null;
}

const EXPECTED =
  `one of: (1) the file named by CTO_HARNESS_RESULT_FILE containing ` +
  `{"protocol":"case-result/1","status":"completed|gave_up|failed","summary":"..."}; ` +
  `(2) a last stdout line "CASE_RESULT {...}" with the same JSON; ` +
  `(3) a Pi JSON event stream (--mode json) ending in agent_end`;

/** Describes why a JSON text is not a valid case-result/1 document, with the error position. */
export function explainJson(text: string): { ok: true; value: CaseResult } | { ok: false; why: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /position (\d+)/.exec(msg);
    const pos = m ? Number(m[1]) : null;
    const around = pos !== null ? ` near ${JSON.stringify(text.slice(Math.max(0, pos - 20), pos + 20))}` : "";
    return { ok: false, why: `not valid JSON: ${msg}${around}` };
  }
  const parsed = CaseResult.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    return { ok: false, why: `JSON does not match case-result/1: ${issues}` };
  }
  return { ok: true, value: parsed.data };
}

function preview(text: string, max = 400): string {
  const t = text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
  return JSON.stringify(t);
}

export function decideCaseResult(a: ArrivedEvidence): AgentResult {
  const problems: string[] = [];
  if (a.resultFile !== null) {
    const r = explainJson(a.resultFile.trim());
    if (r.ok) return { protocolValid: true, source: "result-file", status: r.value.status, summary: r.value.summary };
    problems.push(`result file ${a.resultFilePath}: ${r.why}; content: ${preview(a.resultFile)}`);
  } else if (a.resultFileRefused) {
    problems.push(`result file ${a.resultFilePath}: not read: ${a.resultFileRefused}`);
  } else {
    problems.push(`result file ${a.resultFilePath}: not written`);
  }
  if (a.caseResultLine !== null) {
    const r = explainJson(a.caseResultLine.trim());
    if (r.ok) return { protocolValid: true, source: "stdout-line", status: r.value.status, summary: r.value.summary };
    problems.push(`CASE_RESULT line: ${r.why}; line: ${preview(a.caseResultLine)}`);
  } else {
    problems.push("stdout: no line starting with \"CASE_RESULT \"");
  }
  if (a.pi?.found) {
    if (a.pi.stopReason === "error" || a.pi.stopReason === "aborted") {
      return {
        protocolValid: true,
        source: "pi-events",
        status: "failed",
        summary: a.pi.finalText ?? "",
        modelError: a.pi.errorMessage ?? `pi stopReason: ${a.pi.stopReason}`,
      };
    }
    // Pi ends "normally" on a reply nobody can use (reasoning only, a tool call written as text).
    const unusable = unusableFinalReply({
      content: a.pi.finalText,
      reasoning: a.pi.finalReasoningOnly ? "(reasoning)" : null,
      finishReason: a.pi.stopReason === "length" ? "length" : a.pi.stopReason,
    });
    if (unusable) return { protocolValid: true, source: "pi-events", status: "failed", summary: a.pi.finalText ?? "", modelError: unusable };
    return { protocolValid: true, source: "pi-events", status: "completed", summary: a.pi.finalText ?? "" };
  }
  problems.push("stdout: no Pi JSON event stream (no agent_end event)");
  const marker = renderMarker({
    title: "case agent result protocol failed",
    found:
      `the agent exited with code ${a.exitCode ?? "none (killed)"} and gave no valid result` +
      (a.resultFileRefused ? `; what arrived at the result file path: ${a.resultFileRefused}` : ""),
    expected: EXPECTED,
    todo:
      "make the agent write the result file (path in CTO_HARNESS_RESULT_FILE) or print the CASE_RESULT line last; " +
      "a Pi-based agent can instead run with --mode json so its event stream is parsed",
    details: [
      ...problems,
      `stdout: ${a.stdoutBytes} bytes`,
      `stdout first lines: ${a.stdoutFirstLines.length ? a.stdoutFirstLines.map((l) => preview(l, 200)).join(" | ") : "(none)"}`,
      `stdout last lines: ${a.stdoutLastLines.length ? a.stdoutLastLines.map((l) => preview(l, 200)).join(" | ") : "(none)"}`,
    ],
  });
  return { protocolValid: false, source: null, status: null, summary: null, protocolFailureMarker: marker };
}
