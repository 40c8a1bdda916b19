import type { RedisClient } from "../../core/index.ts";
import { sandboxLedgerKey } from "../keys.ts";

export type LedgerBook = "captures" | "refunds";

/**
 * Where the sandbox provider keeps what it answered, as a real provider keeps it on its side.
 * Entries are written once: `putIfAbsent` returns the entry already there, so a retried call
 * gets the first answer.
 */
export interface SandboxLedger {
  putIfAbsent(book: LedgerBook, key: string, value: string): Promise<string>;
  get(book: LedgerBook, key: string): Promise<string | undefined>;
  entries(book: LedgerBook): Promise<Map<string, string>>;
}

/** In process memory: forgotten when the process ends (single-process development only). */
export function memoryLedger(): SandboxLedger {
  const books: Record<LedgerBook, Map<string, string>> = { captures: new Map(), refunds: new Map() };
  return {
    async putIfAbsent(book, key, value) {
      const known = books[book].get(key);
      if (known !== undefined) return known;
      books[book].set(key, value);
      return value;
    },
    async get(book, key) {
      return books[book].get(key);
    },
    async entries(book) {
      return new Map(books[book]);
    },
  };
}

/**
 * In Redis hashes `<prefix>:sandbox:<book>`: survives a crash of any process of the stack, and
 * every process (gateway checkout, worker's payment reconciler) sees the same captures.
 */
export function redisLedger(redis: RedisClient, keyPrefix: string): SandboxLedger {
  const hash = (book: LedgerBook) => sandboxLedgerKey(keyPrefix, book);
  return {
    async putIfAbsent(book, key, value) {
      if ((await redis.hsetnx(hash(book), key, value)) === 1) return value;
      const known = await redis.hget(hash(book), key);
      if (known === null) throw new Error(`sandbox ledger entry ${key} vanished`);
      return known;
    },
    async get(book, key) {
      return (await redis.hget(hash(book), key)) ?? undefined;
    },
    async entries(book) {
      return new Map(Object.entries(await redis.hgetall(hash(book))));
    },
  };
}
