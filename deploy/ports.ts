import net from "node:net";

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
