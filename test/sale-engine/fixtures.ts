import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import type { DropDefinition } from "../../protocol/index.ts";
import type { SaleEngine, SaleEvent } from "../../sale-engine/index.ts";

let counter = 0;

/** A valid drop definition; override what the test is about. */
export function dropDefinition(overrides: Partial<DropDefinition> = {}): DropDefinition {
  counter += 1;
  return {
    dropId: `drop-${counter}-${randomUUID().slice(0, 6)}`,
    roomId: "room-1",
    product: {
      sku: "SKU-1",
      title: "Limited sneaker",
      priceMinor: 12_900,
      currency: "USD",
      imageUrl: "https://cdn.example.com/sneaker.jpg",
    },
    initialStock: 10,
    perUserLimit: 2,
    holdMs: 60_000,
    ...overrides,
  };
}

export function key(): string {
  return randomUUID();
}

/** Polls `check` until it returns a value (bounded), so a loaded machine only makes it slower. */
export async function until<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every event of a drop's event log, oldest first. */
export async function eventsOf(engine: SaleEngine, dropId: string): Promise<SaleEvent[]> {
  return (await engine.readEvents(dropId, "0", 1_000)).flatMap((e) => e.events);
}

/** The stock invariant: available + held + sold = initial + restocked. */
export function invariant(s: {
  available: number;
  held: number;
  sold: number;
  initial: number;
  restocked: number;
}): void {
  expect(s.available + s.held + s.sold).toBe(s.initial + s.restocked);
}
