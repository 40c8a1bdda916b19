import { type Logger, MediaErrorCode, RejectedError } from "../core/index.ts";
import {
  consumerNotFound,
  mediasoupCall,
  openTransport,
  producerNotFound,
  roomNotLive,
  transportNotFound,
} from "./errors.ts";
import { RouterFanout, type RouterSlot } from "./fanout.ts";
import type { TransportLimits } from "./limits.ts";
import type { types } from "./mediasoup.ts";
import { watchSilence } from "./silence.ts";
import type { WorkerPool } from "./workers.ts";

export type Direction = "send" | "recv";
export type MediaKind = "audio" | "video";

export interface ProducerInfo {
  readonly id: string;
  readonly kind: MediaKind;
}

/** A client transport of the room: who owns it, which way media flows, what it carries. */
export interface TransportEntry {
  readonly id: string;
  readonly owner: string;
  readonly direction: Direction;
  /** Opened with a shadow (load-test) token: closed when shadow traffic is switched off. */
  readonly shadow: boolean;
  readonly transport: types.WebRtcTransport | types.PlainTransport;
  readonly slot: RouterSlot;
  readonly producers: Map<string, types.Producer>;
  readonly consumers: Map<string, types.Consumer>;
}

export interface RoomOptions {
  readonly name: string;
  /** The host (user id) whose action opened the room: the room counts against that host's cap. */
  readonly host: string;
  readonly pool: WorkerPool;
  readonly maxConsumersPerRouter: number;
  readonly listenIp: string;
  readonly announcedIp?: string;
  /** A connected WebRTC transport silent this long is closed, milliseconds. */
  readonly peerTimeoutMs: number;
  /** A WebRTC transport whose DTLS is not connected this long after opening is closed, milliseconds. */
  readonly connectTimeoutMs: number;
  /** Transport slots per user and per room, shared by every room of the node. */
  readonly limits: TransportLimits;
  readonly log: Logger;
  /** Producers came or went. */
  readonly onChange: (room: Room) => void;
  /** The room ended (host stopped, host's last producer closed, worker died). */
  readonly onEnded: (room: Room, reason: string) => void;
}

/** A transport whose ICE stays disconnected this long is closed (its TCP connection went away). */
const DISCONNECT_GRACE_MS = 10_000;

/**
 * One livestream: its routers (origin + pipeToRouter edges), the transports of its host and
 * viewers, the host's producers and the viewers' consumers. It is live while it has a producer;
 * when the last producer closes (host stop, host transport closed or timed out) the room ends and
 * releases every transport, consumer and router.
 */
export class Room {
  readonly name: string;
  readonly host: string;
  readonly createdAt = Date.now();
  private readonly transports = new Map<string, TransportEntry>();
  private readonly producers = new Map<string, types.Producer>();
  private readonly consumers = new Map<string, { consumer: types.Consumer; entry: TransportEntry }>();
  private ended = false;
  private wasLive = false;
  /** Last time something happened here (idle rooms are swept). */
  lastActivity = Date.now();

  private constructor(
    private readonly o: RoomOptions,
    readonly fanout: RouterFanout,
  ) {
    this.name = o.name;
    this.host = o.host;
  }

  static async create(o: RoomOptions): Promise<Room> {
    let room: Room | undefined;
    const fanout = await RouterFanout.create(
      o.pool,
      o.maxConsumersPerRouter,
      () => [...(room?.producers.keys() ?? [])],
      o.log,
    );
    room = new Room(o, fanout);
    fanout.origin.router.observer.once("close", () => room?.end("origin router closed"));
    return room;
  }

  get live(): boolean {
    return this.producers.size > 0;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  get rtpCapabilities(): types.RtpCapabilities {
    return this.fanout.origin.router.rtpCapabilities;
  }

  get originRouter(): types.Router {
    return this.fanout.origin.router;
  }

  producerList(): ProducerInfo[] {
    return [...this.producers.values()].map((p) => ({ id: p.id, kind: p.kind }));
  }

  producer(id: string): types.Producer | undefined {
    return this.producers.get(id);
  }

  /** Idle: nobody connected, nothing produced. */
  get idle(): boolean {
    return this.transports.size === 0 && this.producers.size === 0;
  }

  counts(): { transports: number; producers: number; consumers: number; routers: number } {
    return {
      transports: this.transports.size,
      producers: this.producers.size,
      consumers: this.consumers.size,
      routers: this.fanout.slots.length,
    };
  }

  transportsOf(filter: (e: TransportEntry) => boolean): TransportEntry[] {
    return [...this.transports.values()].filter(filter);
  }

  async createWebRtcTransport(owner: string, direction: Direction, shadow = false): Promise<TransportEntry> {
    this.touch();
    const release = this.o.limits.take(owner, this.name, direction === "recv");
    let transport: types.WebRtcTransport;
    let slot: RouterSlot;
    try {
      slot = direction === "send" ? this.fanout.origin : await this.fanout.slotForViewer();
      const router = slot.router;
      transport = await openTransport(() =>
        router.createWebRtcTransport({
          listenIps: [{ ip: this.o.listenIp, announcedIp: this.o.announcedIp }],
          enableUdp: true,
          enableTcp: true,
          preferUdp: true,
          initialAvailableOutgoingBitrate: 1_000_000,
          appData: { owner, direction },
        }),
      );
    } catch (err) {
      release();
      throw err;
    }
    transport.observer.once("close", release);
    const entry = this.register(owner, direction, transport, slot, shadow);
    // Abandoned, hostile or vanished peers: closed by timers so their ports and slots come back.
    // Only a finished DTLS handshake counts as connected: ICE alone costs an attacker nothing.
    const connectTimer = setTimeout(
      () => this.dropTransport(entry, "DTLS never connected"),
      this.o.connectTimeoutMs,
    );
    let graceTimer: NodeJS.Timeout | undefined;
    let watching = false;
    transport.on("icestatechange", (state: types.IceState) => {
      clearTimeout(graceTimer);
      if ((state === "connected" || state === "completed") && !watching) {
        watching = true;
        // mediasoup 3.8.4 has no ICE consent timeout over UDP: a closed tab is noticed by silence.
        watchSilence(transport, this.o.peerTimeoutMs, (silentMs) =>
          this.dropTransport(entry, `silent for ${silentMs} ms`),
        );
      }
      if (state === "disconnected")
        graceTimer = setTimeout(() => this.dropTransport(entry, "ICE disconnected"), DISCONNECT_GRACE_MS);
    });
    transport.on("dtlsstatechange", (state: types.DtlsState) => {
      if (state === "connected") clearTimeout(connectTimer);
      if (state === "failed" || state === "closed") this.dropTransport(entry, `DTLS ${state}`);
    });
    transport.observer.once("close", () => {
      clearTimeout(connectTimer);
      clearTimeout(graceTimer);
    });
    return entry;
  }

  /** An RTP ingest transport (ffmpeg, encoders): the first packet's source becomes the remote. */
  async createIngestTransport(owner: string): Promise<TransportEntry> {
    this.touch();
    const release = this.o.limits.take(owner, this.name, false);
    let transport: types.PlainTransport;
    try {
      transport = await openTransport(() =>
        this.fanout.origin.router.createPlainTransport({
          listenIp: { ip: this.o.listenIp, announcedIp: this.o.announcedIp },
          rtcpMux: false,
          comedia: true,
          appData: { owner, direction: "send", ingest: true },
        }),
      );
    } catch (err) {
      release();
      throw err;
    }
    transport.observer.once("close", release);
    return this.register(owner, "send", transport, this.fanout.origin, false);
  }

  /** The caller's transport, or MEDIA_TRANSPORT_NOT_FOUND (someone else's is not revealed). */
  transport(owner: string, id: string): TransportEntry {
    const entry = this.transports.get(id);
    if (!entry || entry.owner !== owner) throw transportNotFound(id);
    return entry;
  }

  async connect(owner: string, id: string, dtlsParameters: types.DtlsParameters): Promise<void> {
    this.touch();
    const entry = this.transport(owner, id);
    await mediasoupCall("connect", () => entry.transport.connect({ dtlsParameters }));
  }

  async produce(
    owner: string,
    transportId: string,
    kind: MediaKind,
    rtpParameters: types.RtpParameters,
  ): Promise<types.Producer> {
    this.touch();
    const entry = this.transport(owner, transportId);
    if (entry.direction !== "send")
      throw new RejectedError(MediaErrorCode.MEDIA_WRONG_DIRECTION, "produce needs a send transport");
    const producer = await mediasoupCall("produce", () =>
      entry.transport.produce({ kind, rtpParameters, appData: { owner } }),
    );
    entry.producers.set(producer.id, producer);
    this.producers.set(producer.id, producer);
    this.wasLive = true;
    producer.observer.once("close", () => {
      entry.producers.delete(producer.id);
      this.producers.delete(producer.id);
      this.fanout.forget(producer.id);
      if (this.ended) return;
      if (this.producers.size === 0 && this.wasLive) this.end("the host's last producer closed");
      else this.o.onChange(this);
    });
    await this.fanout.pipeToEdges();
    this.o.onChange(this);
    return producer;
  }

  async consume(
    owner: string,
    transportId: string,
    producerId: string,
    rtpCapabilities: types.RtpCapabilities,
  ): Promise<types.Consumer> {
    this.touch();
    const entry = this.transport(owner, transportId);
    if (entry.direction !== "recv")
      throw new RejectedError(MediaErrorCode.MEDIA_WRONG_DIRECTION, "consume needs a recv transport");
    if (!this.live) throw roomNotLive(this.name);
    if (!this.producers.has(producerId)) throw producerNotFound(producerId);
    // Edges get producers piped in the background; make sure this one is there.
    if (!entry.slot.origin) await this.fanout.pipeToEdges();
    if (!entry.slot.router.canConsume({ producerId, rtpCapabilities })) {
      throw new RejectedError(
        MediaErrorCode.MEDIA_CANNOT_CONSUME,
        "these rtpCapabilities cannot receive this producer (no common codec): load the device with the room's rtp-capabilities",
      );
    }
    const consumer = await mediasoupCall("consume", () =>
      entry.transport.consume({ producerId, rtpCapabilities, paused: true, appData: { owner } }),
    );
    entry.consumers.set(consumer.id, consumer);
    this.consumers.set(consumer.id, { consumer, entry });
    const viewer = entry.slot.viewers.get(entry.id);
    if (viewer) viewer.consumers++;
    consumer.observer.once("close", () => {
      entry.consumers.delete(consumer.id);
      this.consumers.delete(consumer.id);
      const v = entry.slot.viewers.get(entry.id);
      if (v) v.consumers = Math.max(0, v.consumers - 1);
    });
    return consumer;
  }

  async resume(owner: string, consumerId: string): Promise<void> {
    this.touch();
    const found = this.consumers.get(consumerId);
    if (!found || found.entry.owner !== owner) throw consumerNotFound(consumerId);
    await mediasoupCall("resume", () => found.consumer.resume());
  }

  closeTransport(owner: string, id: string): void {
    this.dropTransport(this.transport(owner, id), "closed by its owner");
  }

  /** Closes every transport opened with a shadow token (the kill switch went off). */
  closeShadowTransports(): number {
    const shadow = [...this.transports.values()].filter((e) => e.shadow);
    for (const e of shadow) this.dropTransport(e, "shadow traffic switched off");
    return shadow.length;
  }

  /** Ends the stream: every transport, consumer, producer and router is closed. Idempotent. */
  end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const entry of [...this.transports.values()]) entry.transport.close();
    this.transports.clear();
    this.producers.clear();
    this.consumers.clear();
    this.fanout.close();
    this.o.log.info({ room: this.name, reason }, "room ended");
    this.o.onEnded(this, reason);
  }

  /** Producer bitrates by kind and the bitrate sent to viewers, bits per second. */
  async bitrates(): Promise<{ producer: Record<MediaKind, number>; egress: number }> {
    const producer: Record<MediaKind, number> = { audio: 0, video: 0 };
    const settle = <T>(p: Promise<T>) => p.catch(() => undefined);
    const producerStats = await Promise.all([...this.producers.values()].map((p) => settle(p.getStats())));
    [...this.producers.values()].forEach((p, i) => {
      for (const s of producerStats[i] ?? []) producer[p.kind] += s.bitrate ?? 0;
    });
    const recv = [...this.transports.values()].filter((e) => e.direction === "recv");
    const transportStats = await Promise.all(
      recv.map((e) => settle<{ sendBitrate?: number }[]>(e.transport.getStats())),
    );
    let egress = 0;
    for (const stats of transportStats) for (const s of stats ?? []) egress += Number(s.sendBitrate ?? 0);
    return { producer, egress };
  }

  private register(
    owner: string,
    direction: Direction,
    transport: types.WebRtcTransport | types.PlainTransport,
    slot: RouterSlot,
    shadow: boolean,
  ): TransportEntry {
    const entry: TransportEntry = {
      id: transport.id,
      owner,
      direction,
      shadow,
      transport,
      slot,
      producers: new Map(),
      consumers: new Map(),
    };
    if (this.ended) {
      transport.close();
      throw roomNotLive(this.name);
    }
    this.transports.set(entry.id, entry);
    if (direction === "recv") slot.viewers.set(entry.id, { consumers: 0 });
    transport.observer.once("close", () => {
      this.transports.delete(entry.id);
      slot.viewers.delete(entry.id);
      if (!this.ended) this.fanout.releaseIfIdle(slot);
    });
    return entry;
  }

  private dropTransport(entry: TransportEntry, reason: string): void {
    if (entry.transport.closed) return;
    this.o.log.debug(
      { room: this.name, transport: entry.id, owner: entry.owner, reason },
      "transport closed",
    );
    entry.transport.close();
  }

  private touch(): void {
    this.lastActivity = Date.now();
  }
}
