import { sleep } from "k6";
import http, { type RefinedResponse, type ResponseType } from "k6/http";
import type { HttpPay } from "../../lib/behaviours.ts";
import type { OrderStatus } from "../../lib/frames.ts";
import type { K6Config } from "./config.ts";
import { metric } from "./metrics.ts";

/**
 * The gateway's JSON API as k6 calls, each tagged with its step so results can be read per step
 * (`http_req_duration{step:pay}`). A 429 (per-address limit) is retried after a pause.
 */

type Body = Record<string, unknown>;
type Res = RefinedResponse<ResponseType | undefined>;

export interface DropStatusView {
  dropId: string;
  roomId: string;
  state: string;
  startsAt: number;
  available: number;
  held: number;
  sold: number;
  initial: number;
  restocked: number;
}

function headers(token?: string): Record<string, string> {
  const h: Record<string, string> = { "content-type": "application/json" };
  if (token) h.authorization = `Bearer ${token}`;
  return h;
}

/** `route` names the request in k6's output (one name per endpoint, not per drop id). */
export function call(
  cfg: K6Config,
  method: "GET" | "POST" | "PUT",
  path: string,
  tags: { step: string; route: string },
  token?: string,
  body?: Body,
): Res {
  const params = { headers: headers(token), tags: { step: tags.step, name: `${method} ${tags.route}` } };
  for (let attempt = 0; ; attempt++) {
    const res = http.request(
      method,
      `${cfg.baseUrl}${path}`,
      body === undefined ? null : JSON.stringify(body),
      params,
    );
    if (res.status !== 429 || attempt >= 8) return res;
    metric("http_rate_limited").add(1, { step: tags.step });
    sleep(0.25 * 2 ** Math.min(attempt, 4));
  }
}

/** The parsed JSON body, or undefined. */
export function json<T>(res: Res): T | undefined {
  try {
    return res.json() as unknown as T;
  } catch {
    return undefined;
  }
}

export function errorCode(res: Res): string {
  return json<{ error?: { code?: string } }>(res)?.error?.code ?? `HTTP_${res.status}`;
}

export const api = {
  health: (cfg: K6Config) => call(cfg, "GET", "/readyz", { step: "health", route: "/readyz" }),
  guestToken: (cfg: K6Config) =>
    call(
      cfg,
      "POST",
      "/api/v1/tokens/guest",
      { step: "token", route: "/api/v1/tokens/guest" },
      undefined,
      {},
    ),
  createDrop: (cfg: K6Config, hostToken: string, body: Body) =>
    call(
      cfg,
      "POST",
      `/api/v1/rooms/${cfg.room}/drops`,
      { step: "host", route: "/api/v1/rooms/:room/drops" },
      hostToken,
      body,
    ),
  hostAction: (cfg: K6Config, hostToken: string, dropId: string, action: string, body: Body = {}) =>
    call(
      cfg,
      "POST",
      `/api/v1/drops/${dropId}/${action}`,
      { step: "host", route: `/api/v1/drops/:dropId/${action}` },
      hostToken,
      body,
    ),
  /** A shadow token reads the shadow lane (without one, a shadow drop is not found). */
  drop: (cfg: K6Config, dropId: string, step: string, token: string) =>
    call(cfg, "GET", `/api/v1/drops/${dropId}`, { step, route: "/api/v1/drops/:dropId" }, token),
  /** One page of the drop's orders; `after` is the previous page's `next`. */
  dropOrders: (cfg: K6Config, token: string, dropId: string, after?: string) =>
    call(
      cfg,
      "GET",
      `/api/v1/drops/${dropId}/orders${after === undefined ? "" : `?after=${encodeURIComponent(after)}`}`,
      { step: "audit", route: "/api/v1/drops/:dropId/orders" },
      token,
    ),
  openAuction: (cfg: K6Config, hostToken: string, body: Body) =>
    call(
      cfg,
      "POST",
      `/api/v1/rooms/${cfg.room}/auctions`,
      { step: "host", route: "/api/v1/rooms/:room/auctions" },
      hostToken,
      body,
    ),
  auction: (cfg: K6Config, dropId: string, token: string) =>
    call(
      cfg,
      "GET",
      `/api/v1/drops/${dropId}/auction?limit=100`,
      { step: "audit", route: "/api/v1/drops/:dropId/auction" },
      token,
    ),
  order: (cfg: K6Config, token: string, reservationId: string, step = "verify") =>
    call(
      cfg,
      "GET",
      `/api/v1/orders/${reservationId}`,
      { step, route: "/api/v1/orders/:reservationId" },
      token,
    ),
  pay: (cfg: K6Config, token: string, reservationId: string, paymentToken: string, idempotencyKey: string) =>
    call(
      cfg,
      "POST",
      `/api/v1/orders/${reservationId}/pay`,
      { step: "pay", route: "/api/v1/orders/:reservationId/pay" },
      token,
      { token: paymentToken, idempotencyKey },
    ),
};

/** The shared shopper's HttpPay port over k6/http (k6 calls are synchronous; the callback runs at once). */
export function httpPay(cfg: K6Config, token: string): HttpPay {
  return (reservationId, paymentToken, idempotencyKey, cb) => {
    const res = api.pay(cfg, token, reservationId, paymentToken, idempotencyKey);
    cb(res.status === 200 ? json<{ status?: OrderStatus }>(res)?.status : undefined);
  };
}
