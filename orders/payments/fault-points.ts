import { type Config, config, FAULT_POINTS } from "../../core/index.ts";

export { FAULT_POINTS };
export type FaultPoint = (typeof FAULT_POINTS)[number];

/** The fault point LIVEDROP_FAULT_POINT arms, if any (a test hook; unset in production). */
export function faultPointFromConfig(cfg: Config = config()): FaultPoint | undefined {
  return cfg.LIVEDROP_FAULT_POINT;
}

/**
 * Test hook: when `point` is the armed one, the process SIGKILLs itself right here, the way a
 * crash or an OOM kill would stop it (no cleanup, no flush). Does nothing when nothing is armed.
 */
export function hitFaultPoint(armed: FaultPoint | undefined, point: FaultPoint): void {
  if (armed === point) process.kill(process.pid, "SIGKILL");
}
