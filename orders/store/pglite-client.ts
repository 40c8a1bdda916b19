import { mkdirSync } from "node:fs";
import type { PGlite, Transaction } from "@electric-sql/pglite";
import { lockDataDir } from "./data-dir-lock.ts";
import { initialiseDataDir } from "./pglite-initdb.ts";
import type { SqlClient } from "./sql-client.ts";

/**
 * SqlClient over an embedded PGlite database kept in `dataDir`. PGlite is one connection:
 * its `query`, `exec` and `transaction` share one lock, so transactions run one at a time and
 * a plain query waits for a running transaction. That makes SELECT ... FOR UPDATE trivially
 * race-free here; the store's SQL is written to be race-safe on PostgreSQL as well.
 * Only one process may open a data directory at a time.
 */
export class PgliteClient implements SqlClient {
  private readonly db: PGlite;
  private readonly unlock: () => void;
  private closing: Promise<void> | undefined;

  private constructor(db: PGlite, unlock: () => void) {
    this.db = db;
    this.unlock = unlock;
  }

  /** Opens (or, the first time, initialises: several seconds) the database in `dataDir`. */
  static async open(dataDir: string, sharedBuffersMB = 16): Promise<PgliteClient> {
    mkdirSync(dataDir, { recursive: true });
    const unlock = lockDataDir(dataDir, "order store");
    try {
      await initialiseDataDir(dataDir);
      // Loaded on first use: a process whose orders live in PostgreSQL never pays for the WASM build.
      const { PGlite } = await import("@electric-sql/pglite");
      const startParams = [...PGlite.defaultStartParams, "-c", `shared_buffers=${sharedBuffersMB}MB`];
      return new PgliteClient(await PGlite.create({ dataDir, startParams }), unlock);
    } catch (err) {
      unlock();
      throw err;
    }
  }

  async query<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = await this.db.query<T>(text, [...params]);
    return result.rows;
  }

  async exec(script: string): Promise<void> {
    await this.db.exec(script);
  }

  transaction<R>(fn: (tx: SqlClient) => Promise<R>): Promise<R> {
    return this.db.transaction((tx) => fn(new PgliteTransaction(tx)));
  }

  close(): Promise<void> {
    // PGlite throws on a second close(); remember the first.
    this.closing ??= this.db.close().finally(this.unlock);
    return this.closing;
  }
}

class PgliteTransaction implements SqlClient {
  constructor(private readonly tx: Transaction) {}

  async query<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = await this.tx.query<T>(text, [...params]);
    return result.rows;
  }

  async exec(script: string): Promise<void> {
    await this.tx.exec(script);
  }

  transaction<R>(fn: (tx: SqlClient) => Promise<R>): Promise<R> {
    return fn(this);
  }

  async close(): Promise<void> {
    // The owning PgliteClient ends the transaction.
  }
}
