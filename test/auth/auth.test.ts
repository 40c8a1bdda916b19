import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  canHost,
  canModerate,
  ROLES,
  type Role,
  resolveTokenSecret,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  TokenService,
} from "../../auth/index.ts";
import { loadConfig } from "../../core/index.ts";

const SECRET = "test-secret-0123456789-abcdefghijklmnop";
let tokens: TokenService;
let tmp: string;

beforeAll(async () => {
  tokens = await TokenService.create({ secret: SECRET });
  tmp = mkdtempSync(path.join(os.tmpdir(), "livedrop-auth-"));
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const nowS = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const key = new TextEncoder().encode(SECRET);

/** A token signed with the service's secret but built by hand, to reach checks issue() never fails. */
function handMade(payload: Record<string, unknown>, alg = "HS256") {
  return new SignJWT({ role: "viewer", rooms: [], name: "Hand", shadow: false, ...payload })
    .setProtectedHeader({ alg })
    .setSubject("hand-1")
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(nowS() + 60);
}

function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

describe("TokenService issue / verify", () => {
  it.each(ROLES.map((r) => [r]))(
    "a %s token verifies to the claims it was issued with",
    async (role: Role) => {
      const token = await tokens.issue({
        userId: `u-${role}`,
        role,
        rooms: ["room-a", "room-b"],
        ttlSeconds: 600,
      });
      const result = await tokens.verify(token);
      expect(result).toEqual({
        ok: true,
        claims: {
          userId: `u-${role}`,
          role,
          rooms: ["room-a", "room-b"],
          name: `u-${role}`,
          shadow: false,
          exp: expect.any(Number),
        },
      });
      if (result.ok) expect(Math.abs(result.claims.exp - (nowS() + 600))).toBeLessThanOrEqual(2);
    },
  );

  it("keeps the display name and the shadow (load-test) flag", async () => {
    const token = await tokens.issue({
      userId: "lt-1",
      role: "viewer",
      name: "Load 1",
      shadow: true,
      ttlSeconds: 60,
    });
    expect(await tokens.verify(token)).toMatchObject({
      ok: true,
      claims: { name: "Load 1", shadow: true, rooms: [] },
    });
  });

  it("guest tokens are viewers with distinct random ids and a guest name", async () => {
    const guests = await Promise.all(Array.from({ length: 20 }, () => tokens.issueGuest(3600)));
    expect(new Set(guests.map((g) => g.userId)).size).toBe(20);
    for (const guest of guests) {
      expect(guest.userId).toMatch(/^guest-[A-Za-z0-9_-]{12}$/);
      const result = await tokens.verify(guest.token);
      expect(result).toMatchObject({ ok: true, claims: { userId: guest.userId, role: "viewer", rooms: [] } });
      if (result.ok) expect(result.claims.name).toMatch(/^Guest \d{4}$/);
    }
  });

  it("a token with the most rooms and the longest ids stays under 4096 characters and verifies", async () => {
    const rooms = Array.from({ length: 32 }, (_, i) => `${i}`.padStart(64, "r"));
    const token = await tokens.issue({
      userId: "u".repeat(128),
      role: "host",
      rooms,
      name: "n".repeat(64),
      ttlSeconds: 60,
    });
    expect(token.length).toBeLessThanOrEqual(4096);
    expect(await tokens.verify(token)).toMatchObject({ ok: true, claims: { rooms } });
  });

  it("issue() refuses bad input with INVALID_INPUT", async () => {
    const bad = [
      { userId: "u1", role: "root", ttlSeconds: 60 },
      { userId: "u 1", role: "viewer", ttlSeconds: 60 },
      { userId: "u1", role: "viewer", ttlSeconds: 0 },
      { userId: "u1", role: "viewer", ttlSeconds: 31 * 24 * 3600 },
      { userId: "u1", role: "host", rooms: ["bad room"], ttlSeconds: 60 },
      { userId: "u1", role: "host", rooms: Array.from({ length: 33 }, (_, i) => `r${i}`), ttlSeconds: 60 },
      { userId: "u1", role: "viewer", name: "a\nb", ttlSeconds: 60 },
    ];
    for (const input of bad) {
      // biome-ignore lint/suspicious/noExplicitAny: deliberately ill-typed input
      await expect(tokens.issue(input as any)).rejects.toMatchObject({ code: "INVALID_INPUT" });
    }
  });

  it("create() refuses a secret under 32 characters", async () => {
    await expect(TokenService.create({ secret: "short" })).rejects.toMatchObject({ code: "CONFIG_INVALID" });
  });

  it("an expired token (ttl 1 s) is refused as expired, after the 5 s clock tolerance", async () => {
    const token = await tokens.issue({ userId: "u-exp", role: "viewer", ttlSeconds: 1 });
    const first = await tokens.verify(token);
    expect(first.ok).toBe(true);
    const exp = first.ok ? first.claims.exp : 0;
    // Past exp, still inside the tolerance: accepted.
    while (Date.now() < (exp + 1) * 1000 + 100) await sleep(100);
    expect((await tokens.verify(token)).ok).toBe(true);
    while (Date.now() < (exp + 6) * 1000 + 100) await sleep(100);
    expect(await tokens.verify(token)).toEqual({ ok: false, reason: "expired" });
  }, 20_000);

  it("a token that expired a minute ago is refused as expired", async () => {
    const token = await handMade({})
      .setExpirationTime(nowS() - 60)
      .sign(key);
    expect(await tokens.verify(token)).toEqual({ ok: false, reason: "expired" });
  });

  it("a tampered payload or signature is refused as bad_signature", async () => {
    const token = await tokens.issue({ userId: "u1", role: "viewer", ttlSeconds: 600 });
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    const promoted = `${header}.${b64json({ ...claims, role: "admin", rooms: ["room-a"] })}.${signature}`;
    expect(await tokens.verify(promoted)).toEqual({ ok: false, reason: "bad_signature" });

    const mid = Math.floor(signature.length / 2);
    const flipped = signature[mid] === "A" ? "B" : "A";
    const badSig = `${header}.${payload}.${signature.slice(0, mid)}${flipped}${signature.slice(mid + 1)}`;
    expect(await tokens.verify(badSig)).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("a token signed with another secret is refused as bad_signature", async () => {
    const other = await TokenService.create({ secret: "another-secret-0123456789-abcdefghij" });
    const token = await other.issue({ userId: "u1", role: "admin", ttlSeconds: 600 });
    expect(await tokens.verify(token)).toEqual({ ok: false, reason: "bad_signature" });
    expect((await other.verify(token)).ok).toBe(true);
  });

  it("a wrong issuer or audience is refused as such", async () => {
    expect(await tokens.verify(await handMade({}).setIssuer("someone-else").sign(key))).toEqual({
      ok: false,
      reason: "wrong_issuer",
    });
    expect(await tokens.verify(await handMade({}).setAudience("another-service").sign(key))).toEqual({
      ok: false,
      reason: "wrong_audience",
    });
  });

  it("a correctly signed token with claims of the wrong shape is refused as invalid_claims", async () => {
    for (const payload of [{ role: "superuser" }, { rooms: ["bad room"] }, { shadow: "yes" }, { name: "" }]) {
      expect(await tokens.verify(await handMade(payload).sign(key))).toEqual({
        ok: false,
        reason: "invalid_claims",
      });
    }
    const noSubject = await new SignJWT({ role: "viewer", rooms: [], name: "x", shadow: false })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setExpirationTime(nowS() + 60)
      .sign(key);
    expect(await tokens.verify(noSubject)).toEqual({ ok: false, reason: "invalid_claims" });
  });

  it("an unsigned (alg none) or HS512 token is refused as malformed", async () => {
    const claims = { sub: "u1", role: "admin", rooms: [], name: "x", shadow: false, exp: nowS() + 60 };
    const unsigned = `${b64json({ alg: "none", typ: "JWT" })}.${b64json({ ...claims, iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE })}.`;
    expect(await tokens.verify(unsigned)).toEqual({ ok: false, reason: "malformed" });
    const hs512 = await handMade({}, "HS512").sign(key);
    expect(await tokens.verify(hs512)).toEqual({ ok: false, reason: "malformed" });
  });

  it("garbage and oversize strings are refused as malformed", async () => {
    const valid = await tokens.issue({ userId: "u1", role: "viewer", ttlSeconds: 600 });
    const garbage = [
      "",
      "garbage",
      "a.b.c",
      "...",
      "💥.💥.💥",
      `${valid}x`.replace(/\./g, ""),
      "x".repeat(4097),
    ];
    for (const token of garbage)
      expect(await tokens.verify(token)).toEqual({ ok: false, reason: "malformed" });
    const padded = `${valid}${"A".repeat(4097 - valid.length)}`;
    expect(await tokens.verify(padded)).toEqual({ ok: false, reason: "malformed" });
    // biome-ignore lint/suspicious/noExplicitAny: a caller passing no string at all
    expect(await tokens.verify(undefined as any)).toEqual({ ok: false, reason: "malformed" });
  });
});

describe("canModerate / canHost", () => {
  const viewer = { role: "viewer", rooms: ["A"] } as const;
  const moderatorA = { role: "moderator", rooms: ["A"] } as const;
  const hostA = { role: "host", rooms: ["A"] } as const;
  const admin = { role: "admin", rooms: [] } as const;

  it("a viewer can neither moderate nor host, even with the room in its token", () => {
    expect([canModerate(viewer, "A"), canHost(viewer, "A")]).toEqual([false, false]);
  });

  it("a moderator of room A moderates A only and hosts nothing", () => {
    expect([canModerate(moderatorA, "A"), canModerate(moderatorA, "B")]).toEqual([true, false]);
    expect([canHost(moderatorA, "A"), canHost(moderatorA, "B")]).toEqual([false, false]);
  });

  it("a host of room A hosts and moderates A, not B", () => {
    expect([canHost(hostA, "A"), canModerate(hostA, "A")]).toEqual([true, true]);
    expect([canHost(hostA, "B"), canModerate(hostA, "B")]).toEqual([false, false]);
  });

  it("an admin can do everything in every room", () => {
    for (const room of ["A", "B", "any"])
      expect([canHost(admin, room), canModerate(admin, room)]).toEqual([true, true]);
  });

  it("the checks work on verified claims", async () => {
    const result = await tokens.verify(
      await tokens.issue({ userId: "h", role: "host", rooms: ["A"], ttlSeconds: 60 }),
    );
    if (!result.ok) throw new Error(result.reason);
    expect([canHost(result.claims, "A"), canHost(result.claims, "B")]).toEqual([true, false]);
  });
});

describe("resolveTokenSecret", () => {
  it("creates <dataDir>/token-secret once (mode 0600, directory created) and returns it on every later call", async () => {
    const dataDir = path.join(tmp, "fresh", "nested");
    const cfg = loadConfig({ LIVEDROP_DATA_DIR: dataDir });
    const first = await resolveTokenSecret(cfg);
    const file = path.join(dataDir, "token-secret");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const content = readFileSync(file, "utf8");

    const second = await resolveTokenSecret(loadConfig({ LIVEDROP_DATA_DIR: dataDir }));
    expect(second).toBe(first);
    expect(readFileSync(file, "utf8")).toBe(content);
    expect(readdirSync(dataDir)).toEqual(["token-secret"]);

    // A token issued before a "restart" still verifies after it.
    const before = await TokenService.create({ secret: first });
    const after = await TokenService.create({ secret: second });
    const token = await before.issue({ userId: "u1", role: "viewer", ttlSeconds: 60 });
    expect((await after.verify(token)).ok).toBe(true);
  });

  it("processes starting at once all end up with one secret", async () => {
    const cfg = loadConfig({ LIVEDROP_DATA_DIR: path.join(tmp, "race") });
    const secrets = await Promise.all(Array.from({ length: 8 }, () => resolveTokenSecret(cfg)));
    expect(new Set(secrets).size).toBe(1);
    expect(readdirSync(cfg.dataDir)).toEqual(["token-secret"]);
  });

  it("prefers GATEWAY_TOKEN_SECRET and then writes no file", async () => {
    const dataDir = path.join(tmp, "configured");
    const configured = "configured-secret-0123456789-abcdefgh";
    const cfg = loadConfig({ LIVEDROP_DATA_DIR: dataDir, GATEWAY_TOKEN_SECRET: configured });
    expect(await resolveTokenSecret(cfg)).toBe(configured);
    expect(() => statSync(path.join(dataDir, "token-secret"))).toThrow();
  });

  it("refuses a secret file too short to be safe instead of using it", async () => {
    const dataDir = path.join(tmp, "short");
    await resolveTokenSecret(loadConfig({ LIVEDROP_DATA_DIR: dataDir }));
    writeFileSync(path.join(dataDir, "token-secret"), "abc\n");
    await expect(resolveTokenSecret(loadConfig({ LIVEDROP_DATA_DIR: dataDir }))).rejects.toMatchObject({
      code: "CONFIG_INVALID",
    });
  });
});
