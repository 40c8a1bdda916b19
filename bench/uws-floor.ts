// Floor reference for the fanout bench, run as its own process (forked with tsx's loader): bare
// uWebSockets.js receiving the same sale-engine events from Redis and publishing each, unparsed,
// to one topic through the gateway's own RoomBroadcaster. Same library, same one-send-per-burst
// batching, none of the gateway's work (parsing, room log, frames, limits): what any server
// built this way pays, mostly the kernel's loopback TCP path.

import uWS from "uWebSockets.js";
import { Redis } from "ioredis";
import { RoomBroadcaster } from "../gateway/index.ts";

const [redisUrl, channel, portArg] = process.argv.slice(2);
const TOPIC = "room";
const app = uWS.App().ws("/*", {
  maxBackpressure: 16 * 1024 * 1024,
  open: (ws) => {
    ws.subscribe(TOPIC);
  },
});
const broadcaster = new RoomBroadcaster(
  (_room, payload) => app.publish(TOPIC, payload),
  () => undefined,
);
const sub = new Redis(redisUrl ?? "");
await sub.ssubscribe(channel ?? "");
sub.on("smessage", (_ch: string, message: string) => broadcaster.add(TOPIC, message));
app.listen("127.0.0.1", Number(portArg), (listening) => {
  if (listening) process.send?.({ type: "listening" });
});
