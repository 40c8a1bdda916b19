import { type ParseArgsConfig, parseArgs } from "node:util";
import { ValidationError } from "../core/index.ts";
import type { AuditEntry } from "../protocol/index.ts";
import { parseInteger, parseTime } from "./args.ts";
import { openStore } from "./connect.ts";
import { printResult } from "./output.ts";

export const AUDIT_USAGE = `livedrop audit [--actor ID] [--action A] [--target ID] [--since ISO|MS] [--limit N] [--json]
  the audit log of admin, host and CLI actions, newest first (default 100 entries, at most 500)
  --actor   a user id, or cli:<os user>
  --action  e.g. drop.launch, chat.moderate, order.refund, admin.shadow.set, user.erase
  --target  a drop, room, order or user id`;

const OPTIONS = {
  actor: { type: "string" },
  action: { type: "string" },
  target: { type: "string" },
  since: { type: "string" },
  limit: { type: "string" },
  json: { type: "boolean", default: false },
} as const satisfies NonNullable<ParseArgsConfig["options"]>;

/** `livedrop audit`: reads the audit log of this configuration's order store. */
export async function runAudit(args: string[]): Promise<void> {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true; strict: true }>
  >;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new ValidationError((err as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (positionals.length > 0)
    throw new ValidationError(`audit takes no positional arguments\n${AUDIT_USAGE}`);
  const query = {
    ...(v.actor !== undefined ? { actor: v.actor } : {}),
    ...(v.action !== undefined ? { action: v.action } : {}),
    ...(v.target !== undefined ? { target: v.target } : {}),
    ...(v.since !== undefined ? { since: parseTime(v.since, "--since", Date.now()) } : {}),
    ...(v.limit !== undefined ? { limit: parseInteger(v.limit, "--limit") } : {}),
  };
  const store = await openStore();
  try {
    const entries = await store.audit(query);
    printResult(entries, v.json === true, () =>
      entries.length ? entries.map(oneLine).join("\n") : "no entries",
    );
  } finally {
    await store.close();
  }
}

function oneLine(e: AuditEntry): string {
  const who = `${e.actor} (${e.actorRole})`;
  return `${new Date(e.at).toISOString()}  #${e.id}  ${who.padEnd(28)} ${e.lane.padEnd(6)} ${e.action.padEnd(18)} ${(e.target ?? "-").padEnd(24)} ${e.outcome}  ${JSON.stringify(e.details)}`;
}
