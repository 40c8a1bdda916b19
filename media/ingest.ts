import { randomInt } from "node:crypto";
import type { z } from "zod";
import type { Logger } from "../core/index.ts";
import {
  type IngestRequest,
  type IngestResponse,
  type IngestStream,
  ingestRequestSchema,
} from "../protocol/index.ts";
import type { types } from "./mediasoup.ts";
import type { MediaKind, Room, TransportEntry } from "./room.ts";
import { watchSilence } from "./silence.ts";

/** `POST /media/v1/rooms/:room/ingest`: its request and response bodies are protocol's. */
export { type IngestRequest, type IngestResponse, type IngestStream, ingestRequestSchema };

const CODECS = {
  VP8: { kind: "video", mimeType: "video/VP8", payloadType: 101, clockRate: 90_000 },
  H264: {
    kind: "video",
    mimeType: "video/H264",
    payloadType: 102,
    clockRate: 90_000,
    parameters: { "packetization-mode": 1, "profile-level-id": "42e01f" },
  },
  opus: {
    kind: "audio",
    mimeType: "audio/opus",
    payloadType: 100,
    clockRate: 48_000,
    channels: 2,
    parameters: { "sprop-stereo": 1 },
  },
} as const;

/** An encoder gets this long to send its first packet (ffmpeg starts slowly on a busy machine). */
const FIRST_PACKET_MS = 20_000;

/**
 * Opens an RTP ingest: one comedia PlainTransport per stream (ffmpeg sends each stream from its
 * own source port, and comedia locks a transport to the first source it hears) and a producer
 * with the fixed codec, payload type and SSRC the encoder must use. A stream that stops for
 * `timeoutMs` (or sends nothing in its first 20 s) is closed, so a crashed encoder ends the room
 * instead of leaving it "live".
 */
export async function openIngest(
  room: Room,
  owner: string,
  request: z.output<typeof ingestRequestSchema>,
  timeoutMs: number,
  log: Logger,
): Promise<IngestResponse> {
  const wanted: ["video" | "audio", "VP8" | "H264" | "opus"][] = [];
  if (request.video) wanted.push(["video", request.video.codec]);
  if (request.audio) wanted.push(["audio", request.audio.codec]);
  const opened: TransportEntry[] = [];
  const out: { video?: IngestStream; audio?: IngestStream } = {};
  try {
    // Transports first, producers after: the room goes live with all its streams at once.
    for (const _ of wanted) opened.push(await room.createIngestTransport(owner));
    for (const [i, [kind, codecName]] of wanted.entries()) {
      const entry = opened[i] as TransportEntry;
      const codec = CODECS[codecName];
      const ssrc = randomInt(1, 2 ** 31);
      const { kind: _k, ...rtpCodec } = codec;
      const rtpParameters = { codecs: [rtpCodec], encodings: [{ ssrc }] } as types.RtpParameters;
      const producer = await room.produce(owner, entry.id, kind as MediaKind, rtpParameters);
      const plain = entry.transport as types.PlainTransport;
      out[kind] = {
        transportId: entry.id,
        producerId: producer.id,
        ip: plain.tuple.localIp,
        port: plain.tuple.localPort,
        rtcpPort: plain.rtcpTuple?.localPort ?? plain.tuple.localPort,
        codec: codecName,
        payloadType: codec.payloadType,
        ssrc,
        clockRate: codec.clockRate,
        ...(codecName === "opus" ? { channels: 2 } : {}),
      };
      watchSilence(
        entry.transport,
        timeoutMs,
        (silentMs) => {
          log.warn({ transport: entry.id, silentMs }, "RTP ingest silent: closing it");
          entry.transport.close();
        },
        FIRST_PACKET_MS,
      );
    }
  } catch (err) {
    for (const entry of opened) entry.transport.close();
    throw err;
  }
  return out;
}
