import { validate } from "../../core/index.ts";
import {
  auditLogPageSchema,
  auditLogQuerySchema,
  privacyUserIdSchema,
  userEraseSchema,
  userExportSchema,
} from "../../protocol/index.ts";
import type { Lane } from "../commands/index.ts";
import { eraseUser, exportUser, type UserDataLane } from "../user-data.ts";
import type { ApiDeps } from "./api-deps.ts";
import { parseQuery } from "./query.ts";
import { sendJson } from "./respond.ts";
import type { ApiRouter } from "./router.ts";

/** A lane's order store and its room logs (the engine's Redis and key prefix are the lane's). */
function userDataOf(lane: Lane): UserDataLane {
  return { store: lane.store, redis: lane.engine.connection, keyPrefix: lane.engine.keys.prefix };
}

/**
 * The audit log and one user's personal data (admins, live tokens only); each call is itself
 * audited (router-audit.ts):
 * - GET /api/v1/admin/audit?actor=&action=&target=&since=&before=&limit= → a page, newest first.
 * - GET /api/v1/admin/users/:userId/export → their orders, payment attempts, chat messages in
 *   room logs, and the audit entries where they acted.
 * - POST /api/v1/admin/users/:userId/erase → orders and payments pseudonymised, chat tombstoned.
 */
export function registerPrivacyApi(router: ApiRouter, d: ApiDeps): void {
  router.route({
    method: "get",
    pattern: "/api/v1/admin/audit",
    name: "audit.read",
    access: { who: "admin" },
    lanes: "live",
    response: auditLogPageSchema,
    audit: { target: () => null },
    handler: async ({ query, lane, g }) => {
      const q = parseQuery(auditLogQuerySchema, query, "audit query");
      // One more than asked tells whether another page follows.
      const rows = await lane.store.audit({ ...q, limit: q.limit + 1 });
      const entries = rows.slice(0, q.limit);
      sendJson(g, 200, { entries, next: rows.length > q.limit ? (entries.at(-1)?.id ?? null) : null });
    },
  });

  router.route({
    method: "get",
    pattern: "/api/v1/admin/users/:userId/export",
    name: "user.export",
    access: { who: "admin" },
    lanes: "live",
    response: userExportSchema,
    audit: {},
    handler: async ({ params, lane, g }) => {
      const userId = validate(privacyUserIdSchema, params[0], "user id");
      sendJson(g, 200, await exportUser(userDataOf(lane), userId));
    },
  });

  router.route({
    method: "post",
    pattern: "/api/v1/admin/users/:userId/erase",
    name: "user.erase",
    access: { who: "admin" },
    lanes: "live",
    response: userEraseSchema,
    handler: async ({ params, lane, g }) => {
      const userId = validate(privacyUserIdSchema, params[0], "user id");
      sendJson(g, 200, await eraseUser(userDataOf(lane), userId, await d.tokens.pseudonym(userId)));
    },
  });
}
