import { type Claims, canHost } from "../../auth/index.ts";
import { type Logger, MediaErrorCode, RejectedError, validate } from "../../core/index.ts";
import {
  type ConsumerInfo,
  connectRequestSchema,
  consumeRequestSchema,
  createTransportRequestSchema,
  ingestRequestSchema,
  type MediaRoom,
  mediaPathIdSchema,
  type Produced,
  produceRequestSchema,
  type TransportInfo,
} from "../../protocol/index.ts";
import { openIngest } from "../ingest.ts";
import type { types } from "../mediasoup.ts";
import type { RoomRegistry } from "../rooms.ts";
import type { RoomEvents, RoomState } from "./events.ts";
import { HttpRefusal, sendJson } from "./io.ts";
import { type AnyRoute, defineRoute, type RouteContext } from "./router.ts";

export interface SignalingDeps {
  readonly rooms: RoomRegistry;
  readonly events: RoomEvents;
  /** What GET /rooms/:room and the event stream say about a room. */
  readonly state: (room: string) => RoomState;
  readonly ingestTimeoutMs: number;
  readonly log: Logger;
}

const idOf = (c: RouteContext<unknown>, what: string) => validate(mediaPathIdSchema, c.params[1], what);
/** Non-public routes always carry claims (the router refused the call otherwise). */
const who = (c: RouteContext<unknown>): Claims => c.claims as Claims;
/** The caller may host this room (never a shadow token): its calls may open the room. */
const hosts = (c: RouteContext<unknown>): boolean => !who(c).shadow && canHost(who(c), c.room);

/**
 * The signaling API under /media/v1/rooms/:room, in the order a client calls it: capabilities,
 * transports, connect, produce (host) or consume + resume (viewer), close; plus the room's
 * state, its event stream, RTP ingest and stop for hosts. Each route declares its rule; the
 * router enforces it (router.ts). Only a host's call opens a room (`rooms.open`, capped per host
 * and per node); a viewer's reaches live rooms only (`rooms.live`), so a made-up room id is a 409
 * that allocates nothing.
 */
export function signalingRoutes(d: SignalingDeps): AnyRoute[] {
  const base = "/media/v1/rooms/(?<room>[^/]+)";
  return [
    defineRoute({
      method: "GET",
      path: new RegExp(`^${base}$`),
      name: "room.get",
      rule: "viewer",
      async run(c) {
        const s = d.state(c.room);
        const body: MediaRoom = { room: c.room, live: s.live, producers: s.producers, hls: s.hls };
        sendJson(c.res, 200, body);
      },
    }),
    defineRoute({
      method: "GET",
      path: new RegExp(`^${base}/rtp-capabilities$`),
      name: "room.capabilities",
      rule: "viewer",
      async run(c) {
        // The host loads its device before going live; a viewer waits for the room to be live.
        const room = hosts(c) ? await d.rooms.open(c.room, who(c).userId) : d.rooms.live(c.room);
        sendJson(c.res, 200, room.rtpCapabilities);
      },
    }),
    defineRoute({
      method: "GET",
      path: new RegExp(`^${base}/events$`),
      name: "room.events",
      rule: "viewer",
      tokenIn: "query",
      async run(c) {
        d.events.subscribe(c.room, who(c).userId, c.res, d.state(c.room));
      },
    }),
    defineRoute({
      method: "POST",
      path: new RegExp(`^${base}/transports$`),
      name: "transport.create",
      rule: "viewer",
      body: createTransportRequestSchema,
      hostIf: (b) => b.direction === "send",
      async run(c) {
        const claims = who(c);
        const room =
          c.body.direction === "send" ? await d.rooms.open(c.room, claims.userId) : d.rooms.live(c.room);
        const entry = await room.createWebRtcTransport(claims.userId, c.body.direction, claims.shadow);
        const t = entry.transport as types.WebRtcTransport;
        const body: TransportInfo = {
          id: t.id,
          iceParameters: { ...t.iceParameters },
          iceCandidates: t.iceCandidates.map((ice) => ({ ...ice })),
          dtlsParameters: { ...t.dtlsParameters },
        };
        sendJson(c.res, 200, body);
      },
    }),
    defineRoute({
      method: "POST",
      path: new RegExp(`^${base}/transports/([^/]+)/connect$`),
      name: "transport.connect",
      rule: "viewer",
      body: connectRequestSchema,
      async run(c) {
        const id = idOf(c, "transport id");
        const dtls = c.body.dtlsParameters as types.DtlsParameters;
        await existing(d, c.room, id).connect(who(c).userId, id, dtls);
        sendJson(c.res, 200, {});
      },
    }),
    defineRoute({
      method: "POST",
      path: new RegExp(`^${base}/transports/([^/]+)/produce$`),
      name: "transport.produce",
      rule: "host",
      body: produceRequestSchema,
      async run(c) {
        const id = idOf(c, "transport id");
        const { kind, rtpParameters } = c.body;
        const producer = await existing(d, c.room, id).produce(
          who(c).userId,
          id,
          kind,
          rtpParameters as types.RtpParameters,
        );
        const body: Produced = { id: producer.id };
        sendJson(c.res, 200, body);
      },
    }),
    defineRoute({
      method: "POST",
      path: new RegExp(`^${base}/transports/([^/]+)/consume$`),
      name: "transport.consume",
      rule: "viewer",
      body: consumeRequestSchema,
      async run(c) {
        const userId = who(c).userId;
        const id = idOf(c, "transport id");
        const r = existing(d, c.room, id);
        r.transport(userId, id); // unknown transport: 404 before anything else
        if (!c.body.rtpCapabilities) {
          throw new RejectedError(
            MediaErrorCode.MEDIA_CAPABILITIES_REQUIRED,
            "send rtpCapabilities: GET the room's rtp-capabilities, load the device, pass device.rtpCapabilities",
          );
        }
        const consumer = await r.consume(
          userId,
          id,
          c.body.producerId,
          c.body.rtpCapabilities as types.RtpCapabilities,
        );
        const body: ConsumerInfo = {
          id: consumer.id,
          producerId: consumer.producerId,
          kind: consumer.kind,
          rtpParameters: { ...consumer.rtpParameters },
        };
        sendJson(c.res, 200, body);
      },
    }),
    defineRoute({
      method: "POST",
      path: new RegExp(`^${base}/consumers/([^/]+)/resume$`),
      name: "consumer.resume",
      rule: "viewer",
      async run(c) {
        const id = idOf(c, "consumer id");
        const r = d.rooms.get(c.room);
        if (!r) throw new HttpRefusal(404, MediaErrorCode.MEDIA_CONSUMER_NOT_FOUND, `no consumer ${id}`);
        await r.resume(who(c).userId, id);
        sendJson(c.res, 200, {});
      },
    }),
    defineRoute({
      method: "DELETE",
      path: new RegExp(`^${base}/transports/([^/]+)$`),
      name: "transport.close",
      rule: "viewer",
      async run(c) {
        const id = idOf(c, "transport id");
        existing(d, c.room, id).closeTransport(who(c).userId, id);
        sendJson(c.res, 200, {});
      },
    }),
    defineRoute({
      method: "POST",
      path: new RegExp(`^${base}/ingest$`),
      name: "room.ingest",
      rule: "host",
      body: ingestRequestSchema,
      async run(c) {
        const r = await d.rooms.open(c.room, who(c).userId);
        sendJson(c.res, 200, await openIngest(r, who(c).userId, c.body, d.ingestTimeoutMs, d.log));
      },
    }),
    defineRoute({
      method: "POST",
      path: new RegExp(`^${base}/stop$`),
      name: "room.stop",
      rule: "host",
      async run(c) {
        d.rooms.get(c.room)?.end("stopped by the host");
        sendJson(c.res, 200, {});
      },
    }),
  ];
}

/** The room a transport id is looked up in; an unknown room means an unknown transport. */
function existing(d: SignalingDeps, room: string, transportId: string) {
  const r = d.rooms.get(room);
  if (!r) throw new HttpRefusal(404, MediaErrorCode.MEDIA_TRANSPORT_NOT_FOUND, `no transport ${transportId}`);
  return r;
}
