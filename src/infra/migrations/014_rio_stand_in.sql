-- Stands in for RIO: which onderwijslocaties belong to which vestiging, and for which days. Loaded by
-- the CLI (`rio load`), seeded for the demo. A vestiging without rows is not checked at all.
CREATE TABLE rio_onderwijslocaties (
  vestiging        text NOT NULL CHECK (vestiging ~ '^[0-9]{2}[A-Z]{2}[0-9]{2}$'),
  onderwijslocatie text NOT NULL CHECK (onderwijslocatie ~ '^[0-9]{3}X[0-9]{3}$'),
  datum_begin      date,                -- first day of the link; NULL: always
  datum_einde      date,                -- last day of the link; NULL: open-ended
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (vestiging, onderwijslocatie),
  CHECK (datum_einde IS NULL OR datum_begin IS NULL OR datum_einde >= datum_begin)
);
