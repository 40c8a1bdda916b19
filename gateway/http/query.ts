import type { z } from "zod";
import { validate } from "../../core/index.ts";

/**
 * A route's raw query string as the object `schema` accepts (values arrive as text, so numbers
 * need `z.coerce`); a bad query is a typed INVALID_INPUT naming `what`.
 */
export function parseQuery<S extends z.ZodType>(schema: S, query: string, what: string): z.output<S> {
  return validate(schema, Object.fromEntries(new URLSearchParams(query)), what);
}
