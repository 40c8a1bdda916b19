import exec from "k6/execution";
import { onEntry, recordEntry } from "../../lib/admission.ts";
import type { Session } from "../../lib/session.ts";
import type { K6Config } from "./config.ts";
import { k6Sink } from "./metrics.ts";
import { openSession } from "./socket.ts";
import { type SetupTokens, viewerToken } from "./tokens.ts";

/**
 * A VU getting in: its token, its socket, the room. Nothing here throws: a VU that cannot get a
 * token or connect is counted in `viewer_failures{reason}` and its iteration ends quietly; one
 * that joins counts once in `viewers_connected` (a k6 VU is its own runtime, so module state is
 * per VU), which the run's threshold holds against the planned viewers.
 */

let counted = false;

/** This VU's token, or undefined after counting the failure. */
export function tokenOrCount(cfg: K6Config, pool: readonly string[], data: SetupTokens): string | undefined {
  const token = viewerToken(cfg, pool, data, exec.vu.idInTest);
  if (!token) recordEntry(k6Sink, "token", false);
  return token;
}

/**
 * Opens a session on `token` and counts how it got in. `planned`: this VU is one of the planned
 * viewers (not a late buyer or an arriving shopper), so its first entry counts.
 */
export function openCounted(
  cfg: K6Config,
  token: string,
  idPrefix: string,
  planned: boolean,
): Session | undefined {
  let session: Session;
  try {
    session = openSession(cfg, token, idPrefix);
  } catch {
    recordEntry(k6Sink, "connect", false);
    return undefined;
  }
  onEntry(session, cfg.room, (failure) => {
    recordEntry(k6Sink, failure, planned && !counted);
    if (!failure && planned) counted = true;
  });
  return session;
}

/** Token and socket of a planned viewer, or undefined (already counted). */
export function openViewer(
  cfg: K6Config,
  pool: readonly string[],
  data: SetupTokens,
  idPrefix: string,
  planned = true,
): { session: Session; token: string } | undefined {
  const token = tokenOrCount(cfg, pool, data);
  if (!token) return undefined;
  const session = openCounted(cfg, token, idPrefix, planned);
  return session ? { session, token } : undefined;
}
