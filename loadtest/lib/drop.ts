/**
 * The drop a load-test run creates, the same for k6 and the Node driver: a sandbox product (no
 * real money moves either way) with a long hold, so holds do not expire before the end check.
 */
export interface DropDefinition {
  dropId: string;
  product: { sku: string; title: string; priceMinor: number; currency: string; imageUrl: string };
  initialStock: number;
  perUserLimit: number;
  holdMs: number;
  startsAt?: number;
}

export function loadTestDrop(
  dropId: string,
  stock: number,
  o: { startsAt?: number; perUserLimit?: number } = {},
): DropDefinition {
  return {
    dropId,
    product: {
      sku: "LOADTEST-1",
      title: "Load test item",
      priceMinor: 100,
      currency: "USD",
      imageUrl: "https://example.com/loadtest.png",
    },
    initialStock: stock,
    perUserLimit: o.perUserLimit ?? 1,
    holdMs: 600_000,
    ...(o.startsAt === undefined ? {} : { startsAt: o.startsAt }),
  };
}
