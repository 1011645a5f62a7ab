-- Each processed message records two delivery attempts. Attempts are only ever read by their
-- message, in attempt order: the (outbound_id, attempt) index serves that. The surrogate id and its
-- primary-key index went unused, and cost an index entry per attempt. (Not made the primary key:
-- older code could record two attempts with one number, and an audit row is never dropped.)
ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_pkey;
ALTER TABLE delivery_attempts DROP COLUMN id;
