import { type ParseArgsConfig, parseArgs } from "node:util";
import { ValidationError } from "../core/index.ts";
import { type OrderStore, postToAuditInbox } from "../orders/index.ts";
import type { DropDefinition } from "../protocol/index.ts";
import type { DropStatus, SaleEngine, TransitionResult } from "../sale-engine/index.ts";
import { parseDuration, parseInteger, parsePrice, parseTime, required } from "./args.ts";
import { type AuditSink, auditedCli, type CliAction, heldByRunningStack } from "./audit-record.ts";
import { openEngine, openStore } from "./connect.ts";
import { verifyDropDraw } from "./drop-verify.ts";
import { ExitCode, printResult } from "./output.ts";

export const DROP_USAGE = `livedrop drop <command> [--json]
  create  --id ID --room ROOM --sku SKU --title TITLE (--price 12.99 | --price-minor 1299)
          --currency USD --image URL --stock N --limit N-PER-USER [--hold 5m]
          [--starts-at ISO|MS|+30s] [--ends-at ISO|MS|+1h]
  list
  status  ID
  restock ID --qty N
  launch  ID          open a scheduled drop now (server clock)
  pause   ID
  resume  ID
  end     ID
  verify  ID [--url BASE]  recompute the drop's draw from its seed and entries (from BASE's
          public endpoint, or Redis); one JSON line, exit 1 when it does not match`;

const CREATE_OPTIONS = {
  id: { type: "string" },
  room: { type: "string" },
  sku: { type: "string" },
  title: { type: "string" },
  price: { type: "string" },
  "price-minor": { type: "string" },
  currency: { type: "string" },
  image: { type: "string" },
  stock: { type: "string" },
  limit: { type: "string" },
  hold: { type: "string", default: "5m" },
  "starts-at": { type: "string" },
  "ends-at": { type: "string" },
  json: { type: "boolean", default: false },
} as const;

const OTHER_OPTIONS = {
  qty: { type: "string" },
  url: { type: "string" },
  json: { type: "boolean", default: false },
} as const;

/** `parseArgs` with its TypeErrors turned into ValidationErrors (exit 2, clear message). */
function parse<T extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new ValidationError((err as Error).message);
  }
}

export function wantsJson(args: readonly string[]): boolean {
  return args.includes("--json");
}

/** Runs a drop command; the exit code when it is not 0 on success (verify: 1 on a mismatch). */
export async function runDrop(args: string[]): Promise<number | undefined> {
  const [sub, ...rest] = args;
  if (sub === "create") {
    await withEngine((engine) => create(engine, rest));
    return undefined;
  }
  const { values, positionals } = parse(rest, OTHER_OPTIONS);
  const json = values.json === true;
  if (sub === "list") {
    await withEngine(async (engine) => {
      const ids = await engine.listDrops();
      const all = await Promise.all(ids.map((id) => engine.status(id)));
      printResult(all, json, () => (all.length ? all.map(oneLine).join("\n") : "no drops"));
    });
    return undefined;
  }
  if (!["status", "restock", "launch", "pause", "resume", "end", "verify"].includes(sub ?? "")) {
    throw new ValidationError(`unknown drop command "${sub ?? ""}"\n${DROP_USAGE}`);
  }
  if (positionals.length !== 1)
    throw new ValidationError(`drop ${sub} takes exactly one drop id\n${DROP_USAGE}`);
  const dropId = positionals[0] as string;
  if (sub === "verify") {
    if (values.url !== undefined) return verifyDropDraw(dropId, { url: values.url });
    let code: number = ExitCode.ok;
    await withEngine(async (engine) => {
      code = await verifyDropDraw(dropId, { engine });
    });
    return code;
  }
  if (values.url !== undefined) throw new ValidationError(`--url is an option of drop verify only`);
  await withEngine(async (engine) => {
    if (sub === "status") return printStatus(await engine.status(dropId), json);
    if (sub === "restock") {
      const qty = parseInteger(values.qty, "--qty");
      const a = { action: "drop.restock", target: dropId, details: { dropId, qty } };
      return printStatus(await audited(engine, a, () => engine.restock(dropId, qty)), json);
    }
    const transitions = {
      launch: () => engine.launch(dropId),
      pause: () => engine.pause(dropId),
      resume: () => engine.resume(dropId),
      end: () => engine.end(dropId),
    };
    const a = { action: `drop.${sub}`, target: dropId, details: { dropId } };
    const result = await audited(engine, a, () => transitions[sub as keyof typeof transitions]());
    printTransition(result, json);
  });
}

async function create(engine: SaleEngine, args: string[]): Promise<void> {
  const { values: v, positionals } = parse(args, CREATE_OPTIONS);
  if (positionals.length > 0)
    throw new ValidationError(`unexpected argument "${positionals[0]}"\n${DROP_USAGE}`);
  if (v.price !== undefined && v["price-minor"] !== undefined) {
    throw new ValidationError("give either --price or --price-minor, not both");
  }
  const needsClock = [v["starts-at"], v["ends-at"]].some((t) => t?.trim().startsWith("+"));
  const serverNow = needsClock ? await engine.serverTime() : Date.now();
  const definition: DropDefinition = {
    dropId: required(v.id, "--id"),
    roomId: required(v.room, "--room"),
    product: {
      sku: required(v.sku, "--sku"),
      title: required(v.title, "--title"),
      priceMinor:
        v["price-minor"] !== undefined
          ? parseInteger(v["price-minor"], "--price-minor")
          : parsePrice(required(v.price, "--price"), "--price"),
      currency: required(v.currency, "--currency"),
      imageUrl: required(v.image, "--image"),
    },
    initialStock: parseInteger(v.stock, "--stock"),
    perUserLimit: parseInteger(v.limit, "--limit"),
    holdMs: parseDuration(v.hold ?? "5m", "--hold"),
  };
  if (v["starts-at"] !== undefined) definition.startsAt = parseTime(v["starts-at"], "--starts-at", serverNow);
  if (v["ends-at"] !== undefined) definition.endsAt = parseTime(v["ends-at"], "--ends-at", serverNow);
  const { created, status } = await audited(
    engine,
    { action: "drop.create", target: definition.dropId, details: { ...definition } },
    () => engine.createDrop(definition),
  );
  printResult(
    { created, drop: status },
    v.json === true,
    () => `${created ? "created" : "already exists (identical)"}\n${describe(status)}`,
  );
}

/**
 * Runs a drop change with its audit row (audit-record.ts), written to the order store; when a
 * running stack holds the embedded store (PGlite is one process's), handed to that stack's
 * audit inbox in Redis instead, which its gateway moves into the audit log.
 */
async function audited<T>(engine: SaleEngine, a: CliAction, fn: () => Promise<T>): Promise<T> {
  let store: OrderStore | undefined;
  try {
    store = await openStore();
  } catch (err) {
    if (!heldByRunningStack(err)) throw err;
  }
  const sink: AuditSink = store
    ? (e) => (store as OrderStore).appendAudit(e)
    : (e) => postToAuditInbox(engine.connection, engine.keys.prefix, e);
  try {
    return await auditedCli(sink, a, fn);
  } finally {
    await store?.close();
  }
}

async function withEngine(fn: (engine: SaleEngine) => Promise<void>): Promise<void> {
  const engine = await openEngine();
  try {
    await fn(engine);
  } finally {
    await engine.close();
  }
}

function money(minor: number, currency: string): string {
  return `${(minor / 100).toFixed(2)} ${currency}`;
}

function oneLine(s: DropStatus): string {
  return `${s.dropId.padEnd(24)} ${s.state.padEnd(9)} room ${s.roomId}  available ${s.available}  held ${s.held}  sold ${s.sold}`;
}

function describe(s: DropStatus): string {
  const window = `${new Date(s.startsAt).toISOString()} -> ${s.endsAt ? new Date(s.endsAt).toISOString() : "(until ended)"}`;
  return [
    `drop ${s.dropId} (room ${s.roomId}): ${s.state}`,
    `  product  ${s.product.sku} "${s.product.title}" ${money(s.product.priceMinor, s.product.currency)}`,
    `  stock    available ${s.available}, held ${s.held}, sold ${s.sold} (initial ${s.initial} + restocked ${s.restocked})`,
    `  rules    ${s.perUserLimit} per user, ${Math.round(s.holdMs / 1000)} s to pay`,
    `  window   ${window} (server clock)`,
  ].join("\n");
}

function printStatus(s: DropStatus, json: boolean): void {
  printResult(s, json, () => describe(s));
}

function printTransition(r: TransitionResult, json: boolean): void {
  printResult(r, json, () => `drop ${r.dropId}: ${r.state}${r.changed ? "" : " (unchanged)"}`);
}
