import type { ScriptReply } from "../core/index.ts";
import { DROP_STATES } from "../protocol/index.ts";
import type { DropState, ReservationStatus } from "./types.ts";

/**
 * One decoder per Lua script: the script's positional answer (see each script's header) turned
 * into a discriminated union, so no call site reads `reply[2]` and guesses what it means. A reply
 * of an unexpected shape decodes to a refusal with code `MALFORMED_REPLY`, which scriptError
 * turns into an INTERNAL error rather than a wrong answer.
 */

/** `{0, CODE, ...}`: the script refused; CODE maps to a typed error through scriptError. */
export interface Refusal {
  readonly ok: false;
  readonly code: string;
}

const MALFORMED: Refusal = { ok: false, code: "MALFORMED_REPLY" };

/** Reservation status letters as the scripts store them. */
export const STATUS_OF: Readonly<Record<string, ReservationStatus>> = {
  H: "held",
  C: "confirmed",
  R: "released",
  X: "expired",
};

function refusal(reply: ScriptReply): Refusal | undefined {
  if (!Array.isArray(reply) || reply.length === 0) return MALFORMED;
  if (reply[0] === 1) return undefined;
  return reply[0] === 0 && typeof reply[1] === "string" ? { ok: false, code: reply[1] } : MALFORMED;
}

const num = (v: unknown): number => (typeof v === "number" ? v : Number(v));
const isState = (v: unknown): v is DropState => (DROP_STATES as readonly unknown[]).includes(v);

export type CreateReply =
  | { readonly ok: true; readonly created: boolean; readonly startsAt: number }
  | Refusal;

/** create.lua: `{1, created, starts}`. */
export function decodeCreate(reply: ScriptReply): CreateReply {
  return refusal(reply) ?? { ok: true, created: reply[1] === 1, startsAt: num(reply[2]) };
}

export type ReserveReply =
  | {
      readonly ok: true;
      readonly entered?: undefined;
      readonly reservationId: string;
      readonly deadline: number;
      readonly available: number;
      readonly replayed: boolean;
    }
  /** In a fair window: recorded as an entry of the draw, no stock taken yet. */
  | { readonly ok: true; readonly entered: true; readonly entryId: string; readonly replayed: boolean }
  /** The qty is above the drop's per-user limit, which the answer names. */
  | { readonly ok: false; readonly code: "QTY_ABOVE_LIMIT"; readonly perUserLimit: number }
  /** Any other refusal; `replayed` is always false today (refusals are not recorded). */
  | { readonly ok: false; readonly code: string; readonly replayed: boolean };

/**
 * One answer of reserve.lua's batch: `{1, rid, deadline, available, replayed}`, a fair-window
 * entry `{2, entryId, replayed}`, or a refusal.
 */
export function decodeReserve(reply: ScriptReply): ReserveReply {
  if (Array.isArray(reply) && reply[0] === 2)
    return typeof reply[1] === "string"
      ? { ok: true, entered: true, entryId: reply[1], replayed: reply[2] === 1 }
      : { ...MALFORMED, replayed: false };
  const refused = refusal(reply);
  if (refused) {
    if (refused.code === "QTY_ABOVE_LIMIT")
      return { ok: false, code: refused.code, perUserLimit: num(reply[2]) };
    return { ...refused, replayed: reply[2] === 1 };
  }
  if (typeof reply[1] !== "string") return { ...MALFORMED, replayed: false };
  return {
    ok: true,
    reservationId: reply[1],
    deadline: num(reply[2]),
    available: num(reply[3]),
    replayed: reply[4] === 1,
  };
}

/** reserve.lua answers one reply per request of the batch. */
export function decodeReserveBatch(reply: ScriptReply, size: number): ReserveReply[] {
  if (!Array.isArray(reply) || reply.length !== size)
    return Array.from({ length: size }, () => decodeReserve([]));
  return reply.map((r) => decodeReserve(r as ScriptReply));
}

export type ConfirmReply =
  | { readonly ok: true; readonly replayed: boolean }
  /** ALREADY_RELEASED names the hold's status (released or expired). */
  | { readonly ok: false; readonly code: string; readonly status?: ReservationStatus };

/** confirm.lua: `{1, replayed}` | `{0, 'ALREADY_RELEASED', status}` | `{0, CODE}`. */
export function decodeConfirm(reply: ScriptReply): ConfirmReply {
  const refused = refusal(reply);
  if (!refused) return { ok: true, replayed: reply[1] === 1 };
  const status = reply[2] === undefined ? undefined : STATUS_OF[String(reply[2])];
  return status === undefined ? refused : { ...refused, status };
}

export type ReleaseReply =
  | { readonly ok: true; readonly replayed: boolean; readonly status: ReservationStatus }
  | Refusal;

/** release.lua: `{1, replayed, status}` (status R, or X when the hold had expired). */
export function decodeRelease(reply: ScriptReply): ReleaseReply {
  return (
    refusal(reply) ?? {
      ok: true,
      replayed: reply[1] === 1,
      status: STATUS_OF[String(reply[2])] ?? "released",
    }
  );
}

export type ExpireReply =
  | { readonly ok: true; readonly serverTime: number; readonly settled: boolean; readonly expired: string[] }
  | Refusal;

/** expire.lua: `{1, now, settled, rid...}`. */
export function decodeExpire(reply: ScriptReply): ExpireReply {
  return (
    refusal(reply) ?? {
      ok: true,
      serverTime: num(reply[1]),
      settled: reply[2] === 1,
      expired: reply.slice(3).map(String),
    }
  );
}

export type RestockReply =
  | { readonly ok: true; readonly available: number }
  /** How many units the drop may still take before its stock ceiling. */
  | { readonly ok: false; readonly code: "STOCK_OVERFLOW"; readonly maxRestock: number }
  | Refusal;

/** restock.lua: `{1, available}` | `{0, 'STOCK_OVERFLOW', room left}` | `{0, CODE}`. */
export function decodeRestock(reply: ScriptReply): RestockReply {
  const refused = refusal(reply);
  if (refused?.code === "STOCK_OVERFLOW")
    return { ok: false, code: "STOCK_OVERFLOW", maxRestock: num(reply[2]) };
  return refused ?? { ok: true, available: num(reply[1]) };
}

export type TransitionReply =
  | { readonly ok: true; readonly changed: boolean; readonly state: DropState }
  | Refusal;

/** transition.lua: `{1, changed, state}`. */
export function decodeTransition(reply: ScriptReply): TransitionReply {
  const refused = refusal(reply);
  if (refused) return refused;
  return isState(reply[2]) ? { ok: true, changed: reply[1] === 1, state: reply[2] } : MALFORMED;
}

/** The drop hash fields status.lua returns, in its order (after ok, now, state). */
const STATUS_FIELDS = [
  "params",
  "room",
  "mode",
  "starts",
  "ends",
  "hold",
  "limit",
  "initial",
  "restocked",
  "available",
  "held",
  "sold",
  "ver",
  "created",
  "fwin",
  "fhash",
  "falloc",
  "fseedpub",
  "fmode",
  "wloff",
  "wlen",
  "wserved",
  "fmt",
  "pin",
] as const;
type StatusField = (typeof STATUS_FIELDS)[number];

export type StatusReply =
  | {
      readonly ok: true;
      readonly serverTime: number;
      readonly state: DropState;
      /** The drop's fields as stored (strings; missing ones empty). */
      readonly fields: Readonly<Record<StatusField, string>>;
    }
  | Refusal;

/** status.lua: `{1, now, state, params, room, mode, starts, ends, hold, limit, ...}`. */
export function decodeStatus(reply: ScriptReply): StatusReply {
  const refused = refusal(reply);
  if (refused) return refused;
  if (!isState(reply[2])) return MALFORMED;
  const fields = Object.fromEntries(STATUS_FIELDS.map((name, i) => [name, String(reply[3 + i] ?? "")]));
  return {
    ok: true,
    serverTime: num(reply[1]),
    state: reply[2],
    fields: fields as Record<StatusField, string>,
  };
}

/** index-retire.lua and index-repair.lua answer a count (1/0 removed; drops added). */
export function decodeCount(reply: ScriptReply | number): number {
  const n = Number(reply);
  return Number.isFinite(n) ? n : 0;
}

export type AllocateReply =
  | {
      readonly ok: true;
      /** False: the window had been allocated before (the counts are that allocation's). */
      readonly allocatedNow: boolean;
      readonly winners: number;
      readonly losers: number;
      readonly units: number;
      readonly stock: number;
    }
  /** The window is still open until `dueAt` (server clock, ms). */
  | { readonly ok: false; readonly code: "NOT_STARTED"; readonly dueAt: number }
  | Refusal;

/** allocate.lua: `{1, now, winners, losers, units, stock}` | `{0, 'NOT_STARTED', due}` | `{0, CODE}`. */
export function decodeAllocate(reply: ScriptReply): AllocateReply {
  const refused = refusal(reply);
  if (refused?.code === "NOT_STARTED") return { ok: false, code: "NOT_STARTED", dueAt: num(reply[2]) };
  return (
    refused ?? {
      ok: true,
      allocatedNow: reply[1] === 1,
      winners: num(reply[2]),
      losers: num(reply[3]),
      units: num(reply[4]),
      stock: num(reply[5]),
    }
  );
}

export type WaitlistReply =
  | { readonly ok: true; readonly ticket: number; readonly position: number; readonly replayed: boolean }
  /** The qty is above the drop's per-user limit, which the answer names. */
  | { readonly ok: false; readonly code: "QTY_ABOVE_LIMIT"; readonly perUserLimit: number }
  | Refusal;

/** waitlist.lua: `{1, ticket, position, replayed}` | `{0, 'QTY_ABOVE_LIMIT', limit}` | `{0, CODE}`. */
export function decodeWaitlist(reply: ScriptReply): WaitlistReply {
  const refused = refusal(reply);
  if (refused?.code === "QTY_ABOVE_LIMIT")
    return { ok: false, code: "QTY_ABOVE_LIMIT", perUserLimit: num(reply[2]) };
  if (refused) return refused;
  const ticket = num(reply[1]);
  const position = num(reply[2]);
  if (!(Number.isInteger(ticket) && ticket >= 1 && Number.isInteger(position) && position >= 0))
    return MALFORMED;
  return { ok: true, ticket, position, replayed: reply[3] === 1 };
}
