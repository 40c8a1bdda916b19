import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLivedropError, type RedisClient } from "../../core/index.ts";
import { SaleEngine } from "../../sale-engine/index.ts";
import { startPrivateRedis, startPrivateRedisCluster, uniquePrefix } from "../harness/redis.ts";
import { dropDefinition, key } from "./fixtures.ts";

type Answer =
  | { ok: true; reservationId: string; deadline: number; available: number; replayed: boolean }
  | { ok: false; code: string; replayed: boolean };

interface Backend {
  readonly name: string;
  start(): Promise<{ client(): RedisClient; stop(): Promise<void> }>;
}

const backends: Backend[] = [
  { name: "a single Redis", start: () => startPrivateRedis() },
  { name: "a 3-master Redis Cluster", start: () => startPrivateRedisCluster() },
];

const CONNECTIONS = 20;
const BUYERS = 2_000;
const UNITS = 100;
const LIMIT = 2;

describe.each(backends)("reserve() race on $name", (backend) => {
  let stop: () => Promise<void>;
  let engines: SaleEngine[];

  beforeAll(async () => {
    const server = await backend.start();
    stop = () => server.stop();
    const prefix = uniquePrefix("race");
    engines = await Promise.all(
      Array.from({ length: CONNECTIONS }, () => SaleEngine.create({ redis: server.client(), prefix })),
    );
  });
  afterAll(async () => {
    for (const e of engines ?? []) await e.close();
    await stop?.();
  });

  it(`${BUYERS} concurrent buyers over ${CONNECTIONS} connections hold exactly ${UNITS} units; every retry of a hold gets that hold`, async () => {
    const def = dropDefinition({ initialStock: UNITS, perUserLimit: LIMIT, holdMs: 600_000 });
    await engines[0]!.createDrop(def);
    // Deterministic pseudo-randomness so a failure can be replayed.
    let seed = 42;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const plan = Array.from({ length: BUYERS }, (_, i) => ({
      userId: `buyer-${i % 1_500}`, // some users buy twice, so the per-user limit is contested too
      qty: rand() < 0.5 ? 1 : 2,
      idempotencyKey: key(),
      retries: Math.floor(rand() * 3),
      engine: engines[i % CONNECTIONS]!,
    }));

    const answers = new Map<string, Answer[]>();
    const attempt = async (p: (typeof plan)[number]) => {
      let answer: Answer;
      try {
        const r = await p.engine.reserve({
          dropId: def.dropId,
          userId: p.userId,
          qty: p.qty,
          idempotencyKey: p.idempotencyKey,
        });
        answer = {
          ok: true,
          reservationId: r.reservationId,
          deadline: r.deadline,
          available: r.available,
          replayed: r.replayed,
        };
      } catch (err) {
        if (!isLivedropError(err)) throw err;
        answer = { ok: false, code: err.code, replayed: err.details?.replayed === true };
      }
      const list = answers.get(p.idempotencyKey) ?? [];
      list.push(answer);
      answers.set(p.idempotencyKey, list);
    };
    // First attempts and their retries all race at once; some retries overlap the original.
    await Promise.all(
      plan.flatMap((p) => [
        attempt(p),
        ...Array.from({ length: p.retries }, () =>
          new Promise((r) => setTimeout(r, rand() * 5)).then(() => attempt(p)),
        ),
      ]),
    );

    const firsts: Answer[] = [];
    for (const p of plan) {
      const list = answers.get(p.idempotencyKey)!;
      expect(list).toHaveLength(1 + p.retries);
      // A hold is recorded and replayed; a refusal is not (here stock never returns, so a
      // refused key stays refused: never a hold for it later, never two holds for one key).
      const holds = list.filter((a) => a.ok);
      if (holds.length > 0) {
        expect(holds).toHaveLength(list.length);
        const originals = holds.filter((a) => !a.replayed);
        expect(originals).toHaveLength(1);
        for (const a of holds) expect({ ...a, replayed: false }).toEqual(originals[0]);
        firsts.push(originals[0]!);
      } else {
        for (const a of list) expect(a.replayed).toBe(false);
        firsts.push(list[0]!);
      }
    }

    const won = plan.filter((_, i) => firsts[i]!.ok);
    const unitsWon = won.reduce((n, p) => n + p.qty, 0);
    expect(unitsWon).toBe(UNITS);
    const ids = firsts.flatMap((a) => (a.ok ? [a.reservationId] : []));
    expect(new Set(ids).size).toBe(ids.length);
    const codes = new Set(firsts.flatMap((a) => (a.ok ? [] : [a.code])));
    for (const code of codes) expect(["SOLD_OUT", "INSUFFICIENT_STOCK", "LIMIT_EXCEEDED"]).toContain(code);

    const status = await engines[0]!.status(def.dropId);
    expect(status).toMatchObject({ available: 0, held: UNITS, sold: 0, state: "sold_out" });
    const perUser = new Map<string, number>();
    for (const p of won) perUser.set(p.userId, (perUser.get(p.userId) ?? 0) + p.qty);
    for (const [userId, units] of perUser) {
      expect(units).toBeLessThanOrEqual(LIMIT);
      expect(await engines[0]!.unitsOfUser(def.dropId, userId)).toBe(units);
    }

    // Settle every hold concurrently: half paid, half released; the invariant holds after.
    await Promise.all(
      ids.map((id, i) =>
        i % 2 === 0 ? engines[i % CONNECTIONS]!.confirm(id) : engines[i % CONNECTIONS]!.release(id),
      ),
    );
    const settled = await engines[0]!.status(def.dropId);
    expect(settled.held).toBe(0);
    expect(settled.available + settled.sold).toBe(UNITS);
    expect(settled.sold).toBe(won.filter((_, i) => i % 2 === 0).reduce((n, p) => n + p.qty, 0));
  });
});
