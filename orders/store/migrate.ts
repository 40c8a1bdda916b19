import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ErrorCode, SetupError } from "../../core/index.ts";
import type { SqlClient } from "./sql-client.ts";

/** `NNN_name.sql` files next to this module, applied in file-name order. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations/", import.meta.url));

/**
 * Key of the transaction-scoped advisory lock every migration transaction takes first, so two
 * processes starting together against one PostgreSQL wait for each other instead of both
 * creating the same tables. (Arbitrary constant; only migrate.ts uses it.)
 */
const MIGRATION_LOCK_KEY = 7_412_093_551;

export interface Migration {
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_[\w-]+\.sql$/.test(f))
    .sort()
    .map((name) => {
      const sql = readFileSync(`${dir}/${name}`, "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

/**
 * Brings the schema up to date: the pending migrations run once, in one transaction together with
 * their schema_migrations rows, so a crash leaves them either fully applied or not at all, and
 * processes starting together wait for each other (advisory lock): one of them applies them all.
 * Refuses to continue when a file that was already applied has changed since: the database and
 * the code would disagree about the schema.
 * Returns the names applied by this call (empty when the schema was current).
 */
export async function migrate(
  db: SqlClient,
  migrations: readonly Migration[] = loadMigrations(),
): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         name       text        PRIMARY KEY,
         checksum   text        NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const applied: string[] = [];
    for (const m of migrations) {
      const [row] = await tx.query<{ checksum: string }>(
        "SELECT checksum FROM schema_migrations WHERE name = $1",
        [m.name],
      );
      if (row) {
        if (row.checksum !== m.checksum)
          throw new SetupError(
            ErrorCode.INTERNAL,
            `migration ${m.name} changed after it was applied; add a new migration file instead`,
            { migration: m.name },
          );
        continue;
      }
      await tx.exec(m.sql);
      await tx.query("INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", [m.name, m.checksum]);
      applied.push(m.name);
    }
    return applied;
  });
}
