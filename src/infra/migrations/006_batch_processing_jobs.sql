-- The accept path adds one processing job per group commit instead of one per message. Each outbox row
-- names that job, so the sweeper can tell a row whose batch job still lives from one that lost its job.
-- NULL: the row's job is the per-message one (`msg-<id>`: sweeper, CLI, rows from before this change).
ALTER TABLE processing_outbox ADD COLUMN job_key text;
