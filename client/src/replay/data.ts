import { type Replay, type RoomDropsResponse, replayListSchema } from "../../../protocol/index.ts";
import { api, clientConfig } from "../shared/api.ts";
import type { RoomDrop } from "./timeline.ts";

/** Pages of the room drops API read for the timeline at most (the API's page size each). */
const MAX_DROP_PAGES = 20;

/** The room's finished replays, newest first, from the media tier (public). */
export async function loadReplays(room: string): Promise<Replay[]> {
  const cfg = await clientConfig();
  const res = await fetch(`${cfg.mediaUrl.replace(/\/+$/, "")}/replays/${encodeURIComponent(room)}`);
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return replayListSchema.parse(await res.json()).replays;
}

/** Every drop of the room, ended ones included (GET /api/v1/rooms/:room/drops, paged). */
export async function loadRoomDrops(room: string): Promise<RoomDrop[]> {
  const drops: RoomDrop[] = [];
  let after: string | null = null;
  for (let page = 0; page < MAX_DROP_PAGES; page++) {
    const q: string = after === null ? "" : `?after=${encodeURIComponent(after)}`;
    const r: RoomDropsResponse = await api<RoomDropsResponse>(
      `/api/v1/rooms/${encodeURIComponent(room)}/drops${q}`,
    );
    drops.push(...r.drops);
    after = r.next;
    if (after === null) break;
  }
  return drops;
}
