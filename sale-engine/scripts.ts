import { readFileSync } from "node:fs";
import type { RedisClient } from "../core/index.ts";

/**
 * Loads `lua/NAME.lua` (with the shared prelude) and registers each with ioredis
 * `defineCommand`: calls go out as EVALSHA and fall back to EVAL on NOSCRIPT, so they survive
 * `SCRIPT FLUSH` and a Redis restart.
 */
const SCRIPTS = {
  ldCreate: { file: "create", keys: 2 },
  ldReserve: { file: "reserve", keys: 4 },
  ldConfirm: { file: "confirm", keys: 4 },
  ldRelease: { file: "release", keys: 4 },
  ldExpire: { file: "expire", keys: 4 },
  ldRestock: { file: "restock", keys: 2 },
  ldTransition: { file: "transition", keys: 2 },
  ldStatus: { file: "status", keys: 1 },
} as const;

type ScriptName = keyof typeof SCRIPTS;
export type ScriptReply = (string | number)[];
export type ScriptCommands = {
  [K in ScriptName]: (...keysThenArgs: (string | number)[]) => Promise<ScriptReply>;
};

const luaDir = new URL("./lua/", import.meta.url);
let sources: Record<ScriptName, string> | undefined;

function loadSources(): Record<ScriptName, string> {
  if (sources) return sources;
  const prelude = readFileSync(new URL("_prelude.lua", luaDir), "utf8");
  const out = {} as Record<ScriptName, string>;
  for (const [name, { file }] of Object.entries(SCRIPTS) as [ScriptName, (typeof SCRIPTS)[ScriptName]][]) {
    out[name] = `${prelude}\n${readFileSync(new URL(`${file}.lua`, luaDir), "utf8")}`;
  }
  sources = out;
  return out;
}

/** Registers the sale-engine scripts on `client` (idempotent) and returns them typed. */
export function registerScripts(client: RedisClient): ScriptCommands {
  const lua = loadSources();
  const target = client as unknown as Partial<ScriptCommands>;
  for (const [name, { keys }] of Object.entries(SCRIPTS) as [ScriptName, (typeof SCRIPTS)[ScriptName]][]) {
    if (typeof target[name] !== "function")
      client.defineCommand(name, { numberOfKeys: keys, lua: lua[name] });
  }
  return client as unknown as ScriptCommands;
}
