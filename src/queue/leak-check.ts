// The leak scan over the queue's own tables: every worker, when it starts, dumps the rows of
// every table of both schemas (pg-boss's jobs and ours; bundle files by name only — their
// bytes were scanned when the run ended and are scanned again when the coordinator verifies
// them) and runs the harness's leak scanner (src/secrets/) over them with ITS endpoint
// values, which only it knows. A finding stops the worker, naming the table, never the value.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scanRunDir } from "../secrets/scan.ts";
import { BOSS_SCHEMA } from "./boss.ts";
import { STORE_SCHEMA, type Db } from "./store.ts";

export interface TableLeakCheck {
  tables: number;
  rows: number;
  /** `<schema>.<table>` and the encoding found (`<part>/<encoding>`). */
  findings: { table: string; form: string }[];
}

export async function checkTablesForSecrets(db: Db, secrets: string[]): Promise<TableLeakCheck> {
  const out: TableLeakCheck = { tables: 0, rows: 0, findings: [] };
  if (secrets.length === 0) return out;
  const dir = await mkdtemp(join(tmpdir(), "cto-queue-leak-"));
  try {
    const tables = await db.query<{ s: string; t: string }>(
      "SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_schema = ANY($1) AND table_type = 'BASE TABLE'",
      [[STORE_SCHEMA, BOSS_SCHEMA]],
    );
    for (const { s, t } of tables.rows) {
      // Bundle bytes are scanned where they are made and where they are verified; here their names.
      const select = s === STORE_SCHEMA && t === "bundle_files" ? "SELECT json_build_object('submission_id', submission_id, 'path', path, 'kind', kind)::text AS j" : "SELECT row_to_json(x)::text AS j";
      const r = await db.query<{ j: string }>(`${select} FROM "${s}"."${t}" x`);
      out.tables++;
      out.rows += r.rows.length;
      await writeFile(join(dir, `${s}.${t}`), r.rows.map((x) => x.j).join("\n"));
    }
    const scan = await scanRunDir(dir, secrets);
    out.findings = scan.findings.map((f) => ({ table: f.file, form: f.form }));
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
