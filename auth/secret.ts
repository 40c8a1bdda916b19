import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { type Config, ErrorCode, SetupError } from "../core/index.ts";

const FILE_NAME = "token-secret";
const MIN_SECRET_CHARS = 32;

/**
 * The token signing secret: GATEWAY_TOKEN_SECRET when set (every node of a deployment shares it),
 * else `<dataDir>/token-secret`, created once with 32 random bytes, so a single-node development
 * stack keeps its tokens valid across restarts.
 */
export async function resolveTokenSecret(
  cfg: Pick<Config, "GATEWAY_TOKEN_SECRET" | "dataDir">,
): Promise<string> {
  if (cfg.GATEWAY_TOKEN_SECRET) return cfg.GATEWAY_TOKEN_SECRET;
  const file = path.join(cfg.dataDir, FILE_NAME);
  const existing = await readSecret(file);
  if (existing !== undefined) return existing;

  await mkdir(cfg.dataDir, { recursive: true, mode: 0o700 });
  // Written in full under a temporary name, then linked into place: a crash never leaves a
  // half-written secret, and of two processes starting at once, both end up with the winner's.
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(tmp, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    await unlink(tmp);
  }
  const created = await readSecret(file);
  if (created === undefined) throw new SetupError(ErrorCode.INTERNAL, `could not create ${file}`);
  return created;
}

async function readSecret(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const secret = text.trim();
  if (secret.length < MIN_SECRET_CHARS) {
    throw new SetupError(
      ErrorCode.CONFIG_INVALID,
      `${file} holds no usable token secret (under ${MIN_SECRET_CHARS} characters): delete it to get a new one, or set GATEWAY_TOKEN_SECRET`,
      { file },
    );
  }
  return secret;
}
