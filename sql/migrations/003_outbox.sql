-- 003_outbox.sql - the durable delivery outbox: one row per message to send, and every attempt
-- (docs/delivery.md describes the states and the retry policy)

CREATE TABLE @state@.delivery (
    delivery_id      text PRIMARY KEY,
    run_id           bigint REFERENCES @state@.run,
    kind             text NOT NULL CHECK (kind IN ('worklist', 'report')),
    channel          text NOT NULL CHECK (channel IN ('webhook', 'email', 'spool')),
    recipient        text,
    office_id        text,
    veileder_id      text,
    subject          text,
    text_body        text,
    html_body        text,
    json_body        text,
    item_count       integer NOT NULL DEFAULT 0,
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sending', 'sent', 'dead')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_until      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    last_status      integer,
    last_error       text,
    CHECK ((state = 'sending') = (lease_until IS NOT NULL)),
    CHECK (state <> 'sent' OR sent_at IS NOT NULL)
);
COMMENT ON TABLE @state@.delivery IS
  'the outbox: one message per recipient (worklist or report); pending until sent, dead after the last attempt';
COMMENT ON COLUMN @state@.delivery.veileder_id IS 'NULL: the office fallback';
COMMENT ON COLUMN @state@.delivery.lease_until IS
  'while sending: after this time the sender is presumed dead and the message is sent again with the same id';
CREATE INDEX delivery_due_idx ON @state@.delivery (next_attempt_at) WHERE state = 'pending';
CREATE INDEX delivery_lease_idx ON @state@.delivery (lease_until) WHERE state = 'sending';
CREATE INDEX delivery_run_idx ON @state@.delivery (run_id);

CREATE TABLE @state@.delivery_attempt (
    delivery_id  text NOT NULL REFERENCES @state@.delivery ON DELETE CASCADE,
    attempt_no   integer NOT NULL CHECK (attempt_no > 0),
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    result       text CHECK (result IN ('ok', 'retry', 'permanent', 'lost')),
    status       integer,
    error        text,
    PRIMARY KEY (delivery_id, attempt_no),
    CHECK ((result IS NULL) = (finished_at IS NULL))
);
COMMENT ON TABLE @state@.delivery_attempt IS
  'every send attempt of a delivery; result NULL while in flight, lost when the sender died before recording it';
