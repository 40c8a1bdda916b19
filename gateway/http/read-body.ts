import type { GuardedResponse } from "./respond.ts";

export class BodyError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    readonly code: "BAD_JSON" | "BODY_TOO_LARGE" | "UNSUPPORTED_MEDIA_TYPE",
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads a JSON request body of at most `maxBytes`. uWS hands out chunks whose ArrayBuffer dies
 * when the callback returns, so each chunk is copied. Rejects (never throws synchronously) with
 * a BodyError for oversize or invalid JSON; never settles if the client aborts (the guard knows).
 */
export function readJsonBody(g: GuardedResponse, contentType: string, maxBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (!/^application\/json\b/i.test(contentType)) {
      // Still drain nothing: uWS ignores unread bodies once we respond.
      reject(new BodyError(415, "UNSUPPORTED_MEDIA_TYPE", "send the body as application/json"));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    g.res.onData((chunk, isLast) => {
      if (done) return;
      size += chunk.byteLength;
      if (size > maxBytes) {
        done = true;
        reject(new BodyError(413, "BODY_TOO_LARGE", `the body is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (!isLast) return;
      done = true;
      try {
        resolve(size === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        reject(new BodyError(400, "BAD_JSON", "the body is not valid JSON"));
      }
    });
  });
}
