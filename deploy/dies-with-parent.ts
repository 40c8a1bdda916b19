import { existsSync } from "node:fs";

/**
 * util-linux's setpriv, which can start a program with a parent-death signal (PR_SET_PDEATHSIG):
 * the kernel then kills the child when this process dies, even by SIGKILL, which no exit hook
 * survives. The signal follows the thread that spawned the child: libuv spawns from the main
 * thread, whose exit is the process's (spawn from a worker thread and the child dies with that
 * thread). Absent off Linux.
 */
const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

/** Whether children started through `diesWithParent` really die with this process here. */
export const parentDeathSupported = SETPRIV !== undefined;

/**
 * The command that runs `bin args`, tied to this process's life where the system allows.
 * setpriv execs the program in place: the pid, signals and exit status are the program's own.
 */
export function diesWithParent(bin: string, args: readonly string[]): [string, string[]] {
  return SETPRIV ? [SETPRIV, ["--pdeathsig", "KILL", "--", bin, ...args]] : [bin, [...args]];
}
