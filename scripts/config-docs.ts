/**
 * docs/configuration.md, generated from the config schema (core/config.ts), so the page can never
 * drift from what the code parses: every variable with its default, what it accepts and its
 * description, grouped by prefix. `npm run docs:config` writes the file;
 * test/docs/config-docs.test.ts fails when it is stale.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { configSchema } from "../core/index.ts";

export const CONFIG_DOCS_PATH = path.resolve(import.meta.dirname, "../docs/configuration.md");

/** One environment variable as the page shows it. */
export interface ConfigFieldDoc {
  readonly name: string;
  readonly group: string;
  readonly defaultText: string;
  readonly accepts: string;
  readonly description: string;
}

/** The JSON Schema keywords of one field that the page reads. */
interface FieldSchema {
  readonly description?: string;
  readonly docDefault?: string;
  readonly default?: unknown;
  readonly type?: string;
  readonly enum?: readonly unknown[];
  readonly format?: string;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
}

/** Group titles by prefix, in page order; a prefix not listed gets a section of its own at the end. */
const GROUPS: readonly (readonly [prefix: string, title: string])[] = [
  ["LIVEDROP", "Launcher, data and background loops (`LIVEDROP_*`)"],
  ["REDIS", "Redis (`REDIS_*`)"],
  ["DATABASE", "Order store (`DATABASE_*`)"],
  ["GATEWAY", "Gateway (`GATEWAY_*`)"],
  ["WORKER", "Order pipeline worker (`WORKER_*`)"],
  ["MEDIA", "Media tier (`MEDIA_*`)"],
  ["LOG", "Logging (`LOG_*`)"],
];

const code = (v: unknown): string => `\`${String(v)}\``;
const cell = (text: string): string => text.replaceAll("|", "\\|");
const prefixOf = (name: string): string => name.split("_")[0] ?? name;

function defaultText(s: FieldSchema): string {
  if (s.docDefault !== undefined) return code(s.docDefault);
  if (s.default === undefined) return "unset";
  if (s.default === "") return "empty";
  return code(s.default);
}

function accepts(s: FieldSchema): string {
  if (s.enum) return s.enum.map(code).join(", ");
  const range = (kind: string) =>
    s.minimum !== undefined && s.maximum !== undefined ? `${kind}, ${s.minimum} to ${s.maximum}` : kind;
  if (s.type === "integer") return range("integer");
  if (s.type === "number") return range("number");
  if (s.format === "uri") return "URL";
  if (s.pattern) return `text matching ${code(s.pattern)}`;
  if (s.minLength !== undefined && s.minLength > 1) return `text, at least ${s.minLength} characters`;
  return s.minLength === 1 ? "non-empty text" : "text";
}

/** Every field of the schema, in schema order, as the page documents it. */
export function configFieldDocs(): ConfigFieldDoc[] {
  // Input side: what the environment holds (before coercion and transforms).
  const json = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as {
    properties: Record<string, FieldSchema>;
  };
  return Object.entries(json.properties).map(([name, s]) => ({
    name,
    group: prefixOf(name),
    defaultText: defaultText(s),
    accepts: accepts(s),
    description: s.description ?? "",
  }));
}

/** The whole page. */
/** A Markdown table with its columns padded to their widest cell, as the formatter lays them out. */
function alignedTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}

export function renderConfigDocs(): string {
  const fields = configFieldDocs();
  const known = GROUPS.map(([prefix]) => prefix);
  const extra = [...new Set(fields.map((f) => f.group))].filter((g) => !known.includes(g));
  const titles = new Map<string, string>([...GROUPS, ...extra.map((g) => [g, `\`${g}_*\``] as const)]);
  const lines = [
    "# Configuration",
    "",
    "<!-- Generated from core/config.ts by `npm run docs:config`; edit the schema's descriptions, not this file. -->",
    "",
    "Environment variables, parsed once by `core/config.ts` (nothing else reads `process.env`). A bad",
    "value stops the process with `CONFIG_INVALID` naming the variable. Booleans accept `true`,",
    "`false`, `1`, `0`; a list is comma-separated.",
  ];
  for (const [group, title] of titles) {
    const rows = fields.filter((f) => f.group === group);
    if (rows.length === 0) continue;
    const table = rows.map((f) => [code(f.name), cell(f.defaultText), cell(f.accepts), cell(f.description)]);
    lines.push("", `## ${title}`, "", ...alignedTable(["Variable", "Default", "Accepts", "Meaning"], table));
  }
  return `${lines.join("\n")}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  writeFileSync(CONFIG_DOCS_PATH, renderConfigDocs());
  process.stdout.write(`wrote ${path.relative(process.cwd(), CONFIG_DOCS_PATH)}\n`);
}
