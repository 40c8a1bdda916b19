import { readFileSync } from "node:fs";
import type { RedisClient } from "./redis.ts";

export type ScriptReply = (string | number | ScriptReply)[];

export interface LuaScriptSpec {
  /** File name in the folder, without `.lua`. */
  readonly file: string;
  /** How many of the arguments are KEYS (the rest are ARGV). */
  readonly keys: number;
}

export type LuaCommands<Names extends string> = {
  [K in Names]: (...keysThenArgs: (string | number)[]) => Promise<ScriptReply>;
};

/**
 * Loads Lua scripts from a folder (each prefixed with `_prelude.lua` when the folder has one)
 * and registers them with ioredis `defineCommand`: calls go out as EVALSHA and fall back to EVAL
 * on NOSCRIPT, so they survive `SCRIPT FLUSH` and a Redis restart. Registering twice is a no-op.
 */
export function luaCommands<Names extends string>(dir: URL, specs: Record<Names, LuaScriptSpec>) {
  let sources: Record<Names, string> | undefined;
  const load = () => {
    if (sources) return sources;
    let prelude = "";
    try {
      prelude = readFileSync(new URL("_prelude.lua", dir), "utf8");
    } catch {
      // a folder without shared helpers
    }
    const out = {} as Record<Names, string>;
    for (const name of Object.keys(specs) as Names[]) {
      out[name] = `${prelude}\n${readFileSync(new URL(`${specs[name].file}.lua`, dir), "utf8")}`;
    }
    sources = out;
    return out;
  };
  return (client: RedisClient): LuaCommands<Names> => {
    const lua = load();
    const target = client as unknown as Partial<LuaCommands<Names>>;
    for (const name of Object.keys(specs) as Names[]) {
      if (typeof target[name] !== "function")
        client.defineCommand(name, { numberOfKeys: specs[name].keys, lua: lua[name] });
    }
    return client as unknown as LuaCommands<Names>;
  };
}
