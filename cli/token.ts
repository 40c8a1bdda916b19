import { parseArgs } from "node:util";
import { resolveTokenSecret, TokenService } from "../auth/index.ts";
import { config, ValidationError } from "../core/index.ts";
import { parseDuration } from "./args.ts";

export const TOKEN_USAGE = `livedrop token --role viewer|moderator|host|admin [options]
  --user ID          user id (default: the role, e.g. "admin")
  --rooms a,b        rooms a host or moderator may act in
  --name NAME        display name in chat and toasts
  --ttl DURATION     lifetime, e.g. 12h, 30m (default 12h)
  --shadow           a load-test token: isolated shadow lane (see docs/load-testing.md)
Prints a signed access token, made with GATEWAY_TOKEN_SECRET (or the development secret in the data
directory): hand host and admin tokens to people, never put them in a page.`;

/** `livedrop token`: mints an access token for an operator, a host, or a load test. */
export async function runToken(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      role: { type: "string" },
      user: { type: "string" },
      rooms: { type: "string" },
      name: { type: "string" },
      ttl: { type: "string", default: "12h" },
      shadow: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (!values.role) throw new ValidationError(`--role is required\n${TOKEN_USAGE}`);
  const cfg = config();
  const tokens = await TokenService.create({ secret: await resolveTokenSecret(cfg) });
  const token = await tokens.issue({
    userId: values.user ?? values.role,
    role: values.role as "viewer",
    rooms: values.rooms ? values.rooms.split(",").filter(Boolean) : [],
    ...(values.name ? { name: values.name } : {}),
    ttlSeconds: Math.round(parseDuration(values.ttl, "--ttl") / 1000),
    shadow: values.shadow,
  });
  process.stdout.write(`${token}\n`);
  return 0;
}
