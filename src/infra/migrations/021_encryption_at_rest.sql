-- Stored messages sealed at rest (AES-256-GCM, src/infra/data-keys.ts): iv ‖ tag ‖ ciphertext in the
-- *_sealed column and the id of the key in *_key_id; the text column then stays NULL. Rows written
-- without a key (development, or before this migration) keep their text and a NULL key id.
ALTER TABLE inbound_messages
  ALTER COLUMN raw_xml DROP NOT NULL,
  ADD COLUMN raw_xml_sealed bytea,
  ADD COLUMN raw_xml_key_id text;
-- NOT VALID: checked for every new or changed row, without reading the whole archive now.
ALTER TABLE inbound_messages ADD CONSTRAINT inbound_messages_raw_xml_one_form
  CHECK (CASE WHEN raw_xml_key_id IS NULL THEN raw_xml IS NOT NULL AND raw_xml_sealed IS NULL
              ELSE raw_xml IS NULL AND raw_xml_sealed IS NOT NULL END) NOT VALID;
-- Ciphertext does not compress: keep it in the row like the text was (migration 001).
ALTER TABLE inbound_messages ALTER COLUMN raw_xml_sealed SET STORAGE EXTERNAL;

ALTER TABLE outbound_messages
  ALTER COLUMN body_xml DROP NOT NULL,
  ADD COLUMN body_xml_sealed bytea,
  ADD COLUMN body_xml_key_id text;
ALTER TABLE outbound_messages ADD CONSTRAINT outbound_messages_body_xml_one_form
  CHECK (CASE WHEN body_xml_key_id IS NULL THEN body_xml IS NOT NULL AND body_xml_sealed IS NULL
              ELSE body_xml IS NULL AND body_xml_sealed IS NOT NULL END) NOT VALID;
-- Out of line like body_xml (migration 003): delivery state updates do not rewrite the body.
ALTER TABLE outbound_messages ALTER COLUMN body_xml_sealed SET STORAGE EXTERNAL;
-- No index on the key ids: `keys rotate` walks the tables by id, so the accept path pays for no extra index.
