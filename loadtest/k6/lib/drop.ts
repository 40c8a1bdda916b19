import { check, fail, sleep } from "k6";
import { loadTestDrop } from "../../lib/drop.ts";
import { runDropId } from "../../lib/ids.ts";
import type { ScenarioName } from "../../lib/scenarios.ts";
import { api, type DropStatusView, errorCode, json } from "./api.ts";
import type { K6Config } from "./config.ts";
import type { ProbeCalibration } from "./generator.ts";
import { metric } from "./metrics.ts";
import { hostToken, type SetupTokens } from "./tokens.ts";

/**
 * What setup() hands every VU. k6 copies it into each one: besides the drop it holds only the
 * probe's calibration and, when setup() minted them, the viewer tokens (tokens.ts).
 */
export interface RunData extends SetupTokens {
  readonly probe?: ProbeCalibration;
  readonly startedAt: string;
  readonly dropId: string;
  readonly hostToken: string;
  readonly startsAt: number;
  readonly stock: number;
  /** The run created the drop (and ends it in teardown). */
  readonly created: boolean;
}

/** setup(): checks the target is ready, then creates the run's drop (or uses DROP_ID). */
export function setupDrop(
  cfg: K6Config,
  scenario: ScenarioName,
  fields: { stock: number; startsInMs?: number; perUserLimit?: number },
): RunData {
  const ready = api.health(cfg);
  if (!check(ready, { "target is ready": (r) => r.status === 200 }))
    fail(`${cfg.baseUrl}/readyz answered ${ready.status}: not ready, not loading it`);
  const host = hostToken(cfg);
  const startedAt = new Date().toISOString();
  if (cfg.dropId) {
    const s = json<DropStatusView>(api.drop(cfg, cfg.dropId, "host", host));
    if (!s) fail(`DROP_ID ${cfg.dropId} not found`);
    return {
      startedAt,
      dropId: s.dropId,
      hostToken: host,
      startsAt: s.startsAt,
      stock: s.initial + s.restocked,
      created: false,
    };
  }
  const dropId = runDropId(scenario);
  const startsAt = fields.startsInMs === undefined ? undefined : Date.now() + fields.startsInMs;
  const res = api.createDrop(cfg, host, {
    ...loadTestDrop(dropId, fields.stock, { startsAt, perUserLimit: fields.perUserLimit }),
  });
  const body = json<{ drop?: DropStatusView }>(res);
  if (res.status !== 201 || !body?.drop)
    fail(`could not create the drop: HTTP ${res.status} ${errorCode(res)}`);
  return {
    startedAt,
    dropId,
    hostToken: host,
    startsAt: body.drop.startsAt,
    stock: fields.stock,
    created: true,
  };
}

/** Pages of 500 orders the audit reads at most (a million orders). */
const MAX_AUDIT_PAGES = 2_000;

/**
 * The end check through the API: held + sold never exceed stock, and (after the order pipeline
 * has caught up, up to `waitMs`) every held or sold unit has an order. Units are reservations
 * here: every buyer buys one.
 */
export function auditDrop(cfg: K6Config, data: RunData, waitMs: number): void {
  const deadline = Date.now() + waitMs;
  let status: DropStatusView | undefined;
  let units = 0;
  let truncated = false;
  for (;;) {
    status = json<DropStatusView>(api.drop(cfg, data.dropId, "audit", data.hostToken));
    // Every page of the drop's orders, in reservation-id order.
    units = 0;
    truncated = false;
    let after: string | undefined;
    for (let pages = 0; ; pages++) {
      const res = api.dropOrders(cfg, data.hostToken, data.dropId, after);
      const body = json<{
        orders?: { status: string; qty?: number }[];
        next?: string | null;
        truncated?: boolean;
      }>(res);
      for (const o of body?.orders ?? [])
        if (o.status === "pending_payment" || o.status === "paid") units += o.qty ?? 1;
      if (!body?.next) {
        truncated = body?.truncated === true; // a gateway from before paging
        break;
      }
      if (pages >= MAX_AUDIT_PAGES) {
        truncated = true;
        break;
      }
      after = body.next;
    }
    if (!status || truncated || units >= status.held + status.sold || Date.now() > deadline) break;
    sleep(1);
  }
  if (!status) fail(`drop ${data.dropId} vanished`);
  const taken = status.held + status.sold;
  metric("units_taken").add(taken);
  metric("oversold").add(Math.max(0, taken - (status.initial + status.restocked)));
  // A capped answer cannot prove the count; the buyers' own checks (holds_without_order) still do.
  metric("orders_missing").add(truncated ? 0 : Math.max(0, taken - units));
  check(status, { "held + sold <= stock": (s) => s.held + s.sold <= s.initial + s.restocked });
  check(truncated, { "order audit saw every order (list not truncated)": (t) => !t });
}

/** teardown(): ends a drop the run created, so nobody can keep buying it. */
export function endDrop(cfg: K6Config, data: RunData): void {
  if (data.created) api.hostAction(cfg, data.hostToken, data.dropId, "end");
}
