import { type Logger, pino } from "pino";
import { config } from "./config.ts";

/**
 * Fields that would carry personal data or secrets, censored wherever a log line passes them
 * (at the top level, one level down, and in a typed error's details). A backstop: log lines
 * name rooms, drops and reservations, never a person (docs/operations.md, Privacy and audit).
 */
export const REDACTED_LOG_PATHS = [
  "token",
  "tokens",
  "authorization",
  "cookie",
  "secret",
  "password",
  "userId",
  "user",
  "name",
  "displayName",
  "claims",
  "text",
  "ip",
  "*.token",
  "*.authorization",
  "*.cookie",
  "*.userId",
  "*.displayName",
  "*.claims",
  "req.headers",
  "err.details.userId",
  "err.details.token",
] as const;

let root: Logger | undefined;

/** Process-wide pino logger (JSON lines on stderr so stdout stays for command output). */
export function logger(): Logger {
  root ??= pino(
    {
      level: config().LOG_LEVEL,
      base: { svc: "livedrop" },
      redact: { paths: [...REDACTED_LOG_PATHS], censor: "[redacted]" },
    },
    pino.destination(2),
  );
  return root;
}

export function childLogger(component: string): Logger {
  return logger().child({ component });
}

export type { Logger };
