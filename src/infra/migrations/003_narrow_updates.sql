-- Rows that change after insert are kept narrow: on this write path PostgreSQL's cost follows the
-- bytes each UPDATE rewrites (a new row version plus its WAL), and an UPDATE copies the whole row.

-- Processing outcomes get their own table: updating inbound_messages rewrote its ~3 KB row per message.
CREATE TABLE processing_results (
  message_id   bigint PRIMARY KEY REFERENCES inbound_messages (id),
  processed_at timestamptz NOT NULL DEFAULT now(),
  outcome      text NOT NULL CHECK (outcome IN ('approved', 'rejected', 'unchanged', 'older', 'identified', 'not-identified'))
);
INSERT INTO processing_results (message_id, processed_at, outcome)
  SELECT id, processed_at, outcome FROM inbound_messages WHERE processed_at IS NOT NULL;
ALTER TABLE inbound_messages DROP COLUMN processed_at, DROP COLUMN outcome;

-- Outbound bodies are stored out of line, so a status change rewrites a small row, not the message.
ALTER TABLE outbound_messages SET (toast_tuple_target = 128);
ALTER TABLE outbound_messages ALTER COLUMN body_xml SET STORAGE EXTERNAL;
