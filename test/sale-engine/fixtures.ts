import { randomUUID } from "node:crypto";
import type { DropDefinition } from "../../protocol/index.ts";

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
