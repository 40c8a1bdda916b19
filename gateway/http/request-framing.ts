import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import type { HandlerContext } from "./handler.ts";

/**
 * Why a request's body framing is ambiguous, or undefined when it is not. uWS frames a body by
 * the first Content-Length it sees; a proxy in front may take another one, and the bytes left
 * over would then be read as a second, smuggled request. So differing duplicate lengths, a
 * length that is not a plain number, and a length next to Transfer-Encoding are refused.
 */
export function framingProblem(req: HttpRequest): string | undefined {
  let length: string | undefined;
  let chunked = false;
  let problem: string | undefined;
  req.forEach((name, value) => {
    if (name === "transfer-encoding") chunked = true;
    if (name !== "content-length") return;
    const v = value.trim();
    if (!/^\d{1,15}$/.test(v)) problem = "Content-Length is not a number";
    else if (length !== undefined && length !== v) problem = "differing Content-Length headers";
    length = v;
  });
  if (!problem && chunked && length !== undefined) problem = "Content-Length together with Transfer-Encoding";
  return problem;
}

/**
 * Closes the connection of a request with ambiguous framing, at once and without an answer:
 * uWS parses every byte already received on a connection, so after any answer the bytes past
 * the first length would still be served as a request of their own. Counted in the HTTP metrics
 * as status "framing".
 */
export function dropConnection(res: HttpResponse, ctx: HandlerContext, route: string): void {
  ctx.metrics.httpRequests.inc({ route, status: "framing" });
  res.close();
}

/** For handlers outside the API router (health, metrics, static files, the 404 catch-all). */
export function refusedForFraming(
  req: HttpRequest,
  res: HttpResponse,
  ctx: HandlerContext,
  route: string,
): boolean {
  if (!framingProblem(req)) return false;
  dropConnection(res, ctx, route);
  return true;
}
