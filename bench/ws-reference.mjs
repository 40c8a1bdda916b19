// Reference server for the fanout bench, run as its own process: the `ws` library receiving the
// same sale-engine events from Redis (sharded pub/sub on the drop's channel) and broadcasting
// each to every client. Plain JS, no framework.
import Redis from "ioredis";
import { WebSocketServer } from "ws";

const [redisUrl, channel, portArg] = process.argv.slice(2);
const sub = new Redis(redisUrl);
await sub.ssubscribe(channel);
const wss = new WebSocketServer({ host: "127.0.0.1", port: Number(portArg), perMessageDeflate: false }, () =>
  process.send?.({ type: "listening" }),
);
sub.on("smessage", (_ch, message) => {
  for (const client of wss.clients) client.send(message);
});
