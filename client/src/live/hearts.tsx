import { useEffect, useRef, useState } from "preact/hooks";
import type { ChatMessage } from "../../../protocol/index.ts";
import { isHeart } from "../shared/room-state.ts";

const MAX_FLOATING = 24;
const FLOAT_MS = 2_400;

/**
 * Hearts float up over the video for every heart message that arrives after the page joined
 * (history is not replayed as hearts). Decorative: hidden from screen readers; reduced-motion
 * users get no animation (styles.css).
 */
export function Hearts({ chat }: { chat: readonly ChatMessage[] }) {
  const [floating, setFloating] = useState<readonly { id: string; x: number }[]>([]);
  const lastSeen = useRef<string | undefined>(undefined);
  const primed = useRef(false);

  useEffect(() => {
    const start = lastSeen.current ? chat.findIndex((m) => m.id === lastSeen.current) + 1 : 0;
    const fresh = chat.slice(start).filter((m) => !m.deleted && isHeart(m.text));
    lastSeen.current = chat.at(-1)?.id ?? lastSeen.current;
    if (!primed.current) {
      primed.current = chat.length > 0;
      return;
    }
    if (fresh.length === 0) return;
    const added = fresh.slice(-MAX_FLOATING).map((m) => ({ id: m.id, x: 10 + Math.random() * 70 }));
    setFloating((all) => [...all, ...added].slice(-MAX_FLOATING));
    setTimeout(() => setFloating((all) => all.filter((h) => !added.includes(h))), FLOAT_MS);
  }, [chat]);

  return (
    <div class="hearts" aria-hidden="true">
      {floating.map((h) => (
        <span key={h.id} class="heart" style={{ left: `${h.x}%` }}>
          {"\u2764"}
        </span>
      ))}
    </div>
  );
}
