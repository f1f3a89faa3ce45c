-- 008_delivery_sender.sql - who holds a claim, where each attempt went, which channel cannot send
-- (docs/delivery.md: "Leases and crashed senders", "A channel that cannot send")
--
-- A sender holds a session advisory lock (the state schema's sender key,
-- its backend pid) for as long as it has rows claimed; claimed_by names
-- that backend.  A later sender that finds the lock gone (the session ended
-- with its process) takes the rows over at once instead of waiting for the
-- lease, which stays as the bound for a sender that hangs.
ALTER TABLE @state@.delivery ADD COLUMN claimed_by integer;
COMMENT ON COLUMN @state@.delivery.claimed_by IS
  'while sending: the backend pid of the sender that holds the claim (it holds the sender advisory lock while it lives); NULL otherwise or when claimed by a version before 8';

-- The address in force when the attempt was made: for the webhook the
-- webhook.url of the sender's configuration at that moment (a fixed url
-- reaches deliveries queued before the fix), for email the recipient
-- address, for the spool the file stem.
ALTER TABLE @state@.delivery_attempt ADD COLUMN recipient text;
COMMENT ON COLUMN @state@.delivery_attempt.recipient IS
  'where this attempt was sent: the webhook url in force, the email address or the spool file stem; NULL before version 8';

-- A channel that cannot send at all (its configuration is unusable: no or
-- a refused webhook url, no signing secret, an invalid email.from, a
-- missing spool directory).  Set by the sender that met it, removed when a
-- message of the channel is accepted again; "kvpscan status" is unwell
-- while a row names a channel that still has deliveries to send.
CREATE TABLE @state@.channel_fault (
    channel     text PRIMARY KEY CHECK (channel IN ('webhook', 'email', 'spool')),
    error       text NOT NULL,
    since       timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE @state@.channel_fault IS
  'channels that could not send at all on their last try (a configuration error, not a message''s): one row per channel until it sends again';
