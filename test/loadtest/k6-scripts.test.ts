import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SCENARIO_NAMES, SCENARIOS } from "../../loadtest/index.ts";

const root = path.resolve(import.meta.dirname, "../..");
const k6Dir = path.join(root, "loadtest/k6");
const libDir = path.join(root, "loadtest/lib");

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? tsFiles(path.join(dir, e.name))
      : e.name.endsWith(".ts")
        ? [path.join(dir, e.name)]
        : [],
  );
}

/** Every module specifier in a file: static imports and re-exports, dynamic import(), require(). */
function specifiers(file: string): string[] {
  const source = readFileSync(file, "utf8");
  const found: string[] = [];
  for (const m of source.matchAll(/\b(?:import|export)\b[^"'`;]*?\bfrom\s*["']([^"']+)["']/g))
    found.push(m[1] ?? "");
  for (const m of source.matchAll(/^\s*import\s*["']([^"']+)["']/gm)) found.push(m[1] ?? "");
  for (const m of source.matchAll(/\b(?:import|require)\s*\(\s*["'`]([^"'`]+)["'`]/g)) found.push(m[1] ?? "");
  return found;
}

const inside = (dir: string, file: string) => !path.relative(dir, file).startsWith("..");
/** Files outside loadtest/ that k6 may load: dependency-free by contract (they import nothing). */
const SHARED_FILES = [path.join(root, "protocol/clock.ts")];
const rel = (f: string) => path.relative(root, f);

describe("k6 scripts", () => {
  it("typecheck against @types/k6 with loadtest/tsconfig.json (no Node or DOM types)", () => {
    const tsc = spawnSync(
      process.execPath,
      [path.join(root, "node_modules/typescript/bin/tsc"), "--noEmit", "-p", "loadtest/tsconfig.json"],
      {
        cwd: root,
        encoding: "utf8",
      },
    );
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.status).toBe(0);
  }, 180_000);

  it("import nothing but k6 modules and local dependency-free files", () => {
    const problems: string[] = [];
    const files = [...tsFiles(k6Dir), ...tsFiles(libDir)];
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      for (const spec of specifiers(file)) {
        if (spec.startsWith(".")) {
          const target = path.resolve(path.dirname(file), spec);
          if (!spec.endsWith(".ts"))
            problems.push(`${rel(file)}: "${spec}" needs its .ts extension (k6 resolves no others)`);
          // lib/ is shared with the Node driver: it may not even import k6.
          else if (
            !SHARED_FILES.includes(target) &&
            (inside(libDir, file)
              ? !inside(libDir, target)
              : !inside(k6Dir, target) && !inside(libDir, target))
          )
            problems.push(`${rel(file)}: "${spec}" leaves the files k6 may load`);
        } else if (inside(libDir, file)) {
          problems.push(`${rel(file)}: "${spec}": lib/ is shared with Node and imports only its own files`);
        } else if (!(spec === "k6" || spec.startsWith("k6/"))) {
          problems.push(`${rel(file)}: "${spec}" is not a k6 module`);
        }
      }
    }
    for (const shared of SHARED_FILES) expect(specifiers(shared), rel(shared)).toEqual([]);
    expect(problems).toEqual([]);
  });

  it("the import scan sees every kind of import", () => {
    const probe = path.join(k6Dir, "01-smoke.ts");
    expect(specifiers(probe)).toEqual(
      expect.arrayContaining(["k6", "k6/execution", "../lib/behaviours.ts", "./lib/api.ts"]),
    );
  });

  it("one script per scenario, each with options, thresholds from the shared module and a handleSummary", () => {
    const scripts = readdirSync(k6Dir)
      .filter((f) => /^\d\d-.*\.ts$/.test(f))
      .sort();
    expect(scripts).toEqual(SCENARIO_NAMES.map((n) => SCENARIOS[n].script).sort());
    for (const name of SCENARIO_NAMES) {
      const source = readFileSync(path.join(k6Dir, SCENARIOS[name].script), "utf8");
      expect(source, name).toContain(`k6Options("${name}", p)`);
      expect(source, name).toContain(`handleSummaryFor("${name}", cfg)`);
      expect(source, name).toMatch(/export const options: Options/);
      expect(source, name).not.toContain('k6/ws"');
    }
  });

  it("every frame goes out through sendIfOpen: no other file sends on a socket", () => {
    const raw: string[] = [];
    for (const file of [...tsFiles(k6Dir), ...tsFiles(libDir)]) {
      const lines = readFileSync(file, "utf8").split("\n");
      lines.forEach((line, i) => {
        if (/^\s*(\/\/|\*)/.test(line) || !/\.send\(/.test(line)) return;
        const allowed =
          (rel(file) === "loadtest/lib/socket-send.ts" && line.includes("ws.send(text)")) ||
          (rel(file) === "loadtest/lib/session.ts" && /this\.socket\.send\(|\bthis\.send\(/.test(line)) ||
          /\bs\.send\(f\./.test(line); // behaviours: Session.send, which goes through the port
        if (!allowed) raw.push(`${rel(file)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(raw).toEqual([]);
    const socket = readFileSync(path.join(k6Dir, "lib/socket.ts"), "utf8");
    expect(socket).toContain("send: (text) => sendIfOpen(ws, text)");
    expect(socket).not.toMatch(/ws\.close\(\)/);
  });

  it("VU code gets its token and socket only through the counting helpers (no fail(), no raw openSession)", () => {
    for (const name of SCENARIO_NAMES) {
      const source = readFileSync(path.join(k6Dir, SCENARIOS[name].script), "utf8");
      // Each exported VU function: from `export function x(` to the next top-level `}`.
      for (const m of source.matchAll(/^export function (\w+)\([\s\S]*?^}/gm)) {
        const fn = m[1] ?? "";
        if (fn === "setup" || fn === "teardown") continue;
        expect(m[0], `${name} ${fn}`).not.toMatch(/\bfail\(|\bviewerToken\(|\bopenSession\(/);
      }
      expect(source, name).toMatch(/\bopenViewer\(/);
      expect(source, name).toMatch(/export function generatorProbe\(/);
      expect(source, name).toContain("setupTokens(cfg, pool, vusOf(scenarios))");
    }
  });
});
