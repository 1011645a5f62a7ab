/**
 * The pieces that keep Server.DK0051 true: PostgreSQL refuses to commit an accept statement past its
 * deadline, and the outcome check waits for a commit that passed that check and sees what is final.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { settleCommitOutcome } from '../../src/accept/accept-outcome.js';
import { createPool, type Pool } from '../../src/infra/database.js';
import { migrate } from '../../src/infra/migrate.js';
import { type AcceptedMessage, storeAcceptedBatch } from '../../src/store/inbound-messages.repo.js';
import { createTestDatabase } from '../support/services.js';

const message = (documentId: string = randomUUID()): AcceptedMessage => ({
  contract: 'DUO_VOAanlevering_InschrijvingVO_V1',
  operation: 'aanleverenInschrijvingVO',
  senderOin: '0000000700025BE00000',
  brin: '25BE',
  documentId,
  documentTime: '2026-09-01T10:00:00Z',
  wsaMessageId: `urn:uuid:${randomUUID()}`,
  requestId: randomUUID(),
  receiptId: randomUUID(),
  receiptAt: new Date(),
  rawXml: `<x id="${documentId}"/>`,
});

const inFuture = (ms: number): Date => new Date(Date.now() + ms);

describe('the accept statement’s commit deadline and the outcome check', () => {
  let url: string;
  let pool: Pool;

  beforeAll(async () => {
    url = await createTestDatabase();
    pool = createPool(url, 4);
    await migrate(pool);
  });
  afterAll(async () => {
    await pool.end();
  });

  const stored = async (m: AcceptedMessage): Promise<boolean> =>
    (
      await pool.query('SELECT 1 FROM inbound_messages WHERE sender_oin = $1 AND document_id = $2', [
        m.senderOin,
        m.documentId,
      ])
    ).rowCount === 1;

  test('a statement reaching the server after its deadline stores nothing and fails with an error', async () => {
    const m = message();
    await expect(storeAcceptedBatch(pool, [m], randomUUID(), -1)).rejects.toMatchObject({ code: 'BB051' });
    expect(await stored(m)).toBe(false);
  });

  test('a transaction that passed its statement before the deadline but commits after it is rolled back', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        'INSERT INTO accept_deadlines VALUES (pg_backend_pid(), $1) ON CONFLICT (backend_pid) DO UPDATE SET deadline = EXCLUDED.deadline',
        [inFuture(200)],
      );
      await client.query('SELECT pg_sleep(0.3)');
      await expect(client.query('COMMIT')).rejects.toMatchObject({ code: 'BB051' });
    } finally {
      await client.end();
    }
  });

  test('within its deadline a statement stores as before; the check then reports it stored, new, with its receipt', async () => {
    const [m, absent] = [message(), message()];
    const deadline = inFuture(300);
    const [receipt] = await storeAcceptedBatch(pool, [m], randomUUID(), 300);
    // The check waits for the server's clock to pass the deadline before it answers.
    const outcome = await settleCommitOutcome(pool, [m, absent], deadline, 5000);
    expect(Date.now()).toBeGreaterThanOrEqual(deadline.getTime());
    expect(outcome).toEqual([{ ...(receipt as object), isNew: true }, null]);
  });

  test('the check waits for a transaction that passed the commit-time check and has not finished, and sees it committed', async () => {
    const m = message();
    const committer = new pg.Client({ connectionString: url });
    await committer.connect();
    try {
      // Where a committing accept transaction is between its check (lock held shared) and its commit.
      await committer.query('BEGIN');
      await committer.query('SELECT pg_advisory_xact_lock_shared(1112691534, 51)');
      await committer.query(
        `INSERT INTO inbound_messages (contract, operation, sender_oin, brin, document_id, document_time, wsa_message_id, request_id, receipt_id, receipt_at, raw_xml)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
          m.contract,
          m.operation,
          m.senderOin,
          m.brin,
          m.documentId,
          m.documentTime,
          m.wsaMessageId,
          m.requestId,
          m.receiptId,
          m.receiptAt,
          m.rawXml,
        ],
      );
      const settling = settleCommitOutcome(pool, [m], new Date(Date.now() - 1), 5000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await committer.query('COMMIT');
      const [outcome] = (await settling)!;
      expect(outcome).toMatchObject({ receiptId: m.receiptId, isNew: true });
    } finally {
      await committer.end();
    }
  });

  test('a message stored by another request counts as a duplicate with its original', async () => {
    const first = message();
    await storeAcceptedBatch(pool, [first], randomUUID());
    const again = { ...message(first.documentId), rawXml: first.rawXml };
    const [outcome] = (await settleCommitOutcome(pool, [again], new Date(Date.now() - 1), 5000))!;
    expect(outcome).toMatchObject({
      receiptId: first.receiptId,
      isNew: false,
      original: { operation: first.operation, rawXml: first.rawXml },
    });
  });
});
