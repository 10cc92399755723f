// Simulators started in this process register their base URL here, so a run pointed at one
// (e.g. a validator setting CTO_HARNESS_CASE_LOCAL_BASE_URL to a simulator) is labelled
// `endpoint_kind: simulated` even when it is blocked before the probe could see the
// simulator's response header. Simulated runs never count as evidence about a real endpoint.
const simulatedOrigins = new Set<string>();

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

export function registerSimulatedEndpoint(baseUrl: string): void {
  const o = originOf(baseUrl);
  if (o) simulatedOrigins.add(o);
}

export function unregisterSimulatedEndpoint(baseUrl: string): void {
  const o = originOf(baseUrl);
  if (o) simulatedOrigins.delete(o);
}

export function isKnownSimulatedEndpoint(url: string): boolean {
  const o = originOf(url);
  return o !== null && simulatedOrigins.has(o);
}
