import { call } from "./http.ts";
import type { ChaosPostgres } from "./postgres-host.ts";

/** What a check found; every count here must be 0 in a run that kept its promises. */
export interface CheckReport {
  readonly at: string;
  /** Units sold or held past initial + restocked, by the Redis counters or by the orders. */
  readonly oversold: number;
  /** available + held + sold differs from initial + restocked (Redis state). */
  readonly invariantBroken: boolean;
  /** Users with more than one order of the drop (each buyer buys once). */
  readonly duplicateOrders: number;
  /** Reservations with more than one succeeded capture. */
  readonly duplicateCaptures: number;
  /** Acknowledged holds without an order (only counted at the end, once the pipeline had time). */
  readonly lostAckedHolds: string[];
  /** Acknowledged payments whose order is not `paid`. */
  readonly unpaidAckedPayments: string[];
}

export interface DropCounters {
  readonly available: number;
  readonly held: number;
  readonly sold: number;
  readonly initial: number;
  readonly restocked: number;
}

/** The drop's counters from the first gateway that answers. */
export async function dropCounters(
  gateways: readonly string[],
  dropId: string,
  timeoutMs: number,
): Promise<DropCounters> {
  for (const g of gateways) {
    const a = await call("GET", `${g}/api/v1/drops/${dropId}`, undefined, undefined, timeoutMs);
    if (a.status === 200 && a.body) return a.body as unknown as DropCounters;
  }
  throw new Error(`no gateway answers the status of drop ${dropId}`);
}

/** The drop's orders straight from PostgreSQL. */
export async function dropOrders(pg: ChaosPostgres, dropId: string): Promise<Map<string, string>> {
  const rows = await pg.query<{ reservation_id: string; status: string }>(
    "SELECT reservation_id, status FROM orders WHERE drop_id = $1",
    [dropId],
  );
  return new Map(rows.map((r) => [r.reservation_id, r.status]));
}

export async function checkDrop(input: {
  readonly at: string;
  readonly gateways: readonly string[];
  readonly pg: ChaosPostgres;
  readonly dropId: string;
  readonly ackedHolds: ReadonlyMap<string, unknown>;
  readonly ackedPayments: ReadonlySet<string>;
  /** At the end: an acknowledged hold without an order is lost. Between faults it may be in flight. */
  readonly final: boolean;
  readonly timeoutMs: number;
}): Promise<CheckReport> {
  const c = await dropCounters(input.gateways, input.dropId, input.timeoutMs);
  const supply = c.initial + c.restocked;
  const orders = await dropOrders(input.pg, input.dropId);
  const [dupOrders] = await input.pg.query<{ n: string }>(
    "SELECT count(*) AS n FROM (SELECT user_id FROM orders WHERE drop_id = $1 GROUP BY user_id HAVING count(*) > 1) d",
    [input.dropId],
  );
  const [dupCaptures] = await input.pg.query<{ n: string }>(
    `SELECT count(*) AS n FROM (
       SELECT p.reservation_id FROM payment_attempts p JOIN orders o USING (reservation_id)
       WHERE o.drop_id = $1 AND p.status = 'succeeded' GROUP BY p.reservation_id HAVING count(*) > 1) d`,
    [input.dropId],
  );
  const ordered = [...orders.values()].filter((s) => s === "pending_payment" || s === "paid").length;
  return {
    at: input.at,
    oversold: Math.max(0, c.held + c.sold - supply, ordered - supply),
    invariantBroken: c.available + c.held + c.sold !== supply,
    duplicateOrders: Number(dupOrders?.n ?? 0),
    duplicateCaptures: Number(dupCaptures?.n ?? 0),
    lostAckedHolds: input.final ? [...input.ackedHolds.keys()].filter((id) => !orders.has(id)) : [],
    unpaidAckedPayments: input.final
      ? [...input.ackedPayments].filter((id) => orders.get(id) !== "paid")
      : [],
  };
}
