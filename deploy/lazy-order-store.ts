import { OrderStore, type StoreTarget } from "../orders/index.ts";

/**
 * An order store that opens on its first call. The shadow lane's store is an embedded PGlite
 * (~200 MB of memory) that most runs never touch: it opens when a load test first orders.
 * Every method of OrderStore is forwarded (read off its prototype, so new ones are too); an
 * open that fails is retried by the next call. `close()` closes it if it was opened.
 */
export function lazyOrderStore(target: StoreTarget): OrderStore & { readonly opened: boolean } {
  let opening: Promise<OrderStore> | undefined;
  let closed = false;
  let store: OrderStore | undefined;
  const open = (): Promise<OrderStore> => {
    if (closed) return Promise.reject(new Error("order store is closed"));
    opening ??= OrderStore.open(target).then(
      (s) => {
        store = s;
        return s;
      },
      (err: unknown) => {
        opening = undefined;
        throw err;
      },
    );
    return opening;
  };
  const lazy: Record<string, unknown> = {};
  for (const name of Object.getOwnPropertyNames(OrderStore.prototype)) {
    if (name === "constructor" || name === "close") continue;
    lazy[name] = async (...args: unknown[]) => {
      const s = (await open()) as unknown as Record<string, (...a: unknown[]) => unknown>;
      return s[name]?.(...args);
    };
  }
  Object.defineProperties(lazy, {
    kind: { value: target.kind, enumerable: true },
    appliedMigrations: { get: () => store?.appliedMigrations ?? [], enumerable: true },
    opened: { get: () => store !== undefined, enumerable: true },
  });
  lazy.close = async () => {
    closed = true;
    const s = await opening?.catch(() => undefined);
    await s?.close();
  };
  // The forwarding object has every public member of OrderStore (its private fields stay inside
  // the real store, which TypeScript's nominal check on classes with private members cannot see).
  return lazy as unknown as OrderStore & { readonly opened: boolean };
}
