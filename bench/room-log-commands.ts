import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { TokenService } from "../auth/index.ts";
import { connectRedis, type RedisClient, ValidationError } from "../core/index.ts";
import { freePort, RedisServerProcess } from "../deploy/index.ts";
import type { ServerFrame } from "../protocol/index.ts";
import { SaleEngine } from "../sale-engine/index.ts";
import { startGatewayChild } from "./gateway-child.ts";
import { progress, round } from "./measure.ts";

const ROOM = "bench-room";
/** Node counts measured; the per-event figure must stay flat across them. */
const NODE_COUNTS = [1, 2, 4] as const;
/** Largest spread of the per-event figure (excluding the engine) across node counts that passes. */
const FLAT_TOLERANCE = 0.25;
/** Reserves in flight at once. */
const CONCURRENCY = 10;
/** Window over which each deployment's background commands per second are read, ms. */
const BACKGROUND_MS = 3_000;

/**
 * Redis work per room event as gateway nodes are added: a private redis-server, then 0 (the sale
 * engine alone), 1, 2 and 4 `livedrop gateway` processes, each with one viewer socket in the same
 * room. A fixed number of reserves on a drop of that room (one event each) is fired, and Redis's
 * `INFO commandstats` (every command, those inside Lua scripts included) is read before and after,
 * once every viewer has the last event. Per event: the total, and the total less the engine's own
 * reserve work (the same events with no gateway) and less the deployment's background (viewer
 * counts, leases: read over an idle window first, per second).
 */
export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      events: { type: "string" },
    },
    strict: true,
  });
  const events = Number(values.events ?? (values.quick ? 500 : 2_000));
  if (!(Number.isInteger(events) && events >= 10 && events <= 100_000))
    throw new ValidationError("--events 10..100000");

  const dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-bench-room-log-"));
  const redis = await RedisServerProcess.start({
    port: await freePort(),
    dir: path.join(dir, "redis"),
    appendfsync: "everysec",
  });
  const client = connectRedis({ url: redis.url });
  try {
    const engineOnly = await scenario({ client, redisUrl: redis.url, dir, nodes: 0, events });
    progress(`sale engine alone: ${round(engineOnly.perEvent)} commands per event`);
    const perEvent: Record<string, number> = {};
    const excluding: Record<string, number> = {};
    const background: Record<string, number> = {};
    const breakdown: Record<string, Record<string, number>> = {};
    for (const nodes of NODE_COUNTS) {
      const m = await scenario({ client, redisUrl: redis.url, dir, nodes, events });
      perEvent[nodes] = round(m.perEvent);
      excluding[nodes] = round(m.perEvent - engineOnly.perEvent - (m.backgroundPerSec * m.seconds) / events);
      background[nodes] = round(m.backgroundPerSec, 1);
      breakdown[nodes] = Object.fromEntries(
        [...m.calls]
          .map(([name, n]) => [name, n - (engineOnly.calls.get(name) ?? 0)] as const)
          .filter(([, n]) => n > 0)
          .sort((x, y) => y[1] - x[1])
          .map(([name, n]) => [name, round(n / events)]),
      );
      progress(`${nodes} node(s): ${perEvent[nodes]} per event, ${excluding[nodes]} past the engine's own`);
    }
    const figures = Object.values(excluding);
    const spread = Math.max(...figures) - Math.min(...figures);
    const result = {
      bench: "room-log-commands",
      events,
      perEvent,
      perEventExcludingEngine: excluding,
      engineOnlyPerEvent: round(engineOnly.perEvent),
      backgroundPerSec: background,
      perEventByCommand: breakdown,
      spread: round(spread),
      flat: spread <= FLAT_TOLERANCE,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return result.flat ? 0 : 1;
  } finally {
    client.disconnect();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Measured {
  /** Commands per event over the events' window, everything included. */
  readonly perEvent: number;
  /** Calls per command over the events' window. */
  readonly calls: Map<string, number>;
  readonly seconds: number;
  /** Commands per second of the deployment with no events. */
  readonly backgroundPerSec: number;
}

async function scenario(o: {
  client: RedisClient;
  redisUrl: string;
  dir: string;
  nodes: number;
  events: number;
}): Promise<Measured> {
  const prefix = `rlc-${o.nodes}-${randomUUID().slice(0, 6)}`;
  const home = path.join(o.dir, prefix);
  mkdirSync(home, { recursive: true });
  const engine = await SaleEngine.create({ redis: o.client, prefix });
  const secret = randomUUID().repeat(2);
  const tokens = await TokenService.create({ secret });
  const children: ChildProcess[] = [];
  const viewers: Viewer[] = [];
  try {
    for (let i = 0; i < o.nodes; i++) {
      const { child, wsUrl } = await startGatewayChild({
        redisUrl: o.redisUrl,
        dataDir: path.join(home, `gateway-${i}`),
        keyPrefix: prefix,
        tokenSecret: secret,
        maxConnectionsPerIp: 10,
      });
      children.push(child);
      const token = await tokens.issue({ userId: `viewer-${i}`, role: "viewer", ttlSeconds: 600 });
      viewers.push(await Viewer.join(wsUrl, token));
    }
    const dropId = `rlc-${randomUUID().slice(0, 8)}`;
    await engine.createDrop({
      dropId,
      roomId: ROOM,
      product: {
        sku: "RLC",
        title: "Room log bench item",
        priceMinor: 100,
        currency: "USD",
        imageUrl: "https://example.com/x.png",
      },
      initialStock: o.events,
      perUserLimit: 1,
      holdMs: 600_000,
    });
    // Every viewer has the drop: the room is followed and logged before anything is counted.
    await Promise.all(viewers.map((v) => v.until((f) => f.t === "drop" && f.drop.dropId === dropId)));
    let backgroundPerSec = 0;
    if (o.nodes > 0) {
      const idle = await commandStats(o.client);
      await sleep(BACKGROUND_MS);
      const quiet = diff(idle, await commandStats(o.client));
      backgroundPerSec = quiet.total / quiet.seconds;
    }

    const before = await commandStats(o.client);
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < o.events) {
          const i = next++;
          await engine.reserve({ dropId, userId: `buyer-${i}`, qty: 1, idempotencyKey: `k-${i}` });
        }
      }),
    );
    // Every event reached every node's viewer (stock frames are coalesced, and a drop frame, the
    // sold-out one, supersedes a waiting one: the last counts seen is what tells).
    const allHeld = (f: ServerFrame) =>
      (f.t === "stock" && f.held === o.events) || (f.t === "drop" && f.drop.held === o.events);
    await Promise.all(viewers.map((v) => v.until(allHeld)));
    const window = diff(before, await commandStats(o.client));
    return {
      perEvent: window.total / o.events,
      calls: window.calls,
      seconds: window.seconds,
      backgroundPerSec,
    };
  } finally {
    for (const v of viewers) v.close();
    await Promise.all(children.map(stop));
  }
}

/** One viewer socket joined to the bench room. */
class Viewer {
  private readonly frames: ServerFrame[] = [];
  private waiters: { pred: (f: ServerFrame) => boolean; resolve: () => void }[] = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const f = JSON.parse(data.toString()) as ServerFrame;
      this.frames.push(f);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(f)) return true;
        w.resolve();
        return false;
      });
    });
  }

  static async join(wsUrl: string, token: string): Promise<Viewer> {
    const ws = new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`);
    // Listening before the open: the welcome can arrive in the same read as the upgrade.
    const v = new Viewer(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    await v.until((f) => f.t === "welcome");
    ws.send(JSON.stringify({ t: "join", room: ROOM }));
    await v.until((f) => f.t === "joined");
    return v;
  }

  /** Resolves at the first frame (received already or later) that matches, within 60 s. */
  until(pred: (f: ServerFrame) => boolean): Promise<void> {
    if (this.frames.some(pred)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const last = this.frames.slice(-3).map((f) => JSON.stringify(f).slice(0, 200));
        reject(new Error(`viewer: frame not received within 60 s; last frames: ${last.join(" | ")}`));
      }, 60_000);
      this.waiters.push({
        pred,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  close(): void {
    this.ws.close();
  }
}

interface Stats {
  readonly calls: Map<string, number>;
  readonly at: number;
}

/** Calls per command since the server started (commands inside Lua scripts included). */
async function commandStats(client: RedisClient): Promise<Stats> {
  const info = await client.info("commandstats");
  const calls = new Map<string, number>();
  for (const m of info.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) calls.set(m[1] ?? "", Number(m[2]));
  return { calls, at: performance.now() };
}

/** What ran between two readings; the second reading's own INFO left out. */
function diff(a: Stats, b: Stats): { total: number; calls: Map<string, number>; seconds: number } {
  const calls = new Map<string, number>();
  for (const [name, n] of b.calls) {
    const d = n - (a.calls.get(name) ?? 0) - (name === "info" ? 1 : 0);
    if (d > 0) calls.set(name, d);
  }
  const total = [...calls.values()].reduce((s, n) => s + n, 0);
  return { total, calls, seconds: (b.at - a.at) / 1000 };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await Promise.race([exited, sleep(10_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
