import { useEffect, useRef, useState } from "preact/hooks";
import type { ServerFrame } from "../../../protocol/index.ts";
import type { ConnectionState, LiveConnection } from "./connection.ts";
import { applyFrame, emptyRoom, type RoomState } from "./room-state.ts";
import type { ServerClock } from "./server-clock.ts";

/**
 * The room's state from the connection's frames. Frames are applied as they come but rendered
 * at most once per animation frame: a burst of chat and stock frames costs one render.
 */
export function useRoom(conn: LiveConnection, clock: ServerClock, room: string): RoomState {
  const [state, setState] = useState<RoomState>(() => emptyRoom(room));
  const latest = useRef(state);
  useEffect(() => {
    let scheduled = 0;
    const off = conn.onFrame((f) => {
      const next = applyFrame(latest.current, f, clock.now());
      if (next === latest.current) return;
      latest.current = next;
      if (!scheduled)
        scheduled = requestAnimationFrame(() => {
          scheduled = 0;
          setState(latest.current);
        });
    });
    return () => {
      off();
      cancelAnimationFrame(scheduled);
    };
  }, [conn, clock]);
  return state;
}

export function useConnectionState(conn: LiveConnection): ConnectionState {
  const [s, setS] = useState(conn.state);
  useEffect(() => conn.onState(setS), [conn]);
  return s;
}

/** Server time, re-rendering every `everyMs` and exactly at each of `instants` (e.g. T0). */
export function useServerNow(clock: ServerClock, everyMs: number, instants: readonly number[] = []): number {
  const [now, setNow] = useState(() => clock.now());
  const key = instants.join(",");
  useEffect(() => {
    const tick = () => setNow(clock.now());
    const timer = setInterval(tick, everyMs);
    // A timer at each upcoming instant: the buy button turns on at T0, not up to a tick later.
    const exact = instants
      .map((at) => at - clock.now())
      .filter((ms) => ms > 0 && ms < 2_147_000_000)
      .map((ms) => setTimeout(tick, ms + 1));
    const offClock = clock.onChange(tick);
    return () => {
      clearInterval(timer);
      for (const t of exact) clearTimeout(t);
      offClock();
    };
  }, [clock, everyMs, key]);
  return now;
}

/** Calls `fn` for every frame of the connection (stable across renders). */
export function useFrames(conn: LiveConnection, fn: (f: ServerFrame) => void): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => conn.onFrame((f) => ref.current(f)), [conn]);
}
