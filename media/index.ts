/** The media tier: mediasoup rooms, signaling over HTTP, RTP ingest, HLS egress. */
export {
  type Broadcast,
  type BroadcastOptions,
  ingestOverHttp,
  RemoteError,
  startBroadcast,
} from "./broadcast.ts";
export { type FfmpegOptions, FfmpegProcess } from "./ffmpeg-process.ts";
export { parsePlaylist } from "./hls/playlist.ts";
export { isUdpPortFree } from "./hls/udp-ports.ts";
export type { RoomState } from "./http/events.ts";
export type { IngestRequest, IngestResponse, IngestStream } from "./ingest.ts";
export { type MediaNode, startMediaNode } from "./node.ts";
export { MediaTier, type MediaTierOptions } from "./tier.ts";
