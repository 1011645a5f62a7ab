-- Prior education for MBO institutions (docs/prior-education.md).
-- A subscription: an institution's administration (OIN) and BRIN follow one pupil's prior education for
-- nine months. ends_at is computed once, at the start, by the broker (src/register/prior-education/subscription.ts:
-- nine months on the Dutch wall clock, a month end clamped). An ended row is kept, with why it ended.
CREATE TABLE prior_education_subscriptions (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  institution_oin   text NOT NULL,
  brin              text NOT NULL,
  pgn               text NOT NULL,                        -- as the request named the pupil
  pgn_kind          text NOT NULL CHECK (pgn_kind IN ('BSN', 'OWN')), -- which element the request used
  started_at        timestamptz NOT NULL,
  ends_at           timestamptz NOT NULL,
  ended_at          timestamptz,
  end_reason        text CHECK (end_reason IN ('stopped', 'registration_ended', 'expired', 'administration_changed')),
  source_message_id bigint NOT NULL,                      -- the request that started it
  pushed_digest     text,                                 -- SHA-256 of the picture last sent: an unchanged one is not sent again
  CHECK ((ended_at IS NULL) = (end_reason IS NULL)),
  CHECK (ends_at > started_at)
);
-- One running subscription per administration, BRIN and pupil; a new request while one runs keeps it.
CREATE UNIQUE INDEX prior_education_subscriptions_active_idx
  ON prior_education_subscriptions (institution_oin, brin, pgn) WHERE ended_at IS NULL;
-- Processing looks up the running subscriptions of the pupils a batch touches.
CREATE INDEX prior_education_subscriptions_pgn_idx ON prior_education_subscriptions (pgn) WHERE ended_at IS NULL;
-- The expiry job walks the running ones by their end.
CREATE INDEX prior_education_subscriptions_ends_idx ON prior_education_subscriptions (ends_at) WHERE ended_at IS NULL;
-- Operators list them per administration or per BRIN, newest first.
CREATE INDEX prior_education_subscriptions_institution_idx ON prior_education_subscriptions (institution_oin, started_at);
CREATE INDEX prior_education_subscriptions_brin_idx ON prior_education_subscriptions (brin, started_at);

