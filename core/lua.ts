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
    const added: Names[] = [];
    for (const name of Object.keys(specs) as Names[]) {
      if (typeof target[name] === "function") continue;
      client.defineCommand(name, { numberOfKeys: specs[name].keys, lua: lua[name] });
      added.push(name);
    }
    if (added.length > 0) addToPendingAutoPipelines(client, added);
    return client as unknown as LuaCommands<Names>;
  };
}

/** What ioredis keeps of an auto-pipeline still waiting for its tick (private fields, ioredis 5). */
interface PendingPipeline {
  _shaToScript?: Record<string, unknown>;
  [command: string]: unknown;
}

/**
 * ioredis copies a client's scripts into a pipeline when it creates it. An auto-pipeline created
 * earlier in this tick (any command queues one until the next tick) would not know a script defined
 * now: calling it there throws, and the pipeline's replies no longer line up with its callbacks,
 * which kills the process. The new scripts are copied into such pending pipelines the way ioredis
 * copies them at creation.
 */
function addToPendingAutoPipelines(client: RedisClient, names: readonly string[]): void {
  const raw = client as unknown as {
    _autoPipelines?: Map<string, PendingPipeline>;
    scriptsSet?: Record<string, { sha: string }>;
    [command: string]: unknown;
  };
  for (const pipeline of raw._autoPipelines?.values() ?? []) {
    for (const name of names) {
      const script = raw.scriptsSet?.[name];
      if (script && pipeline._shaToScript) pipeline._shaToScript[script.sha] = script;
      pipeline[name] = raw[name];
      pipeline[`${name}Buffer`] = raw[`${name}Buffer`];
    }
  }
}
