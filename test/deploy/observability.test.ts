import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../deploy/ports.ts";
import type { ServerFrame } from "../../protocol/index.ts";
import { keySpace } from "../../sale-engine/index.ts";
import { type GatewayStack, startGatewayStack } from "../harness/gateway.ts";
import { TestSocket } from "../harness/ws-client.ts";
import { type MediaStack, startMediaStack } from "../media/harness.ts";
import { dropDefinition, key } from "../sale-engine/fixtures.ts";

const run = promisify(execFile);
const OBS = path.resolve("deploy/observability");
const RULES = path.join(OBS, "prometheus/rules");
const UNIT_TESTS = path.join(OBS, "prometheus/tests");
const DASHBOARD = path.join(OBS, "grafana/dashboards/war-room.json");
const DATASOURCES = path.join(OBS, "grafana/provisioning/datasources/prometheus.yml");
const ALERTS_DOC = path.resolve("docs/alerts.md");

const ruleFiles = () =>
  readdirSync(RULES)
    .filter((f) => f.endsWith(".yml"))
    .map((f) => path.join(RULES, f));

interface Panel {
  readonly type: string;
  readonly title: string;
  readonly datasource?: { type?: string; uid?: string };
  readonly targets?: { expr?: string; datasource?: { uid?: string } }[];
}

function dashboardPanels(): Panel[] {
  const d = JSON.parse(readFileSync(DASHBOARD, "utf8")) as { panels: Panel[] };
  return d.panels.filter((p) => p.type !== "row");
}

function dashboardExprs(): string[] {
  return dashboardPanels().flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ""));
}

/** Waits for `check` to return a value, polling; fails with the last reason past `timeoutMs`. */
async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const r = await check().catch((err: unknown) => `error: ${(err as Error).message}`);
    if (typeof r !== "string") return r;
    last = r;
    if (Date.now() > deadline) throw new Error(`${what} not reached in ${timeoutMs} ms: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe("rule files and dashboard (static checks)", () => {
  it("promtool check rules accepts every rule file", async () => {
    const { stdout } = await run("promtool", ["check", "rules", ...ruleFiles()]);
    expect(stdout).toContain("SUCCESS");
  });

  it("promtool test rules passes the unit tests of every alert", async () => {
    const tests = readdirSync(UNIT_TESTS)
      .filter((f) => f.endsWith(".yml"))
      .map((f) => path.join(UNIT_TESTS, f));
    expect(tests.length).toBeGreaterThan(0);
    const { stdout } = await run("promtool", ["test", "rules", ...tests]);
    expect(stdout).not.toContain("FAILED");
    // Each alert of the rule files is exercised by some unit test.
    const unitText = tests.map((t) => readFileSync(t, "utf8")).join("\n");
    const alerts = ruleFiles().flatMap((f) =>
      [...readFileSync(f, "utf8").matchAll(/- alert: (\w+)/g)].map((m) => m[1] as string),
    );
    expect(alerts.filter((a) => !unitText.includes(`alertname: ${a}`))).toEqual([]);
  });

  it("the example Prometheus configuration is valid", async () => {
    const { stdout } = await run("promtool", [
      "check",
      "config",
      path.join(OBS, "prometheus/prometheus.yml"),
    ]);
    expect(stdout).toContain("is valid prometheus config file syntax");
  });

  it("every dashboard panel names the provisioned data source and has a non-empty query", () => {
    const uid = /uid: (\S+)/.exec(readFileSync(DATASOURCES, "utf8"))?.[1];
    expect(uid).toBeTruthy();
    const panels = dashboardPanels();
    expect(panels.length).toBeGreaterThan(10);
    for (const p of panels) {
      expect(p.datasource?.uid, p.title).toBe(uid);
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) {
        expect(t.expr?.trim(), p.title).toBeTruthy();
        expect(t.datasource?.uid, p.title).toBe(uid);
      }
    }
  });
});

/** A Prometheus rule as /api/v1/rules lists it. */
interface LoadedRule {
  readonly type: "recording" | "alerting";
  readonly name: string;
  readonly query: string;
  readonly health: string;
  readonly lastError?: string;
  readonly annotations?: Record<string, string>;
}

/**
 * The query whose data proves a rule is fed. A recording rule: its recorded series (so the rule
 * itself was evaluated by Prometheus). An alert: the left side of its `<expr> <op> <number>`,
 * since a healthy stack must not make it fire; its underlying series must still exist.
 */
function dataQuery(rule: LoadedRule): string {
  if (rule.type === "recording") return rule.name;
  const m = /^([\s\S]*\S)\s*(?:>=|<=|==|!=|>|<)\s*[0-9.]+$/.exec(rule.query.trim());
  if (!m?.[1]) throw new Error(`alert ${rule.name}: expr is not "<expr> <op> <number>": ${rule.query}`);
  return m[1];
}

describe("a real Prometheus scraping a running stack", () => {
  let g: GatewayStack | undefined;
  let media: MediaStack | undefined;
  let workerMetrics: http.Server | undefined;
  let prometheus: ChildProcess | undefined;
  let promUrl = "";
  let promDir = "";
  const api = async (p: string) => {
    const res = await fetch(`${promUrl}${p}`);
    const body = (await res.json()) as { status: string; data: unknown; error?: string };
    if (body.status !== "success") throw new Error(`${p}: ${body.error}`);
    return body.data;
  };

  beforeAll(async () => {
    // Made here, not at collection: a run that filters these tests out leaves nothing behind.
    promDir = mkdtempSync(path.join(os.tmpdir(), "livedrop-prometheus-"));
    const pipelineRegistry = new Registry();
    [g, media] = await Promise.all([
      startGatewayStack({ pipelineRegistry }),
      startMediaStack({ MEDIA_WORKERS: "1" }),
    ]);
    // A real limit, as production sets one, so the memory ratio has a denominator.
    await g.options.redis.config("SET", "maxmemory", String(1024 * 1024 * 1024));
    // The pipeline runs in this process: its registry served as a worker's /metrics would be.
    workerMetrics = http.createServer((_req, res) => {
      pipelineRegistry.metrics().then(
        (text) => res.writeHead(200, { "content-type": pipelineRegistry.contentType }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
    await new Promise<void>((resolve) => workerMetrics?.listen(0, "127.0.0.1", resolve));
    const workerPort = (workerMetrics.address() as AddressInfo).port;
    const hostPort = (url: string) => new URL(url).host;
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    const config = [
      "global: { scrape_interval: 1s, evaluation_interval: 1s }",
      "rule_files:",
      ...ruleFiles().map((f) => `  - ${JSON.stringify(f)}`),
      "scrape_configs:",
      `  - { job_name: livedrop-gateway, static_configs: [{ targets: ["${hostPort(g.server.url)}"] }] }`,
      `  - { job_name: livedrop-worker, static_configs: [{ targets: ["127.0.0.1:${workerPort}"] }] }`,
      `  - { job_name: livedrop-media, static_configs: [{ targets: ["${hostPort(media.tier.url)}"] }] }`,
    ].join("\n");
    writeFileSync(path.join(promDir, "prometheus.yml"), config);
    prometheus = spawn(
      "prometheus",
      [
        `--config.file=${path.join(promDir, "prometheus.yml")}`,
        `--storage.tsdb.path=${path.join(promDir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    prometheus.stderr?.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    await until("every scrape target up", 30_000, async () => {
      if (prometheus?.exitCode !== null) return `prometheus exited: ${stderr}`;
      const data = (await api("/api/v1/targets")) as {
        activeTargets: { health: string; scrapeUrl: string }[];
      };
      const down = data.activeTargets.filter((t) => t.health !== "up");
      return data.activeTargets.length === 3 && down.length === 0
        ? true
        : `${data.activeTargets.length} targets, not up: ${down.map((t) => t.scrapeUrl).join(", ")}`;
    });
  }, 120_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus?.once("exit", resolve));
      prometheus.kill("SIGTERM");
      await exited;
    }
    await new Promise((resolve) => (workerMetrics ? workerMetrics.close(resolve) : resolve(undefined)));
    await Promise.all([g?.stop(), media?.stop()]);
    if (promDir) rmSync(promDir, { recursive: true, force: true });
  }, 60_000);

  it("every dashboard query and every rule's series return data after one join, buy and pay", async () => {
    const stack = g as GatewayStack;
    const room = "war-room";
    const def = dropDefinition({ roomId: room, initialStock: 5 });
    await stack.stack.engine.createDrop(def);
    const s = await TestSocket.connect(stack.server.url, await stack.token("shopper"));
    s.send({ t: "join", room });
    await s.next((f) => f.t === "joined");
    s.send({ t: "buy", reqId: "b", dropId: def.dropId, qty: 1, idempotencyKey: key() });
    const ack = await s.next<Extract<ServerFrame, { t: "ack" }>>((f) => f.t === "ack" && f.reqId === "b");
    if (!ack.ok || ack.result.kind !== "buy") throw new Error(`buy refused: ${JSON.stringify(ack)}`);
    const reservationId = ack.result.reservationId;
    // The order worker writes the order (a pay before it would have checkout write it instead).
    await s.next(
      (f) => f.t === "order" && f.reservationId === reservationId && f.status === "pending_payment",
    );
    s.send({ t: "pay", reqId: "p", reservationId, token: "tok_success", idempotencyKey: key() });
    await s.next((f) => f.t === "order" && f.reservationId === reservationId && f.status === "paid");
    s.close();

    const rules = await until("rules loaded and evaluated", 20_000, async () => {
      const data = (await api("/api/v1/rules")) as { groups: { rules: LoadedRule[] }[] };
      const all = data.groups.flatMap((gr) => gr.rules);
      const unhealthy = all.filter((r) => r.health !== "ok");
      return all.length > 0 && unhealthy.length === 0
        ? all
        : `${all.length} rules, not ok: ${unhealthy.map((r) => `${r.name} ${r.lastError ?? r.health}`).join("; ")}`;
    });
    expect(rules.filter((r) => r.type === "alerting").length).toBeGreaterThanOrEqual(15);

    // Every alert's runbook link points at a heading of docs/alerts.md.
    const doc = readFileSync(ALERTS_DOC, "utf8");
    for (const r of rules.filter((x) => x.type === "alerting")) {
      expect(r.annotations?.runbook, r.name).toBe(`docs/alerts.md#${r.name.toLowerCase()}`);
      expect(doc, r.name).toContain(`## ${r.name}\n`);
    }

    const queries = [...new Set([...dashboardExprs(), ...rules.map(dataQuery)])];
    const empty = await until("data for every query", 40_000, async () => {
      const results = await Promise.all(
        queries.map(async (q) => {
          const data = (await api(`/api/v1/query?query=${encodeURIComponent(q)}`)) as { result: unknown[] };
          return data.result.length > 0 ? undefined : q;
        }),
      );
      const missing = results.filter((q) => q !== undefined);
      return missing.length === 0 ? missing : `no data yet: ${missing.join(" | ")}`;
    });
    expect(empty).toEqual([]);

    // The figures are this run's: the drop's one hold and paid order, the order worker's lag.
    const value = async (q: string) => {
      const data = (await api(`/api/v1/query?query=${encodeURIComponent(q)}`)) as {
        result: { value: [number, string] }[];
      };
      return data.result.map((r) => Number(r.value[1]));
    };
    await until("this drop's figures scraped", 20_000, async () => {
      const [holds, paid, lag] = await Promise.all([
        value(`max(livedrop_sale_holds{drop="${def.dropId}"})`),
        value(`max(livedrop_sale_paid_orders{drop="${def.dropId}"})`),
        value("sum(livedrop_orders_hold_to_order_seconds_count)"),
      ]);
      return holds[0] === 1 && paid[0] === 1 && (lag[0] ?? 0) >= 1
        ? true
        : `holds ${holds}, paid ${paid}, lag observations ${lag}`;
    });
    // And a series nobody exports has no data: the check above can tell the two apart.
    expect(await value("livedrop_no_such_metric")).toEqual([]);
  }, 90_000);

  it("a drop whose counts stop adding up fires the oversell and invariant alerts in Prometheus", async () => {
    const stack = g as GatewayStack;
    const def = dropDefinition({ roomId: "broken-room", initialStock: 5 });
    await stack.stack.engine.createDrop(def);
    // A write outside the sale engine: 6 sold of a stock of 5 (available stays 5).
    await stack.options.redis.hincrby(keySpace(stack.stack.prefix).drop(def.dropId).state, "sold", 6);
    const firing = await until("both alerts firing", 30_000, async () => {
      const data = (await api("/api/v1/alerts")) as {
        alerts: { labels: { alertname: string }; state: string }[];
      };
      const names = data.alerts.filter((a) => a.state === "firing").map((a) => a.labels.alertname);
      return names.includes("LivedropOversell") && names.includes("LivedropStockInvariantBroken")
        ? names
        : `firing: ${names.join(", ") || "none"}`;
    });
    expect(firing).toEqual(expect.arrayContaining(["LivedropOversell", "LivedropStockInvariantBroken"]));
    const oversold = (await api(
      `/api/v1/query?query=${encodeURIComponent("max(livedrop_sale_oversold_units)")}`,
    )) as {
      result: { value: [number, string] }[];
    };
    expect(Number(oversold.result[0]?.value[1])).toBe(1);
  }, 60_000);
});
