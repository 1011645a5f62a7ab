-- Stands in for the MBO and HO registers the broker does not own (docs/prior-education.md): MBO
-- participations and diplomas, HO participations and degrees, loaded by the CLI (`education load`).
-- Prior education reads them under every number of the pupil. A load replaces each named pupil's rows.
CREATE TABLE mbo_participations (
  pgn                  text NOT NULL,                 -- as the file named the pupil (BSN or onderwijsnummer)
  brin                 text NOT NULL CHECK (brin ~ '^[0-9]{2}[A-Z]{2}$'),
  volgnummer           text NOT NULL CHECK (length(volgnummer) BETWEEN 1 AND 20),
  opleidingcode        text NOT NULL,                 -- the crebo code
  niveau               smallint NOT NULL CHECK (niveau BETWEEN 1 AND 4),
  datum_inschrijving   date NOT NULL,
  datum_uitschrijving  date,                          -- its last day; NULL: running
  leerweg              text CHECK (leerweg IN ('BOL', 'BBL')),
  PRIMARY KEY (pgn, brin, volgnummer),
  CHECK (datum_uitschrijving IS NULL OR datum_uitschrijving >= datum_inschrijving)
);
CREATE TABLE mbo_diplomas (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  pgn            text NOT NULL,
  brin           text NOT NULL CHECK (brin ~ '^[0-9]{2}[A-Z]{2}$'),
  opleidingcode  text NOT NULL,                       -- the crebo code
  niveau         smallint NOT NULL CHECK (niveau BETWEEN 1 AND 4),
  datum_diploma  date NOT NULL,
  results        jsonb NOT NULL DEFAULT '[]'          -- [{onderdeel, eindcijfer?, beoordeling?}]
);
CREATE INDEX mbo_diplomas_pgn_idx ON mbo_diplomas (pgn);
CREATE TABLE ho_participations (
  pgn                  text NOT NULL,
  brin                 text NOT NULL CHECK (brin ~ '^[0-9]{2}[A-Z]{2}$'),
  volgnummer           text NOT NULL CHECK (length(volgnummer) BETWEEN 1 AND 20),
  opleidingcode        text NOT NULL,                 -- the CROHO code
  datum_inschrijving   date NOT NULL,
  datum_uitschrijving  date,
  PRIMARY KEY (pgn, brin, volgnummer),
  CHECK (datum_uitschrijving IS NULL OR datum_uitschrijving >= datum_inschrijving)
);
CREATE TABLE ho_degrees (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  pgn            text NOT NULL,
  brin           text NOT NULL CHECK (brin ~ '^[0-9]{2}[A-Z]{2}$'),
  opleidingcode  text NOT NULL,
  graad          text NOT NULL,
  datum_graad    date NOT NULL
);
CREATE INDEX ho_degrees_pgn_idx ON ho_degrees (pgn);
-- Whether the stand-in is in use: from its first load on, it is the MBO and HO register, so a pupil
-- without rows has no MBO or HO education; before it, the broker holds no MBO or HO data at all.
CREATE TABLE education_stand_in (
  singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  first_loaded_at timestamptz NOT NULL DEFAULT now(),
  last_loaded_at  timestamptz NOT NULL DEFAULT now()
);

-- Stands in for RIO's sector of an institution (BRIN): VO, VSO or VAVO. Prior education reports an
-- enrolment at a BRIN the stand-in calls VSO or VAVO as such (with that kind's years covered); a BRIN
-- it does not know stays VO. Loaded by the CLI (`rio sectors`).
CREATE TABLE rio_brin_sectors (
  brin        text PRIMARY KEY CHECK (brin ~ '^[0-9]{2}[A-Z]{2}$'),
  sector      text NOT NULL CHECK (sector IN ('VO', 'VSO', 'VAVO')),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
