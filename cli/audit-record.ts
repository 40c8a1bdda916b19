import os from "node:os";
import { ErrorCode, isLivedropError, LivedropError } from "../core/index.ts";
import type { OrderStore } from "../orders/index.ts";

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
export async function auditedCli<T>(store: OrderStore, a: CliAction, fn: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await fn();
  } catch (err) {
    await write(store, a, isLivedropError(err) ? err.code : ErrorCode.INTERNAL);
    throw err;
  }
  await write(store, a, "ok");
  return result;
}

async function write(store: OrderStore, a: CliAction, outcome: string): Promise<void> {
  try {
    await store.appendAudit({ actor: cliActor(), actorRole: "cli", lane: "live", ...a, outcome });
  } catch (err) {
    throw new LivedropError(ErrorCode.INTERNAL, `the audit row of ${a.action} could not be written`, {
      cause: (err as Error).message,
    });
  }
}

/**
 * True when the embedded order store is held by a running stack (PGlite is one process's): a
 * CLI command cannot write the audit log then.
 */
export function heldByRunningStack(err: unknown): boolean {
  return (
    isLivedropError(err) && err.code === ErrorCode.CONFIG_INVALID && /in use by process/.test(err.message)
  );
}
