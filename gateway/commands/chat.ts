import { canModerate } from "../../auth/index.ts";
import type { ChatMessage } from "../../protocol/index.ts";
import { chatPostInputSchema, moderateInputSchema } from "../../protocol/index.ts";
import type { RoomChat } from "../ws/chat.ts";
import { type CommandContext, command } from "./command.ts";

/** The room's chat of a caller present in it (the presence rule ran before). */
function chatOf(ctx: CommandContext): RoomChat {
  if (!ctx.presence) throw new Error("chat needs a room presence");
  return ctx.presence.chat;
}

/**
 * Posts a chat message to a room the caller is in. Rate limit and slow mode spare those who may
 * moderate this room, not a moderator of some other room.
 */
export const chatPostCommand = command({
  name: "chat.post",
  input: chatPostInputSchema,
  access: { who: "signed-in" },
  lanes: "any",
  presentIn: (input) => input.room,
  run: (ctx, input): Promise<ChatMessage> => {
    const { claims } = ctx;
    const author = {
      userId: claims.userId,
      name: claims.name,
      role: claims.role,
      privileged: canModerate(claims, input.room),
    };
    return chatOf(ctx).post(author, input.room, input.text);
  },
});

/** Moderation of a room's chat (slow mode, delete, mute...) by its moderators and hosts. */
export const moderateCommand = command({
  name: "chat.moderate",
  input: moderateInputSchema,
  access: { who: "moderator", room: ({ input }) => input.room },
  lanes: "any",
  run: async (ctx, input): Promise<void> => {
    await chatOf(ctx).moderate(ctx.claims.name, input.room, input.action);
  },
  ack: () => ({ kind: "moderation" }),
});
