import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, expectTypeOf, it } from "vitest";
import { ErrorCode } from "../../core/index.ts";
import { ORDER_STATUSES as STORE_ORDER_STATUSES } from "../../orders/index.ts";
import {
  CLOSE_ACTION,
  CloseCode,
  closeAction,
  DROP_STATES,
  type HostActionKind,
  type hostActionKindSchema,
  ORDER_STATUSES,
  type WireDropState,
  WireErrorCode,
} from "../../protocol/index.ts";
import type { DropState } from "../../sale-engine/index.ts";

const root = path.resolve(import.meta.dirname, "../..");

/** Every module reachable from `entry` through relative imports, with the bare specifiers it uses. */
function importGraph(entry: string): { files: string[]; bare: Set<string> } {
  const files: string[] = [];
  const bare = new Set<string>();
  const pending = [path.resolve(root, entry)];
  while (pending.length) {
    const file = pending.pop()!;
    if (files.includes(file)) continue;
    files.push(file);
    const source = readFileSync(file, "utf8");
    for (const match of source.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)) {
      const spec = match[1]!;
      if (spec.startsWith(".")) pending.push(path.resolve(path.dirname(file), spec));
      else bare.add(spec);
    }
  }
  return { files: files.map((f) => path.relative(root, f)).sort(), bare };
}

describe("protocol/ stays bundlable for the browser", () => {
  it("imports only zod and its own files", () => {
    const { files, bare } = importGraph("protocol/index.ts");
    expect([...bare]).toEqual(["zod"]);
    for (const file of files) expect(file.startsWith("protocol/"), file).toBe(true);
    expect(files).toContain("protocol/ids.ts");
  });
});

describe("protocol codes stay in step with the server", () => {
  it("every error code is its own name", () => {
    for (const [key, value] of Object.entries(WireErrorCode)) expect(value).toBe(key);
  });

  it("sale and order codes are spelled as the sale engine and checkout spell them", () => {
    const forwarded = Object.keys(WireErrorCode).filter((k) => Object.hasOwn(ErrorCode, k));
    expect(forwarded.sort()).toEqual(
      [
        "NOT_STARTED",
        "ENDED",
        "PAUSED",
        "SOLD_OUT",
        "LIMIT_EXCEEDED",
        "INSUFFICIENT_STOCK",
        "IDEMPOTENCY_KEY_REUSED",
        "DROP_NOT_FOUND",
        "ORDER_NOT_FOUND",
        "HOLD_EXPIRED",
        "STOCK_OVERFLOW",
        "WAITLIST_CLOSED",
        "WAITLIST_FULL",
        "COUPON_NOT_FOUND",
        "COUPON_NOT_ACTIVE",
        "COUPON_EXHAUSTED",
        "COUPON_LIMIT_REACHED",
        "COUPON_NOT_APPLICABLE",
        "AUCTION_NOT_FOUND",
        "AUCTION_NOT_STARTED",
        "AUCTION_ENDED",
        "BID_TOO_LOW",
        "ALREADY_LEADING",
        "NOT_PINNED",
        "PAYMENT_DECLINED",
        "PAYMENT_TIMEOUT",
        "UNAVAILABLE",
        "REPLICATION_TIMEOUT",
        "INTERNAL",
      ].sort(),
    );
    for (const key of forwarded) {
      expect(WireErrorCode[key as keyof typeof WireErrorCode]).toBe(ErrorCode[key as keyof typeof ErrorCode]);
    }
  });

  it("close codes are unique, private-range (or 1009), and each has a client action", () => {
    const codes = Object.values(CloseCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) {
      expect(code === 1009 || (code >= 4000 && code <= 4999), String(code)).toBe(true);
      expect(CLOSE_ACTION[code]).toBeDefined();
    }
    expect(closeAction(CloseCode.TOO_SLOW)).toBe("resume");
    expect(closeAction(CloseCode.UNAUTHORIZED)).toBe("new-token");
    expect(closeAction(CloseCode.BANNED)).toBe("stop");
    expect(closeAction(1006)).toBe("resume-after-backoff");
  });

  it("drop states and order statuses match the sale engine's and the order store's", () => {
    expectTypeOf<WireDropState>().toEqualTypeOf<DropState>();
    expectTypeOf<HostActionKind>().toEqualTypeOf<(typeof hostActionKindSchema.options)[number]>();
    expect([...DROP_STATES].sort()).toEqual(["ended", "live", "paused", "scheduled", "sold_out"]);
    expect([...ORDER_STATUSES]).toEqual([...STORE_ORDER_STATUSES]);
  });
});
