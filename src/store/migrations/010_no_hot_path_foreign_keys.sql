-- Foreign keys on the tables written for every message cost more than they guard. Each inserted row
-- checks its reference with a KEY SHARE lock on the referenced row: an index lookup, a lock record in
-- the WAL and a rewritten heap page, several per message; on an institution's row, locked by every
-- message to it from concurrent transactions, a multixact. The broker writes each referencing row in
-- the statement or transaction that produces its reference, or after that commit, and never deletes
-- inbound messages, outbound messages or institutions (a purge is a status), so the references hold
-- without the checks. Tables written only by operators keep theirs.
ALTER TABLE processing_outbox DROP CONSTRAINT processing_outbox_message_id_fkey;
ALTER TABLE processing_results DROP CONSTRAINT processing_results_message_id_fkey;
ALTER TABLE enrolments DROP CONSTRAINT enrolments_source_message_id_fkey;
ALTER TABLE outbound_messages DROP CONSTRAINT outbound_messages_institution_oin_fkey;
ALTER TABLE outbound_messages DROP CONSTRAINT outbound_messages_cause_message_id_fkey;
ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_outbound_id_fkey;
