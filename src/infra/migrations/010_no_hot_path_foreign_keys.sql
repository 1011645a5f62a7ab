-- Foreign keys on the tables written for every message cost more than they guard. Each inserted row
-- checks its reference with a KEY SHARE lock on the referenced row: an index lookup, a lock record in
-- the WAL and a rewritten heap page, several per message; on an institution's row, locked by every
-- message to it from concurrent transactions, a multixact. The broker writes each referencing row in
-- the statement or transaction that produces its reference, or after that commit, and never deletes
-- inbound messages, outbound messages or institutions (a purge is a status), so the references hold
-- without the checks. With them go the two ON DELETE CASCADEs (outbox rows and attempts of a deleted
-- message): a manual clean-up deletes those rows itself.
--
-- Dropping a foreign key locks both its table and the referenced one exclusively. All of them are
-- locked first, in the order the accept path takes them (inbound messages, then the outbox), so a
-- broker accepting during the upgrade waits instead of deadlocking with this migration.
LOCK TABLE inbound_messages, processing_outbox, processing_results, enrolments, institutions, outbound_messages, delivery_attempts IN ACCESS EXCLUSIVE MODE;
ALTER TABLE processing_outbox DROP CONSTRAINT processing_outbox_message_id_fkey;
ALTER TABLE processing_results DROP CONSTRAINT processing_results_message_id_fkey;
ALTER TABLE enrolments DROP CONSTRAINT enrolments_source_message_id_fkey;
ALTER TABLE outbound_messages DROP CONSTRAINT outbound_messages_institution_oin_fkey;
ALTER TABLE outbound_messages DROP CONSTRAINT outbound_messages_cause_message_id_fkey;
ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_outbound_id_fkey;
