import type { GmvLine } from "../../../protocol/index.ts";
import type { MessageKey } from "./i18n.ts";
import type { DropView } from "./room-state.ts";

/** A labelled figure. */
export function Kpi({ label, value, testid }: { label: string; value: string; testid?: string }) {
  return (
    <div class="kpi">
      <div class="kpi-label">{label}</div>
      <div class="kpi-value" data-testid={testid}>
        {value}
      </div>
    </div>
  );
}

/** GMV in the room's first currency (rooms sell in one currency in practice). */
export function gmvOf(r: { totals: { gmv: readonly GmvLine[] }; drops: readonly { currency: string }[] }): {
  minor: number;
  currency: string;
} {
  const first = r.totals.gmv[0];
  return { minor: first?.minor ?? 0, currency: first?.currency ?? r.drops[0]?.currency ?? "USD" };
}

export const STATE_LABEL: Record<DropView["state"], MessageKey> = {
  scheduled: "state.scheduled",
  live: "state.live",
  paused: "state.paused",
  sold_out: "state.sold_out",
  ended: "state.ended",
};
