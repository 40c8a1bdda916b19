import type { Hold } from "./drop-card.tsx";

/** The buyer's open holds per room, kept across reloads so a reload never strands a payment. */
const key = (room: string) => `livedrop.holds.${room}`;

export function loadHolds(room: string): Hold[] {
  try {
    const all = JSON.parse(localStorage.getItem(key(room)) ?? "[]") as Hold[];
    // Long past their deadline: the order is settled one way or the other.
    return Array.isArray(all) ? all.filter((h) => h.deadline > Date.now() - 3_600_000) : [];
  } catch {
    return [];
  }
}

export function saveHolds(room: string, holds: readonly Hold[]): void {
  try {
    localStorage.setItem(key(room), JSON.stringify(holds));
  } catch {
    // storage full or blocked: the hold still shows in this tab
  }
}
