import { z } from "zod";
import { validate } from "../../core/index.ts";
import {
  type AuditEntry,
  type AuditLogQuery,
  auditActionSchema,
  auditActorRoleSchema,
  auditActorSchema,
  auditLaneSchema,
  auditLogQuerySchema,
  auditOutcomeSchema,
  auditTargetSchema,
} from "../../protocol/index.ts";
import type { SqlClient } from "./sql-client.ts";

/** Keys whose values never enter an audit row's details, at any depth (secrets, not facts). */
const SECRET_KEY = /token|secret|password|authorization|cookie/i;

/** Largest details object kept per row, characters of JSON; bigger ones are cut to a note. */
const MAX_DETAILS_CHARS = 8_192;

export const newAuditEntrySchema = z.strictObject({
  actor: auditActorSchema,
  actorRole: auditActorRoleSchema,
  lane: auditLaneSchema,
  action: auditActionSchema,
  target: auditTargetSchema.nullable().default(null),
  details: z.record(z.string(), z.unknown()).default({}),
  outcome: auditOutcomeSchema,
  /** When the action happened, ms; default now (a row handed over later keeps its own time). */
  at: z.number().int().min(0).max(8.64e15).optional(),
});
export type NewAuditEntry = z.input<typeof newAuditEntrySchema>;

interface AuditRow {
  id: number | string;
  at_ms: number | string;
  actor: string;
  actor_role: AuditEntry["actorRole"];
  lane: AuditEntry["lane"];
  action: string;
  target: string | null;
  details: Record<string, unknown> | null;
  outcome: string;
}

const COLUMNS = `id, floor(extract(epoch FROM at) * 1000)::int8 AS at_ms, actor, actor_role, lane, action,
  target, details, outcome`;

/** `details` without secret-named keys, bounded in size. */
export function scrubDetails(details: Record<string, unknown>): Record<string, unknown> {
  const scrub = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(scrub);
    if (v === null || typeof v !== "object") return v;
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([k]) => !SECRET_KEY.test(k))
        .map(([k, x]) => [k, scrub(x)]),
    );
  };
  const clean = scrub(details) as Record<string, unknown>;
  const json = JSON.stringify(clean);
  return json.length > MAX_DETAILS_CHARS ? { truncated: true, chars: json.length } : clean;
}

/** Appends one row; the table refuses any change afterwards (migration 004). */
export async function appendAudit(db: SqlClient, entry: NewAuditEntry): Promise<AuditEntry> {
  const e = validate(newAuditEntrySchema, entry, "audit entry");
  const [row] = await db.query<AuditRow>(
    `INSERT INTO audit_log (actor, actor_role, lane, action, target, details, outcome, at)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, COALESCE(to_timestamp($8::float8 / 1000), now()))
     RETURNING ${COLUMNS}`,
    [
      e.actor,
      e.actorRole,
      e.lane,
      e.action,
      e.target,
      JSON.stringify(scrubDetails(e.details)),
      e.outcome,
      e.at ?? null,
    ],
  );
  if (!row) throw new Error("audit insert returned no row");
  return toEntry(row);
}

/** Entries matching every given filter, newest first, those with an id below `before`. */
export async function listAudit(db: SqlClient, query: Partial<AuditLogQuery> = {}): Promise<AuditEntry[]> {
  const q = validate(auditLogQuerySchema, query, "audit query");
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace("?", `$${params.length}`));
  };
  if (q.actor !== undefined) add("actor = ?", q.actor);
  if (q.action !== undefined) add("action = ?", q.action);
  if (q.target !== undefined) add("target = ?", q.target);
  if (q.since !== undefined) add("at >= to_timestamp(?::float8 / 1000)", q.since);
  if (q.before !== undefined) add("id < ?", q.before);
  params.push(q.limit);
  const rows = await db.query<AuditRow>(
    `SELECT ${COLUMNS} FROM audit_log ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY id DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map(toEntry);
}

function toEntry(r: AuditRow): AuditEntry {
  return {
    id: Number(r.id),
    at: Number(r.at_ms),
    actor: r.actor,
    actorRole: r.actor_role,
    lane: r.lane,
    action: r.action,
    target: r.target,
    details: r.details ?? {},
    outcome: r.outcome,
  };
}
