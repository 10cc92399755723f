// Marker files (`backend/<marker>.txt`): one human-readable file per blocking or failing
// cause, saying what was found, what was expected, and what the user should do.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { MarkerFile } from "./report.ts";

export interface MarkerText {
  title: string;
  found: string;
  expected: string;
  todo: string;
  details?: string[];
}

export function renderMarker(m: MarkerText): string {
  const lines = [m.title, "", `Found: ${m.found}`, `Expected: ${m.expected}`, `What to do: ${m.todo}`];
  if (m.details?.length) lines.push("", "Details:", ...m.details.map((d) => `  ${d}`));
  return lines.join("\n") + "\n";
}

export async function writeMarker(backendDir: string, file: MarkerFile, text: string | MarkerText): Promise<void> {
  await writeFile(join(backendDir, file), typeof text === "string" ? text : renderMarker(text));
}
