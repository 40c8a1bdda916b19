-- 004: the audit log of admin and host actions (drop changes, refunds, the shadow switch,
-- moderation, user export and erasure): who, what, when, on which lane, with which outcome.
-- Append-only, enforced here and not by the code: UPDATE, DELETE and TRUNCATE are refused by
-- triggers, whoever runs them.

CREATE TABLE audit_log (
  id         bigserial   PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  -- A user id (actor_role is the token's role), or `cli:<os user>` (actor_role 'cli').
  actor      text        NOT NULL,
  actor_role text        NOT NULL CHECK (actor_role IN ('viewer', 'moderator', 'host', 'admin', 'cli')),
  lane       text        NOT NULL CHECK (lane IN ('live', 'shadow')),
  action     text        NOT NULL,
  -- The drop, room, order or user acted on (NULL for lane-wide actions like the shadow switch).
  target     text,
  -- The validated input of the action; never a token.
  details    jsonb       NOT NULL DEFAULT '{}'::jsonb,
  -- 'ok', or the code the action was refused or failed with.
  outcome    text        NOT NULL
);

CREATE INDEX audit_log_actor_idx ON audit_log (actor, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_target_idx ON audit_log (target, id);
CREATE INDEX audit_log_at_idx ON audit_log (at);

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
