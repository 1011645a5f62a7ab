-- The register the processing worker maintains, and the outbound messages it produces.

ALTER TABLE institutions ADD COLUMN paused boolean NOT NULL DEFAULT false;

-- Processing result of each inbound message (NULL while it waits in processing_outbox).
ALTER TABLE inbound_messages
  ADD COLUMN processed_at timestamptz,
  ADD COLUMN outcome text CHECK (outcome IN ('approved', 'rejected', 'unchanged', 'older', 'identified', 'not-identified'));

-- Stands in for the population register (BRP): loaded by the CLI, seeded for the demo.
CREATE TABLE population_register (
  bsn           text PRIMARY KEY CHECK (bsn ~ '^[0-9]{9}$'),
  birth_date    text NOT NULL,          -- xs:date, or a partial date with 00 parts
  gender        text NOT NULL CHECK (gender IN ('1', '2', '3')),
  surname       text NOT NULL,
  prefixes      text,
  first_names   text,
  address       jsonb,                  -- {binnenlandsAdres: {...}} or {buitenlandsAdres: {...}}
  date_of_death date,
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- People without a BSN, identified by the broker and given an onderwijsnummer.
CREATE TABLE assigned_persons (
  onderwijsnummer text PRIMARY KEY CHECK (onderwijsnummer ~ '^[0-9]{9}$'),
  birth_date      text NOT NULL,
  gender          text NOT NULL,
  surname         text NOT NULL,
  prefixes        text,
  first_names     text,
  address         jsonb,
  match_key       text NOT NULL,        -- normalised name + birth date + address, to find them again
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assigned_persons_match_idx ON assigned_persons (match_key);
-- 8-digit prefixes of onderwijsnummers the broker assigns (check digit added in code); ours start at 7.
CREATE SEQUENCE onderwijsnummer_candidates START 70000000 MAXVALUE 99999999;

-- The current stand of each enrolment (the whole state, replaced per stand).
CREATE TABLE enrolments (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  brin               text NOT NULL,
  inschrijvingvolgnummer text NOT NULL,
  pgn                text NOT NULL,
  datum_inschrijving date NOT NULL,
  datum_uitschrijving date,
  document_time      timestamptz NOT NULL,
  stand              jsonb NOT NULL,
  source_message_id  bigint NOT NULL REFERENCES inbound_messages (id),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT enrolments_brin_volgnummer_key UNIQUE (brin, inschrijvingvolgnummer)
);
CREATE INDEX enrolments_pgn_idx ON enrolments (pgn);

-- Messages for institutions' endpoints. One wsa:MessageID per message, kept across every attempt.
CREATE TABLE outbound_messages (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  institution_oin   text NOT NULL REFERENCES institutions (oin),
  brin              text,
  operation         text NOT NULL,
  wsa_message_id    uuid NOT NULL UNIQUE,
  document_id       uuid NOT NULL,
  body_xml          text NOT NULL,
  cause_message_id  bigint REFERENCES inbound_messages (id),
  status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'error', 'purged')),
  attempts          integer NOT NULL DEFAULT 0,
  last_error        text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  delivered_at      timestamptz
);
CREATE INDEX outbound_messages_institution_status_idx ON outbound_messages (institution_oin, status, created_at);
CREATE INDEX outbound_messages_pending_idx ON outbound_messages (id) WHERE status = 'pending';

-- Every delivery attempt, for the timeline an operator inspects.
CREATE TABLE delivery_attempts (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  outbound_id  bigint NOT NULL REFERENCES outbound_messages (id) ON DELETE CASCADE,
  attempt      integer NOT NULL,
  started_at   timestamptz NOT NULL,
  endpoint     text NOT NULL,
  http_status  integer,
  fault_code   text,
  latency_ms   integer NOT NULL,
  outcome      text NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed')),
  error        text
);
CREATE INDEX delivery_attempts_outbound_idx ON delivery_attempts (outbound_id, attempt);
