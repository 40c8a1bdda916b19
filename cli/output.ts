import { isLivedropError } from "../core/index.ts";

/** Exit codes: 0 ok, 1 failure (server, dependency), 2 refused input or state (typed error). */
export const ExitCode = { ok: 0, failure: 1, refused: 2 } as const;

export function printResult(value: unknown, json: boolean, human: () => string): void {
  process.stdout.write(`${json ? JSON.stringify(value) : human()}\n`);
}

/** Prints an error as `error CODE: message` (or JSON) and returns the exit code to use. */
export function printError(err: unknown, json: boolean): number {
  if (isLivedropError(err)) {
    if (json) process.stdout.write(`${JSON.stringify({ error: err.toJSON() })}\n`);
    else process.stderr.write(`error ${err.code}: ${err.message}\n`);
    return err.code === "INTERNAL" ||
      err.code === "DEPENDENCY_MISSING" ||
      err.code === "CONFIG_INVALID" ||
      err.code === "PORT_IN_USE"
      ? ExitCode.failure
      : ExitCode.refused;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (json) process.stdout.write(`${JSON.stringify({ error: { code: "INTERNAL", message } })}\n`);
  else process.stderr.write(`error: ${message}\n`);
  return ExitCode.failure;
}
