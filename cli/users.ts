import { resolveTokenSecret, TokenService } from "../auth/index.ts";
import { config, ValidationError } from "../core/index.ts";
import { eraseUser, exportUser } from "../gateway/index.ts";
import { userIdSchema } from "../protocol/index.ts";
import { auditedCli } from "./audit-record.ts";
import { openEngine, openStore } from "./connect.ts";
import { printResult } from "./output.ts";

export const USERS_USAGE = `livedrop users <command> USER_ID [--json]
  export  USER_ID   every piece of personal data held on the user (orders, payment attempts,
                    chat messages in room logs, audit entries where they acted, holds in the
                    sale engine), as JSON
  erase   USER_ID   orders, payment attempts and sale engine records keep the money record with
                    the buyer pseudonymised (unpaid holds are released); chat messages become
                    tombstones; a second erase changes nothing
Both are written to the audit log.`;

/** `livedrop users export|erase USER_ID`: the live lane's store and room logs. */
export async function runUsers(args: string[]): Promise<void> {
  const json = args.includes("--json");
  const [sub, ...rest] = args.filter((a) => a !== "--json");
  if (sub !== "export" && sub !== "erase")
    throw new ValidationError(`unknown users command "${sub ?? ""}"\n${USERS_USAGE}`);
  if (rest.length !== 1 || rest[0]?.startsWith("--"))
    throw new ValidationError(`users ${sub} takes exactly one user id\n${USERS_USAGE}`);
  const parsed = userIdSchema.safeParse(rest[0]);
  if (!parsed.success) throw new ValidationError(`not a user id: ${parsed.error.issues[0]?.message ?? ""}`);
  const userId = parsed.data;
  const cfg = config();
  const store = await openStore(cfg);
  try {
    const engine = await openEngine();
    try {
      const lane = { store, redis: engine.connection, keyPrefix: engine.keys.prefix };
      const a = { action: `user.${sub}`, target: userId, details: { userId } };
      if (sub === "export") {
        const data = await auditedCli(
          (e) => store.appendAudit(e),
          a,
          () => exportUser(lane, userId),
        );
        printResult(data, json, () => JSON.stringify(data, null, 2));
      } else {
        const tokens = await TokenService.create({ secret: await resolveTokenSecret(cfg) });
        const done = await auditedCli(
          (e) => store.appendAudit(e),
          a,
          async () => eraseUser(lane, userId, await tokens.pseudonym(userId)),
        );
        printResult(done, json, () =>
          [
            `erased ${userId} (now ${done.pseudonym} in the money records)`,
            `  orders ${done.orders}, payment attempts ${done.paymentAttempts}`,
            `  chat messages ${done.chatMessages}, moderation entries ${done.moderationEntries}, in ${done.rooms} room(s)`,
            `  sale records ${done.saleRecords}, holds released ${done.saleHoldsReleased}, drop events deleted ${done.saleEventEntries}`,
            ...(done.saleEventsPending > 0
              ? [
                  `  ${done.saleEventsPending} event(s) of active drops still name them: erase again once those drops end`,
                ]
              : []),
          ].join("\n"),
        );
      }
    } finally {
      await engine.close();
    }
  } finally {
    await store.close();
  }
}
