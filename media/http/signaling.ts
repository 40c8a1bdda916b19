import { MediaErrorCode, RejectedError, validate } from "../../core/index.ts";
import { type Claims, canHost } from "../../gateway/index.ts";
import { roomIdSchema } from "../../protocol/index.ts";
import { ingestRequestSchema, openIngest } from "../ingest.ts";
import type { types } from "../mediasoup.ts";
import type { RoomRegistry } from "../rooms.ts";
import type { RoomEvents, RoomState } from "./events.ts";
import { HttpRefusal, sendJson } from "./io.ts";
import type { Route, RouteContext } from "./router.ts";
import {
  connectSchema,
  consumeSchema,
  createTransportSchema,
  pathIdSchema,
  produceSchema,
} from "./schemas.ts";

export interface SignalingDeps {
  readonly rooms: RoomRegistry;
  readonly events: RoomEvents;
  /** What GET /rooms/:room and the event stream say about a room. */
  readonly state: (room: string) => RoomState;
  readonly ingestTimeoutMs: number;
  readonly log: import("../../core/index.ts").Logger;
}

const host = (claims: Claims, room: string): Claims => {
  if (!canHost(claims, room))
    throw new HttpRefusal(403, "FORBIDDEN", `only a host of room ${room} may do this`);
  return claims;
};
const roomOf = (c: RouteContext) => validate(roomIdSchema, c.params[0], "room id");
const idOf = (c: RouteContext, what: string) => validate(pathIdSchema, c.params[1], what);

/**
 * The signaling API under /media/v1/rooms/:room, in the order a client calls it: capabilities,
 * transports, connect, produce (host) or consume + resume (viewer), close; plus the room's
 * state, its event stream, RTP ingest and stop for hosts. Every call needs a gateway token.
 */
export function signalingRoutes(d: SignalingDeps): Route[] {
  const base = "/media/v1/rooms/([^/]+)";
  return [
    {
      method: "GET",
      path: new RegExp(`^${base}$`),
      name: "room.get",
      async run(c) {
        const room = roomOf(c);
        await c.claims();
        const s = d.state(room);
        sendJson(c.res, 200, { room, live: s.live, producers: s.producers, hls: s.hls });
      },
    },
    {
      method: "GET",
      path: new RegExp(`^${base}/rtp-capabilities$`),
      name: "room.capabilities",
      async run(c) {
        const room = roomOf(c);
        await c.claims();
        sendJson(c.res, 200, (await d.rooms.open(room)).rtpCapabilities);
      },
    },
    {
      method: "GET",
      path: new RegExp(`^${base}/events$`),
      name: "room.events",
      async run(c) {
        const room = roomOf(c);
        // EventSource cannot send headers: the token comes as ?token=.
        await c.claims(c.query.get("token") ?? undefined);
        d.events.subscribe(room, c.res, d.state(room));
      },
    },
    {
      method: "POST",
      path: new RegExp(`^${base}/transports$`),
      name: "transport.create",
      async run(c) {
        const room = roomOf(c);
        const claims = await c.claims();
        const { direction } = validate(createTransportSchema, await c.body(), "transport request");
        if (direction === "send") host(claims, room);
        const entry = await (await d.rooms.open(room)).createWebRtcTransport(claims.userId, direction);
        const t = entry.transport as types.WebRtcTransport;
        sendJson(c.res, 200, {
          id: t.id,
          iceParameters: t.iceParameters,
          iceCandidates: t.iceCandidates,
          dtlsParameters: t.dtlsParameters,
        });
      },
    },
    {
      method: "POST",
      path: new RegExp(`^${base}/transports/([^/]+)/connect$`),
      name: "transport.connect",
      async run(c) {
        const room = roomOf(c);
        const claims = await c.claims();
        const id = idOf(c, "transport id");
        const { dtlsParameters } = validate(connectSchema, await c.body(), "connect request");
        await existing(d, room, id).connect(claims.userId, id, dtlsParameters as types.DtlsParameters);
        sendJson(c.res, 200, {});
      },
    },
    {
      method: "POST",
      path: new RegExp(`^${base}/transports/([^/]+)/produce$`),
      name: "transport.produce",
      async run(c) {
        const room = roomOf(c);
        const claims = host(await c.claims(), room);
        const id = idOf(c, "transport id");
        const { kind, rtpParameters } = validate(produceSchema, await c.body(), "produce request");
        const producer = await existing(d, room, id).produce(
          claims.userId,
          id,
          kind,
          rtpParameters as types.RtpParameters,
        );
        sendJson(c.res, 200, { id: producer.id });
      },
    },
    {
      method: "POST",
      path: new RegExp(`^${base}/transports/([^/]+)/consume$`),
      name: "transport.consume",
      async run(c) {
        const room = roomOf(c);
        const claims = await c.claims();
        const id = idOf(c, "transport id");
        const body = validate(consumeSchema, await c.body(), "consume request");
        const r = existing(d, room, id);
        r.transport(claims.userId, id); // unknown transport: 404 before anything else
        if (!body.rtpCapabilities) {
          throw new RejectedError(
            MediaErrorCode.MEDIA_CAPABILITIES_REQUIRED,
            "send rtpCapabilities: GET the room's rtp-capabilities, load the device, pass device.rtpCapabilities",
          );
        }
        const consumer = await r.consume(
          claims.userId,
          id,
          body.producerId,
          body.rtpCapabilities as types.RtpCapabilities,
        );
        sendJson(c.res, 200, {
          id: consumer.id,
          producerId: consumer.producerId,
          kind: consumer.kind,
          rtpParameters: consumer.rtpParameters,
        });
      },
    },
    {
      method: "POST",
      path: new RegExp(`^${base}/consumers/([^/]+)/resume$`),
      name: "consumer.resume",
      async run(c) {
        const room = roomOf(c);
        const claims = await c.claims();
        const id = idOf(c, "consumer id");
        const r = d.rooms.get(room);
        if (!r) throw new HttpRefusal(404, MediaErrorCode.MEDIA_CONSUMER_NOT_FOUND, `no consumer ${id}`);
        await r.resume(claims.userId, id);
        sendJson(c.res, 200, {});
      },
    },
    {
      method: "DELETE",
      path: new RegExp(`^${base}/transports/([^/]+)$`),
      name: "transport.close",
      async run(c) {
        const room = roomOf(c);
        const claims = await c.claims();
        const id = idOf(c, "transport id");
        existing(d, room, id).closeTransport(claims.userId, id);
        sendJson(c.res, 200, {});
      },
    },
    {
      method: "POST",
      path: new RegExp(`^${base}/ingest$`),
      name: "room.ingest",
      async run(c) {
        const room = roomOf(c);
        const claims = host(await c.claims(), room);
        const request = validate(ingestRequestSchema, (await c.body()) ?? {}, "ingest request");
        const r = await d.rooms.open(room);
        sendJson(c.res, 200, await openIngest(r, claims.userId, request, d.ingestTimeoutMs, d.log));
      },
    },
    {
      method: "POST",
      path: new RegExp(`^${base}/stop$`),
      name: "room.stop",
      async run(c) {
        const room = roomOf(c);
        host(await c.claims(), room);
        d.rooms.get(room)?.end("stopped by the host");
        sendJson(c.res, 200, {});
      },
    },
  ];
}

/** The room a transport id is looked up in; an unknown room means an unknown transport. */
function existing(d: SignalingDeps, room: string, transportId: string) {
  const r = d.rooms.get(room);
  if (!r) throw new HttpRefusal(404, MediaErrorCode.MEDIA_TRANSPORT_NOT_FOUND, `no transport ${transportId}`);
  return r;
}
