/**
 * /metrics after a known workload: accepted, duplicate and rejected requests by fault code,
 * processing, delivery attempts by institution and outcome, latency histograms, queue and
 * error-queue gauges, sweeper re-enqueues.
 */
import { collectStats } from '../../src/operator/stats.js';
import { insertOutbound } from '../../src/store/register.repo.js';
import { waitFor } from '../support/broker.js';
import { errorQueued, oinOf, outboundOf, sendEnrolment, useBrokerWithSchools } from '../support/console.js';
import { sample, scrape } from '../support/metrics-text.js';
import { bodyFixture, lasRequest, send } from '../support/soap.js';
import { BODY_XML_COLUMNS, withOpenedBodies } from '../support/stored-text.js';

describe('metrics', () => {
  const { broker, endpoints } = useBrokerWithSchools(['51AA', '52AA', '53AA']);

  test('counters, histograms and gauges after a known workload', async () => {
    const before = await scrape(broker().baseUrl);
    const delta = (after: string, name: string, labels: Record<string, string> = {}): number =>
      sample(after, name, labels) - sample(before, name, labels);

    // 3 accepted and delivered at once; 1 duplicate of one of them.
    const first = bodyFixture('valid/aanleverenInschrijvingVO.xml')
      .replace(/25BE/g, '51AA')
      .replace(/2026-0001/g, 'M-1');
    const firstRequest = lasRequest('aanleverenInschrijvingVO', first, {
      from: `http://www.w3.org/2005/08/addressing/anonymous?oin=${oinOf('51AA')}`,
    });
    expect((await send(broker().baseUrl, firstRequest)).status).toBe(200);
    expect((await send(broker().baseUrl, firstRequest)).status).toBe(200);
    for (const n of [2, 3]) await sendEnrolment(broker(), '51AA', `M-${n}`);
    // 2 rejected: a schema error and an unknown sender.
    const badBrin = await send(
      broker().baseUrl,
      lasRequest('aanleverenInschrijvingVO', bodyFixture('invalid/brin-lowercase.xml')),
    );
    const stranger = await send(
      broker().baseUrl,
      lasRequest('aanleverenInschrijvingVO', bodyFixture('valid/aanleverenInschrijvingVO.xml'), {
        from: 'http://www.w3.org/2005/08/addressing/anonymous?oin=00000009999999990000',
      }),
    );
    expect([badBrin.status, stranger.status]).toEqual([500, 500]);
    // 1 delivered after a retry; 1 refused with a Client fault (error queue).
    endpoints().script('52AA', 'server-error');
    await outboundOf(broker(), await sendEnrolment(broker(), '52AA', 'M-4'), 'delivered');
    await errorQueued(broker(), endpoints(), '53AA', 'M-5');
    await waitFor(
      async () =>
        (await broker().pool.query("SELECT count(*)::int AS n FROM outbound_messages WHERE status = 'delivered'"))
          .rows[0].n,
      (n) => n === 4,
    );
    // 1 pending row that no process offered (a copy of a delivered feedback): only a poll of PostgreSQL finds it.
    const bodyXml = withOpenedBodies(
      broker().pool,
      (
        await broker().pool.query(
          `SELECT ${BODY_XML_COLUMNS} FROM outbound_messages WHERE institution_oin = $1 LIMIT 1`,
          [oinOf('51AA')],
        )
      ).rows,
    )[0]!.body_xml;
    const client = await broker().pool.connect();
    const [orphan] = await insertOutbound(client, [
      {
        institutionOin: oinOf('51AA'),
        brin: '51AA',
        operation: 'terugkoppelenInschrijvingVO',
        wsaMessageId: '00000000-0000-4000-8000-000000000901',
        documentId: '00000000-0000-4000-8000-000000000902',
        bodyXml,
        causeMessageId: null,
      },
    ]).finally(() => client.release());
    await waitFor(
      async () =>
        (await broker().pool.query('SELECT status FROM outbound_messages WHERE id = $1', [orphan!.id])).rows[0].status,
      (s) => s === 'delivered',
    );

    // The latency histogram is observed after the attempt's record: wait for it rather than race it.
    const after = await waitFor(
      () => scrape(broker().baseUrl),
      (text) =>
        delta(text, 'bron_delivery_latency_seconds_count') ===
        delta(text, 'bron_delivery_attempts_total', { outcome: 'delivered' }),
    );
    expect(
      delta(after, 'bron_inbound_requests_total', { outcome: 'accepted', operation: 'aanleverenInschrijvingVO' }),
    ).toBe(5);
    expect(delta(after, 'bron_inbound_requests_total', { outcome: 'duplicate' })).toBe(1);
    expect(delta(after, 'bron_inbound_requests_total', { outcome: 'rejected', fault_code: badBrin.faultCode! })).toBe(
      1,
    );
    expect(delta(after, 'bron_inbound_requests_total', { outcome: 'rejected', fault_code: stranger.faultCode! })).toBe(
      badBrin.faultCode === stranger.faultCode ? 2 : 1,
    );
    expect(delta(after, 'bron_inbound_requests_total', { outcome: 'rejected' })).toBe(2);

    expect(delta(after, 'bron_processing_duration_seconds_count')).toBe(5);
    expect(delta(after, 'bron_processing_duration_seconds_count', { result: 'rejected' })).toBe(5);
    expect(delta(after, 'bron_delivery_attempts_total', { institution: oinOf('51AA'), outcome: 'delivered' })).toBe(4); // 3 enrolments + the swept orphan
    expect(delta(after, 'bron_delivery_attempts_total', { institution: oinOf('52AA'), outcome: 'retry' })).toBe(1);
    expect(delta(after, 'bron_delivery_attempts_total', { institution: oinOf('52AA'), outcome: 'delivered' })).toBe(1);
    expect(delta(after, 'bron_delivery_attempts_total', { institution: oinOf('53AA'), outcome: 'failed' })).toBe(1);
    expect(delta(after, 'bron_delivery_attempt_duration_seconds_count')).toBe(
      delta(after, 'bron_delivery_attempts_total'),
    );
    expect(delta(after, 'bron_delivery_latency_seconds_count')).toBe(
      delta(after, 'bron_delivery_attempts_total', { outcome: 'delivered' }),
    );

    expect(sample(after, 'bron_error_queue_messages', { institution: oinOf('53AA') })).toBe(1);
    // A series at 0, not none: an alert on the gauge's delta fires for an institution's first message.
    expect(after).toMatch(new RegExp(`^bron_error_queue_messages\\{institution="${oinOf('51AA')}"\\} 0$`, 'm'));
    expect(sample(after, 'bron_outbound_messages', { status: 'error' })).toBe(1);
    expect(sample(after, 'bron_processing_backlog_messages')).toBe(0);
    expect(sample(after, 'bron_store_up')).toBe(1);
    expect(sample(after, 'bron_processing_error_queue_messages')).toBe(0);
    expect(after).not.toMatch(/queue="delivery"/); // delivery keeps no jobs
    expect(after).toMatch(/^bron_queue_jobs\{queue="processing",state="waiting"\} 0$/m);
  });

  test('paused institutions and queue depths are gauges read at scrape time', async () => {
    await broker().pool.query('UPDATE institutions SET paused = true WHERE oin = $1', [oinOf('52AA')]);
    const text = await scrape(broker().baseUrl);
    expect(sample(text, 'bron_institution_paused', { institution: oinOf('52AA') })).toBe(1);
    expect(sample(text, 'bron_institution_paused')).toBe(1);
  });

  test('the gauges and the operator stats read the same counts', async () => {
    const [text, stats] = [await scrape(broker().baseUrl), await collectStats(broker().pool)];
    expect({
      processingBacklog: sample(text, 'bron_processing_backlog_messages'),
      processingErrors: sample(text, 'bron_processing_error_queue_messages'),
      outboundPending: sample(text, 'bron_outbound_messages', { status: 'pending' }),
      errorQueue: sample(text, 'bron_outbound_messages', { status: 'error' }),
      paused: sample(text, 'bron_institution_paused'),
    }).toEqual({
      processingBacklog: stats.processingBacklog,
      processingErrors: stats.processingErrors,
      outboundPending: stats.outboundPending,
      errorQueue: stats.errorQueue,
      paused: stats.institutions.paused,
    });
    expect(stats.institutions.paused).toBe(1);
  });
});
