import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { ChatMessage } from "../../../protocol/index.ts";
import { useI18n } from "./i18n.ts";

interface Props {
  readonly messages: readonly ChatMessage[];
  /** Fixed row height, px: rows are clamped to two lines, which makes windowing exact and cheap. */
  readonly rowHeight?: number;
  /** Extra controls per message (moderation on the host console). */
  readonly actions?: (m: ChatMessage) => ComponentChildren;
  readonly label: string;
}

const OVERSCAN = 6;

/**
 * The chat, virtualised: only the rows in view (plus a few) are in the DOM, however many
 * messages the room keeps. Follows new messages while scrolled to the bottom; otherwise offers
 * a "new messages" button. Text is rendered as text nodes, never parsed as HTML.
 */
export function ChatList({ messages, rowHeight = 48, actions, label }: Props) {
  const t = useI18n();
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(300);
  const [atBottom, setAtBottom] = useState(true);
  const total = messages.length * rowHeight;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Stay pinned to the newest message unless the reader scrolled up.
  useLayoutEffect(() => {
    const el = box.current;
    if (el && atBottom) {
      el.scrollTop = el.scrollHeight;
      setScrollTop(el.scrollTop);
    }
  }, [messages.length, height]);

  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    setScrollTop(el.scrollTop);
    setAtBottom(el.scrollHeight - el.scrollTop - el.clientHeight < rowHeight);
  };

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN);
  const last = Math.min(messages.length, Math.ceil((scrollTop + height) / rowHeight) + OVERSCAN);
  const rows = messages.slice(first, last);

  return (
    <div class="chat-wrap">
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard */}
      <div ref={box} class="chat-list" role="log" aria-label={label} tabIndex={0} onScroll={onScroll}>
        <div style={{ height: `${total}px`, position: "relative" }}>
          {rows.map((m, i) => (
            <div
              key={m.id}
              class={`chat-row role-${m.role}`}
              style={{ top: `${(first + i) * rowHeight}px`, height: `${rowHeight}px` }}
              data-testid="chat-row"
            >
              <div class="chat-text">
                <span class="chat-name">
                  {m.name}
                  {m.role === "host" ? <span class="badge">{t("chat.host")}</span> : null}
                </span>{" "}
                {m.deleted ? (
                  <em class="chat-removed">{t("chat.removed")}</em>
                ) : (
                  <span class="chat-body">{m.text}</span>
                )}
              </div>
              {actions && !m.deleted ? <div class="chat-actions">{actions(m)}</div> : null}
            </div>
          ))}
        </div>
      </div>
      {!atBottom ? (
        <button
          type="button"
          class="chat-more"
          onClick={() => {
            const el = box.current;
            if (el) el.scrollTop = el.scrollHeight;
          }}
        >
          {t("chat.newMessages")}
        </button>
      ) : null}
    </div>
  );
}
