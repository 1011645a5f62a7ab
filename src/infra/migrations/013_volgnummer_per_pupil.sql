-- DUO's handleiding: an inschrijvingvolgnummer is unique per pupil and BRIN, not per BRIN, so two
-- pupils at one school may both have volgnummer 1. The key becomes (pgn, brin, volgnummer); with the
-- PGN leading, the same index serves "every enrolment of this pupil", and the old pgn index goes.
-- Exam results will carry their own volgnummer under the same rule and get a key of this shape.
LOCK TABLE enrolments IN ACCESS EXCLUSIVE MODE;
CREATE UNIQUE INDEX enrolments_pupil_brin_volgnummer_key ON enrolments (pgn, brin, inschrijvingvolgnummer);
ALTER TABLE enrolments DROP CONSTRAINT enrolments_brin_volgnummer_key;
DROP INDEX enrolments_pgn_idx;

-- A pupil first enrolled with an onderwijsnummer and later identified with a BSN is one pupil from
-- then on: the onderwijsnummer resolves to the BSN. Enrolments keep the number they were delivered
-- with; processing reads a pupil's enrolments under every number linked here (index lookups both ways).
CREATE TABLE pupil_links (
  onderwijsnummer text PRIMARY KEY,
  bsn             text NOT NULL,
  linked_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pupil_links_bsn_idx ON pupil_links (bsn);
