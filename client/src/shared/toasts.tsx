import { useState } from "preact/hooks";
import type { LiveConnection } from "./connection.ts";
import { useFrames } from "./hooks.ts";
import { useI18n } from "./i18n.ts";

interface Toast {
  readonly id: number;
  readonly buyer: string;
  readonly qty: number;
}

const SHOW_MS = 3_500;
const MAX_SHOWN = 3;

/** "Guest 4821 just bought 1": the gateway samples these; a few at a time, each for a moment. */
export function PurchaseToasts({ conn, room }: { conn: LiveConnection; room: string }) {
  const t = useI18n();
  const [toasts, setToasts] = useState<readonly Toast[]>([]);
  useFrames(conn, (f) => {
    if (f.t !== "toast" || f.room !== room) return;
    const toast = { id: Math.random(), buyer: f.buyer, qty: f.qty };
    setToasts((all) => [...all.slice(-(MAX_SHOWN - 1)), toast]);
    setTimeout(() => setToasts((all) => all.filter((x) => x !== toast)), SHOW_MS);
  });
  return (
    <div class="toasts" aria-live="polite" data-testid="toasts">
      {toasts.map((x) => (
        <div key={x.id} class="toast">
          {t("toast.bought", { buyer: x.buyer, qty: x.qty })}
        </div>
      ))}
    </div>
  );
}
