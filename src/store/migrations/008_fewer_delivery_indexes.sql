-- Each processed message queues two outbound rows and records two attempts; every btree entry on
-- those rows is written again by the (non-HOT) status update. These two indexes did not earn that.

-- A message's pushes are looked up by their cause only in an operator's trace. Outbound rows are
-- written in processing order, so cause ids climb with the table and a BRIN finds them: a few
-- block ranges instead of a btree entry per row and per status change.
DROP INDEX outbound_messages_cause_idx;
CREATE INDEX outbound_messages_cause_brin ON outbound_messages USING brin (cause_message_id);

-- Attempts are only ever read by their message, in attempt order: that is the key. The surrogate
-- id (and its index) went unused.
ALTER TABLE delivery_attempts DROP CONSTRAINT delivery_attempts_pkey;
ALTER TABLE delivery_attempts DROP COLUMN id;
DROP INDEX delivery_attempts_outbound_idx;
ALTER TABLE delivery_attempts ADD PRIMARY KEY (outbound_id, attempt);
