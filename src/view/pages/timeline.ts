// The proof chain of a run as a timeline, one entry per trace.jsonl event, in the order the
// harness wrote them. Each known event type gets a sentence and a colour (good / bad /
// warn); unknown ones are shown with their fields, so nothing in the trace is hidden.
import { html, type SafeHtml } from "../html.ts";

type Ev = Record<string, unknown>;
type Tone = "good" | "bad" | "warn" | "";

const s = (v: unknown) => (v === null || v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v));
const n = (v: unknown) => (typeof v === "number" ? v : null);

/** What an event says, and whether it is good news for a pass claim (pure). */
export function describeEvent(e: Ev): { title: string; detail: string; tone: Tone } {
  const t = String(e.type);
  switch (t) {
    case "run_started":
      return { title: "run started", detail: `engine ${s(e.engine)}, provider ${s(e.provider)}, model ${s(e.model)}, fixture ${s(e.fixture)}${e.variant ? `#${s(e.variant)}` : ""}, harness ${s(e.harness_version)}`, tone: "" };
    case "admission_checked":
      return { title: "gate: admission", detail: `model ${e.model_admitted ? "admitted" : "NOT admitted"}, source ${e.source_admitted ? "admitted" : "NOT admitted"} (admission source ${s(e.admission_source)})`, tone: e.model_admitted && e.source_admitted ? "good" : "bad" };
    case "provider_config_checked":
      return { title: "gate: provider configuration", detail: `provider ${s(e.provider)} ${e.present ? "configured" : "NOT configured"}${e.variable ? ` (variable ${s(e.variable)})` : ""}`, tone: e.present ? "good" : "bad" };
    case "probe_finished":
      return { title: "gate: response-shape probe", detail: `${s(e.classification)} → ${s(e.verdict)} in ${s(e.time_to_verdict_ms)} ms (budget ${s(e.budget)}, server ${s(e.server_kind)})`, tone: e.verdict === "allow" ? "good" : e.verdict === "warn" ? "warn" : "bad" };
    case "sandbox_checked":
      return { title: "gate: sandbox", detail: e.ok ? "bubblewrap starts" : `bubblewrap unavailable: ${s(e.reason)}${e.fallback ? ` — fell back to isolation ${s(e.fallback)}` : ""}`, tone: e.ok ? "good" : "warn" };
    case "gate_blocked":
      return { title: "blocked by a gate", detail: `${s(e.reason ?? e.failure_reason)}${e.marker ? ` (marker ${s(e.marker)})` : ""}`, tone: "bad" };
    case "baseline_finished":
      return { title: "same-run baseline (fake-noop)", detail: `${s(e.status)}${e.failure_reason ? ` — ${s(e.failure_reason)}` : ""}: ${e.status === "fail" ? "the unfixed fixture fails, so a pass means something" : "a baseline that does not fail its tests invalidates a pass claim"}`, tone: e.status === "fail" ? "good" : "bad" };
    case "case_process_started":
      return { title: "agent started", detail: `engine ${s(e.engine)}, isolation ${s(e.isolation)}`, tone: "" };
    case "model_request": {
      const refused = e.refused === true;
      const status = n(e.status);
      return {
        title: refused ? "model request REFUSED by the proxy" : "model request",
        detail: `${s(e.model)} → HTTP ${s(e.status)}; ${s(e.prompt_tokens)} prompt + ${s(e.completion_tokens)} completion tokens; ${s(e.latency_ms)} ms; finish ${s(e.finish_reason)}${e.response_model && e.response_model !== e.model ? `; answered by ${s(e.response_model)}` : ""}`,
        tone: refused || (status !== null && status >= 400) ? "bad" : "",
      };
    }
    case "case_process_exited":
      return { title: "agent exited", detail: `exit code ${s(e.exit_code)}${e.timed_out ? ", TIMED OUT" : ""}${e.start_error ? `, start error ${s(e.start_error)}` : ""}, ${s(e.duration_ms)} ms`, tone: e.timed_out || e.start_error ? "bad" : "" };
    case "agent_after_result":
      return { title: "agent after its result", detail: `exited by itself: ${s(e.exited_by_itself)}, ${s(e.after_result_ms)} ms after the result`, tone: "" };
    case "result_parsed":
      return { title: "agent result protocol", detail: `${e.protocol_valid ? "valid" : "INVALID"} (source ${s(e.source)}, status ${s(e.status)})${e.model_error ? `, model error ${s(e.model_error)}` : ""}`, tone: e.protocol_valid ? "good" : "bad" };
    case "tests_finished":
      return { title: "judge: fresh tree, pristine tests", detail: `verdict ${s(e.verdict)}; tests ${e.passed ? "passed" : "did not pass"} (exit ${s(e.exit_code)}, ${s(e.duration_ms)} ms${e.timed_out ? ", timed out" : ""}); ${s(e.findings)} tampering finding(s)`, tone: e.verdict === "pass" && e.passed ? "good" : "bad" };
    case "secret_scan_finished":
      return { title: "secret scan", detail: `${s(e.files)} file(s) scanned, ${s(e.findings)} finding(s)${n(e.errors) ? `, ${s(e.errors)} unreadable` : ""}`, tone: n(e.findings) === 0 && !n(e.errors) ? "good" : "bad" };
    case "run_finished":
      return { title: "run finished", detail: `${s(e.status)}${e.failure_reason ? ` — ${s(e.failure_reason)}` : ""}`, tone: e.status === "pass" ? "good" : e.status === "blocked" ? "warn" : "bad" };
    case "unparseable":
      return { title: "unparseable trace line", detail: "this line of trace.jsonl is not JSON (the trace was cut or edited)", tone: "bad" };
    default: {
      const { seq: _seq, ts: _ts, type: _type, ...rest } = e;
      return { title: t.replace(/_/g, " "), detail: JSON.stringify(rest), tone: "" };
    }
  }
}

function offset(ts: unknown, t0: number | null): string {
  const t = typeof ts === "string" ? Date.parse(ts) : NaN;
  if (t0 === null || Number.isNaN(t)) return "";
  return `+${((t - t0) / 1000).toFixed(3)} s`;
}

export function timeline(trace: Ev[]): SafeHtml {
  if (trace.length === 0) return html`<p class="bad">trace.jsonl is missing or empty: the proof chain cannot be followed.</p>`;
  const first = trace.find((e) => typeof e.ts === "string");
  const t0 = first ? Date.parse(String(first.ts)) : null;
  return html`<ol class="timeline" id="timeline">${trace.map((e) => {
    const d = describeEvent(e);
    return html`<li class="${d.tone}" data-type="${String(e.type)}"><span class="ts">${offset(e.ts, t0)}</span><span class="etype">${d.title}</span><br>${d.detail}</li>`;
  })}</ol>`;
}
