import { useEffect, useRef, useState } from "preact/hooks";
import type { DropFormat, RoomDropsResponse, RoomInsight, RoomSummary } from "../../../protocol/index.ts";
import { api } from "../shared/api.ts";
import { usePoll } from "../shared/poll.ts";

/**
 * A room's money as the report summary counts it (paid orders; GET …/reports/summary): gross, coupon
 * cost and net GMV per room and per drop, and every drop's selling format (GET …/drops, read again
 * only when a drop it does not know shows up, since a drop's format never changes).
 */
export interface MoneyFigures {
  readonly currency: string;
  readonly grossMinor: number;
  /** The coupon cost: what coupons took off paid orders. */
  readonly discountMinor: number;
  /** What buyers paid: gross − coupon cost. */
  readonly netMinor: number;
}

export interface RoomFinance {
  /** The room's totals in its first currency (rooms sell in one currency in practice). */
  readonly totals: MoneyFigures | undefined;
  readonly drops: ReadonlyMap<string, MoneyFigures>;
  readonly formats: ReadonlyMap<string, DropFormat>;
}

/** The summary's report rows folded per room and per drop (rows split by format and currency). */
export function financeOf(summary: RoomSummary): Pick<RoomFinance, "totals" | "drops"> {
  const add = (a: MoneyFigures | undefined, r: MoneyFigures): MoneyFigures =>
    a && a.currency === r.currency
      ? {
          currency: a.currency,
          grossMinor: a.grossMinor + r.grossMinor,
          discountMinor: a.discountMinor + r.discountMinor,
          netMinor: a.netMinor + r.netMinor,
        }
      : (a ?? r);
  const pick = (r: MoneyFigures): MoneyFigures => ({
    currency: r.currency,
    grossMinor: r.grossMinor,
    discountMinor: r.discountMinor,
    netMinor: r.netMinor,
  });
  let totals: MoneyFigures | undefined;
  for (const r of summary.totals) totals = add(totals, pick(r));
  const drops = new Map<string, MoneyFigures>();
  for (const r of summary.drops) drops.set(r.dropId, add(drops.get(r.dropId), pick(r)));
  return { totals, drops };
}

/**
 * The same figures from a room's live insight (the ops wall's overview, polled anyway): no
 * report query per room. Totals in the room's first currency, as the summary's.
 */
export function financeOfInsight(room: RoomInsight): RoomFinance {
  const first = room.totals.gmv[0];
  const inFirst = (lines: readonly { currency: string; minor: number }[]) =>
    lines.find((l) => l.currency === first?.currency)?.minor ?? 0;
  const totals: MoneyFigures | undefined = first && {
    currency: first.currency,
    grossMinor: first.minor,
    discountMinor: inFirst(room.totals.couponCost),
    netMinor: inFirst(room.totals.netGmv),
  };
  const drops = new Map<string, MoneyFigures>();
  const formats = new Map<string, DropFormat>();
  for (const d of room.drops) {
    formats.set(d.dropId, d.format);
    if (d.paidOrders > 0)
      drops.set(d.dropId, {
        currency: d.currency,
        grossMinor: d.gmvMinor,
        discountMinor: d.couponCostMinor,
        netMinor: d.netGmvMinor,
      });
  }
  return { totals, drops, formats };
}

/** Every drop's format from the room's drop pages (a drop stored before formats existed is `drop`). */
async function roomFormats(room: string): Promise<Map<string, DropFormat>> {
  const formats = new Map<string, DropFormat>();
  let after: string | null = null;
  do {
    const q: string = after ? `?after=${encodeURIComponent(after)}` : "";
    const page: RoomDropsResponse = await api<RoomDropsResponse>(`/api/v1/rooms/${room}/drops${q}`);
    for (const d of page.drops) formats.set(d.dropId, d.format ?? "drop");
    after = page.next;
  } while (after);
  return formats;
}

/** Polls the room's summary every `everyMs`; `dropIds` are the drops the page shows (their formats are read). */
export function useRoomFinance(
  room: string,
  token: string,
  dropIds: readonly string[],
  everyMs: number,
): { finance: RoomFinance; error: Error | undefined } {
  const [money, setMoney] = useState<Pick<RoomFinance, "totals" | "drops">>({
    totals: undefined,
    drops: new Map(),
  });
  const [formats, setFormats] = useState<ReadonlyMap<string, DropFormat>>(new Map());
  const loading = useRef(false);
  const error = usePoll(
    () => api<RoomSummary>(`/api/v1/rooms/${room}/reports/summary`, { token }),
    everyMs,
    (s) => setMoney(financeOf(s)),
    true,
  );
  const missing = dropIds.some((id) => !formats.has(id));
  useEffect(() => {
    if (!missing || loading.current) return;
    loading.current = true;
    roomFormats(room)
      .then(setFormats)
      .catch(() => undefined) // the next new drop asks again; figures do not depend on it
      .finally(() => {
        loading.current = false;
      });
  }, [room, missing]);
  return { finance: { ...money, formats }, error };
}
