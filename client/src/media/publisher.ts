import { loadDevice } from "./device.ts";
import type { MediaApi } from "./media-api.ts";

export interface Publication {
  /** Producer ids the media tier assigned. */
  readonly producers: readonly string[];
  /** Stops producing, closes the transport and tells the media tier the show is over. */
  stop(): Promise<void>;
}

/**
 * Publishes the host's camera and microphone over WebRTC: one send transport, a producer per
 * track. The media tier turns it into the room's WebRTC stream and its HLS egress.
 */
export async function publish(api: MediaApi, stream: MediaStream): Promise<Publication> {
  const device = await loadDevice(api);
  const info = await api.createTransport("send");
  const transport = device.createSendTransport({
    id: info.id,
    iceParameters: info.iceParameters as never,
    iceCandidates: info.iceCandidates as never,
    dtlsParameters: info.dtlsParameters as never,
  });
  transport.on("connect", ({ dtlsParameters }, callback, errback) => {
    api.connect(info.id, dtlsParameters).then(() => callback(), errback);
  });
  transport.on("produce", ({ kind, rtpParameters }, callback, errback) => {
    api.produce(info.id, kind, rtpParameters).then(({ id }) => callback({ id }), errback);
  });
  const producers: string[] = [];
  try {
    for (const track of stream.getTracks()) {
      if (!device.canProduce(track.kind as "audio" | "video")) continue;
      const producer = await transport.produce({ track, stopTracks: false });
      producers.push(producer.id);
    }
  } catch (err) {
    transport.close();
    api.closeTransport(info.id).catch(() => undefined);
    throw err;
  }
  return {
    producers,
    async stop() {
      transport.close();
      await api.stop().catch(() => api.closeTransport(info.id).catch(() => undefined));
    },
  };
}
