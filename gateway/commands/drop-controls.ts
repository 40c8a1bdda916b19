import { ErrorCode, LivedropError } from "../../core/index.ts";
import {
  type CreateDropInput,
  createDropInputSchema,
  type DropControlInput,
  dropControlInputSchema,
  type HostActionKind,
  restockInputSchema,
} from "../../protocol/index.ts";
import type { DropStatus, PinResult, TransitionResult } from "../../sale-engine/index.ts";
import { impliedWindowMs, roomDelayOf } from "../rooms/room-delay.ts";
import type { Access, CommandLane } from "./access.ts";
import { type Command, command } from "./command.ts";
import { AccessRefusal } from "./refusal.ts";

/**
 * A host of the drop's room, or an admin. A caller that names its room (a WebSocket frame does)
 * is judged on that room without a Redis read, and the drop must then be in it.
 */
const hostOfDrop: Access<DropControlInput, CommandLane> = {
  who: "host",
  room: async ({ input, lane }) => input.room ?? (await lane.engine.status(input.dropId)).roomId,
};

/** The drop's room must be the room the caller named (a host of one room cannot steer another's drops). */
async function checkRoom(lane: CommandLane, input: DropControlInput): Promise<void> {
  if (input.room === undefined) return;
  const drop = await lane.engine.status(input.dropId);
  if (drop.roomId !== input.room)
    throw new AccessRefusal("FORBIDDEN", `drop ${input.dropId} is not in room ${input.room}`);
}

type Transition = Exclude<HostActionKind, "restock" | "pin" | "unpin">;

function transition(action: Transition): Command<DropControlInput, TransitionResult> {
  return command({
    name: `drop.${action}`,
    input: dropControlInputSchema,
    access: hostOfDrop,
    lanes: "any",
    run: async ({ lane }, input) => {
      await checkRoom(lane, input);
      return lane.engine[action](input.dropId);
    },
    ack: (r) => ({ kind: "host", action, dropId: r.dropId, state: r.state, changed: r.changed }),
  });
}

export const launchCommand = transition("launch");
export const pauseCommand = transition("pause");
export const resumeCommand = transition("resume");
export const endCommand = transition("end");

export const restockCommand = command({
  name: "drop.restock",
  input: restockInputSchema,
  access: hostOfDrop,
  lanes: "any",
  run: async ({ lane }, input): Promise<DropStatus> => {
    await checkRoom(lane, input);
    return lane.engine.restock(input.dropId, input.qty);
  },
  ack: (s) => ({ kind: "host", action: "restock", dropId: s.dropId, state: s.state, changed: true }),
});

/** Pins or unpins a buy-it-now drop: it sells only while pinned (another format: INVALID_INPUT). */
function pinning(action: "pin" | "unpin"): Command<DropControlInput, PinResult> {
  return command({
    name: `drop.${action}`,
    input: dropControlInputSchema,
    access: hostOfDrop,
    lanes: "any",
    run: async ({ lane }, input) => {
      await checkRoom(lane, input);
      return lane.engine[action](input.dropId);
    },
    ack: (r) => ({ kind: "pin", dropId: r.dropId, pinned: r.pinned, changed: r.changed }),
  });
}

export const pinCommand = pinning("pin");
export const unpinCommand = pinning("unpin");

/** The host controls by action, as the WebSocket `host` frame names them. */
export const DROP_CONTROLS = {
  launch: launchCommand,
  pause: pauseCommand,
  resume: resumeCommand,
  end: endCommand,
  pin: pinCommand,
  unpin: unpinCommand,
  restock: restockCommand,
} as const;

/**
 * The fair window of a drop created with "auto": the one the room's viewers' video delay implies
 * now (over every gateway node). A retried create gets the window the drop was created with, so
 * it is answered like any re-create (created: false) rather than DROP_CONFLICT.
 */
async function autoWindowMs(lane: CommandLane, input: CreateDropInput): Promise<number> {
  const existing = await lane.engine.status(input.dropId).catch((err: unknown) => {
    if (err instanceof LivedropError && err.code === ErrorCode.DROP_NOT_FOUND) return undefined;
    throw err;
  });
  if (existing?.fair?.mode === "window") return existing.fair.windowMs;
  const reader = roomDelayOf(lane.engine);
  return impliedWindowMs(await reader.histogram(input.roomId), reader.settings);
}

export const createDropCommand = command({
  name: "drop.create",
  input: createDropInputSchema,
  access: { who: "host", room: ({ input }) => input.roomId },
  lanes: "any",
  run: async ({ lane }, input): Promise<{ created: boolean; status: DropStatus }> => {
    const { fairWindowMs, ...fields } = input;
    if (fairWindowMs !== "auto") return lane.engine.createDrop({ ...fields, fairWindowMs });
    return lane.engine.createDrop({ ...fields, fairWindowMs: await autoWindowMs(lane, input) });
  },
});
