import { z } from "zod";

/**
 * Bodies of the signaling API. mediasoup validates RTP parameters and capabilities in depth (its
 * TypeErrors become 400s); these schemas bound their size and shape first, so nothing huge or
 * oddly typed reaches the worker.
 */
const id = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, "an id");
const codecName = z.string().min(3).max(64);

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
    .array(
      z.looseObject({
        kind: z.enum(["audio", "video"]),
        mimeType: codecName,
        clockRate: z.number().int().min(1),
      }),
    )
    .max(64)
    .optional(),
  headerExtensions: z.array(z.looseObject({})).max(64).optional(),
});

export const createTransportSchema = z.strictObject({ direction: z.enum(["send", "recv"]) });
export const connectSchema = z.strictObject({ dtlsParameters: dtlsParametersSchema });
export const produceSchema = z.strictObject({
  kind: z.enum(["audio", "video"]),
  rtpParameters: rtpParametersSchema,
  /** mediasoup-client sends its own appData; accepted and ignored. */
  appData: z.looseObject({}).optional(),
});
/** rtpCapabilities is optional in the schema so its absence gets its own code (409 MEDIA_CAPABILITIES_REQUIRED). */
export const consumeSchema = z.strictObject({
  producerId: id,
  rtpCapabilities: rtpCapabilitiesSchema.optional(),
});
export const pathIdSchema = id;
