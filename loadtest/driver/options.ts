import { parseArgs } from "node:util";
import { z } from "zod";
import { ValidationError } from "../../core/index.ts";
import { isScenarioName, type LoadParams, SCENARIO_NAMES, type ScenarioName } from "../lib/scenarios.ts";

/**
 * `npm run loadtest -- NAME [flags]`, parsed once: flags first, then the LOADTEST_* environment
 * variables (the only place the driver reads the environment).
 */
export const USAGE = `npm run loadtest -- ${SCENARIO_NAMES.join("|")} [flags]
  --url URL              a running gateway (default: start a private stack for the run)
  --shadow               shadow traffic: tokens from POST /api/v1/admin/shadow/tokens
  --admin-token TOKEN    admin token for --shadow against --url (env LOADTEST_ADMIN_TOKEN)
  --token-secret SECRET  sign tokens locally against --url without --shadow (env LOADTEST_TOKEN_SECRET)
  --room ROOM            room id (default loadtest)
  --viewers N --stock N --ramp S --hold S --lead S --jitter-ms MS --chat-every-ms MS
  --arrivals PER_S --host-every-ms MS --order-wait-ms MS
  --bidders N (auction: same as --viewers) --auction-s S --bid-window-s S --anti-snipe-ms MS --lost-ack-pct P
                         override the scenario's CI-scale parameters (loadtest/lib/scenarios.ts)
  --workers N            load worker processes (default: one per 1,500 sockets, at most 4)
  --token-batch N        shadow viewer tokens per admin request (default 5000, the endpoint's most)
  --out DIR              where <name>-summary.json and <name>-report.html go (default artifacts/loadtest)
  --quiet                no progress on stderr
npm run loadtest -- tokens --count N [--role viewer|host] [--room ROOM] [--out FILE] [--token-batch N] (--url URL --admin-token T | --token-secret S)
                         write tokens as JSON for k6's TOKENS_FILE`;

/** Shadow viewer tokens per admin request by default: the admin endpoint's most per request. */
export const DEFAULT_TOKEN_BATCH = 5_000;

const count = z.coerce.number().int().min(1).max(1_000_000);
const seconds = z.coerce.number().min(0).max(86_400);
const ms = z.coerce.number().int().min(0).max(86_400_000);

export interface DriverOptions {
  readonly name: ScenarioName;
  readonly url?: string;
  readonly shadow: boolean;
  readonly adminToken?: string;
  readonly tokenSecret?: string;
  readonly room: string;
  readonly overrides: Partial<Record<keyof LoadParams, number>>;
  readonly workers: number;
  readonly outDir: string;
  readonly quiet: boolean;
  /** Shadow viewer tokens per admin request. */
  readonly tokenBatch: number;
}

export interface TokensOptions {
  readonly count: number;
  readonly role: "viewer" | "host";
  readonly room: string;
  readonly url?: string;
  readonly adminToken?: string;
  readonly tokenSecret?: string;
  readonly out?: string;
  readonly tokenBatch: number;
}

const OPTIONS = {
  url: { type: "string" },
  shadow: { type: "boolean", default: false },
  "admin-token": { type: "string" },
  "token-secret": { type: "string" },
  room: { type: "string", default: "loadtest" },
  viewers: { type: "string" },
  stock: { type: "string" },
  ramp: { type: "string" },
  hold: { type: "string" },
  lead: { type: "string" },
  "jitter-ms": { type: "string" },
  "chat-every-ms": { type: "string" },
  arrivals: { type: "string" },
  "host-every-ms": { type: "string" },
  "order-wait-ms": { type: "string" },
  bidders: { type: "string" },
  "auction-s": { type: "string" },
  "bid-window-s": { type: "string" },
  "anti-snipe-ms": { type: "string" },
  "lost-ack-pct": { type: "string" },
  workers: { type: "string", default: "0" },
  "token-batch": { type: "string" },
  out: { type: "string" },
  quiet: { type: "boolean", default: false },
  count: { type: "string" },
  role: { type: "string", default: "viewer" },
} as const;

const roomSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "room: 1-64 of A-Z a-z 0-9 _ -");
const urlSchema = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ""));

function opt<T>(schema: z.ZodType<T>, value: string | undefined, flag: string): T | undefined {
  if (value === undefined) return undefined;
  const r = schema.safeParse(value);
  if (!r.success) throw new ValidationError(`--${flag}: ${r.error.issues[0]?.message ?? "invalid"}`);
  return r.data;
}

export function parseDriverArgs(
  args: string[],
  env: Record<string, string | undefined> = process.env,
): { kind: "run"; options: DriverOptions } | { kind: "tokens"; options: TokensOptions } | { kind: "help" } {
  const { values: v, positionals } = parseArgs({
    args,
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
  });
  const [name, ...extra] = positionals;
  if (!name || name === "help") return { kind: "help" };
  if (extra.length) throw new ValidationError(`unexpected arguments: ${extra.join(" ")}\n${USAGE}`);
  const url = opt(urlSchema, v.url ?? env.LOADTEST_URL, "url");
  const adminToken = v["admin-token"] ?? env.LOADTEST_ADMIN_TOKEN;
  const tokenSecret = v["token-secret"] ?? env.LOADTEST_TOKEN_SECRET;
  const room = opt(roomSchema, v.room, "room") ?? "loadtest";
  const common = {
    ...(url ? { url } : {}),
    ...(adminToken ? { adminToken } : {}),
    ...(tokenSecret ? { tokenSecret } : {}),
    room,
    tokenBatch: opt(count, v["token-batch"], "token-batch") ?? DEFAULT_TOKEN_BATCH,
  };
  if (name === "tokens") {
    const role = opt(z.enum(["viewer", "host"]), v.role, "role") ?? "viewer";
    return {
      kind: "tokens",
      options: {
        ...common,
        count: opt(count, v.count, "count") ?? 1,
        role,
        ...(v.out ? { out: v.out } : {}),
      },
    };
  }
  if (!isScenarioName(name)) throw new ValidationError(`unknown load test "${name}"\n${USAGE}`);
  const overrides: Partial<Record<keyof LoadParams, number>> = {};
  const set = (key: keyof LoadParams, value: number | undefined) => {
    if (value !== undefined) overrides[key] = value;
  };
  set("viewers", opt(count, v.viewers, "viewers"));
  set("stock", opt(count, v.stock, "stock"));
  set("rampS", opt(seconds, v.ramp, "ramp"));
  set("holdS", opt(seconds, v.hold, "hold"));
  set("leadS", opt(seconds, v.lead, "lead"));
  set("jitterMs", opt(ms, v["jitter-ms"], "jitter-ms"));
  set("chatEveryMs", opt(ms, v["chat-every-ms"], "chat-every-ms"));
  set("arrivalsPerS", opt(z.coerce.number().min(0.1).max(100_000), v.arrivals, "arrivals"));
  set("hostEveryMs", opt(ms, v["host-every-ms"], "host-every-ms"));
  set("orderWaitMs", opt(ms, v["order-wait-ms"], "order-wait-ms"));
  set("viewers", opt(count, v.bidders, "bidders"));
  // The engine's bounds (protocol/auction.ts AUCTION_LIMITS): 10 s at least; 0 or 1 s-10 min.
  set("auctionS", opt(z.coerce.number().int().min(10).max(604_800), v["auction-s"], "auction-s"));
  set("bidWindowS", opt(seconds, v["bid-window-s"], "bid-window-s"));
  set(
    "antiSnipeMs",
    opt(
      z.coerce
        .number()
        .int()
        .refine((n) => n === 0 || (n >= 1_000 && n <= 600_000), "0 or 1000-600000 ms"),
      v["anti-snipe-ms"],
      "anti-snipe-ms",
    ),
  );
  set("lostAckPct", opt(z.coerce.number().min(0).max(100), v["lost-ack-pct"], "lost-ack-pct"));
  return {
    kind: "run",
    options: {
      ...common,
      name,
      shadow: v.shadow,
      overrides,
      workers: opt(z.coerce.number().int().min(0).max(16), v.workers, "workers") ?? 0,
      outDir: v.out ?? "artifacts/loadtest",
      quiet: v.quiet,
    },
  };
}
