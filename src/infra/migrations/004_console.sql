-- The operator console: the pupil index for `trace --pupil`, the audit log of operator actions, and
-- indexes for the dashboard's questions (messages per time span, error queue per institution, a
-- message's pushes).

-- Which inbound messages concern a pupil. The key is HMAC-SHA256(TRACE_KEY, PGN): the PGN itself is
-- never stored here. Written in the processing transaction. No foreign key: it would cost a lookup
-- per processed message and the index is only ever read by key.
CREATE TABLE pupil_trace (
  pupil_key          bytea NOT NULL,
  inbound_message_id bigint NOT NULL,
  PRIMARY KEY (pupil_key, inbound_message_id)
);

-- Every operator action: who, what, on which filter or institution, how many, when.
CREATE TABLE operator_audit (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at           timestamptz NOT NULL DEFAULT now(),
  actor        text NOT NULL,
  action       text NOT NULL,
  target       jsonb NOT NULL DEFAULT '{}',
  affected     integer NOT NULL,
  dry_run      boolean NOT NULL DEFAULT false,
  -- the outbound messages acted on (at most 10,000 are kept; `affected` has the full count)
  outbound_ids bigint[] NOT NULL DEFAULT '{}'
);
CREATE INDEX operator_audit_at_idx ON operator_audit (at);

-- BRIN indexes on times that grow with the table: nearly free to maintain on the hot insert path,
-- and they turn "the last hour" into a scan of the last few pages instead of the whole table.
CREATE INDEX inbound_messages_received_brin ON inbound_messages USING brin (received_at);
CREATE INDEX outbound_messages_delivered_brin ON outbound_messages USING brin (delivered_at);
CREATE INDEX delivery_attempts_started_brin ON delivery_attempts USING brin (started_at);

-- The error queue is small; the error-queue gauge and overview count it per institution.
CREATE INDEX outbound_messages_error_idx ON outbound_messages (institution_oin) WHERE status = 'error';
-- A message's pushes, for its trace.
CREATE INDEX outbound_messages_cause_idx ON outbound_messages (cause_message_id);
