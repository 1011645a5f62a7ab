-- Institutions that may deliver (by OIN) and receive pushes; the authorisation table OIN → BRINs.
CREATE TABLE institutions (
  oin          text PRIMARY KEY CHECK (oin ~ '^[0-9A-Z]{20}$'),
  name         text NOT NULL,
  brins        text[] NOT NULL DEFAULT '{}',
  endpoint_url text,
  enabled      boolean NOT NULL DEFAULT true,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Every accepted inbound message, exactly as received. One row per (sender, identificatiecode).
CREATE TABLE inbound_messages (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  contract        text NOT NULL,
  operation       text NOT NULL,
  sender_oin      text NOT NULL,
  brin            text,
  document_id     uuid NOT NULL,
  document_time   timestamptz NOT NULL,
  wsa_message_id  text NOT NULL,
  request_id      text NOT NULL,
  received_at     timestamptz NOT NULL DEFAULT now(),
  receipt_id      uuid NOT NULL,
  receipt_at      timestamptz NOT NULL,
  raw_xml         text NOT NULL,
  -- sha256 of the body's text content without white space: tells a resubmission from another message reusing the id
  body_fingerprint bytea NOT NULL,
  CONSTRAINT inbound_messages_sender_document_key UNIQUE (sender_oin, document_id)
);
-- Messages are a few KB: keep them in the row, uncompressed, instead of compressing them into TOAST
-- (measured: less PostgreSQL CPU per accepted message).
ALTER TABLE inbound_messages SET (toast_tuple_target = 8160);

-- Accepted messages that still need processing. A row lives until processing commits; the sweeper
-- re-enqueues rows without a live job, so Redis never holds the only copy of the work.
CREATE TABLE processing_outbox (
  message_id  bigint PRIMARY KEY REFERENCES inbound_messages (id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now()
);
