import { seeded, ValidationError } from "../core/index.ts";

/** The simulated room of the fairness bench: who watches over HLS, each one's delays. */
export interface RoomPlan {
  readonly hls: readonly boolean[];
  /** Playback delay behind the server clock, ms: when this viewer's video shows T0. */
  readonly delayMs: readonly number[];
  /** Time from seeing the drop to pressing buy, ms. */
  readonly reactionMs: readonly number[];
}

export interface RoomShape {
  readonly viewers: number;
  /** Share of viewers on HLS, 0..1; the rest watch over WebRTC. */
  readonly hlsShare: number;
  readonly hlsDelayMs: number;
  readonly webrtcDelayMs: number;
  /** Reaction times are uniform in [0, reactionMs]. */
  readonly reactionMs: number;
  readonly seed: number;
}

/** One viewer's round as the clients' process saw it (server-clock times, from its own offset). */
export interface Outcome {
  readonly settled: boolean;
  readonly kind?: string;
  readonly code?: string;
  readonly sentAt?: number;
  readonly ackAt?: number;
  readonly attempts?: number;
  readonly closesAt?: number;
  /** When the room's `draw` frame reached this viewer. */
  readonly drawAt?: number;
  readonly result?: { status: "won" | "lost"; granted: number; at: number };
}

/** Exactly round(viewers × hlsShare) HLS viewers, placed at seeded random positions. */
export function planRoom(shape: RoomShape): RoomPlan {
  if (!(shape.hlsShare >= 0 && shape.hlsShare <= 1)) throw new ValidationError("--hls-share 0..1");
  const random = seeded(shape.seed);
  const order = Array.from({ length: shape.viewers }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const hls = new Array<boolean>(shape.viewers).fill(false);
  for (const i of order.slice(0, Math.round(shape.viewers * shape.hlsShare))) hls[i] = true;
  return {
    hls,
    delayMs: hls.map((h) => (h ? shape.hlsDelayMs : shape.webrtcDelayMs)),
    reactionMs: hls.map(() => Math.round(random() * shape.reactionMs)),
  };
}

/** Share of `picked` viewers on HLS (0 when none were picked). */
export function hlsShareOf(plan: RoomPlan, picked: readonly number[]): number {
  if (picked.length === 0) return 0;
  return picked.filter((i) => plan.hls[i]).length / picked.length;
}
