import type { OrderStatus } from "../lib/frames.ts";
import type { Sink } from "../lib/session.ts";

/**
 * The gateway's JSON API over fetch, measured like k6 measures HTTP: `http_req_duration` tagged
 * with the step, `http_req_failed` for any status of 400 or more. A 429 (the per-address limit)
 * is waited out and retried, as the k6 scripts do.
 */

export interface DropStatusView {
  readonly dropId: string;
  readonly roomId: string;
  readonly state: string;
  readonly startsAt: number;
  readonly available: number;
  readonly held: number;
  readonly sold: number;
  readonly initial: number;
  readonly restocked: number;
}

/** The part of an auction's status (protocol/auction.ts auctionStatusSchema) the driver reads. */
export interface AuctionStatusView {
  readonly dropId: string;
  readonly state: "scheduled" | "live" | "closed" | "settled";
  readonly endsAt: number;
  readonly priceMinor: number;
  readonly bids: number;
  readonly reserveMet: boolean | null;
  readonly reservationId: string | null;
}

export interface ApiAnswer<T> {
  readonly status: number;
  readonly body: T | undefined;
  /** `error.code` of a refusal, else `HTTP_<status>`. */
  readonly code: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${code}`);
  }
}

type Method = "GET" | "POST" | "PUT";

export class Api {
  constructor(
    readonly baseUrl: string,
    private readonly sink: Sink,
  ) {}

  async call<T>(
    method: Method,
    path: string,
    step: string,
    token?: string,
    body?: unknown,
  ): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      let status = 0;
      let text = "";
      try {
        const res = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(30_000),
        });
        status = res.status;
        text = await res.text();
      } catch {
        status = 0;
      }
      if (status === 429 && attempt < 8) {
        this.sink.count("http_rate_limited", 1, { step });
        await new Promise((r) => setTimeout(r, 250 * 2 ** Math.min(attempt, 4)));
        continue;
      }
      this.sink.trend("http_req_duration", performance.now() - started, { step });
      this.sink.rate("http_req_failed", status === 0 || status >= 400, { step });
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      const code = (parsed as { error?: { code?: string } } | undefined)?.error?.code ?? `HTTP_${status}`;
      return { status, body: parsed as T | undefined, code };
    }
  }

  /** Like call(), but anything but 2xx throws. */
  async must<T>(method: Method, path: string, step: string, token?: string, body?: unknown): Promise<T> {
    const a = await this.call<T>(method, path, step, token, body);
    if (a.status < 200 || a.status >= 300 || a.body === undefined)
      throw new ApiError(a.status, a.code, `${method} ${path}`);
    return a.body;
  }

  readyz() {
    return this.call<{ status: string }>("GET", "/readyz", "health");
  }
  guestToken() {
    return this.call<{ token: string; userId: string }>(
      "POST",
      "/api/v1/tokens/guest",
      "token",
      undefined,
      {},
    );
  }
  createDrop(room: string, hostToken: string, body: unknown) {
    return this.must<{ created: boolean; drop: DropStatusView }>(
      "POST",
      `/api/v1/rooms/${room}/drops`,
      "host",
      hostToken,
      body,
    );
  }
  hostAction(hostToken: string, dropId: string, action: string, body: unknown = {}) {
    return this.call<DropStatusView>("POST", `/api/v1/drops/${dropId}/${action}`, "host", hostToken, body);
  }
  /** A shadow token reads the shadow lane (without one, a shadow drop is not found). */
  drop(dropId: string, step = "browse", token?: string) {
    return this.call<DropStatusView>("GET", `/api/v1/drops/${dropId}`, step, token);
  }
  /** One page of the drop's orders; `next` is the `after` of the following page (null: the last). */
  dropOrders(token: string, dropId: string, after?: string) {
    const query = after === undefined ? "" : `?after=${encodeURIComponent(after)}`;
    return this.call<{
      orders: { reservationId: string; status: OrderStatus; qty?: number }[];
      next?: string | null;
      truncated?: boolean;
    }>("GET", `/api/v1/drops/${dropId}/orders${query}`, "audit", token);
  }
  order(token: string, reservationId: string, step = "verify") {
    return this.call<{ order: { reservationId: string; status: OrderStatus } }>(
      "GET",
      `/api/v1/orders/${reservationId}`,
      step,
      token,
    );
  }
  pay(token: string, reservationId: string, paymentToken: string, idempotencyKey: string) {
    return this.call<{ status: OrderStatus }>("POST", `/api/v1/orders/${reservationId}/pay`, "pay", token, {
      token: paymentToken,
      idempotencyKey,
    });
  }
  openAuction(room: string, hostToken: string, body: unknown) {
    return this.must<{ opened: boolean; auction: AuctionStatusView }>(
      "POST",
      `/api/v1/rooms/${room}/auctions`,
      "host",
      hostToken,
      body,
    );
  }
  /** The auction's status and its newest `limit` bids (users masked). */
  auction(dropId: string, token: string, limit = 100) {
    return this.call<{ auction: AuctionStatusView; history: { at: number; priceMinor: number }[] }>(
      "GET",
      `/api/v1/drops/${dropId}/auction?limit=${limit}`,
      "audit",
      token,
    );
  }
  shadowTokens(adminToken: string, role: "viewer" | "host", count: number, rooms: string[] = []) {
    return this.call<{ tokens: string[] }>("POST", "/api/v1/admin/shadow/tokens", "token", adminToken, {
      role,
      count,
      ...(rooms.length ? { rooms } : {}),
      ttlSeconds: 6 * 3600,
    });
  }
  shadowState(adminToken: string) {
    return this.call<{ enabled: boolean }>("GET", "/api/v1/admin/shadow", "admin", adminToken);
  }
  setShadow(adminToken: string, enabled: boolean) {
    return this.call<{ enabled: boolean }>("PUT", "/api/v1/admin/shadow", "admin", adminToken, { enabled });
  }
}
