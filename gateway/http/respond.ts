import type { HttpResponse } from "uWebSockets.js";

/** A response whose client may go away at any moment (uWS: touching it after abort throws). */
export interface GuardedResponse {
  readonly res: HttpResponse;
  aborted: boolean;
  /** The status sent, once a response was written. */
  status?: number;
}

/** Registers the abort handler every uWS HTTP handler must have, before anything async. */
export function guard(res: HttpResponse, onAbort?: () => void): GuardedResponse {
  const g: GuardedResponse = { res, aborted: false };
  res.onAborted(() => {
    g.aborted = true;
    onAbort?.();
  });
  return g;
}

const STATUS_TEXT: Record<number, string> = {
  200: "200 OK",
  201: "201 Created",
  400: "400 Bad Request",
  401: "401 Unauthorized",
  403: "403 Forbidden",
  404: "404 Not Found",
  405: "405 Method Not Allowed",
  409: "409 Conflict",
  413: "413 Payload Too Large",
  415: "415 Unsupported Media Type",
  422: "422 Unprocessable Entity",
  429: "429 Too Many Requests",
  500: "500 Internal Server Error",
  503: "503 Service Unavailable",
};

/**
 * Writes a complete response, corked (required when called from an async callback), unless
 * the client already went away.
 */
export function send(
  g: GuardedResponse,
  status: number,
  body: string,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  if (g.aborted) return;
  g.res.cork(() => {
    g.res.writeStatus(STATUS_TEXT[status] ?? `${status} Status`);
    g.res.writeHeader("Content-Type", contentType);
    g.res.writeHeader("Cache-Control", "no-store");
    g.res.writeHeader("X-Content-Type-Options", "nosniff");
    for (const [name, value] of Object.entries(headers)) g.res.writeHeader(name, value);
    g.res.end(body);
  });
  g.status = status;
  g.aborted = true; // the response is finished: nothing may touch it again
}

export function sendJson(
  g: GuardedResponse,
  status: number,
  value: unknown,
  headers?: Record<string, string>,
): void {
  send(g, status, JSON.stringify(value), "application/json; charset=utf-8", headers);
}

/** Error bodies are `{"error":{"code","message"}}` everywhere (HTTP, CLI --json). */
export function sendError(
  g: GuardedResponse,
  status: number,
  code: string,
  message: string,
  details?: Record<string, unknown>,
): void {
  const headers = status === 503 ? { "Retry-After": "1" } : undefined;
  sendJson(g, status, { error: details ? { code, message, details } : { code, message } }, headers);
}
