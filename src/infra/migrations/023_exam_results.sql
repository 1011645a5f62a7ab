-- Exam results (the handleiding's Onderwijs Resultaat-register) and the diplomas they give. One row per
-- exam result stand per pupil, BRIN and examenresultaatvolgnummer; a newer stand replaces it whole.
-- uitslag and uitslag_date are empty while a result has no uitslag yet (school exam or central exam
-- results only, a spread exam's first year): the handleiding stores those too.
CREATE TABLE exam_results (
  id                         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  brin                       text NOT NULL,
  examenresultaatvolgnummer  text NOT NULL,
  pgn                        text NOT NULL,        -- same as enrolments.pgn
  onderwijsaanbieder         text NOT NULL,        -- RIO code
  level                      text NOT NULL,        -- the delivered niveau code (VMBO_TL, HAVO, VWO, ...)
  uitslag                    text,                 -- the delivered uitslag code (G geslaagd, A afgewezen, T teruggetrokken)
  uitslag_date               date,
  uitslag_stored_at          timestamptz,          -- when an uitslag came into the register; kept while one stays (E0019)
  document_time              timestamptz NOT NULL,
  result                     jsonb NOT NULL,       -- the whole stand: vakken with cijfers/beoordeling, combinatiecijfer, werkstuk ...
  source_message_id          bigint NOT NULL,
  updated_at                 timestamptz NOT NULL DEFAULT now(),
  UNIQUE (brin, examenresultaatvolgnummer, pgn),
  CHECK ((uitslag IS NULL) = (uitslag_date IS NULL)),
  CHECK ((uitslag IS NULL) = (uitslag_stored_at IS NULL))
);
CREATE INDEX exam_results_pgn_idx ON exam_results (pgn);

-- A passed result is a diploma in the register.
CREATE TABLE diplomas (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  pgn             text NOT NULL,
  brin            text NOT NULL,
  level           text NOT NULL,
  diploma_date    date NOT NULL,
  subjects        jsonb NOT NULL,                  -- [{ vak, eindcijfer?, beoordeling? }]
  exam_result_id  bigint NOT NULL UNIQUE REFERENCES exam_results (id) ON DELETE CASCADE
);
CREATE INDEX diplomas_pgn_idx ON diplomas (pgn);

-- Stands in for RIO's level of an opleiding (elementcode), for the exam check "level differs from the
-- enrolment". Loaded by the CLI (`rio niveaus`), seeded for the demo; a code without a row is not checked.
CREATE TABLE rio_opleiding_niveaus (
  opleidingcode text PRIMARY KEY,
  niveau        text NOT NULL CHECK (niveau ~ '^[A-Z0-9_]{1,70}$'),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
