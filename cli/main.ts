import { config } from "../core/index.ts";
import { DROP_USAGE, runDrop, wantsJson } from "./drop.ts";
import { printError } from "./output.ts";
import { exitWithin } from "./until-signal.ts";

const USAGE = `livedrop <command>
  start                      run the whole stack (embedded Redis unless REDIS_URL is set)
  drop ...                   manage drops (see \`livedrop drop help\`)
  gateway                    run one gateway node (HTTP API + WebSocket) on GATEWAY_PORT
  worker                     run the order pipeline (relay, order workers, hold expiry, reconciler);
                             probes on WORKER_PORT
  media                      run one media node (mediasoup, signaling, ingest, HLS) on MEDIA_PORT
  orders ...                 list, show, refund orders; finance summaries (see \`livedrop orders help\`)
  audit [--actor ID] [--action A] [--target ID] [--since ISO] [--limit N]
                             the audit log of admin, host and CLI actions (see \`livedrop audit --help\`)
  users export|erase USER_ID one user's personal data: export it, or erase it (see \`livedrop users help\`)
  token --role R [...]       mint a signed access token (see \`livedrop token --help\`)
  broadcast --room R --source testsrc|FILE [--media-url URL] [--token T]
                             send a test pattern or a media file into a room over RTP (ffmpeg)
  bench NAME [--quick] [...] a benchmark (sale-engine, orders, idle, fanout, buy, media,
                             room-log-commands, memory); prints one JSON line last`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "start": {
      const { runStart } = await import("./start.ts");
      return runStart(rest);
    }
    case "drop":
      if (rest.length === 0 || rest[0] === "help" || rest[0] === "--help") {
        process.stdout.write(`${DROP_USAGE}\n`);
        return 0;
      }
      return (await runDrop(rest)) ?? 0;
    case "gateway": {
      const { runGateway } = await import("./gateway.ts");
      return runGateway(rest);
    }
    case "worker": {
      const { runWorker } = await import("./worker.ts");
      return runWorker(rest);
    }
    case "media": {
      const { runMedia } = await import("./media.ts");
      return runMedia(rest);
    }
    case "orders": {
      const { ORDERS_USAGE, runOrders } = await import("./orders.ts");
      if (rest.length === 0 || rest[0] === "help" || rest[0] === "--help") {
        process.stdout.write(`${ORDERS_USAGE}\n`);
        return 0;
      }
      await runOrders(rest);
      return 0;
    }
    case "audit": {
      const { AUDIT_USAGE, runAudit } = await import("./audit.ts");
      if (rest[0] === "help" || rest[0] === "--help") {
        process.stdout.write(`${AUDIT_USAGE}\n`);
        return 0;
      }
      await runAudit(rest);
      return 0;
    }
    case "users": {
      const { USERS_USAGE, runUsers } = await import("./users.ts");
      if (rest.length === 0 || rest[0] === "help" || rest[0] === "--help") {
        process.stdout.write(`${USERS_USAGE}\n`);
        return 0;
      }
      await runUsers(rest);
      return 0;
    }
    case "token": {
      const { TOKEN_USAGE, runToken } = await import("./token.ts");
      if (rest.length === 0 || rest[0] === "help" || rest[0] === "--help") {
        process.stdout.write(`${TOKEN_USAGE}\n`);
        return 0;
      }
      return runToken(rest);
    }
    case "broadcast": {
      const { BROADCAST_USAGE, runBroadcast } = await import("./broadcast.ts");
      if (rest.length === 0 || rest[0] === "help" || rest[0] === "--help") {
        process.stdout.write(`${BROADCAST_USAGE}\n`);
        return 0;
      }
      return runBroadcast(rest);
    }
    case "bench": {
      const { runBench } = await import("../bench/index.ts");
      return runBench(rest);
    }
    case undefined:
    case "help":
    case "--help":
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`error INVALID_INPUT: unknown command "${command}"\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const code = printError(err, wantsJson(process.argv));
    process.exitCode = code;
    // A command that failed half-way may leave a connection or a timer behind: never hang on it.
    let graceMs: number | undefined;
    try {
      graceMs = config().LIVEDROP_STOP_GRACE_MS;
    } catch {
      // Invalid configuration: nothing was opened, so nothing can hold the process.
    }
    if (graceMs !== undefined)
      exitWithin(graceMs, () => "the command failed but the process did not exit", code);
  },
);
