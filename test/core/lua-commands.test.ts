import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { luaCommands } from "../../core/index.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../harness/redis.ts";

let redis: PrivateRedis;
let dir = "";

beforeAll(async () => {
  redis = await startPrivateRedis();
  dir = mkdtempSync(path.join(os.tmpdir(), "livedrop-lua-"));
  writeFileSync(path.join(dir, "echo-key.lua"), 'return redis.call("GET", KEYS[1])\n');
}, 60_000);

afterAll(async () => {
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("Lua commands on an auto-pipelining connection", () => {
  it("a script registered in the same tick as another command runs in that command's pipeline", async () => {
    const client = redis.client();
    await client.ping();
    const key = `${uniquePrefix("lua")}:k`;
    await client.set(key, "v");
    const register = luaCommands(new URL(`${pathToFileURL(dir).href}/`), {
      ldEchoKey: { file: "echo-key", keys: 1 },
    });
    // The first GET opens this tick's auto-pipeline; the script is defined after it.
    const before = client.get(key);
    const cmd = register(client);
    const [a, b, c] = await Promise.all([before, cmd.ldEchoKey(key), client.get(key)]);
    expect([a, b, c]).toEqual(["v", "v", "v"]);
    // And the connection is still sound afterwards.
    expect(await cmd.ldEchoKey(key)).toBe("v");
  });
});
