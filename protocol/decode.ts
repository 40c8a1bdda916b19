import type { z } from "zod";

/** What a decoder of a cross-process entry answers: never throws, a bad entry is a reason. */
export type Decoded<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string };

/** The first issue, with its path: enough to log which field of which entry was wrong. */
export function decodeFailure(error: z.ZodError): { ok: false; error: string } {
  const first = error.issues[0];
  return { ok: false, error: first ? `${first.path.join(".") || "entry"}: ${first.message}` : "invalid" };
}

/** Parses JSON text and checks it against `schema`. */
export function decodeJson<S extends z.ZodType>(schema: S, text: string): Decoded<z.output<S>> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: "not JSON" };
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? { ok: true, value: parsed.data } : decodeFailure(parsed.error);
}
