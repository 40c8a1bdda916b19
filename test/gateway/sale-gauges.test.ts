import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { registerSaleGauges } from "../../gateway/metrics.ts";

describe("sale gauges", () => {
  it("one scrape reads the sale figures once for all five gauges", async () => {
    const registry = new Registry();
    let reads = 0;
    registerSaleGauges(registry, async () => {
      reads++;
      return [
        {
          room: "r1",
          drop: "d1",
          currency: "USD",
          buyClicks: 9,
          holds: 4,
          paidOrders: 3,
          gmvMinor: 3_900,
          available: 6,
        },
      ];
    });
    const text = await registry.metrics();
    expect(reads).toBe(1);
    expect(text).toContain('livedrop_sale_gmv_minor{room="r1",drop="d1",currency="USD"} 3900');
    expect(text).toContain('livedrop_sale_buy_clicks{room="r1",drop="d1",currency="USD"} 9');
    await registry.metrics();
    expect(reads).toBe(2);
  });
});
