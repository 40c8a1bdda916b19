import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

/** A script's full source (prelude included, as scripts.ts registers it) and its SHA1. */
export interface ScriptSource {
  readonly lua: string;
  readonly sha: string;
  readonly keys: number;
}

const sources = new Map<string, ScriptSource>();

/**
 * The source of `reserve` or `confirm`, for the replicated path, which sends EVALSHA and WAIT
 * itself in one pipeline (ioredis's NOSCRIPT fallback would resend the script outside it, after
 * the WAIT).
 */
export function scriptSource(file: "reserve" | "confirm", keys: number): ScriptSource {
  let source = sources.get(file);
  if (!source) {
    const dir = new URL("./lua/", import.meta.url);
    const lua = `${readFileSync(new URL("_prelude.lua", dir), "utf8")}\n${readFileSync(new URL(`${file}.lua`, dir), "utf8")}`;
    source = { lua, sha: createHash("sha1").update(lua).digest("hex"), keys };
    sources.set(file, source);
  }
  return source;
}
