import pg from "pg";
import { childLogger } from "../../core/index.ts";
import type { SqlClient } from "./sql-client.ts";

export interface PgClientOptions {
  /** Pool size. Default 10. */
  readonly max?: number;
  /** How long a query waits for a free connection before failing, ms. Default 30000. */
  readonly connectionTimeoutMillis?: number;
  /**
   * Every connection works in this schema (search_path), created if missing: one database can
   * hold the live order tables and, apart, the shadow (load-test) ones.
   */
  readonly schema?: string | undefined;
}

/**
 * SqlClient over a `pg.Pool`. Values are left as pg parses them (int8 and numeric are strings,
 * timestamptz a Date, jsonb an object): the store converts where it maps rows, so no global pg
 * type parser is changed for other users of the library in this process.
 */
export class PgClient implements SqlClient {
  private readonly pool: pg.Pool;
  private closing: Promise<void> | undefined;

  private constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  static async open(url: string, options: PgClientOptions = {}): Promise<PgClient> {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.max ?? 20,
      connectionTimeoutMillis: options.connectionTimeoutMillis ?? 30_000,
      // The schema name is validated by the store (a lower-case SQL identifier).
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    // An idle connection that dies (server restart) emits here; without a listener it would
    // crash the process. The next query gets a fresh connection.
    pool.on("error", (err) => childLogger("order-store").warn({ err }, "idle PostgreSQL connection failed"));
    if (options.schema) {
      try {
        await pool.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
      } catch (err) {
        // Two processes creating it at once: one of them loses the race, the schema is there.
        if ((err as { code?: string }).code !== "23505") throw err;
      }
    }
    return new PgClient(pool);
  }

  async query<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = await this.pool.query(text, [...params]);
    return result.rows as T[];
  }

  async exec(script: string): Promise<void> {
    // Without parameters pg uses the simple protocol, which accepts several statements.
    await this.pool.query(script);
  }

  async transaction<R>(fn: (tx: SqlClient) => Promise<R>): Promise<R> {
    const conn = await this.pool.connect();
    let broken: Error | undefined;
    // The pool listens on idle connections only: a server restart that ends this one between two
    // of its queries would emit an unheard 'error' and crash the process. The next query fails
    // instead, and the connection is dropped on release.
    const onError = (err: Error) => {
      broken = err;
    };
    conn.on("error", onError);
    try {
      await conn.query("BEGIN");
      try {
        const result = await fn(new PgTransaction(conn));
        await conn.query("COMMIT");
        return result;
      } catch (err) {
        try {
          await conn.query("ROLLBACK");
        } catch (rollbackErr) {
          // The connection is in an unknown state: drop it instead of returning it to the pool.
          broken = rollbackErr as Error;
        }
        throw err;
      }
    } finally {
      conn.removeListener("error", onError);
      conn.release(broken);
    }
  }

  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }
}

/** The view of one pooled connection inside BEGIN/COMMIT. */
class PgTransaction implements SqlClient {
  constructor(private readonly conn: pg.PoolClient) {}

  async query<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = await this.conn.query(text, [...params]);
    return result.rows as T[];
  }

  async exec(script: string): Promise<void> {
    await this.conn.query(script);
  }

  transaction<R>(fn: (tx: SqlClient) => Promise<R>): Promise<R> {
    return fn(this);
  }

  async close(): Promise<void> {
    // The owning PgClient releases the connection when the transaction ends.
  }
}
