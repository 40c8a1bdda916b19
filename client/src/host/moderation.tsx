import { useState } from "preact/hooks";
import type { ChatMessage, ModerationAction } from "../../../protocol/index.ts";
import { ChatInput } from "../shared/chat-input.tsx";
import { ChatList } from "../shared/chat-list.tsx";
import type { LiveConnection } from "../shared/connection.ts";
import { useFrames } from "../shared/hooks.ts";
import { useI18n } from "../shared/i18n.ts";

const SLOW_MODES = [0, 5, 10, 30, 60] as const;
const TIMEOUT_S = 300;

/**
 * The room's chat with moderation: delete a message (a tombstone for everyone), time out or
 * ban its author, slow mode for the room. Every action is acked; the server checks the rights.
 */
export function ModeratedChat({
  conn,
  room,
  chat,
}: {
  conn: LiveConnection;
  room: string;
  chat: readonly ChatMessage[];
}) {
  const t = useI18n();
  const [slow, setSlow] = useState(0);
  const [status, setStatus] = useState<{ ok: boolean; text: string } | undefined>();

  useFrames(conn, (f) => {
    if (f.t === "moderation" && f.room === room && f.action.kind === "slowmode") setSlow(f.action.seconds);
  });

  const moderate = async (action: ModerationAction, done: string) => {
    try {
      const ack = await conn.request({ t: "moderation", room, action });
      setStatus(ack.ok ? { ok: true, text: done } : { ok: false, text: `${ack.code}: ${ack.message}` });
    } catch (err) {
      setStatus({ ok: false, text: (err as Error).message });
    }
  };

  const actions = (m: ChatMessage) =>
    m.role === "viewer" ? (
      <>
        <button
          type="button"
          class="btn btn-small"
          aria-label={t("mod.deleteLabel", { name: m.name })}
          onClick={() => moderate({ kind: "delete", messageId: m.id }, t("mod.deleted"))}
        >
          {t("mod.delete")}
        </button>
        <button
          type="button"
          class="btn btn-small"
          aria-label={t("mod.timeoutLabel", { name: m.name })}
          onClick={() =>
            moderate(
              { kind: "timeout", userId: m.userId, seconds: TIMEOUT_S },
              t("mod.timedOut", { name: m.name }),
            )
          }
        >
          {t("mod.timeout")}
        </button>
        <button
          type="button"
          class="btn btn-small"
          aria-label={t("mod.banLabel", { name: m.name })}
          onClick={() => moderate({ kind: "ban", userId: m.userId }, t("mod.banned", { name: m.name }))}
        >
          {t("mod.ban")}
        </button>
      </>
    ) : null;

  return (
    <section class="panel chat-panel" aria-labelledby="chat-title" style={{ minHeight: "420px" }}>
      <div class="row" style={{ justifyContent: "space-between" }}>
        <h2 id="chat-title">{t("chat.title")}</h2>
        <label class="row">
          {t("mod.slow")}
          <select
            value={slow}
            onChange={(e) => {
              const seconds = Number((e.target as HTMLSelectElement).value);
              setSlow(seconds);
              moderate({ kind: "slowmode", seconds }, t("mod.slowSet"));
            }}
          >
            {SLOW_MODES.map((s) => (
              <option key={s} value={s}>
                {s === 0 ? t("mod.slowOff") : t("mod.slowEvery", { s })}
              </option>
            ))}
          </select>
        </label>
      </div>
      {status ? (
        <p
          role="status"
          data-testid="mod-status"
          class={status.ok ? "ok" : "bad"}
          style={{ margin: "4px 0" }}
        >
          {status.text}
        </p>
      ) : null}
      <ChatList messages={chat} rowHeight={56} actions={actions} label={t("chat.title")} />
      <ChatInput conn={conn} room={room} />
    </section>
  );
}
