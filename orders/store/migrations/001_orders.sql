-- 001: orders, their audit trail, and payment attempts.
-- Applied once by migrate.ts inside a transaction; never edit after release, add 002_*.sql.

-- One row per reservation: the primary key is the exactly-once guarantee of the order worker.
CREATE TABLE orders (
  reservation_id   text        PRIMARY KEY,
  drop_id          text        NOT NULL,
  room_id          text        NOT NULL,
  user_id          text        NOT NULL,
  sku              text        NOT NULL,
  title            text        NOT NULL,
  qty              integer     NOT NULL CHECK (qty BETWEEN 1 AND 1000),
  unit_price_minor bigint      NOT NULL CHECK (unit_price_minor >= 0),
  total_minor      bigint      NOT NULL,
  currency         char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  status           text        NOT NULL CHECK (
                     status IN ('pending_payment', 'paid', 'expired', 'cancelled', 'refunded')),
  hold_deadline    timestamptz NOT NULL,
  payment_ref      text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  -- Set when the order was paid; kept after a refund (it was paid once).
  paid_at          timestamptz,
  CONSTRAINT orders_total_is_qty_times_price CHECK (total_minor = unit_price_minor * qty),
  CONSTRAINT orders_paid_at_iff_paid CHECK ((paid_at IS NOT NULL) = (status IN ('paid', 'refunded')))
);

-- Listings filter by one of these and show newest first.
CREATE INDEX orders_drop_idx ON orders (drop_id, created_at);
CREATE INDEX orders_room_idx ON orders (room_id, created_at);
CREATE INDEX orders_user_idx ON orders (user_id, created_at);
CREATE INDEX orders_status_idx ON orders (status, created_at);

-- Every status change, the creation included (from_status NULL). Append-only.
CREATE TABLE order_events (
  id             bigserial   PRIMARY KEY,
  reservation_id text        NOT NULL REFERENCES orders (reservation_id),
  from_status    text,
  to_status      text        NOT NULL,
  reason         text        NOT NULL,
  details        jsonb,
  at             timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX order_events_reservation_idx ON order_events (reservation_id, id);

-- One row per call to the payment provider; the idempotency key makes a retried record a no-op.
CREATE TABLE payment_attempts (
  id              bigserial   PRIMARY KEY,
  reservation_id  text        NOT NULL REFERENCES orders (reservation_id),
  idempotency_key text        NOT NULL UNIQUE,
  status          text        NOT NULL CHECK (status IN ('succeeded', 'declined', 'timeout', 'refunded')),
  provider_ref    text,
  amount_minor    bigint      NOT NULL CHECK (amount_minor >= 0),
  currency        char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  error_code      text,
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX payment_attempts_reservation_idx ON payment_attempts (reservation_id, id);
