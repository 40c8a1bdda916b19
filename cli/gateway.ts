import { childLogger, config, connectRedis, redisTargetFromConfig, ValidationError } from "../core/index.ts";
import { GatewayServer, resolveTokenSecret, TokenService } from "../gateway/index.ts";
import { Checkout, SandboxPaymentProvider } from "../orders/index.ts";
import { openEngine, openStore } from "./connect.ts";

/**
 * `livedrop gateway`: one gateway node (HTTP API + WebSocket) on GATEWAY_HOST:GATEWAY_PORT, for
 * running several behind a load balancer. They share Redis, PostgreSQL (DATABASE_URL) and
 * GATEWAY_TOKEN_SECRET; the order pipeline runs separately (`livedrop worker`).
 */
export async function runGateway(args: string[]): Promise<number> {
  if (args.length > 0)
    throw new ValidationError(
      `gateway takes no arguments (configure it with environment variables); got ${args.join(" ")}`,
    );
  const cfg = config();
  const engine = await openEngine({ waitForRedis: true });
  const store = await openStore(cfg);
  const log = childLogger("gateway");
  const subscriber = connectRedis(redisTargetFromConfig(cfg));
  subscriber.on("error", (err) => log.warn({ err: err.message }, "redis subscriber error"));
  const server = await GatewayServer.create({
    host: cfg.GATEWAY_HOST,
    port: cfg.GATEWAY_PORT,
    redis: engine.connection,
    store,
    engine,
    checkout: new Checkout({
      engine,
      store,
      payments: new SandboxPaymentProvider(),
      redis: engine.connection,
      keyPrefix: cfg.LIVEDROP_KEY_PREFIX,
    }),
    tokens: await TokenService.create({ secret: await resolveTokenSecret(cfg) }),
    guestTokenTtlS: cfg.GATEWAY_GUEST_TOKEN_TTL_S,
    subscriber,
    keyPrefix: cfg.LIVEDROP_KEY_PREFIX,
    maxConnectionsPerIp: cfg.GATEWAY_MAX_CONNS_PER_IP,
    log,
  });
  process.stdout.write(
    `livedrop gateway on ${server.url} (WebSocket ${server.url.replace(/^http/, "ws")}/ws)\n`,
  );
  return new Promise((resolve) => {
    const shutdown = () => {
      server
        .close()
        .then(() => store.close())
        .then(() => engine.close())
        .then(() => subscriber.disconnect())
        .then(
          () => resolve(0),
          () => resolve(1),
        );
    };
    process.once("SIGINT", shutdown);
    process.once("SIGTERM", shutdown);
  });
}
