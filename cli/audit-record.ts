import os from "node:os";
import { ErrorCode, isLivedropError, LivedropError } from "../core/index.ts";
import type { NewAuditEntry } from "../orders/index.ts";

/** Where a CLI command's audit row goes: the order store, or the running stack's inbox. */
export type AuditSink = (entry: NewAuditEntry) => Promise<unknown>;

/** Who runs this CLI command, as the audit log names them: `cli:<os user>`. */
export function cliActor(): string {
  try {
    return `cli:${os.userInfo().username}`;
  } catch {
    // No passwd entry for this uid (some containers).
    return `cli:uid-${process.getuid?.() ?? "unknown"}`;
  }
}

/** What one audited CLI action is: its name, what it acts on, and its validated input. */
export interface CliAction {
  readonly action: string;
  readonly target: string | null;
  readonly details: Record<string, unknown>;
}

/**
 * Runs `fn` and writes its audit row (`ok`, or the code it failed with) before returning. Every
 * CLI attempt is written, refusals included: the CLI is an operator's tool. A row that cannot be
 * written fails the command (INTERNAL; the action may have taken effect).
 */
export async function auditedCli<T>(sink: AuditSink, a: CliAction, fn: () => Promise<T>): Promise<T> {
  let result: T;
  const at = Date.now();
  try {
    result = await fn();
  } catch (err) {
    await write(sink, a, at, isLivedropError(err) ? err.code : ErrorCode.INTERNAL);
    throw err;
  }
  await write(sink, a, at, "ok");
  return result;
}

async function write(sink: AuditSink, a: CliAction, at: number, outcome: string): Promise<void> {
  try {
    await sink({ actor: cliActor(), actorRole: "cli", lane: "live", ...a, outcome, at });
  } catch (err) {
    throw new LivedropError(ErrorCode.INTERNAL, `the audit row of ${a.action} could not be written`, {
      cause: (err as Error).message,
    });
  }
}

/**
 * True when the embedded order store is held by a running stack (PGlite is one process's): a
 * CLI command hands its audit row to that stack then (gateway/audit-inbox.ts).
 */
export function heldByRunningStack(err: unknown): boolean {
  return (
    isLivedropError(err) && err.code === ErrorCode.CONFIG_INVALID && /in use by process/.test(err.message)
  );
}
