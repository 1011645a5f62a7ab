-- A wsa:MessageID names one message: a sender that reuses it for another message is told so (Client.EK0036)
-- instead of having that message accepted as new. The MessageID is kept as a uuid (`urn:uuid:` dropped, so
-- both spellings are one id), unique per sender, and checked by the accept statement's own insert: no
-- extra round trip for a message whose ids are new. Rows stored before this migration keep NULL here
-- (they may hold such reuses already, and NULLs never conflict), so only MessageIDs accepted from now on
-- are held to it; adding a column without a default rewrites no row.
ALTER TABLE inbound_messages ADD COLUMN wsa_message_uuid uuid;
CREATE UNIQUE INDEX inbound_messages_sender_message_key ON inbound_messages (sender_oin, wsa_message_uuid);
