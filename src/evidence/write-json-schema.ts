// Generates docs/report.schema.json from the zod schema (the published contract).
// `npm run schema` rewrites it; a test fails when the committed file is stale.
import { writeFileSync } from "node:fs";
import { z } from "zod";
import { Report } from "./report.ts";

export function reportJsonSchema(): string {
  const schema = z.toJSONSchema(Report, { target: "draft-2020-12" }) as Record<string, unknown>;
  return JSON.stringify({ $id: "cto-harness/report@1", title: "cto-harness run report", ...schema }, null, 2) + "\n";
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL("../../docs/report.schema.json", import.meta.url), reportJsonSchema());
  process.stderr.write("wrote docs/report.schema.json\n");
}
