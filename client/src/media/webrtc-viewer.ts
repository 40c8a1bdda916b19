import { loadDevice } from "./device.ts";
import { type MediaApi, MediaApiError } from "./media-api.ts";
import { type PlayerSession, StreamOffline } from "./player-session.ts";

/**
 * Watches the room over WebRTC (sub-second): one receive transport, a consumer per producer
 * of the host, resumed once attached (the media tier creates them paused). The media tier
 * answers a viewer's calls for a room that is not live with 409 MEDIA_ROOM_NOT_LIVE (it ended
 * meanwhile): that is StreamOffline, so the player waits for the room's next `live` push.
 */
export async function watchWebRtc(api: MediaApi, video: HTMLVideoElement): Promise<PlayerSession> {
  try {
    return await watch(api, video);
  } catch (err) {
    if (err instanceof MediaApiError && err.code === "MEDIA_ROOM_NOT_LIVE") throw new StreamOffline();
    throw err;
  }
}

async function watch(api: MediaApi, video: HTMLVideoElement): Promise<PlayerSession> {
  const room = await api.roomState();
  if (!room.live || room.producers.length === 0) throw new StreamOffline();
  const device = await loadDevice(api);
  const info = await api.createTransport("recv");
  const transport = device.createRecvTransport({
    id: info.id,
    iceParameters: info.iceParameters as never,
    iceCandidates: info.iceCandidates as never,
    dtlsParameters: info.dtlsParameters as never,
  });
  transport.on("connect", ({ dtlsParameters }, callback, errback) => {
    api.connect(info.id, dtlsParameters).then(() => callback(), errback);
  });
  const stream = new MediaStream();
  try {
    for (const p of room.producers) {
      const c = await api.consume(info.id, p.id, device.rtpCapabilities);
      const consumer = await transport.consume({
        id: c.id,
        producerId: c.producerId,
        kind: c.kind,
        rtpParameters: c.rtpParameters as never,
      });
      stream.addTrack(consumer.track);
      await api.resume(c.id);
    }
  } catch (err) {
    transport.close();
    api.closeTransport(info.id).catch(() => undefined);
    throw err;
  }
  video.srcObject = stream;
  video.play().catch(() => undefined); // muted autoplay is allowed; the unmute button plays with sound

  return {
    mode: "webrtc",
    programTimeMs: () => undefined,
    async latencyMs() {
      // Network half round trip plus the jitter buffer: what WebRTC adds between host and screen.
      let rtt: number | undefined;
      let jitter: number | undefined;
      const stats = await transport.getStats();
      stats.forEach((s: Record<string, unknown>) => {
        if (s.type === "candidate-pair" && s.nominated && typeof s.currentRoundTripTime === "number")
          rtt = s.currentRoundTripTime * 1000;
        if (
          s.type === "inbound-rtp" &&
          s.kind === "video" &&
          typeof s.jitterBufferDelay === "number" &&
          typeof s.jitterBufferEmittedCount === "number" &&
          s.jitterBufferEmittedCount > 0
        )
          jitter = (s.jitterBufferDelay / s.jitterBufferEmittedCount) * 1000;
      });
      if (rtt === undefined && jitter === undefined) return undefined;
      return (rtt ?? 0) / 2 + (jitter ?? 0);
    },
    close() {
      transport.close();
      api.closeTransport(info.id).catch(() => undefined);
      video.srcObject = null;
    },
  };
}
