import { type Logger, pino } from "pino";
import { config } from "./config.ts";

let root: Logger | undefined;

/** Process-wide pino logger (JSON lines on stderr so stdout stays for command output). */
export function logger(): Logger {
  root ??= pino({ level: config().LOG_LEVEL, base: { svc: "livedrop" } }, pino.destination(2));
  return root;
}

export function childLogger(component: string): Logger {
  return logger().child({ component });
}

export type { Logger };
