/** Bulk replay and purge run in batches, report progress per batch, and leave what others moved alone. */

import { purgeErrorQueue, replayErrorQueue } from '../../src/operator/operator-actions.js';
import { listAudit } from '../../src/store/audit.repo.js';
import { insertOutbound } from '../../src/store/register.repo.js';
import { useTestBroker } from '../support/broker.js';

describe('bulk operator actions', () => {
  const broker = useTestBroker();
  const deps = () => ({ pool: broker().pool });

  async function errorRows(count: number, tag: string): Promise<number[]> {
    const client = await broker().pool.connect();
    try {
      const ids = (
        await insertOutbound(
          client,
          Array.from({ length: count }, (_, n) => ({
            institutionOin: '0000000700025BE00000',
            brin: '25BE',
            operation: 'terugkoppelenInschrijvingVO',
            wsaMessageId: `00000000-0000-4000-8${tag}-${String(n).padStart(12, '0')}`,
            documentId: `00000000-0000-4000-9${tag}-${String(n).padStart(12, '0')}`,
            bodyXml: '<x/>',
            causeMessageId: null,
          })),
        )
      ).map((row) => row.id);
      await client.query("UPDATE outbound_messages SET status = 'error', last_error = 'HTTP 503' WHERE id = ANY($1)", [
        ids,
      ]);
      return ids;
    } finally {
      client.release();
    }
  }

  test('replay of 5 in batches of 2: progress after each batch, each due at once with a fresh set of retries, one audit row with all ids', async () => {
    const ids = await errorRows(5, '001');
    const progress: string[] = [];
    const replayed = await replayErrorQueue(
      deps(),
      'test:bulk',
      { fault: '503' },
      { batchSize: 2, onProgress: (done, total) => progress.push(`${done}/${total}`) },
    );
    expect(replayed).toEqual(ids);
    expect(progress).toEqual(['0/5', '2/5', '4/5', '5/5']);
    const rows = (
      await broker().pool.query(
        'SELECT status, next_attempt_at <= now() AS due, attempts = replayed_attempts AS fresh FROM outbound_messages WHERE id = ANY($1)',
        [ids],
      )
    ).rows;
    expect(rows).toEqual(ids.map(() => ({ status: 'pending', due: true, fresh: true })));
    const [audit] = await listAudit(broker().pool, { limit: 1 });
    expect(audit).toMatchObject({
      actor: 'test:bulk',
      action: 'errors.replay',
      affected: 5,
      dryRun: false,
      target: { fault: '503' },
      outboundIds: ids,
    });
  });

  test('a dry run counts without changing; a message that left the error queue meanwhile is not purged', async () => {
    const ids = await errorRows(3, '002');
    expect(await purgeErrorQueue(deps(), 'test:bulk', { ids }, { dryRun: true })).toEqual(ids);
    await broker().pool.query("UPDATE outbound_messages SET status = 'pending' WHERE id = $1", [ids[2]]);
    expect(await purgeErrorQueue(deps(), 'test:bulk', { ids }, { batchSize: 1 })).toEqual(ids.slice(0, 2));
    const statuses = (
      await broker().pool.query('SELECT status FROM outbound_messages WHERE id = ANY($1) ORDER BY id', [ids])
    ).rows.map((r) => r.status);
    expect(statuses).toEqual(['purged', 'purged', 'pending']);
    const [last, dry] = await listAudit(broker().pool, { limit: 2, action: 'errors.purge' });
    expect([last!.affected, last!.dryRun, dry!.affected, dry!.dryRun]).toEqual([2, false, 3, true]);
  });
});
