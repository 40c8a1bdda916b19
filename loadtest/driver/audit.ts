import type { Api, DropStatusView } from "./api.ts";
import { sleep } from "./executors.ts";

/**
 * The end-of-run check through the API, the same one the k6 scripts make in teardown: held +
 * sold never exceed stock, and every acknowledged hold has an order (waiting up to `waitMs` for
 * the order pipeline to catch up). Reads every page of `GET /drops/:id/orders`; on a gateway
 * without that route it looks each acknowledged hold up with `GET /orders/:id` instead.
 */
export interface AuditResult {
  readonly status: DropStatusView;
  /** held + sold units at the end. */
  readonly taken: number;
  readonly oversold: number;
  /** Acknowledged holds (by the buyers) with no order. */
  readonly holdsWithoutOrder: number;
  /** held + sold units with no active order (pending payment or paid). */
  readonly ordersMissing: number;
  readonly via: "drop orders" | "order lookups";
}

/** Pages of 500 orders one audit pass reads at most (a million orders). */
const MAX_AUDIT_PAGES = 2_000;

export async function auditDrop(
  api: Api,
  hostToken: string,
  dropId: string,
  acked: readonly string[],
  waitMs: number,
): Promise<AuditResult> {
  const deadline = Date.now() + waitMs;
  const found = new Set<string>();
  let via: AuditResult["via"] = "drop orders";
  for (;;) {
    const status = await api.must<DropStatusView>("GET", `/api/v1/drops/${dropId}`, "audit", hostToken);
    const taken = status.held + status.sold;
    // Units with an active order, once every page of the list was read.
    let activeUnits: number | undefined;
    if (via === "drop orders") {
      let units = 0;
      let after: string | undefined;
      for (let pages = 0; pages < MAX_AUDIT_PAGES; pages++) {
        const list = await api.dropOrders(hostToken, dropId, after);
        if (list.status === 404 && list.code === "NOT_FOUND") {
          via = "order lookups";
          break;
        }
        for (const o of list.body?.orders ?? []) {
          if (o.status === "pending_payment" || o.status === "paid") units += o.qty ?? 1;
          found.add(o.reservationId);
        }
        const next = list.body?.next;
        // A gateway from before paging sends `truncated` without `next`: that list stays partial.
        if (next) after = next;
        else {
          if (!list.body?.truncated) activeUnits = units;
          break;
        }
      }
    }
    // Holds the list did not show (no route, or a truncated answer): one lookup each.
    if (activeUnits === undefined)
      await lookUp(
        api,
        hostToken,
        acked.filter((id) => !found.has(id)),
        found,
      );
    const holdsWithoutOrder = acked.filter((id) => !found.has(id)).length;
    const ordersMissing = Math.max(0, taken - (activeUnits ?? acked.length - holdsWithoutOrder));
    if ((holdsWithoutOrder === 0 && ordersMissing === 0) || Date.now() > deadline) {
      const stock = status.initial + status.restocked;
      return {
        status,
        taken,
        oversold: Math.max(0, taken - stock, acked.length - stock),
        holdsWithoutOrder,
        ordersMissing,
        via,
      };
    }
    await sleep(500);
  }
}

/** GET /orders/:id for each id, a few at a time (the API limits requests per address). */
async function lookUp(api: Api, token: string, ids: readonly string[], found: Set<string>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < ids.length) {
        const id = ids[next++] ?? "";
        const a = await api.order(token, id, "audit");
        if (a.status === 200) found.add(id);
      }
    }),
  );
}
