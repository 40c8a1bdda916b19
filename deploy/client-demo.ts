import { resolveTokenSecret, TokenService } from "../auth/index.ts";
import { type BuildReport, ensureClientBuilt } from "../client/index.ts";
import { type Config, isLivedropError, type Logger } from "../core/index.ts";
import type { SaleEngine } from "../sale-engine/index.ts";

/** The room `npm start` sets up for newcomers (the media tier streams a test pattern into it). */
export const DEMO_ROOM = "demo";
/** Local development only: long enough for a working day, short enough not to linger. */
const DEMO_TOKEN_TTL_S = 7 * 24 * 3600;
/** "Wait for the host's Launch": the demo drop opens when someone presses Launch. */
const HELD_BACK_MS = 30 * 24 * 3600_000;

/**
 * Builds the client when there is no build yet (a fresh checkout). Vite is a development
 * dependency: where it is missing, the gateway still runs and its pages say what to do.
 */
export async function prepareClient(log: Logger): Promise<string> {
  try {
    const report: BuildReport | undefined = await ensureClientBuilt();
    return report
      ? `built client/dist (viewer page ${(report.initialJs.live / 1024).toFixed(1)} KB gzip)`
      : "client/dist";
  } catch (err) {
    log.warn({ err: (err as Error).message }, "client build failed");
    return "client NOT built (run `npm run build`)";
  }
}

/**
 * The demo room's drop a newcomer can launch from the host console, created unless the room
 * already has one that has not ended; and the viewer, host and ops URLs of the room. The host
 * and ops URLs carry signed tokens in their fragment: fine on a developer's machine, never
 * something to print on a shared one.
 */
export async function demoRoom(cfg: Config, engine: SaleEngine, gatewayUrl: string): Promise<string[]> {
  const existing = await engine.dropsInRoom(DEMO_ROOM);
  const statuses = await Promise.all(existing.map((id) => engine.status(id)));
  let drop = statuses.find((s) => s.state !== "ended");
  if (!drop) {
    const dropId = `demo-sneaker-${existing.length + 1}`;
    try {
      ({ status: drop } = await engine.createDrop({
        dropId,
        roomId: DEMO_ROOM,
        product: {
          sku: "DEMO-SNEAKER",
          title: "Demo sneaker (limited)",
          priceMinor: 4990,
          currency: "USD",
          imageUrl: `${gatewayUrl}/demo/product.svg`,
        },
        initialStock: 20,
        perUserLimit: 2,
        startsAt: (await engine.serverTime()) + HELD_BACK_MS,
        holdMs: 120_000,
      }));
    } catch (err) {
      if (!isLivedropError(err)) throw err;
    }
  }
  const tokens = await TokenService.create({ secret: await resolveTokenSecret(cfg) });
  const host = await tokens.issue({
    userId: "demo-host",
    role: "host",
    rooms: [DEMO_ROOM],
    name: "Demo host",
    ttlSeconds: DEMO_TOKEN_TTL_S,
  });
  const admin = await tokens.issue({
    userId: "demo-ops",
    role: "admin",
    name: "Ops",
    ttlSeconds: DEMO_TOKEN_TTL_S,
  });
  return [
    `viewer       ${gatewayUrl}/live/${DEMO_ROOM}`,
    `host         ${gatewayUrl}/host/${DEMO_ROOM}#token=${host}`,
    `ops          ${gatewayUrl}/ops#token=${admin}`,
    `demo drop    ${drop ? `"${drop.product.title}" (${drop.dropId}, ${drop.state}): press Launch on the host page` : "none"}; host and ops links carry local-dev tokens`,
  ];
}
