import { type ParseArgsConfig, parseArgs } from "node:util";
import { ErrorCode, NotFoundError, ValidationError } from "../core/index.ts";
import { Checkout, type Order, type OrderStore, SandboxPaymentProvider } from "../orders/index.ts";
import { parseInteger } from "./args.ts";
import { auditedCli } from "./audit-record.ts";
import { openEngine, openStore } from "./connect.ts";
import { printResult } from "./output.ts";

export const ORDERS_USAGE = `livedrop orders <command> [--json]
  list    [--drop ID] [--room ID] [--user ID] [--status STATUS] [--limit N]
  show    RESERVATION_ID          the order and its audit trail
  refund  RESERVATION_ID --reason TEXT
                                  marks a paid order refunded and refunds the capture;
                                  stock does not return to the drop
  summary --drop ID | --room ID   units sold, GMV, held, expired, conversion`;

const OPTIONS = {
  drop: { type: "string" },
  room: { type: "string" },
  user: { type: "string" },
  status: { type: "string" },
  limit: { type: "string" },
  reason: { type: "string" },
  json: { type: "boolean", default: false },
} as const satisfies NonNullable<ParseArgsConfig["options"]>;

const STATUSES = ["pending_payment", "paid", "expired", "cancelled", "refunded"] as const;

export async function runOrders(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true; strict: true }>
  >;
  try {
    parsed = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new ValidationError((err as Error).message);
  }
  const { values: v, positionals } = parsed;
  const json = v.json === true;
  if (!["list", "show", "refund", "summary"].includes(sub ?? ""))
    throw new ValidationError(`unknown orders command "${sub ?? ""}"\n${ORDERS_USAGE}`);
  if (sub === "list" || sub === "summary") {
    if (positionals.length > 0)
      throw new ValidationError(`orders ${sub} takes no positional arguments\n${ORDERS_USAGE}`);
  } else if (positionals.length !== 1) {
    throw new ValidationError(`orders ${sub} takes exactly one reservation id\n${ORDERS_USAGE}`);
  }
  if (v.status !== undefined && !(STATUSES as readonly string[]).includes(v.status)) {
    throw new ValidationError(`--status must be one of ${STATUSES.join(", ")}`);
  }
  if (sub === "refund" && !v.reason) throw new ValidationError("--reason is required for a refund");
  if (sub === "summary" && (v.drop === undefined) === (v.room === undefined))
    throw new ValidationError("summary takes exactly one of --drop or --room");
  const limit = v.limit === undefined ? undefined : parseInteger(v.limit, "--limit");

  const store = await openStore();
  try {
    if (sub === "list") {
      const orders = await store.list({
        ...(v.drop ? { dropId: v.drop } : {}),
        ...(v.room ? { roomId: v.room } : {}),
        ...(v.user ? { userId: v.user } : {}),
        ...(v.status ? { status: v.status as Order["status"] } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
      printResult(orders, json, () => (orders.length ? orders.map(oneLine).join("\n") : "no orders"));
    } else if (sub === "show") {
      const id = positionals[0] as string;
      const order = await store.get(id);
      if (!order) throw new NotFoundError(ErrorCode.ORDER_NOT_FOUND, "no such order", { reservationId: id });
      const events = await store.events(id);
      printResult({ order, events }, json, () =>
        [
          oneLine(order),
          ...events.map(
            (e) => `  ${new Date(e.at).toISOString()}  ${e.fromStatus ?? "-"} -> ${e.toStatus}  ${e.reason}`,
          ),
        ].join("\n"),
      );
    } else if (sub === "refund") {
      await refund(store, positionals[0] as string, v.reason as string, json);
    } else {
      const summary = v.drop ? await store.dropSummary(v.drop) : await store.roomTotals(v.room as string);
      printResult(summary, json, () => JSON.stringify(summary, null, 2));
    }
  } finally {
    await store.close();
  }
}

async function refund(
  store: OrderStore,
  reservationId: string,
  reason: string,
  json: boolean,
): Promise<void> {
  const engine = await openEngine();
  try {
    const checkout = new Checkout({
      engine,
      store,
      payments: SandboxPaymentProvider.inRedis(engine.connection, engine.keys.prefix),
      redis: engine.connection,
      keyPrefix: engine.keys.prefix,
    });
    const order = await auditedCli(
      (e) => store.appendAudit(e),
      { action: "order.refund", target: reservationId, details: { reservationId, reason } },
      () => checkout.refund(reservationId, reason),
    );
    printResult(order, json, () => `refunded: ${oneLine(order)}\nstock was not returned to the drop`);
  } finally {
    await engine.close();
  }
}

function oneLine(o: Order): string {
  const money = `${(o.totalMinor / 100).toFixed(2)} ${o.currency}`;
  return `${o.reservationId.padEnd(28)} ${o.status.padEnd(15)} ${o.userId.padEnd(16)} ${String(o.qty).padStart(3)} x ${o.sku}  ${money}`;
}
