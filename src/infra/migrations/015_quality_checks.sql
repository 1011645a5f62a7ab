-- The weekly quality checks (docs/signalen.md, "Kwaliteitscontrole").

-- One row per run, written in the run's own transaction: a run that dies leaves no row, so its slot
-- is run again. A scheduled run's key is its slot ('schedule:<ISO time>'), so each slot runs once
-- across every broker process; an operator's run has a key of its own.
CREATE TABLE quality_runs (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_key       text NOT NULL UNIQUE,
  trigger       text NOT NULL CHECK (trigger IN ('schedule', 'operator')),
  actor         text,
  check_date    date NOT NULL,
  started_at    timestamptz NOT NULL,
  finished_at   timestamptz NOT NULL,
  pupils        integer NOT NULL,
  signals       integer NOT NULL,
  notified      integer NOT NULL
);

-- The signals the latest run found, one row per enrolment (pupil, school, volgnummer: a volgnummer is
-- unique per pupil and BRIN only, as in enrolments) and code. pgn is the number the enrolment is stored
-- under, pgn_kind whether it is a BSN or an onderwijsnummer: the school's report names the pupil with
-- it; operators see it masked. `detail` keeps two signals of one code on one enrolment apart (the
-- sleutelgegevens, as text). A signal the latest run did not find again is deleted at its end;
-- first_seen survives as long as the signal does. The key leads with the BRIN: reports and listings
-- read per school.
CREATE TABLE quality_signals (
  brin                   text NOT NULL,
  inschrijvingvolgnummer text NOT NULL,
  pgn                    text NOT NULL,
  pgn_kind               text NOT NULL CHECK (pgn_kind IN ('BSN', 'OWN')),
  code                   text NOT NULL,
  detail                 text NOT NULL,
  sleutelgegevens        jsonb NOT NULL,
  first_seen             timestamptz NOT NULL,
  last_seen              timestamptz NOT NULL,
  last_run_id            bigint NOT NULL,
  PRIMARY KEY (brin, inschrijvingvolgnummer, pgn, code, detail)
);
CREATE INDEX quality_signals_run_idx ON quality_signals (last_run_id);
