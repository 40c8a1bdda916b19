import { ValidationError } from "../core/index.ts";

const BENCHES: Record<string, () => Promise<{ run(args: string[]): Promise<number> }>> = {
  "sale-engine": () => import("./sale-engine.ts"),
  orders: () => import("./orders.ts"),
  fanout: () => import("./fanout.ts"),
  buy: () => import("./buy.ts"),
  media: () => import("./media.ts"),
  idle: () => import("./idle.ts"),
  "room-log-commands": () => import("./room-log-commands.ts"),
  memory: () => import("./memory.ts"),
  fairness: () => import("./fairness.ts"),
};

/** `npm run bench -- NAME [flags]`: each bench prints progress on stderr and one JSON line last on stdout. */
export async function runBench(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  const load = name ? BENCHES[name] : undefined;
  if (!load)
    throw new ValidationError(`unknown bench "${name ?? ""}"; available: ${Object.keys(BENCHES).join(", ")}`);
  return (await load()).run(rest);
}
