import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configSchema } from "../../core/index.ts";
import { CONFIG_DOCS_PATH, configFieldDocs, renderConfigDocs } from "../../scripts/config-docs.ts";

/** The table rows of a configuration page, by variable name. */
function rowsByName(page: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of page.split("\n")) {
    const name = /^\| `([A-Z][A-Z0-9_]*)` +\|/.exec(line)?.[1];
    if (name) rows.set(name, line);
  }
  return rows;
}

describe("docs/configuration.md", () => {
  const onDisk = readFileSync(CONFIG_DOCS_PATH, "utf8");
  const generated = renderConfigDocs();

  it("has the row the schema generates for every variable (run `npm run docs:config` after a schema change)", () => {
    const disk = rowsByName(onDisk);
    const fresh = rowsByName(generated);
    const differ = [...new Set([...disk.keys(), ...fresh.keys()])].filter(
      (n) => disk.get(n) !== fresh.get(n),
    );
    expect(differ, "variables whose row differs from the schema").toEqual([]);
    expect(onDisk).toBe(generated);
  });

  it("lists every variable of the schema, MEDIA_* included", () => {
    const names = Object.keys(configSchema.shape);
    const rows = rowsByName(onDisk);
    expect(names.filter((n) => !rows.has(n))).toEqual([]);
    expect(names.filter((n) => n.startsWith("MEDIA_")).length).toBeGreaterThan(20);
    expect([...rows.keys()].filter((n) => n.startsWith("MEDIA_")).sort()).toEqual(
      names.filter((n) => n.startsWith("MEDIA_")).sort(),
    );
  });

  it("every schema field carries a description that states its default (or that it is unset)", () => {
    const undocumented = configFieldDocs()
      .filter((f) => !/\b(default|unset)\b/i.test(f.description))
      .map((f) => f.name);
    expect(undocumented).toEqual([]);
  });
});
