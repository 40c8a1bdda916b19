import type { HostAction } from "../../../protocol/index.ts";
import { useI18n } from "../shared/i18n.ts";
import type { DropView } from "../shared/room-state.ts";

/** Pin or unpin a buy-it-now drop: it sells only while pinned (viewers see its card then). */
export function PinButtons({ drop, command }: { drop: DropView; command: (a: HostAction) => void }) {
  const t = useI18n();
  if (drop.format !== "buy_now" || drop.state === "ended") return null;
  return drop.pinned ? (
    <button
      type="button"
      class="btn btn-small"
      data-testid="unpin"
      onClick={() => command({ kind: "unpin", dropId: drop.dropId })}
    >
      {t("pin.unpin")}
    </button>
  ) : (
    <button
      type="button"
      class="btn btn-small btn-primary"
      data-testid="pin"
      onClick={() => command({ kind: "pin", dropId: drop.dropId })}
    >
      {t("pin.pin")}
    </button>
  );
}

/** What the drop table's mode cell says of a format that is not a timed drop (undefined: a timed drop). */
export function formatLabel(drop: DropView): "auction.mode" | "pin.mode" | "giveaway.mode" | undefined {
  if (drop.format === "auction") return "auction.mode";
  if (drop.format === "buy_now") return "pin.mode";
  if (drop.format === "giveaway") return "giveaway.mode";
  return undefined;
}
