import { type ChildProcess, fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { TokenService } from "../auth/index.ts";
import { connectRedis, ValidationError } from "../core/index.ts";
import { freePort, RedisServerProcess } from "../deploy/index.ts";
import { SaleEngine } from "../sale-engine/index.ts";
import { startGatewayChild } from "./gateway-child.ts";
import { collectGarbage, INSPECT_FLAG, inspectorUrl } from "./inspector.ts";
import { progress, round } from "./measure.ts";
import { processCpuMicros, processCpuSplitMicros } from "./process-cpu.ts";

const here = path.dirname(new URL(import.meta.url).pathname);
const ROOM = "bench";

/**
 * Fan-out through the real path: sale-engine event → Redis → gateway (a `livedrop gateway` child)
 * → N WebSocket clients (a separate client process). Then the same events, the same way, through
 * a reference server written with `ws`. Server CPU comes from /proc of the server process.
 */
export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean", default: false },
      clients: { type: "string" },
      events: { type: "string" },
    },
    strict: true,
  });
  const clients = Number(values.clients ?? (values.quick ? 5_000 : 10_000));
  const events = Number(values.events ?? (values.quick ? 10 : 20));
  if (!(clients >= 1 && clients <= 50_000 && events >= 1 && events <= 1_000))
    throw new ValidationError("--clients 1..50000, --events 1..1000");

  const dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-bench-fanout-"));
  const redis = await RedisServerProcess.start({
    port: await freePort(),
    dir: path.join(dir, "redis"),
    appendfsync: "everysec",
  });
  const client = connectRedis({ url: redis.url });
  const prefix = `fan-${randomUUID().slice(0, 6)}`;
  const engine = await SaleEngine.create({ redis: client, prefix });
  const children: ChildProcess[] = [];
  try {
    const dropId = `fan-${randomUUID().slice(0, 8)}`;
    await engine.createDrop({
      dropId,
      roomId: ROOM,
      product: {
        sku: "FAN",
        title: "Fan-out item",
        priceMinor: 100,
        currency: "USD",
        imageUrl: "https://example.com/x.png",
      },
      initialStock: 1_000,
      perUserLimit: 1,
      holdMs: 60_000,
    });
    const secret = randomUUID().repeat(2);
    const token = await (await TokenService.create({ secret })).issue({
      userId: "bench-viewer",
      role: "viewer",
      ttlSeconds: 3600,
    });

    const fire = () => engine.restock(dropId, 1).then(() => undefined);
    const channel = engine.keys.drop(dropId).events;

    // uWebSockets.js gateway.
    const {
      child: gateway,
      wsUrl,
      inspectorUrl: gatewayInspector,
    } = await startGatewayChild({
      redisUrl: redis.url,
      dataDir: dir,
      keyPrefix: prefix,
      tokenSecret: secret,
      maxConnectionsPerIp: clients + 10,
      // One bench user holds every socket.
      maxRoomsPerUser: clients + 10,
    });
    children.push(gateway);
    const uws = await measure({
      label: "uWebSockets.js gateway",
      serverPid: gateway.pid,
      inspector: gatewayInspector,
      url: `${wsUrl}?token=${encodeURIComponent(token)}`,
      mode: "gateway",
      clients,
      events,
      fire,
      children,
    });
    gateway.kill("SIGTERM");

    // A reference server on the same drop channel, measured the same way, then stopped.
    const reference = async (label: string, script: string, execArgv: string[]) => {
      const server = await startReference(script, execArgv, redis.url, channel);
      children.push(server.child);
      const measured = await measure({
        label,
        serverPid: server.child.pid,
        inspector: server.inspector,
        url: `ws://127.0.0.1:${server.port}`,
        mode: "ws",
        clients,
        events,
        fire,
        children,
      });
      server.child.kill("SIGTERM");
      return measured;
    };
    // Floor: bare uWS with the gateway's burst batching, none of its work.
    const floor = await reference("bare uWS floor", "uws-floor.ts", ["--import", "tsx"]);
    // `ws` broadcasting the drop channel's messages.
    const ws = await reference("ws reference", "ws-reference.mjs", []);

    const result = {
      bench: "fanout",
      clients,
      events,
      burstMs: round(uws.burstMs),
      wsBurstMs: round(ws.burstMs),
      speedupVsWs: round(ws.burstMs / uws.burstMs),
      cpuNsPerDelivery: Math.round(uws.cpuNsPerDelivery),
      floorCpuNsPerDelivery: Math.round(floor.cpuNsPerDelivery),
      cpuVsFloor: round(uws.cpuNsPerDelivery / floor.cpuNsPerDelivery),
      wsCpuNsPerDelivery: Math.round(ws.cpuNsPerDelivery),
      lastDeliveryMs: round(uws.lastDeliveryMs),
      rssPerConnKB: round(uws.rssPerConnKB),
      wsRssPerConnKB: round(ws.rssPerConnKB),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await engine.close();
    client.disconnect();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A reference server (a script next to this file) on a free port, listening, with its inspector. */
async function startReference(script: string, execArgv: string[], redisUrl: string, channel: string) {
  const port = await freePort();
  const child = fork(path.join(here, script), [redisUrl, channel, String(port)], {
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    execArgv: [INSPECT_FLAG, ...execArgv],
  });
  const [inspector] = await Promise.all([
    inspectorUrl(child),
    new Promise<void>((resolve, reject) => {
      child.on("message", (m: { type: string }) => m.type === "listening" && resolve());
      child.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
    }),
  ]);
  return { child, port, inspector };
}

interface MeasureOptions {
  readonly label: string;
  readonly serverPid: number | undefined;
  /** The server's inspector: memory is read after a forced full collection. */
  readonly inspector: string;
  readonly url: string;
  readonly mode: "gateway" | "ws";
  readonly clients: number;
  readonly events: number;
  readonly fire: () => Promise<void>;
  readonly children: ChildProcess[];
}

async function measure(o: MeasureOptions) {
  const load = fork(path.join(here, "fanout-clients.mjs"), [o.url, String(o.clients), o.mode, ROOM], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  o.children.push(load);
  // A load process that failed (a refused connection or join) ends the run instead of hanging it.
  const failed = new Promise<never>((_, reject) =>
    load.once("exit", (code) => reject(new Error(`${o.label}: the clients' process exited with ${code}`))),
  );
  failed.catch(() => undefined);
  const next = (type: string) =>
    Promise.race([
      new Promise<{ at: number }>((resolve) =>
        load.once("message", (m: { type: string; at: number }) => m.type === type && resolve(m)),
      ),
      failed,
    ]);
  const t0 = Date.now();
  await next("half");
  await collectGarbage(o.inspector);
  const rssAtHalf = rssKB(o.serverPid);
  load.send({ type: "continue" });
  await next("ready");
  progress(`${o.label}: ${o.clients} clients connected in ${Date.now() - t0} ms`);
  await collectGarbage(o.inspector);
  const rssAfter = rssKB(o.serverPid);

  // A burst of events, fired back to back; done when every client has every event.
  load.send({ type: "expect", total: o.events });
  const cpu0 = processCpuMicros(o.serverPid) ?? 0;
  const split0 = processCpuSplitMicros(o.serverPid) ?? { user: 0, system: 0 };
  const start = Date.now();
  const done = next("done");
  for (let i = 0; i < o.events; i++) await o.fire();
  const burstMs = (await done).at - start;
  const cpuNs = ((processCpuMicros(o.serverPid) ?? cpu0) - cpu0) * 1000;
  const split1 = processCpuSplitMicros(o.serverPid) ?? split0;
  const userTicks = split1.user - split0.user;
  const kernelShare =
    userTicks + split1.system - split0.system > 0
      ? (split1.system - split0.system) / (userTicks + split1.system - split0.system)
      : 0;
  const cpuNsPerDelivery = cpuNs / (o.clients * o.events);

  // One more event alone: the time until the last client has it.
  load.send({ type: "expect", total: o.events + 1 });
  const single = next("done");
  const fired = Date.now();
  await o.fire();
  const lastDeliveryMs = (await single).at - fired;
  load.kill("SIGTERM");
  progress(
    `${o.label}: burst ${burstMs} ms, last delivery ${lastDeliveryMs} ms, CPU per delivery ${Math.round(cpuNsPerDelivery)} ns (${Math.round(kernelShare * 100)}% kernel)`,
  );
  return {
    burstMs,
    lastDeliveryMs,
    cpuNsPerDelivery,
    // The second half's connections only: what one more connection costs.
    rssPerConnKB: Math.max(0, rssAfter - rssAtHalf) / (o.clients - Math.floor(o.clients / 2)),
  };
}

function rssKB(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0);
}
