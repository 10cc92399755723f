// In-flight model requests are limited across runs: a loop shares one set of slots per endpoint.
import { afterAll, describe, expect, it } from "vitest";
import { startSimulator } from "../src/sim/server.ts";
import { startRecordingProxy } from "../src/proxy/proxy.ts";
import { SecretValue } from "../src/config/secret.ts";
import { Semaphore } from "../src/core/semaphore.ts";

describe("proxy model slots", async () => {
  const sim = await startSimulator({ scenario: "V1", ttftMs: 300 });
  afterAll(() => sim.close());

  it("with one slot, two agents' requests reach the server one after the other", async () => {
    const slots = new Semaphore(1);
    const proxies = await Promise.all(
      [0, 1].map(() => startRecordingProxy({ upstreamBaseUrl: new SecretValue(sim.baseUrl), admittedModel: "qwen3.6-35b-a3b", modelSlots: slots })),
    );
    const ask = async (p: (typeof proxies)[number]) => {
      const r = await fetch(`${p.baseUrl}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${p.token}` },
        body: JSON.stringify({ model: "qwen3.6-35b-a3b", messages: [{ role: "user", content: "2+2?" }], max_tokens: 64 }),
      });
      await r.text();
      return Date.now();
    };
    const t0 = Date.now();
    const [a, b] = await Promise.all(proxies.map(ask));
    // Serialised: the later answer comes at least two first-token delays after the start.
    expect(Math.max(a!, b!) - t0).toBeGreaterThanOrEqual(600);
    expect(slots.inFlight).toBe(0);
    for (const p of proxies) await p.close();
  });
});
