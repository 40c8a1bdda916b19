import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { validate } from "../../core/index.ts";
import { type DropSalesRow, type RoomSummary, roomIdSchema } from "../../protocol/index.ts";
import type { SqlClient } from "../store/index.ts";
import { toCsv } from "./csv.ts";
import { roomAsOf, roomCouponCost, roomDropSales, roomTotals } from "./queries.ts";

/** The columns of a drop sales CSV (the summary's `<room>.csv` and the drops download). */
export const DROP_SALES_COLUMNS: readonly (keyof DropSalesRow & string)[] = [
  "dropId",
  "roomId",
  "format",
  "currency",
  "orders",
  "paidOrders",
  "units",
  "grossMinor",
  "discountMinor",
  "netMinor",
  "refundedOrders",
  "refundedMinor",
  "firstOrderAt",
  "lastOrderAt",
  "viewers",
  "buyClicks",
  "holds",
  "paid",
];

/** The end-of-live summary of a room, from the reporting views. */
export async function roomSummary(db: SqlClient, roomId: string): Promise<RoomSummary> {
  const room = validate(roomIdSchema, roomId, "room id");
  const [asOf, totals, drops, coupons] = await Promise.all([
    roomAsOf(db, room),
    roomTotals(db, room),
    roomDropSales(db, room),
    roomCouponCost(db, room),
  ]);
  return { version: 1, roomId: room, asOf, totals, drops, coupons };
}

export interface WrittenSummary {
  readonly jsonPath: string;
  readonly csvPath: string;
  /** False when the files already held exactly this content (nothing was rewritten). */
  readonly changed: boolean;
}

/**
 * Writes `<dir>/<room>.json` (the summary) and `<dir>/<room>.csv` (its drops). Idempotent: the
 * content depends only on the orders and snapshots, and files that already hold it are not
 * touched; a new content is written to a temporary file and renamed, so a reader never sees half.
 */
export async function writeRoomSummary(db: SqlClient, roomId: string, dir: string): Promise<WrittenSummary> {
  const summary = await roomSummary(db, roomId);
  const json = `${JSON.stringify(summary, null, 2)}\n`;
  const csv = toCsv(DROP_SALES_COLUMNS, summary.drops);
  await mkdir(dir, { recursive: true });
  // The room id is a validated [A-Za-z0-9_-] name: safe as a file name.
  const jsonPath = path.join(dir, `${summary.roomId}.json`);
  const csvPath = path.join(dir, `${summary.roomId}.csv`);
  const changed = (await Promise.all([replace(jsonPath, json), replace(csvPath, csv)])).some(Boolean);
  return { jsonPath, csvPath, changed };
}

async function replace(file: string, content: string): Promise<boolean> {
  const current = await readFile(file, "utf8").catch(() => undefined);
  if (current === content) return false;
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, file);
  return true;
}
