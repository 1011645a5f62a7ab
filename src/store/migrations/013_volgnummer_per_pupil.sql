-- DUO's handleiding: an inschrijvingvolgnummer is unique per pupil and BRIN, not per BRIN, so two
-- pupils at one school may both have volgnummer 1. The key becomes (pgn, brin, volgnummer); with the
-- PGN leading, the same index serves "every enrolment of this pupil", and the old pgn index goes.
-- Exam results will carry their own volgnummer under the same rule and get a key of this shape.
LOCK TABLE enrolments IN ACCESS EXCLUSIVE MODE;
CREATE UNIQUE INDEX enrolments_pupil_brin_volgnummer_key ON enrolments (pgn, brin, inschrijvingvolgnummer);
ALTER TABLE enrolments DROP CONSTRAINT enrolments_brin_volgnummer_key;
DROP INDEX enrolments_pgn_idx;
