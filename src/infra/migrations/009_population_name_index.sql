-- Identification without a BSN looks people up by surname and birth date. Without an index that read
-- the whole population register per message; the pipeline's plans are cached and held to index
-- lookups (createPool's `key-lookups`), and this gives that lookup one.
CREATE INDEX population_register_name_idx ON population_register (birth_date, lower(surname));
