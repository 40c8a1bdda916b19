import type { IncomingMessage, ServerResponse } from "node:http";
import { ErrorCode, HttpRefusal, isLivedropError, type Logger, MediaErrorCode } from "../../core/index.ts";

export { HttpRefusal };

/** HTTP status of each typed error code the media tier raises. */
const STATUS_OF_CODE: Partial<Record<string, number>> = {
  [ErrorCode.INVALID_INPUT]: 400,
  [MediaErrorCode.MEDIA_TRANSPORT_NOT_FOUND]: 404,
  [MediaErrorCode.MEDIA_PRODUCER_NOT_FOUND]: 404,
  [MediaErrorCode.MEDIA_CONSUMER_NOT_FOUND]: 404,
  [MediaErrorCode.MEDIA_ROOM_NOT_LIVE]: 409,
  [MediaErrorCode.MEDIA_CAPABILITIES_REQUIRED]: 409,
  [MediaErrorCode.MEDIA_CANNOT_CONSUME]: 409,
  [MediaErrorCode.MEDIA_WRONG_DIRECTION]: 409,
  [MediaErrorCode.MEDIA_REFUSED]: 409,
  [MediaErrorCode.MEDIA_TRANSPORT_LIMIT]: 429,
  [MediaErrorCode.MEDIA_ROOM_LIMIT]: 429,
  [MediaErrorCode.MEDIA_EVENT_STREAM_LIMIT]: 429,
  [MediaErrorCode.MEDIA_UNAVAILABLE]: 503,
  [ErrorCode.DEPENDENCY_MISSING]: 503,
};

/** Every response of the media server is readable cross-origin: auth is a header, never a cookie. */
export const CORS_HEADERS = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Expose-Headers": "Content-Type",
} as const;

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify(value);
  res.writeHead(status, {
    ...CORS_HEADERS,
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
  });
  res.end(body);
}

/** Error bodies are `{"error":{"code","message"}}`, as on the gateway. */
export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

/** Maps anything a handler threw to a response; unexpected errors are a logged 500. */
export function sendFailure(res: ServerResponse, err: unknown, log: Logger, route: string): number {
  if (err instanceof HttpRefusal) {
    sendError(res, err.status, err.code, err.message);
    return err.status;
  }
  const status = isLivedropError(err) ? STATUS_OF_CODE[err.code] : undefined;
  if (isLivedropError(err) && status) {
    sendError(res, status, err.code, err.message);
    return status;
  }
  log.error({ err, route }, "media handler failed");
  sendError(res, 500, ErrorCode.INTERNAL, "internal error");
  return 500;
}

/**
 * Reads a JSON body of at most `maxBytes`. An empty body is `undefined` (routes without one do
 * not need a content type); a larger body is refused as soon as it passes the limit.
 */
export function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > maxBytes) {
      reject(new HttpRefusal(413, "BODY_TOO_LARGE", `the body is larger than ${maxBytes} bytes`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on("data", (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > maxBytes) {
        refused = true;
        reject(new HttpRefusal(413, "BODY_TOO_LARGE", `the body is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on("error", reject);
    req.on("end", () => {
      if (refused) return;
      if (size === 0) return resolve(undefined);
      if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) {
        return reject(new HttpRefusal(415, "UNSUPPORTED_MEDIA_TYPE", "send the body as application/json"));
      }
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        reject(new HttpRefusal(400, "BAD_JSON", "the body is not valid JSON"));
      }
    });
  });
}
