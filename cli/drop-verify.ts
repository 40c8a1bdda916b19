import { ErrorCode, SetupError } from "../core/index.ts";
import { drawResponseSchema, errorBodySchema } from "../protocol/index.ts";
import { type SaleEngine, verifyDraw } from "../sale-engine/index.ts";
import { ExitCode } from "./output.ts";

/** A published draw as a verifier reads it: from a gateway's public endpoint or from Redis. */
interface Published {
  readonly dropId: string;
  readonly seed: string;
  readonly seedHash: string;
  readonly stock: number;
  readonly perUserLimit: number;
  readonly entries: readonly {
    entry: string;
    user: string;
    qty: number;
    granted: number;
    position: number;
  }[];
}

/** Why there is nothing to verify yet (no draw, entries open): printed as an error line, exit 2. */
type Unavailable = { readonly code: string; readonly message: string };

/** GET BASE/api/v1/drops/ID/draw; the server's own `verified` is ignored: the point is not to trust it. */
async function fromGateway(base: string, dropId: string): Promise<Published | Unavailable> {
  const url = `${base.replace(/\/+$/, "")}/api/v1/drops/${encodeURIComponent(dropId)}/draw`;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new SetupError(ErrorCode.DEPENDENCY_MISSING, `could not reach ${url}: ${(err as Error).message}`);
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const refusal = errorBodySchema.safeParse(body);
    return refusal.success
      ? refusal.data.error
      : { code: "INTERNAL", message: `${url} answered ${res.status}` };
  }
  const draw = drawResponseSchema.safeParse(body);
  if (!draw.success || draw.data.seed === null)
    return { code: "INTERNAL", message: `${url} did not answer a published draw` };
  return { ...draw.data, seed: draw.data.seed };
}

/** The same draw read straight from the sale engine's Redis. */
async function fromEngine(engine: SaleEngine, dropId: string): Promise<Published | Unavailable> {
  const status = await engine.status(dropId);
  if (!status.fair) return { code: "DROP_NOT_FOUND", message: `drop ${dropId} has no draw` };
  const draw = await engine.fairDraw(dropId);
  if (!draw) return { code: "DRAW_OPEN", message: "the draw is published when its entries close" };
  return {
    dropId,
    seed: draw.seed,
    seedHash: status.fair.seedHash,
    stock: draw.stock,
    perUserLimit: draw.perUserLimit,
    entries: draw.results.map((r, i) => ({
      entry: r.entryId,
      user: r.user,
      qty: r.qty,
      granted: r.granted,
      position: i + 1,
    })),
  };
}

/**
 * `livedrop drop verify ID [--url BASE]`: recomputes the allocation from the revealed seed and the
 * entries (sale-engine/draw.ts) and compares it with what was recorded. Prints one JSON line;
 * exit 0 when it matches, 1 when it does not, 2 when there is no draw to check (yet).
 */
export async function verifyDropDraw(
  dropId: string,
  source: { url: string } | { engine: SaleEngine },
): Promise<number> {
  const published =
    "url" in source ? await fromGateway(source.url, dropId) : await fromEngine(source.engine, dropId);
  if (!("seed" in published)) {
    process.stdout.write(`${JSON.stringify({ error: published })}\n`);
    return ExitCode.refused;
  }
  const order = [...published.entries].sort((a, b) => a.position - b.position);
  const verdict = verifyDraw(
    published.seed,
    published.seedHash,
    {
      stock: published.stock,
      perUserLimit: published.perUserLimit,
      entries: order.map((e) => ({ entryId: e.entry, user: e.user, qty: e.qty })),
    },
    order.map((e) => ({ entryId: e.entry, granted: e.granted })),
  );
  const line = {
    dropId,
    verified: verdict.ok,
    ...(verdict.ok ? {} : { reason: verdict.reason }),
    entries: order.length,
    winners: order.filter((e) => e.granted > 0).length,
    units: order.reduce((n, e) => n + e.granted, 0),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  return verdict.ok ? ExitCode.ok : ExitCode.failure;
}
