/**
 * The one database boundary of the order store, implemented over `pg` (PostgreSQL, production)
 * and PGlite (embedded). Both speak the same SQL; the store never sees which one it has.
 *
 * Guarantees asked of every implementation:
 * - `query` runs one statement with `$1..$n` parameters and returns its rows as objects.
 *   Column values come back as the driver gives them: int8 and numeric may be strings (pg) or
 *   numbers (PGlite), so callers convert with Number() where they map rows.
 * - `transaction` runs `fn` inside BEGIN/COMMIT on one connection; the transaction rolls back
 *   and the error is rethrown when `fn` throws. Inside `fn` use only `tx`: calling the outer
 *   client there can deadlock (PGlite) or run outside the transaction (pg). `tx.transaction`
 *   joins the running transaction rather than nesting.
 * - `exec` runs a script of several statements without parameters (migrations).
 * - `close` is safe to call twice.
 */
export interface SqlClient {
  query<T>(text: string, params?: readonly unknown[]): Promise<T[]>;
  transaction<R>(fn: (tx: SqlClient) => Promise<R>): Promise<R>;
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}

/** SQLSTATE of a database error from either driver, if it carries one. */
export function sqlState(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null || !("code" in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}
