/** What the player page holds on to while a stream plays, whichever way it arrives. */
export interface PlayerSession {
  readonly mode: "webrtc" | "hls";
  /** Glass-to-glass estimate, ms; undefined while unknown. */
  latencyMs(): Promise<number | undefined>;
  /** HLS only: program-date-time (media server wall clock, ms) of the frame on screen. */
  programTimeMs(): number | undefined;
  close(): void;
}

export class StreamOffline extends Error {
  constructor() {
    super("the room is not live");
  }
}
