-- DUO's handleiding: a school may run several administrations, each with its own OIN (the
-- "administratie OIN"), and every message about an enrolment goes to the administration that delivered
-- it. Each enrolment therefore keeps the OIN that delivered its current stand; pushes about it go there.
-- Existing rows take the sender of the message that delivered their stand (kept for ever: inbound
-- messages are never deleted), or, where that row is gone, the institution that received their pushes
-- until now. NULL only when neither is known: processing then falls back to the BRIN's institution.
LOCK TABLE enrolments IN ACCESS EXCLUSIVE MODE;
ALTER TABLE enrolments ADD COLUMN administration_oin text;
UPDATE enrolments e SET administration_oin = coalesce(
  (SELECT m.sender_oin FROM inbound_messages m WHERE m.id = e.source_message_id),
  (SELECT i.oin FROM institutions i WHERE e.brin = ANY (i.brins)
    ORDER BY i.enabled DESC, (i.endpoint_url IS NOT NULL) DESC, i.oin LIMIT 1));
