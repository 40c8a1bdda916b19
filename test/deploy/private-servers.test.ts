import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, RedisServerProcess, startPrivatePostgres } from "../../deploy/index.ts";

/** A plain TCP listener holding a loopback port, as another program would. */
async function holdPort(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1" }, resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** First the taken port (the race lost), then ordinary free ports. */
function loseTheRaceOnce(taken: number): () => Promise<number> {
  let first = true;
  return async () => {
    if (!first) return freePort();
    first = false;
    return taken;
  };
}

describe("private servers and the free-port race", () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-ports-"));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("a redis-server on a fixed port another redis-server holds fails with PORT_IN_USE and never answers as ours", async () => {
    const first = await RedisServerProcess.start({ port: 0, dir: tempDir() });
    try {
      const second = RedisServerProcess.start({ port: first.options.port, dir: tempDir() });
      await expect(second).rejects.toMatchObject({ code: "PORT_IN_USE" });
      await expect(second).rejects.toThrow(`port ${first.options.port} is in use`);
      expect(first.pid).toBeGreaterThan(0);
    } finally {
      await first.stop();
    }
  });

  it("a redis-server on a fixed port a non-Redis program holds fails with PORT_IN_USE (its bind failure, from its log)", async () => {
    const held = await holdPort();
    try {
      await expect(RedisServerProcess.start({ port: held.port, dir: tempDir() })).rejects.toMatchObject({
        code: "PORT_IN_USE",
      });
    } finally {
      await held.close();
    }
  });

  it("with port 0, a port taken between the check and the bind is retried on a new port", async () => {
    const other = await RedisServerProcess.start({ port: 0, dir: tempDir() });
    try {
      const server = await RedisServerProcess.start({
        port: 0,
        dir: tempDir(),
        pickPort: loseTheRaceOnce(other.options.port),
      });
      try {
        expect(server.options.port).not.toBe(other.options.port);
        expect(server.pid).toBeGreaterThan(0);
        expect(server.pid).not.toBe(other.pid);
      } finally {
        await server.stop();
      }
    } finally {
      await other.stop();
    }
  });

  it("a private PostgreSQL whose port is taken before it binds starts on a new port", async () => {
    const held = await holdPort();
    try {
      const pg = await startPrivatePostgres("livedrop", { pickPort: loseTheRaceOnce(held.port) });
      try {
        expect(pg.port).not.toBe(held.port);
        expect(pg.url).toContain(`:${pg.port}/livedrop`);
      } finally {
        await pg.stop();
      }
    } finally {
      await held.close();
    }
  }, 120_000);
});
