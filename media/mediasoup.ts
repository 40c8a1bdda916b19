import { access, constants } from "node:fs/promises";
import type * as Mediasoup from "mediasoup";
import { ErrorCode, SetupError } from "../core/index.ts";

export type { types } from "mediasoup";

type MediasoupModule = typeof Mediasoup;

let loaded: { bin: string; module: MediasoupModule } | undefined;

/**
 * Loads the mediasoup library bound to `workerBin`. mediasoup 3.8.4 reads MEDIASOUP_WORKER_BIN
 * once, when its Worker module is first evaluated, so the variable is set here and the library is
 * imported dynamically afterwards: nothing else in media/ imports mediasoup's values statically.
 * npm install scripts do not run here, so the library's own worker build never exists.
 */
export async function loadMediasoup(workerBin: string): Promise<MediasoupModule> {
  if (loaded) {
    if (loaded.bin !== workerBin) {
      throw new SetupError(
        ErrorCode.CONFIG_INVALID,
        `mediasoup is already bound to ${loaded.bin}; one process uses one worker binary`,
      );
    }
    return loaded.module;
  }
  try {
    await access(workerBin, constants.X_OK);
  } catch {
    throw new SetupError(
      ErrorCode.DEPENDENCY_MISSING,
      `mediasoup worker binary ${workerBin} is missing: run \`npm run bootstrap\` (installs the Debian mediasoup-worker 3.8.4) or set MEDIA_WORKER_BIN`,
      { workerBin },
    );
  }
  process.env.MEDIASOUP_WORKER_BIN = workerBin;
  const imported = (await import("mediasoup")) as MediasoupModule & { default?: MediasoupModule };
  // CommonJS through ESM: the named exports sit on `default` under some loaders.
  const module = imported.default ?? imported;
  loaded = { bin: workerBin, module };
  return module;
}
