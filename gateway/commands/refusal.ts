import { HttpRefusal } from "../../core/index.ts";

/** The HTTP status each access refusal maps to; the codes are the WebSocket codes too. */
const STATUS = {
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  SHADOW_DISABLED: 403,
  NOT_IN_ROOM: 409,
} as const;
export type RefusalCode = keyof typeof STATUS;

/**
 * The caller may not do this (no token, wrong role or room, switched-off lane, not in the room).
 * Raised by the one access rule every command and route passes; each transport renders it (an
 * HTTP status with `{error}`, a refused ack or an error frame).
 */
export class AccessRefusal extends HttpRefusal {
  constructor(
    override readonly code: RefusalCode,
    message: string,
  ) {
    super(STATUS[code], code, message);
  }
}
