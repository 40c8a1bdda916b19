import type { z } from "zod";
import { ValidationError } from "./errors.ts";

/**
 * Parses `value` with `schema` or throws a ValidationError naming every problem, so bad input
 * never reaches Redis or the database.
 */
export function validate<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) =>
    i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message,
  );
  throw new ValidationError(`invalid ${what}: ${problems.join("; ")}`, { problems });
}
