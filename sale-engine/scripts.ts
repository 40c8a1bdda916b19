import { type LuaCommands, luaCommands } from "../core/index.ts";

/** The sale engine's scripts in `lua/`, each prefixed with `lua/_prelude.lua`. */
export const registerScripts = luaCommands(new URL("./lua/", import.meta.url), {
  ldCreate: { file: "create", keys: 2 },
  ldReserve: { file: "reserve", keys: 4 },
  ldConfirm: { file: "confirm", keys: 4 },
  ldRelease: { file: "release", keys: 4 },
  ldExpire: { file: "expire", keys: 4 },
  ldRestock: { file: "restock", keys: 2 },
  ldTransition: { file: "transition", keys: 2 },
  ldStatus: { file: "status", keys: 1 },
});

export type ScriptCommands = LuaCommands<
  | "ldCreate"
  | "ldReserve"
  | "ldConfirm"
  | "ldRelease"
  | "ldExpire"
  | "ldRestock"
  | "ldTransition"
  | "ldStatus"
>;
export type { ScriptReply } from "../core/index.ts";
