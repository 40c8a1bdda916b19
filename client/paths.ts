import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The client's folder in the source tree (its pages, Vite config and build output), found the same
 * way whether this runs from source or compiled into dist/: the folder `client/` beside the
 * nearest package.json above this file.
 */
function clientDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("no package.json above the client's code");
    dir = parent;
  }
  return path.join(dir, "client");
}

export const CLIENT_DIR = clientDir();
/** Where the client build lives (the gateway serves it). */
export const CLIENT_DIST_DIR = path.join(CLIENT_DIR, "dist");
