-- Every delivery changes an outbound message's status, and a status change is not a HOT update: each
-- index gets a new entry. (institution_oin, status, created_at) served only queries that the partial
-- indexes on pending and error rows (and the BRIN on delivered_at) now serve, so it goes.
DROP INDEX outbound_messages_institution_status_idx;
