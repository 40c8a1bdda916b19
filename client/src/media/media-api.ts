/**
 * The media tier's signaling API (media/): JSON over HTTP with the gateway's bearer
 * token, errors as `{error:{code,message}}`. Base URL from /api/v1/config (`mediaUrl`). The
 * bodies are protocol's (protocol/media-signaling.ts).
 */
import type {
  ConsumerInfo,
  MediaRoom,
  MediaRoomState,
  Produced,
  TransportInfo,
} from "../../../protocol/index.ts";

export type { ConsumerInfo, MediaRoom, TransportInfo };

export class MediaApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class MediaApi {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    readonly room: string,
  ) {}

  private url(path: string): string {
    return `${this.baseUrl.replace(/\/$/, "")}/media/v1/rooms/${encodeURIComponent(this.room)}${path}`;
  }

  async call<T>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.url(path), {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new MediaApiError(
        res.status,
        e?.code ?? `HTTP_${res.status}`,
        e?.message ?? `HTTP ${res.status}`,
      );
    }
    return json as T;
  }

  roomState(): Promise<MediaRoom> {
    return this.call("GET", "");
  }

  rtpCapabilities<T>(): Promise<T> {
    return this.call("GET", "/rtp-capabilities");
  }

  createTransport(direction: "send" | "recv"): Promise<TransportInfo> {
    return this.call("POST", "/transports", { direction });
  }

  connect(transportId: string, dtlsParameters: unknown): Promise<unknown> {
    return this.call("POST", `/transports/${transportId}/connect`, { dtlsParameters });
  }

  produce(transportId: string, kind: string, rtpParameters: unknown): Promise<Produced> {
    return this.call("POST", `/transports/${transportId}/produce`, { kind, rtpParameters });
  }

  consume(transportId: string, producerId: string, rtpCapabilities: unknown): Promise<ConsumerInfo> {
    return this.call("POST", `/transports/${transportId}/consume`, { producerId, rtpCapabilities });
  }

  resume(consumerId: string): Promise<unknown> {
    return this.call("POST", `/consumers/${consumerId}/resume`);
  }

  closeTransport(transportId: string): Promise<unknown> {
    return this.call("DELETE", `/transports/${transportId}`);
  }

  stop(): Promise<unknown> {
    return this.call("POST", "/stop");
  }

  /** Room state pushes (`event: state`, data {live, producers, hls}). */
  events(onState: (s: MediaRoomState) => void): () => void {
    const source = new EventSource(`${this.url("/events")}?token=${encodeURIComponent(this.token)}`);
    source.addEventListener("state", (ev) => {
      try {
        const data = JSON.parse((ev as MessageEvent<string>).data) as Partial<MediaRoom>;
        onState({ live: data.live === true, producers: data.producers ?? [], hls: data.hls ?? null });
      } catch {
        // a malformed push: the next one replaces it
      }
    });
    return () => source.close();
  }

  /** The HLS playlist URL of the room, absolute. */
  playlistUrl(room: MediaRoom): string {
    return new URL(room.hls?.playlistUrl ?? `/hls/${encodeURIComponent(this.room)}/index.m3u8`, this.baseUrl)
      .href;
  }
}
