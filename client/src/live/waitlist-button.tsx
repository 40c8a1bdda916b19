import { useState } from "preact/hooks";
import type { LiveConnection } from "../shared/connection.ts";
import { type MessageKey, useI18n } from "../shared/i18n.ts";
import { randomId } from "../shared/ids.ts";
import type { DropView } from "../shared/room-state.ts";

const REFUSAL: Record<string, MessageKey> = {
  WAITLIST_FULL: "waitlist.err.full",
  WAITLIST_CLOSED: "waitlist.err.closed",
  LIMIT_EXCEEDED: "drop.limit",
};

/** On a sold-out first-come drop: take a ticket in its waitlist (acked with the place in line). */
export function WaitlistButton({
  drop,
  conn,
  onTicket,
}: {
  drop: DropView;
  conn: LiveConnection;
  onTicket: (r: { dropId: string; ticket: number; position: number }) => void;
}) {
  const t = useI18n();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<MessageKey | undefined>();
  const join = async () => {
    setBusy(true);
    setError(undefined);
    try {
      // One key per press: a resend after a reconnect gets the same ticket.
      const ack = await conn.request({
        t: "waitlist",
        dropId: drop.dropId,
        qty: 1,
        idempotencyKey: randomId("w"),
      });
      if (ack.ok && ack.result.kind === "waitlist") onTicket(ack.result);
      else if (!ack.ok) setError(REFUSAL[ack.code] ?? "buy.err.generic");
    } catch {
      setError("buy.err.offline");
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button
        type="button"
        class="btn btn-waitlist"
        disabled={busy}
        onClick={join}
        data-testid="join-waitlist"
      >
        {busy ? t("waitlist.joining") : t("waitlist.join")}
      </button>
      {error ? (
        <p class="drop-error" role="alert">
          {t(error)}
        </p>
      ) : null}
    </>
  );
}
