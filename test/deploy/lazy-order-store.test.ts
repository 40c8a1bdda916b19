import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lazyOrderStore } from "../../deploy/lazy-order-store.ts";

describe("lazyOrderStore (the shadow lane's order store)", () => {
  const root = mkdtempSync(path.join(os.tmpdir(), "livedrop-lazy-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("creates nothing until its first call, then opens once for concurrent callers and closes", async () => {
    const dataDir = path.join(root, "first-use");
    const store = lazyOrderStore({ kind: "pglite", dataDir });
    expect(store.kind).toBe("pglite");
    expect(store.opened).toBe(false);
    expect(existsSync(dataDir)).toBe(false);

    const [count, orders] = await Promise.all([store.count(), store.list({ dropId: "none" })]);
    expect(count).toBe(0);
    expect(orders).toEqual([]);
    expect(store.opened).toBe(true);
    expect(store.appliedMigrations.length).toBeGreaterThan(0);
    expect(existsSync(dataDir)).toBe(true);

    await store.close();
    await store.close();
    await expect(store.count()).rejects.toThrow("closed");
  }, 180_000);

  it("closing a store that was never used opens nothing", async () => {
    const dataDir = path.join(root, "never-used");
    const store = lazyOrderStore({ kind: "pglite", dataDir });
    await store.close();
    expect(existsSync(dataDir)).toBe(false);
  });
});
