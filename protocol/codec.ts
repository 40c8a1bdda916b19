import type { z } from "zod";
import { CLIENT_FRAME_TYPES, type ClientFrame, clientFrameSchema } from "./client-frames.ts";
import { WireErrorCode } from "./codes.ts";
import { reqIdSchema } from "./fields.ts";
import { type ServerFrame, serverFrameSchema } from "./server-frames.ts";

/**
 * Frame decoding for both ends. decode* never throws: every bad input becomes a code the gateway
 * sends back in an error frame. Decode synchronously inside the uWS message handler: its
 * ArrayBuffer is gone once the handler returns or awaits.
 */

export type DecodeFailure = {
  readonly ok: false;
  readonly code: WireErrorCode;
  readonly message: string;
  /** The frame's reqId (or a chat frame's clientMsgId) when it had a valid one, to echo back. */
  readonly reqId?: string;
};
export type DecodeResult<F> = { readonly ok: true; readonly frame: F } | DecodeFailure;

/** Incoming WebSocket data: text, or binary from uWS (ArrayBuffer) or `ws` (Buffer). */
export type FrameData = string | ArrayBuffer | Uint8Array;

const MAX_DETAIL_CHARS = 160;
const utf8 = new TextDecoder("utf-8", { fatal: true });

export function decodeClientFrame(data: FrameData, maxBytes: number): DecodeResult<ClientFrame> {
  const json = readJsonObject(data, maxBytes);
  if (!json.ok) return json;
  const raw = json.value;
  const t = raw.t;
  const reqId = echoableReqId(raw);
  const withReqId = reqId === undefined ? {} : { reqId };
  if (typeof t !== "string") {
    return {
      ok: false,
      code: WireErrorCode.INVALID_FRAME,
      message: "t: expected a frame type",
      ...withReqId,
    };
  }
  if (!CLIENT_FRAME_TYPES.has(t)) {
    const known = [...CLIENT_FRAME_TYPES].join(", ");
    return {
      ok: false,
      code: WireErrorCode.UNKNOWN_TYPE,
      message: `unknown frame type; expected one of ${known}`,
      ...withReqId,
    };
  }
  const parsed = clientFrameSchema.safeParse(raw);
  if (parsed.success) return { ok: true, frame: parsed.data };
  const issue = parsed.error.issues[0];
  const code =
    t === "chat" && issue && isChatTooLong(issue) ? WireErrorCode.CHAT_TOO_LONG : WireErrorCode.INVALID_FRAME;
  return { ok: false, code, message: describe(issue), ...withReqId };
}

/** For clients and tests: the same checks on what the server sent. */
export function decodeServerFrame(
  data: FrameData,
  maxBytes = Number.POSITIVE_INFINITY,
): DecodeResult<ServerFrame> {
  const json = readJsonObject(data, maxBytes);
  if (!json.ok) return json;
  const parsed = serverFrameSchema.safeParse(json.value);
  if (parsed.success) return { ok: true, frame: parsed.data };
  const issue = parsed.error.issues[0];
  const unknownType = issue?.code === "invalid_union" && issue.path.length === 1 && issue.path[0] === "t";
  return {
    ok: false,
    code: unknownType ? WireErrorCode.UNKNOWN_TYPE : WireErrorCode.INVALID_FRAME,
    message: describe(issue),
  };
}

/** One JSON text per frame; the gateway serializes a fan-out frame once for every socket. */
export function encodeServerFrame(frame: ServerFrame): string {
  return JSON.stringify(frame);
}

type JsonObject = Record<string, unknown>;

function readJsonObject(data: FrameData, maxBytes: number): { ok: true; value: JsonObject } | DecodeFailure {
  let text: string;
  if (typeof data === "string") {
    if (utf8ByteLength(data, maxBytes) > maxBytes) return tooLarge(maxBytes);
    text = data;
  } else {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    if (bytes.byteLength > maxBytes) return tooLarge(maxBytes);
    try {
      text = utf8.decode(bytes);
    } catch {
      return { ok: false, code: WireErrorCode.BAD_FRAME, message: "binary frame is not UTF-8 text" };
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: WireErrorCode.BAD_FRAME, message: "frame is not valid JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, code: WireErrorCode.BAD_FRAME, message: "frame must be a JSON object" };
  }
  return { ok: true, value: value as JsonObject };
}

function tooLarge(maxBytes: number): DecodeFailure {
  return { ok: false, code: WireErrorCode.FRAME_TOO_LARGE, message: `frame is over ${maxBytes} bytes` };
}

/** UTF-8 size of a string, counting only until it passes `limit` (no copy of the text). */
function utf8ByteLength(s: string, limit: number): number {
  if (s.length > limit) return s.length; // every UTF-16 unit is at least one byte
  let bytes = 0;
  for (let i = 0; i < s.length && bytes <= limit; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3; // BMP, or a lone surrogate (encoded as U+FFFD)
  }
  return bytes;
}

function echoableReqId(raw: JsonObject): string | undefined {
  const candidate = raw.t === "chat" ? raw.clientMsgId : raw.reqId;
  return reqIdSchema.safeParse(candidate).success ? (candidate as string) : undefined;
}

function isChatTooLong(issue: z.core.$ZodIssue): boolean {
  if (issue.path[0] !== "text") return false;
  return issue.code === "too_big" || (issue.code === "custom" && issue.params?.chatTooLong === true);
}

/** `field.path: problem`, short, and never a long echo of what the client sent. */
function describe(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return "invalid frame";
  const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
  const text = `${where}${issue.message}`;
  return text.length > MAX_DETAIL_CHARS ? `${text.slice(0, MAX_DETAIL_CHARS - 1)}…` : text;
}
