// Stage admission: is this model admitted for this provider, and was the fixture's source
// admitted (not under a protected path)? Needs no network; runs even after another gate blocked.
import { ADMISSION_FILE_VAR, AdmissionFileError, decideModelAdmission, readAdmissionFile } from "../../config/admission.ts";
import { loadProviderSpecs } from "../../config/providers.ts";
import { MARKERS } from "../../evidence/report.ts";
import { blockedUpdate, type RunContext, type RunState, type StageUpdate } from "../context.ts";

type Admission = ReturnType<typeof decideModelAdmission> & { fileBroken?: boolean };

function decide(ctx: RunContext): Admission {
  const { opts } = ctx;
  const admissionFile = ctx.env[ADMISSION_FILE_VAR]?.trim();
  const providerKind = loadProviderSpecs()[opts.provider]?.kind === "sim" ? "sim" : "external";
  try {
    // The simulator is admitted whatever the file says (docs/bundle.md, Gates): its file is not even read.
    const pairs = admissionFile && providerKind !== "sim" ? readAdmissionFile(admissionFile) : null;
    return decideModelAdmission(pairs, opts.provider, opts.model, providerKind);
  } catch (e) {
    if (!(e instanceof AdmissionFileError)) throw e;
    return { admitted: false, reason: e.message, fileBroken: true };
  }
}

/** The model gate (the trace event also records the source decision, made when the fixture was loaded). */
export async function checkModelAdmission(ctx: RunContext, state: RunState): Promise<StageUpdate> {
  const { opts } = ctx;
  const admission = decide(ctx);
  ctx.trace.emit("admission_checked", {
    model_admitted: admission.admitted,
    source_admitted: ctx.sourceRefused === null,
    admission_file: ctx.env[ADMISSION_FILE_VAR]?.trim() ? "set" : "unset",
    admission_source: admission.admitted ? admission.source : null,
  });
  if (opts.isBaseline || admission.admitted) return { modelAdmitted: admission.admitted };
  const blocked = await blockedUpdate(ctx, state, { reason: "model not admitted", marker: MARKERS.modelNotAdmitted, detail: admission.reason }, {
    title: "model not admitted",
    found: admission.reason,
    expected: `an admission file (${ADMISSION_FILE_VAR}, YAML or JSON) listing ${opts.provider}/${opts.model}`,
    todo: admission.fileBroken
      ? "fix the admission file at the place named above (expected: admitted: [{provider: P, model: M}, ...])"
      : `add "{provider: ${opts.provider}, model: ${opts.model}}" under "admitted:" in the admission file, or run an admitted model`,
  });
  return { ...blocked, modelAdmitted: false };
}

/** The source gate: a fixture under a protected path was refused unread. */
export async function checkSourceAdmission(ctx: RunContext, state: RunState): Promise<StageUpdate> {
  if (!ctx.sourceRefused) return {};
  return blockedUpdate(ctx, state, { reason: "source not admitted", marker: MARKERS.sourceNotAdmitted, detail: "the fixture is under a protected path" }, {
    title: "source not admitted",
    found: "the fixture directory is under an entry of CTO_HARNESS_PROTECTED_PATHS; it was not read",
    expected: "a fixture outside every protected target-repository path",
    todo: "copy the task into a fixture directory outside the protected paths (never the target repository itself)",
  });
}
