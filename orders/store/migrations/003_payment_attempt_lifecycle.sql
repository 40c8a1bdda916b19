-- 003: payment attempts follow each payment through its steps (started -> captured ->
-- succeeded | refunded), so a crash at any step leaves a row the payment reconciler can finish;
-- idempotency keys are scoped to the payer.

ALTER TABLE payment_attempts
  ADD COLUMN user_id      text,
  -- The idempotency key sent to the provider (unique across payers); earlier rows sent their own key.
  ADD COLUMN provider_key text,
  ADD COLUMN refund_ref   text,
  ADD COLUMN updated_at   timestamptz,
  -- When the reconciler asked the provider about an attempt whose outcome was unknown.
  ADD COLUMN checked_at   timestamptz;

UPDATE payment_attempts p SET user_id = o.user_id, provider_key = p.idempotency_key, updated_at = p.created_at
  FROM orders o WHERE o.reservation_id = p.reservation_id;

ALTER TABLE payment_attempts
  ALTER COLUMN user_id SET NOT NULL,
  ALTER COLUMN provider_key SET NOT NULL,
  ALTER COLUMN updated_at SET NOT NULL,
  ALTER COLUMN updated_at SET DEFAULT now(),
  DROP CONSTRAINT IF EXISTS payment_attempts_idempotency_key_key,
  DROP CONSTRAINT IF EXISTS payment_attempts_status_check,
  ADD CONSTRAINT payment_attempts_user_key UNIQUE (user_id, idempotency_key),
  ADD CONSTRAINT payment_attempts_provider_key UNIQUE (provider_key);

-- Earlier rows: a capture refunded when the deadline won was kept as a second row `refund-<key>`.
UPDATE payment_attempts p SET status = 'refunded', refund_ref = r.provider_ref
  FROM payment_attempts r
  WHERE p.status = 'succeeded' AND r.status = 'refunded' AND r.reservation_id = p.reservation_id
    AND r.idempotency_key = 'refund-' || p.idempotency_key;

-- Any other earlier capture that did not pay its order goes back to `captured`: the payment
-- reconciler confirms or refunds it. Per paid order one capture stays: the order's payment_ref.
UPDATE payment_attempts p SET status = 'captured'
  FROM orders o
  WHERE o.reservation_id = p.reservation_id AND p.status = 'succeeded'
    AND NOT (o.status IN ('paid', 'refunded') AND p.id = (
      SELECT q.id FROM payment_attempts q
      WHERE q.reservation_id = p.reservation_id AND q.status = 'succeeded'
      ORDER BY (q.provider_ref IS NOT DISTINCT FROM o.payment_ref) DESC, q.id LIMIT 1));

ALTER TABLE payment_attempts ADD CONSTRAINT payment_attempts_status_check CHECK (
  status IN ('started', 'captured', 'succeeded', 'refunded', 'declined', 'timeout'));

-- At most one capture pays an order; any other capture of it is refunded.
CREATE UNIQUE INDEX payment_attempts_one_success_idx ON payment_attempts (reservation_id)
  WHERE status = 'succeeded';

-- The payment reconciler's scan: attempts not finished, oldest step first.
CREATE INDEX payment_attempts_unfinished_idx ON payment_attempts (updated_at)
  WHERE status IN ('started', 'captured') OR (status = 'timeout' AND checked_at IS NULL);
