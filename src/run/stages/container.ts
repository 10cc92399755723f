// Stage container: a Harbor task that needs what only its container gives (other users,
// services, a base image's files) is blocked before anything of it runs (docs/fixtures.md,
// "Harbor features"). Needs no network; runs even after another gate blocked.
import { needsContainerGate } from "../../fixtures/harbor/gate.ts";
import { blockedUpdate, type RunContext, type RunState, type StageUpdate } from "../context.ts";

export async function checkNeedsContainer(ctx: RunContext, state: RunState): Promise<StageUpdate> {
  const harbor = ctx.fixture ? needsContainerGate(ctx.fixture) : null;
  return harbor ? blockedUpdate(ctx, state, harbor.gate, harbor.marker) : {};
}
