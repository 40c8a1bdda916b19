import { useState } from "preact/hooks";
import { WIRE_LIMITS } from "../../../protocol/index.ts";
import type { LiveConnection } from "./connection.ts";
import { useFrames } from "./hooks.ts";
import { type MessageKey, useI18n } from "./i18n.ts";
import { randomId } from "./ids.ts";

/** Wire codes of chat refusals the sender is told about, with their message. */
const REFUSALS: Record<string, MessageKey> = {
  RATE_LIMITED: "chat.err.rate",
  SLOW_MODE: "chat.err.slow",
  MUTED: "chat.err.muted",
  BANNED: "chat.err.banned",
  CHAT_TOO_LONG: "chat.err.long",
  NOT_IN_ROOM: "chat.err.notJoined",
};

/** The chat box: send on Enter, refusals shown under it; optional heart button. */
export function ChatInput({ conn, room, hearts }: { conn: LiveConnection; room: string; hearts?: boolean }) {
  const t = useI18n();
  const [text, setText] = useState("");
  const [error, setError] = useState<MessageKey | undefined>();
  const [sent, setSent] = useState<Set<string>>(new Set());

  useFrames(conn, (f) => {
    if (f.t === "error" && f.reqId && sent.has(f.reqId)) setError(REFUSALS[f.code] ?? "chat.err.generic");
  });

  const post = (body: string) => {
    const clean = body.trim();
    if (!clean) return false;
    const clientMsgId = randomId("c");
    setSent((s) => new Set(s).add(clientMsgId));
    setError(undefined);
    if (!conn.send({ t: "chat", room, text: clean, clientMsgId })) {
      setError("chat.err.offline");
      return false;
    }
    return true;
  };

  return (
    <form
      class="chat-input"
      onSubmit={(e) => {
        e.preventDefault();
        if (post(text)) setText("");
      }}
    >
      <label class="sr-only" for="chat-text">
        {t("chat.label")}
      </label>
      <input
        id="chat-text"
        name="chat"
        autocomplete="off"
        enterkeyhint="send"
        maxLength={WIRE_LIMITS.maxChatChars}
        placeholder={t("chat.placeholder")}
        value={text}
        onInput={(e) => setText((e.target as HTMLInputElement).value)}
        aria-describedby={error ? "chat-error" : undefined}
      />
      <button type="submit" class="btn">
        {t("chat.send")}
      </button>
      {hearts ? (
        <button type="button" class="btn heart-btn" aria-label={t("chat.heart")} onClick={() => post("❤️")}>
          {"\u2764"}
        </button>
      ) : null}
      {error ? (
        <p id="chat-error" class="chat-error" role="alert">
          {t(error)}
        </p>
      ) : null}
    </form>
  );
}
