import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/**
 * CPU time (user + system, microseconds) a process's live threads have used so far, to the
 * nanosecond from the scheduler's per-thread counters (/proc/PID/task/TID/schedstat); the
 * 10 ms ticks of /proc/PID/stat when those are missing. Undefined off Linux.
 */
export function processCpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    }
    if (ns > 0 && Number.isFinite(ns)) return ns / 1000;
  } catch {
    // No schedstat (or a thread ended while being read): the coarser ticks below.
  }
  const split = processCpuSplitMicros(pid);
  return split && split.user + split.system;
}

/**
 * User and kernel (system) time, microseconds, in 10 ms ticks: on loopback the kernel's share is
 * mostly the TCP path, receiver side included.
 */
export function processCpuSplitMicros(pid: number | undefined): { user: number; system: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const micros = (field: string | undefined) => (Number(field) * 1_000_000) / TICKS_PER_SECOND;
    return { user: micros(fields[11]), system: micros(fields[12]) }; // utime, stime
  } catch {
    return undefined;
  }
}

/** This process's CPU time, microseconds. */
export function ownCpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}
