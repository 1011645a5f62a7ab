-- WS-Security (docs/security.md): a signed request is refused as a replay when the same sender sent the
-- same wsa:MessageID with the same signature within the timestamp window. A resend re-signed with a new
-- wsu:Timestamp carries another signature and is not a replay (the usual idempotency then applies), so the
-- signature is part of the key. Rows are pruned once no request carrying them can pass the timestamp check.
-- Unlogged: recording a signed request costs no WAL flush of its own (the accept path pays one per group
-- commit). A crash empties it, which can let a replay of the last minutes through the check, but not into
-- the store: the message's identificatiecode and MessageID are unique per sender there (a duplicate gets
-- the original receipt).
CREATE UNLOGGED TABLE wss_replay (
  sender_oin text NOT NULL,
  message_id text NOT NULL,
  -- sha256 (base64) of the signature value: identical for an identical replay, short whatever the key size.
  signature_digest text NOT NULL,
  seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sender_oin, message_id, signature_digest)
);
CREATE INDEX wss_replay_seen_at ON wss_replay (seen_at);

-- Whether an institution must sign its requests: true or false, or NULL for the broker's WSS_REQUIRED.
ALTER TABLE institutions ADD COLUMN wss_required boolean;
