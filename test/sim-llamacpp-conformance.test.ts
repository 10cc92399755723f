// The simulator's `llamacpp` flavour against what a real llama-server answered (recorded by
// scripts/llama-server/record.ts into test/data/llamacpp-real/, scrubbed as its README says).
// Each recording is replayed to the simulator with the scenario that stands for it, and the two
// answers are compared field by field: status, content type, field names, null versus absent,
// value types, enumerated values, SSE framing, chunk order and each kind of chunk's shape.
// No server is needed: this runs in the normal suite.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startSimulator, type SimServer } from "../src/sim/server.ts";
import { RECORDED_MODEL, RECORDING_KEY, type SimStandIn } from "../scripts/llama-server/exchanges.ts";
import { sendExchange, type ExchangeRequest } from "../scripts/llama-server/replay.ts";
import { comparable, type RecordedResponse } from "../scripts/llama-server/shapes.ts";

const DATA = join(import.meta.dirname, "data/llamacpp-real");

interface Recording {
  llama_cpp_commit: string;
  name: string;
  setup: string;
  request: { method: "GET" | "POST"; path: string; body?: unknown; raw_body?: string; auth?: "good" | "wrong" };
  sim: SimStandIn;
  response: RecordedResponse;
}

const recordings: Recording[] = readdirSync(DATA)
  .filter((f) => f.endsWith(".json"))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(DATA, f), "utf8")) as Recording);

const sims: SimServer[] = [];
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()));
});

describe("simulator llamacpp flavour matches the recorded real llama-server", () => {
  it("recordings are present and name the llama.cpp commit they came from", () => {
    expect(recordings.length).toBeGreaterThanOrEqual(20);
    const commits = new Set(recordings.map((r) => r.llama_cpp_commit));
    expect(commits.size).toBe(1);
    expect([...commits][0]).toMatch(/^[0-9a-f]{40}$/);
  });

  for (const rec of recordings) {
    it(`${rec.name} (${rec.request.method} ${rec.request.path})`, async () => {
      const sim = await startSimulator({
        flavour: "llamacpp",
        scenario: rec.sim.scenario,
        reasoningTokens: rec.sim.reasoningTokens,
        apiKey: rec.sim.apiKey,
        models: [RECORDED_MODEL],
      });
      sims.push(sim);
      const req: ExchangeRequest = { method: rec.request.method, path: rec.request.path, body: rec.request.body, rawBody: rec.request.raw_body, auth: rec.request.auth };
      const got = await sendExchange(`http://127.0.0.1:${sim.port}`, req, RECORDING_KEY);
      expect(comparable(got)).toEqual(comparable(rec.response));
    });
  }
});
