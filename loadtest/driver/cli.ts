import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ValidationError } from "../../core/index.ts";
import { Api } from "./api.ts";
import { parseDriverArgs, type TokensOptions, USAGE } from "./options.ts";
import { Recorder } from "./recorder.ts";
import { runScenario } from "./run.ts";
import { localTokens, shadowTokens } from "./tokens.ts";

/**
 * `npm run loadtest -- NAME [flags]`: progress on stderr, the result line last on stdout; exit
 * code 0 when every threshold passed, 1 when one failed, 2 on a usage error.
 */
export async function runLoadtest(args: string[]): Promise<number> {
  const parsed = parseDriverArgs(args);
  if (parsed.kind === "help") {
    process.stdout.write(`${USAGE}\n`);
    return args.length === 0 ? 2 : 0;
  }
  if (parsed.kind === "tokens") return writeTokens(parsed.options);
  const report = await runScenario(parsed.options);
  process.stdout.write(`${report.lastLine}\n`);
  return report.summary.ok ? 0 : 1;
}

/** Tokens for k6's TOKENS_FILE: shadow ones from the admin endpoint, or signed with --token-secret. */
async function writeTokens(o: TokensOptions): Promise<number> {
  let tokens: string[];
  let error: string | undefined;
  if (o.tokenSecret) {
    const local = await localTokens(o.tokenSecret);
    tokens = o.role === "host" ? [await local.host(o.room)] : (await local.viewers(o.count)).tokens;
  } else {
    if (!o.url || !o.adminToken)
      throw new ValidationError("tokens needs --url and --admin-token, or --token-secret");
    const source = shadowTokens(new Api(o.url, new Recorder()), o.adminToken, o.tokenBatch);
    if (o.role === "host") tokens = [await source.host(o.room)];
    else ({ tokens, error } = await source.viewers(o.count));
  }
  // A short file would leave VUs without tokens: say so and fail, after writing what there is.
  if (error) process.stderr.write(`only ${tokens.length} of ${o.count} tokens: ${error}\n`);
  const json = `${JSON.stringify({ tokens })}\n`;
  if (o.out) {
    mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
    writeFileSync(o.out, json, { mode: 0o600 });
    process.stderr.write(`wrote ${tokens.length} ${o.role} token(s) to ${o.out}\n`);
  } else {
    process.stdout.write(json);
  }
  return error ? 1 : 0;
}
