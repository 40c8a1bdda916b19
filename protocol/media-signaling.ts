import { z } from "zod";

/**
 * Bodies of the media tier's signaling API (/media/v1/rooms/:room/...), both ways: what the
 * browser client (or an ingest tool) sends and what the media tier answers. mediasoup validates
 * RTP parameters and capabilities in depth (its TypeErrors become 400s); these schemas bound
 * their size and shape first, so nothing huge or oddly typed reaches the worker. Responses carry
 * mediasoup's own objects, so those parts stay loose.
 */
const id = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, "an id");
const codecName = z.string().min(3).max(64);
const mediaKind = z.enum(["audio", "video"]);

/** A transport, producer or consumer id in a path. */
export const mediaPathIdSchema = id;

const fingerprint = z.strictObject({
  algorithm: z.enum(["sha-1", "sha-224", "sha-256", "sha-384", "sha-512"]),
  value: z.string().min(1).max(256),
});
export const dtlsParametersSchema = z.looseObject({
  role: z.enum(["auto", "client", "server"]).optional(),
  fingerprints: z.array(fingerprint).min(1).max(8),
});

const rtpCodec = z.looseObject({
  mimeType: codecName,
  payloadType: z.number().int().min(0).max(127),
  clockRate: z.number().int().min(1),
  channels: z.number().int().min(1).max(8).optional(),
  parameters: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  rtcpFeedback: z
    .array(z.looseObject({ type: z.string().max(32) }))
    .max(32)
    .optional(),
});
export const rtpParametersSchema = z.looseObject({
  mid: z.string().max(32).optional(),
  codecs: z.array(rtpCodec).min(1).max(32),
  headerExtensions: z
    .array(z.looseObject({ uri: z.string().max(256), id: z.number().int() }))
    .max(32)
    .optional(),
  encodings: z.array(z.looseObject({})).max(8).optional(),
  rtcp: z.looseObject({}).optional(),
});

export const rtpCapabilitiesSchema = z.looseObject({
  codecs: z
    .array(z.looseObject({ kind: mediaKind, mimeType: codecName, clockRate: z.number().int().min(1) }))
    .max(64)
    .optional(),
  headerExtensions: z.array(z.looseObject({})).max(64).optional(),
});

// Requests.

/** POST transports. */
export const createTransportRequestSchema = z.strictObject({ direction: z.enum(["send", "recv"]) });
/** POST transports/:id/connect. */
export const connectRequestSchema = z.strictObject({ dtlsParameters: dtlsParametersSchema });
/** POST transports/:id/produce (hosts). */
export const produceRequestSchema = z.strictObject({
  kind: mediaKind,
  rtpParameters: rtpParametersSchema,
  /** mediasoup-client sends its own appData; accepted and ignored. */
  appData: z.looseObject({}).optional(),
});
/** POST transports/:id/consume. rtpCapabilities is optional here so its absence gets its own code (409 MEDIA_CAPABILITIES_REQUIRED). */
export const consumeRequestSchema = z.strictObject({
  producerId: id,
  rtpCapabilities: rtpCapabilitiesSchema.optional(),
});
/** POST ingest (hosts): plain RTP in, one stream per kind asked for. */
export const ingestRequestSchema = z
  .strictObject({
    video: z.strictObject({ codec: z.enum(["VP8", "H264"]).default("VP8") }).optional(),
    audio: z.strictObject({ codec: z.literal("opus").default("opus") }).optional(),
  })
  .refine((r) => r.video || r.audio, "ask for video, audio or both");
export type IngestRequest = z.input<typeof ingestRequestSchema>;

// Responses.

/** What viewers learn about a room (GET room, and each `state` event of its event stream). */
export const mediaRoomStateSchema = z.object({
  live: z.boolean(),
  producers: z.array(z.object({ id, kind: mediaKind })),
  hls: z.object({ playlistUrl: z.string() }).nullable(),
});
export type MediaRoomState = z.infer<typeof mediaRoomStateSchema>;

/** GET room. */
export const mediaRoomSchema = mediaRoomStateSchema.extend({ room: z.string() });
export type MediaRoom = z.infer<typeof mediaRoomSchema>;

/** POST transports: mediasoup's ICE and DTLS parameters, passed to mediasoup-client as they are. */
export const transportInfoSchema = z.object({
  id,
  iceParameters: z.looseObject({}),
  iceCandidates: z.array(z.looseObject({})),
  dtlsParameters: z.looseObject({}),
});
export type TransportInfo = z.infer<typeof transportInfoSchema>;

/** POST transports/:id/produce. */
export const producedSchema = z.object({ id });
export type Produced = z.infer<typeof producedSchema>;

/** POST transports/:id/consume. */
export const consumerInfoSchema = z.object({
  id,
  producerId: id,
  kind: mediaKind,
  rtpParameters: z.looseObject({}),
});
export type ConsumerInfo = z.infer<typeof consumerInfoSchema>;

/** Where and how to send one ingest stream: plain RTP (no SRTP), RTCP on its own port. */
export const ingestStreamSchema = z.object({
  transportId: id,
  producerId: id,
  ip: z.string(),
  port: z.number().int().min(1).max(65_535),
  rtcpPort: z.number().int().min(1).max(65_535),
  codec: z.enum(["VP8", "H264", "opus"]),
  payloadType: z.number().int().min(0).max(127),
  ssrc: z.number().int().min(0),
  clockRate: z.number().int().min(1),
  channels: z.number().int().min(1).optional(),
});
export type IngestStream = z.infer<typeof ingestStreamSchema>;

/** POST ingest. */
export const ingestResponseSchema = z.object({
  video: ingestStreamSchema.optional(),
  audio: ingestStreamSchema.optional(),
});
export type IngestResponse = z.infer<typeof ingestResponseSchema>;

/** GET /media/v1/admin/inventory: what one media node holds (from the workers' dumps). */
export const mediaInventorySchema = z.object({
  workers: z.array(
    z.object({ pid: z.number().int(), routers: z.number().int(), transports: z.number().int() }),
  ),
  rooms: z.number().int(),
  transports: z.number().int(),
  producers: z.number().int(),
  consumers: z.number().int(),
  ffmpegPids: z.array(z.number().int()),
  /** HLS egresses running or still stopping (ffmpeg, files). */
  hlsEgresses: z.number().int(),
});
export type MediaInventory = z.infer<typeof mediaInventorySchema>;
