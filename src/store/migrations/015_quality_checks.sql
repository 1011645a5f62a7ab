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

-- The signals the latest run found, per school and enrolment; never a personal number. `detail` keeps
-- two signals of one code on one enrolment apart (the sleutelgegevens, as text). A signal the latest
-- run did not find again is deleted at its end; first_seen survives as long as the signal does.
CREATE TABLE quality_signals (
  brin                   text NOT NULL,
  inschrijvingvolgnummer text NOT NULL,
  code                   text NOT NULL,
  detail                 text NOT NULL,
  sleutelgegevens        jsonb NOT NULL,
  first_seen             timestamptz NOT NULL,
  last_seen              timestamptz NOT NULL,
  last_run_id            bigint NOT NULL,
  PRIMARY KEY (brin, inschrijvingvolgnummer, code, detail)
);
CREATE INDEX quality_signals_run_idx ON quality_signals (last_run_id);
