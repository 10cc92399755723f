// Model admission: which provider/model pairs may be used (CTO_HARNESS_CASE_MODEL_ADMISSION_FILE).
// Accepted forms (YAML or JSON):
//   admitted: [{provider: qwen-local, model: qwen3.6-35b-a3b}, ...]
//   admitted: ["qwen-local/qwen3.6-35b-a3b", ...]
import { readFileSync } from "node:fs";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";

export const ADMISSION_FILE_VAR = "CTO_HARNESS_CASE_MODEL_ADMISSION_FILE";

const Entry = z.union([
  z.string().regex(/^[^/\s]+\/\S+$/, "a string entry must read 'provider/model'"),
  z.object({ provider: z.string().min(1), model: z.string().min(1) }),
]);
const AdmissionFile = z.object({ admitted: z.array(Entry) });

export class AdmissionFileError extends Error {}

export interface AdmissionPair {
  provider: string;
  model: string;
}

/** Reads and validates an admission file; errors name the file and the line. */
export function readAdmissionFile(path: string): AdmissionPair[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new AdmissionFileError(`${path}: cannot read admission file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const lineCounter = new LineCounter();
  // YAML is a superset of JSON, so one parser reads both with line numbers.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const pos = lineCounter.linePos(err.pos[0]);
    throw new AdmissionFileError(`${path}:${pos.line}:${pos.col}: malformed admission file: ${err.message.split("\n")[0]}`);
  }
  const parsed = AdmissionFile.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const node = doc.getIn(issue.path as (string | number)[], true) as { range?: [number, number, number] } | undefined;
    const where = node?.range ? `:${lineCounter.linePos(node.range[0]).line}` : "";
    const at = issue.path.length ? ` at ${issue.path.join(".")}` : "";
    throw new AdmissionFileError(
      `${path}${where}: invalid admission file${at}: ${issue.message}. Expected: admitted: [{provider: P, model: M}, ...]`,
    );
  }
  return parsed.data.admitted.map((e) => {
    if (typeof e === "string") {
      const i = e.indexOf("/");
      return { provider: e.slice(0, i), model: e.slice(i + 1) };
    }
    return e;
  });
}

export type AdmissionDecision =
  | { admitted: true; source: "file" | "default" | "simulator" }
  | { admitted: false; reason: string };

/**
 * Pure decision. Admission is about real endpoints: which real provider/model pairs may
 * produce evidence. The built-in simulator (provider kind `sim`) proves nothing about a real
 * model (its reports say `endpoint_kind: simulated`), so it is always admitted, whatever the
 * admission file says — a user's file of real pairs must not block the demo. A real endpoint
 * needs an explicit admission.
 */
export function decideModelAdmission(
  pairs: AdmissionPair[] | null,
  provider: string,
  model: string,
  providerKind: "external" | "sim",
): AdmissionDecision {
  if (providerKind === "sim") return { admitted: true, source: "simulator" };
  if (pairs === null) {
    return {
      admitted: false,
      reason: `no admission file: set ${ADMISSION_FILE_VAR} to a file admitting ${provider}/${model}`,
    };
  }
  if (pairs.some((p) => p.provider === provider && p.model === model)) return { admitted: true, source: "file" };
  const list = pairs.map((p) => `${p.provider}/${p.model}`).join(", ") || "(none)";
  return { admitted: false, reason: `${provider}/${model} is not in the admission file (admitted: ${list})` };
}

export const PROTECTED_PATHS_VAR = "CTO_HARNESS_PROTECTED_PATHS";

export function protectedPathsFromEnv(env: NodeJS.ProcessEnv): string[] {
  return (env[PROTECTED_PATHS_VAR] ?? "")
    .split(":")
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}
