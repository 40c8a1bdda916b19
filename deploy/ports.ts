import net from "node:net";
import { ErrorCode, SetupError } from "../core/index.ts";

function listenOnce(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(undefined));
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      const got = typeof address === "object" && address ? address.port : undefined;
      server.close(() => resolve(got));
    });
  });
}

/**
 * A loopback port that is free now, and (with `alsoFree`) whose offset ports are free too:
 * Redis Cluster needs port + 10000 for its bus.
 */
export async function freePort(host = "127.0.0.1", alsoFree: readonly number[] = []): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = await listenOnce(0, host);
    if (port === undefined || port + Math.max(0, ...alsoFree) > 65535) continue;
    let ok = true;
    for (const offset of alsoFree) {
      if ((await listenOnce(port + offset, host)) === undefined) ok = false;
    }
    if (ok) return port;
  }
  throw new Error("no free loopback port found after 200 attempts");
}

export function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return listenOnce(port, host).then((p) => p !== undefined);
}

/**
 * Fails fast with PORT_IN_USE when `port` is taken, naming the setting that moves it: checked
 * before a long-running command opens anything. (The listen itself stays exclusive, so losing
 * the race after this check still fails with PORT_IN_USE.)
 */
export async function refuseTakenPort(port: number, host: string, setting: string): Promise<void> {
  if (await isPortFree(port, host)) return;
  throw new SetupError(
    ErrorCode.PORT_IN_USE,
    `port ${port} (${setting}) is in use (another \`npm start\` or \`livedrop gateway\`?): stop it, or set ${setting}`,
    { port },
  );
}
