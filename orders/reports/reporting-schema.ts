import type { SqlClient } from "../store/index.ts";

/** The version of the reporting views this code reads (migration 006). */
export const REPORTING_VERSION = "v1";

const resolved = new WeakMap<SqlClient, Promise<string>>();

/**
 * The quoted name of the reporting schema of the lane `db` works in: `reporting_v1` for tables in
 * `public`, `<schema>_reporting_v1` otherwise (the rule of migration 006). Asked once per client.
 */
export function reportingSchema(db: SqlClient): Promise<string> {
  let name = resolved.get(db);
  if (!name) {
    name = db.query<{ s: string }>("SELECT current_schema() AS s").then(([row]) => {
      const base = row?.s ?? "public";
      const schema =
        base === "public" ? `reporting_${REPORTING_VERSION}` : `${base}_reporting_${REPORTING_VERSION}`;
      return `"${schema.replaceAll('"', '""')}"`;
    });
    name.catch(() => resolved.delete(db));
    resolved.set(db, name);
  }
  return name;
}
