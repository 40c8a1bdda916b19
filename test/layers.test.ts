import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The folder rules of DESIGN.md, checked on the source: a folder reaches another only through
 * its `index.ts` (its public surface), and only downwards in the layers.
 */
const root = path.resolve(import.meta.dirname, "..");

/** What each product folder may import (besides itself and npm packages). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  protocol: [],
  core: [],
  telemetry: [],
  auth: ["core", "protocol"],
  "sale-engine": ["core", "protocol", "telemetry"],
  orders: ["core", "sale-engine", "protocol", "telemetry"],
  gateway: ["core", "auth", "sale-engine", "orders", "protocol", "telemetry"],
  media: ["core", "auth", "protocol"],
  deploy: ["core", "auth", "sale-engine", "orders", "gateway", "media", "client", "protocol", "telemetry"],
  cli: [
    "core",
    "auth",
    "sale-engine",
    "orders",
    "gateway",
    "media",
    "deploy",
    "bench",
    "protocol",
    "telemetry",
  ],
  client: ["protocol"],
  loadtest: ["protocol", "core", "auth", "sale-engine", "orders", "gateway", "deploy"],
  bench: ["core", "auth", "sale-engine", "orders", "gateway", "media", "deploy", "protocol"],
  chaos: ["core", "auth", "protocol", "deploy", "loadtest", "sale-engine", "orders"],
};

/** The server's layers, lowest first: a folder imports only from layers below its own. */
const LAYERS: readonly (readonly string[])[] = [
  ["core", "telemetry"],
  ["sale-engine"],
  ["orders"],
  ["gateway", "media"],
  ["deploy"],
  ["cli"],
];

/**
 * Imports of another folder's inner file, each for a reason that outweighs the rule:
 * - k6 loads only dependency-free local files, so loadtest/lib/ takes protocol's clock math
 *   (plain functions) rather than protocol's index (which pulls in zod, which k6 cannot load).
 */
const INNER_IMPORTS_ALLOWED = new Set(["loadtest/lib/clock.ts -> protocol/clock.ts"]);

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|tsx|mjs)$/.test(e.name))
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .filter((f) => !f.split(path.sep).includes("node_modules") && !f.split(path.sep).includes("dist"));
}

/** Every relative import of the product folders' files, type-only ones included. */
function allImports(): { from: string; to: string }[] {
  const found: { from: string; to: string }[] = [];
  for (const folder of Object.keys(MAY_IMPORT))
    for (const file of sourceFiles(folder)) {
      const source = readFileSync(path.join(root, file), "utf8");
      for (const m of source.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g))
        found.push({ from: file, to: path.normalize(path.join(path.dirname(file), m[1] as string)) });
    }
  return found;
}

function crossFolderImports(): { from: string; to: string }[] {
  return allImports().filter(({ from, to }) => to.split(path.sep)[0] !== from.split(path.sep)[0]);
}

/** Each import cycle among files (Tarjan's strongly connected components of more than one file). */
function importCycles(): string[][] {
  const graph = new Map<string, string[]>();
  for (const { from, to } of allImports()) graph.set(from, [...(graph.get(from) ?? []), to]);
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string | undefined;
    do {
      w = stack.pop();
      if (w) component.push(w);
    } while (w && w !== v);
    if (component.length > 1) cycles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

describe("folder boundaries", () => {
  it("finds the product folders' imports (the scan works)", () => {
    expect(crossFolderImports().length).toBeGreaterThan(50);
  });

  it("other folders reach a folder only through its index.ts", () => {
    const inner = crossFolderImports()
      .filter(({ to }) => !/^[^/]+\/index\.ts$/.test(to))
      .map(({ from, to }) => `${from} -> ${to}`)
      .filter((edge) => !INNER_IMPORTS_ALLOWED.has(edge));
    expect(inner).toEqual([]);
  });

  it("the allowed imports follow the layers: nothing reaches its own layer or one above", () => {
    const upwards: string[] = [];
    LAYERS.forEach((layer, level) => {
      const notBelow = LAYERS.slice(level).flat();
      for (const folder of layer)
        for (const target of MAY_IMPORT[folder] ?? [])
          if (notBelow.includes(target)) upwards.push(`${folder} may import ${target}`);
    });
    expect(upwards).toEqual([]);
    // protocol/ is the shared contract: it imports nothing; the browser client imports only it.
    expect(MAY_IMPORT.protocol).toEqual([]);
    expect(MAY_IMPORT.client).toEqual(["protocol"]);
  });

  it("no two files import each other, directly or round a loop (type-only imports included)", () => {
    expect(importCycles()).toEqual([]);
  });

  it("imports go only downwards in the layers", () => {
    const upwards = crossFolderImports()
      .filter(({ from, to }) => {
        const a = from.split(path.sep)[0] as string;
        const b = to.split(path.sep)[0] as string;
        return !(MAY_IMPORT[a] ?? []).includes(b);
      })
      .map(({ from, to }) => `${from} -> ${to}`);
    expect(upwards).toEqual([]);
  });
});
