-- The population register's stand-in learns what the real register knows from PO and VO data: the day
-- a pupil was first enrolled at a PO or VO school in the Netherlands. The nieuwkomers indication is
-- counted from it; NULL means the stand-in does not know it (the broker then derives no nieuwkomer).
ALTER TABLE population_register ADD COLUMN first_enrolment_po_vo date;
