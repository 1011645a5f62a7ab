-- Per institution: whether its receipts (the answers to the broker's pushes) must carry a valid
-- WS-Security signature by a certificate with its OIN; off until an operator turns it on.
ALTER TABLE institutions ADD COLUMN verify_receipt_signature boolean NOT NULL DEFAULT false;
