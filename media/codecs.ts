import type { types } from "./mediasoup.ts";

/**
 * Codecs every room router offers. VP8 and Opus are what browsers publish by default and what the
 * ffmpeg ingest sends; H.264 (constrained baseline, packetization-mode 1) lets a host publish
 * H.264 instead. The HLS egress transcodes whatever arrives to H.264/AAC.
 */
export const ROUTER_CODECS: types.RtpCodecCapability[] = [
  { kind: "audio", mimeType: "audio/opus", clockRate: 48_000, channels: 2 },
  { kind: "video", mimeType: "video/VP8", clockRate: 90_000, parameters: { "x-google-start-bitrate": 1000 } },
  {
    kind: "video",
    mimeType: "video/H264",
    clockRate: 90_000,
    parameters: { "packetization-mode": 1, "profile-level-id": "42e01f", "level-asymmetry-allowed": 1 },
  },
];
