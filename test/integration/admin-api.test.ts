/**
 * The admin HTTP API over a running broker and pipeline: bearer-token authorisation (none → 401,
 * read-only → 403 on actions), the CLI's operations over HTTP, the audit, readiness and the
 * dashboard's files with their security headers.
 */
import { waitFor } from '../support/broker.js';
import {
  errorQueued,
  oinOf,
  outboundOf,
  processed,
  processingErrorQueued,
  sendEnrolment,
  unprocessable,
  useBrokerWithSchools,
} from '../support/console.js';
import { TEST_SECRETS } from '../support/operator-secrets.js';

const READ = TEST_SECRETS.ADMIN_READ_TOKEN;
const OPERATOR = TEST_SECRETS.ADMIN_OPERATOR_TOKEN;

describe('admin API', () => {
  const { broker, endpoints } = useBrokerWithSchools(['41AA', '42AA']);

  async function call(
    path: string,
    options: { token?: string; method?: string; body?: unknown; name?: string } = {},
  ): Promise<{ status: number; body: any; headers: Headers }> {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.name) headers['x-operator-name'] = options.name;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${broker().baseUrl}/admin/api/${path}`, {
      method: options.method ?? 'GET',
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    return { status: response.status, body: await response.json(), headers: response.headers };
  }

  test('no token or a wrong token: 401 with a Bearer challenge, on reads and actions alike', async () => {
    for (const [path, method] of [
      ['overview', 'GET'],
      ['errors', 'GET'],
      ['errors/replay', 'POST'],
      ['audit', 'GET'],
    ] as const) {
      const none = await call(path, { method, body: method === 'POST' ? { all: true } : undefined });
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await call(path, { method, token: `${OPERATOR}x` })).status).toBe(401);
    }
  });

  test('the read-only token may look but not replay, purge, pause, resume or add (403, nothing changes)', async () => {
    const queued = await errorQueued(broker(), endpoints(), '41AA', 'A-1');
    expect((await call('errors', { token: READ })).body.map((e: { id: number }) => e.id)).toEqual([queued.id]);
    for (const [path, body] of [
      ['errors/replay', { ids: [String(queued.id)] }],
      ['errors/purge', { all: true }],
      [`institutions/${oinOf('41AA')}/pause`, undefined],
      [`institutions/${oinOf('41AA')}/resume`, undefined],
      ['institutions', { oin: oinOf('49AA'), name: 'x', brins: ['49AA'] }],
    ] as const) {
      const answer = await call(path, { method: 'POST', token: READ, body });
      expect([path, answer.status]).toEqual([path, 403]);
    }
    expect(
      (await broker().pool.query('SELECT status FROM outbound_messages WHERE id = $1', [queued.id])).rows[0].status,
    ).toBe('error');
    expect((await call('audit', { token: READ })).body).toEqual([]);
    expect((await call('whoami', { token: READ })).body).toEqual({ role: 'read', actor: 'api:read' });
  });

  test('the operator token: dry run changes nothing, replay by filter delivers, both audited with who', async () => {
    const [queued] = (await call('errors', { token: OPERATOR, name: 'Jan' })).body as {
      id: number;
      institutionOin: string;
    }[];
    // A dry-run flag that is not a boolean is refused, never read as "go ahead".
    expect(
      (
        await call('errors/replay', {
          method: 'POST',
          token: OPERATOR,
          body: { institution: oinOf('41AA'), dryRun: 'true' },
        })
      ).status,
    ).toBe(400);
    const dry = await call('errors/replay', {
      method: 'POST',
      token: OPERATOR,
      name: 'Jan',
      body: { institution: oinOf('41AA'), dryRun: true },
    });
    expect(dry.body).toEqual({ dryRun: true, count: 1, ids: [queued!.id] });
    expect(
      (await broker().pool.query('SELECT status FROM outbound_messages WHERE id = $1', [queued!.id])).rows[0].status,
    ).toBe('error');

    const replayed = await call('errors/replay', {
      method: 'POST',
      token: OPERATOR,
      name: 'Jan',
      body: { institution: oinOf('41AA') },
    });
    expect(replayed.body).toEqual({ dryRun: false, count: 1, ids: [queued!.id] });
    const documentId = (
      await broker().pool.query(
        'SELECT m.document_id FROM inbound_messages m JOIN outbound_messages o ON o.cause_message_id = m.id WHERE o.id = $1',
        [queued!.id],
      )
    ).rows[0].document_id;
    await outboundOf(broker(), documentId, 'delivered');

    const audit = (await call('audit', { token: READ })).body as {
      actor: string;
      action: string;
      affected: number;
      dryRun: boolean;
      target: unknown;
      outboundIds: number[];
    }[];
    expect(
      audit.map(({ actor, action, affected, dryRun, target, outboundIds }) => ({
        actor,
        action,
        affected,
        dryRun,
        target,
        outboundIds,
      })),
    ).toEqual([
      {
        actor: 'api:operator (Jan)',
        action: 'errors.replay',
        affected: 1,
        dryRun: false,
        target: { institutionOin: oinOf('41AA') },
        outboundIds: [queued!.id],
      },
      {
        actor: 'api:operator (Jan)',
        action: 'errors.replay',
        affected: 1,
        dryRun: true,
        target: { institutionOin: oinOf('41AA') },
        outboundIds: [queued!.id],
      },
    ]);
    const trace = (await call(`trace/message/o${queued!.id}`, { token: READ })).body as {
      events: { step: string; detail: string }[];
    };
    expect(trace.events.map((e) => e.step)).toEqual([
      'received',
      'validated',
      'accepted',
      'processed',
      'push',
      'attempt',
      'error-queue',
      'operator',
      'attempt',
      'acknowledged',
    ]);
    expect(trace.events.find((e) => e.step === 'operator')!.detail).toBe(
      'errors.replay by api:operator (Jan) (1 message(s))',
    );
  });

  test('replay and purge refuse an empty filter without all; bad input is a 400 with the reason', async () => {
    // Errors name the API's fields, not the CLI's flags.
    const unscoped = await call('errors/replay', { method: 'POST', token: OPERATOR, body: {} });
    expect(unscoped).toMatchObject({ status: 400, body: { error: expect.stringContaining('or all') } });
    expect(unscoped.body.error).not.toContain('--');
    expect(await call('errors?olderThan=soon', { token: READ })).toMatchObject({
      status: 400,
      body: { error: expect.stringContaining('olderThan: a duration') },
    });
    expect(
      await call('errors/replay', { method: 'POST', token: OPERATOR, body: { institution: '123' } }),
    ).toMatchObject({ status: 400, body: { error: expect.stringContaining('institution: an OIN') } });
    expect((await call('errors/99999', { token: READ })).status).toBe(404);
    expect((await call('nothing-here', { token: READ })).status).toBe(404);
    expect((await call('errors/replay', { token: OPERATOR })).status).toBe(405);
  });

  test('purge, pause, resume, add and ping over HTTP', async () => {
    const queued = await errorQueued(broker(), endpoints(), '42AA', 'B-1');
    expect(
      (await call('errors/purge', { method: 'POST', token: OPERATOR, body: { ids: [String(queued.id)] } })).body,
    ).toMatchObject({ count: 1, ids: [queued.id] });
    expect(
      (await broker().pool.query('SELECT status FROM outbound_messages WHERE id = $1', [queued.id])).rows[0].status,
    ).toBe('purged');

    expect((await call(`institutions/${oinOf('42AA')}/pause`, { method: 'POST', token: OPERATOR })).body).toEqual({
      paused: oinOf('42AA'),
    });
    const shown = (await call(`institutions/${oinOf('42AA')}`, { token: READ })).body;
    expect(shown.institution).toMatchObject({ oin: oinOf('42AA'), paused: true, errorQueued: 0 });
    const documentId = await sendEnrolment(broker(), '42AA', 'B-2');
    await outboundOf(broker(), documentId, 'pending');
    expect((await call(`institutions/${oinOf('42AA')}/resume`, { method: 'POST', token: OPERATOR })).body).toEqual({
      resumed: oinOf('42AA'),
      queued: 1,
    });
    await outboundOf(broker(), documentId, 'delivered');
    expect((await call('institutions/00000007000049AA00000/pause', { method: 'POST', token: OPERATOR })).status).toBe(
      404,
    );

    const added = await call('institutions', {
      method: 'POST',
      token: OPERATOR,
      body: { oin: oinOf('43AA'), name: 'School 43AA', brins: ['43AA'], endpoint: endpoints().url('43AA') },
    });
    expect(added.body).toEqual({
      oin: oinOf('43AA'),
      name: 'School 43AA',
      brins: ['43AA'],
      endpointUrl: endpoints().url('43AA'),
      enabled: true,
    });
    // The read role learns healthy or not; the operator role also the status and latency.
    const ping = (await call(`institutions/${oinOf('43AA')}/ping`, { method: 'POST', token: READ })).body;
    expect(ping).toEqual({ healthy: true, error: null, endpoint: endpoints().url('43AA') });
    const detail = (await call(`institutions/${oinOf('43AA')}/ping`, { method: 'POST', token: OPERATOR })).body;
    expect(detail).toMatchObject({
      reachable: true,
      healthy: true,
      httpStatus: 200,
      endpoint: endpoints().url('43AA'),
    });
    expect(
      (await call('audit?action=institution.ping', { token: READ })).body.map((a: { actor: string }) => a.actor),
    ).toEqual(['api:operator', 'api:read']);
    expect((await call('audit?action=institution.add', { token: READ })).body[0]).toMatchObject({
      actor: 'api:operator',
      affected: 1,
      target: { institution: oinOf('43AA') },
    });
  });

  test('adding an institution for a BRIN another one serves is refused unless "also": true', async () => {
    expect(
      (
        await call('institutions', {
          method: 'POST',
          token: OPERATOR,
          body: { oin: oinOf('45AA'), name: 'School 45AA', brins: ['45AA'] },
        })
      ).status,
    ).toBe(200);
    const vendor = { oin: '00000003888888880000', name: 'Vendor V', brins: ['45AA'] };
    const refused = await call('institutions', { method: 'POST', token: OPERATOR, body: vendor });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toContain(`45AA by ${oinOf('45AA')} (School 45AA)`);
    expect(refused.body.error).toContain('repeat with "also": true');
    expect(refused.body.error).not.toContain('--also');
    expect(
      (await call('institutions', { method: 'POST', token: OPERATOR, body: { ...vendor, also: 'yes' } })).status,
    ).toBe(400);
    expect((await call(`institutions/${vendor.oin}`, { token: READ })).status).toBe(404);

    const added = await call('institutions', { method: 'POST', token: OPERATOR, body: { ...vendor, also: true } });
    expect([added.status, added.body]).toEqual([200, { ...vendor, endpointUrl: null, enabled: true }]);
    expect((await call('audit?action=institution.add', { token: READ })).body[0]).toMatchObject({
      target: { institution: vendor.oin, alsoServedBy: [oinOf('45AA')] },
    });
  });

  test("an institution's receipt-signature check is set on add and on its own, by the operator role only, audited", async () => {
    const school = { oin: oinOf('46AA'), name: 'School 46AA', brins: ['46AA'] };
    expect(
      (
        await call('institutions', {
          method: 'POST',
          token: OPERATOR,
          body: { ...school, verifyReceiptSignature: 'yes' },
        })
      ).status,
    ).toBe(400);
    const added = await call('institutions', {
      method: 'POST',
      token: OPERATOR,
      body: { ...school, verifyReceiptSignature: true },
    });
    expect(added.body).toMatchObject({ verifyReceiptSignature: true });
    expect((await call(`institutions/${school.oin}`, { token: READ })).body.institution.verifyReceiptSignature).toBe(
      true,
    );
    const path = `institutions/${school.oin}/receipt-signature`;
    expect((await call(path, { method: 'POST', token: READ, body: { verify: false } })).status).toBe(403);
    expect((await call(path, { method: 'POST', token: OPERATOR, body: {} })).status).toBe(400);
    expect((await call(path, { method: 'POST', token: OPERATOR, body: { verify: false } })).body).toEqual({
      institution: school.oin,
      verifyReceiptSignature: false,
    });
    expect((await call(`institutions/${school.oin}`, { token: READ })).body.institution.verifyReceiptSignature).toBe(
      false,
    );
    expect(
      (
        await call('institutions/00000007000047AA00000/receipt-signature', {
          method: 'POST',
          token: OPERATOR,
          body: { verify: true },
        })
      ).status,
    ).toBe(404);
    expect((await call('audit?action=institution.update', { token: READ })).body[0]).toMatchObject({
      target: { institution: school.oin, verifyReceiptSignature: false },
    });
  });

  test('overview, stats and the accepted/delivered series reflect the traffic', async () => {
    const overview = (await call('overview', { token: READ })).body as {
      oin: string;
      deliveredLastHour: number;
      health: { state: string };
    }[];
    const school = overview.find((i) => i.oin === oinOf('41AA'))!;
    expect(school.deliveredLastHour).toBe(1);
    expect(school.health.state).toBe('ok');
    const stats = (await call('stats', { token: READ })).body;
    expect(stats).toMatchObject({ acceptedLastHour: 3, errorQueue: 0, institutions: { paused: 0 } });
    const series = (await call('stats/series?minutes=10&bucketSeconds=60', { token: READ })).body as {
      accepted: number;
      delivered: number;
    }[];
    expect(series.length).toBeGreaterThanOrEqual(10);
    expect(series.reduce((n, p) => n + p.accepted, 0)).toBe(3);
    expect(series.reduce((n, p) => n + p.delivered, 0)).toBe(stats.deliveredLastHour);
  });

  test('trace by pupil is a POST (no PGN in a URL) and shows the PGN masked', async () => {
    const found = (await call('trace/pupil', { method: 'POST', token: READ, body: { pgn: '123456782' } })).body as {
      pupils: string[];
    }[];
    expect(found).toHaveLength(3);
    expect(new Set(found.flatMap((t) => t.pupils))).toEqual(new Set(['*****6782']));
    expect(JSON.stringify(found)).not.toContain('123456782');
    expect((await call('trace/pupil', { method: 'POST', token: READ, body: { pgn: '12345' } })).status).toBe(400);
  });

  test("a personal number quoted in an institution's error is masked in lists, details and traces", async () => {
    const queued = await errorQueued(broker(), endpoints(), '41AA', 'A-9');
    await broker().pool.query(
      "UPDATE outbound_messages SET last_error = 'SOAP fault Client.DK0004: BSN 123456782 unknown' WHERE id = $1",
      [queued.id],
    );
    await broker().pool.query(
      "UPDATE delivery_attempts SET error = 'SOAP fault Client.DK0004: BSN 123456782 unknown' WHERE outbound_id = $1",
      [queued.id],
    );
    const answers = [
      await call('errors', { token: READ }),
      await call(`errors/${queued.id}`, { token: READ }),
      await call(`trace/message/o${queued.id}`, { token: READ }),
      await call('overview', { token: READ }),
      await call(`institutions/${oinOf('41AA')}`, { token: READ }),
    ];
    for (const answer of answers) {
      expect(JSON.stringify(answer.body)).not.toContain('123456782');
      expect(JSON.stringify(answer.body)).toContain('BSN ******782 unknown');
    }
    await call('errors/purge', { method: 'POST', token: OPERATOR, body: { ids: [String(queued.id)] } });
  });

  test('/readyz reports PostgreSQL, migrations, Redis and schemas; the dashboard is served with a strict CSP', async () => {
    const ready = await fetch(`${broker().baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      checks: { postgres: true, migrations: true, redis: true, schemas: true },
    });
    const page = await fetch(`${broker().baseUrl}/admin/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="app.js">');
    expect((await fetch(`${broker().baseUrl}/admin/app.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${broker().baseUrl}/admin/../package.json`)).status).toBe(404);
  });

  test('the processing error queue: listed with reasons masked, replay refused to the read token, dry run, replay, audit', async () => {
    const broken = await unprocessable(broker(), '41AA', 'PE-1');
    // Written unmasked on purpose: the answer masks it all the same.
    const fixable = await processingErrorQueued(broker(), '42AA', 'PE-2', 'Error: rule engine bug for 123456782');
    const listed = (await call('processing-errors', { token: READ })).body as { messageId: number; failure: string }[];
    expect(listed.map((e) => e.messageId)).toEqual([broken, fixable]);
    expect(listed[1]).toMatchObject({
      contract: 'DUO_VOAanlevering_InschrijvingVO_V1',
      operation: 'aanleverenInschrijvingVO',
      senderOin: oinOf('42AA'),
      brin: '42AA',
      failure: 'Error: rule engine bug for ******782',
    });
    expect(JSON.stringify(listed)).not.toContain('123456782');
    expect(
      (await call(`processing-errors?sender=${oinOf('42AA')}&limit=5`, { token: READ })).body.map(
        (e: { messageId: number }) => e.messageId,
      ),
    ).toEqual([fixable]);
    expect(await call('processing-errors?sender=123', { token: READ })).toMatchObject({
      status: 400,
      body: { error: 'sender: an OIN is 20 digits or capitals' },
    });
    expect(await call('processing-errors?limit=many', { token: READ })).toMatchObject({
      status: 400,
      body: { error: "limit: a whole number, got 'many'" },
    });
    expect((await call('stats', { token: READ })).body.processingErrors).toBe(2);
    const trace = (await call(`trace/message/${broken}`, { token: READ })).body as {
      events: { step: string; detail: string }[];
    };
    expect(trace.events.map((e) => e.step)).toEqual(['received', 'validated', 'accepted', 'error-queue']);
    expect(trace.events[3]!.detail).toBe(
      'processing failed (processing error queue): Error: no handler for anOperationWithoutHandler',
    );

    const failedAt = async (): Promise<unknown[]> =>
      (await broker().pool.query('SELECT failed_at FROM processing_outbox WHERE message_id = $1', [fixable])).rows.map(
        (r) => r.failed_at,
      );
    expect(
      (await call('processing-errors/replay', { method: 'POST', token: READ, body: { ids: [fixable] } })).status,
    ).toBe(403);
    for (const [body, error] of [
      [{}, 'name ids, sender or all'],
      [{ ids: String(fixable) }, 'ids must be a list of message ids'],
      [{ ids: ['x'] }, "ids: a message id is a number, got 'x'"],
      [{ all: 'true' }, 'all must be true or false'],
      [{ ids: [fixable], dryRun: 'yes' }, 'dryRun must be true or false'],
    ] as const) {
      expect(await call('processing-errors/replay', { method: 'POST', token: OPERATOR, body })).toMatchObject({
        status: 400,
        body: { error },
      });
    }
    const dry = await call('processing-errors/replay', {
      method: 'POST',
      token: OPERATOR,
      name: 'Jan',
      body: { sender: oinOf('42AA'), dryRun: true },
    });
    expect(dry.body).toEqual({ dryRun: true, count: 1, ids: [fixable] });
    expect(await failedAt()).toEqual([expect.any(Date)]);

    const replayed = await call('processing-errors/replay', {
      method: 'POST',
      token: OPERATOR,
      name: 'Jan',
      body: { ids: [fixable] },
    });
    expect(replayed.body).toEqual({ dryRun: false, count: 1, ids: [fixable] });
    expect([[], [null]]).toContainEqual(await failedAt());
    expect(await waitFor(() => processed(broker(), fixable), Boolean)).toBe(true);
    expect(
      (await call('processing-errors', { token: READ })).body.map((e: { messageId: number }) => e.messageId),
    ).toEqual([broken]);

    const audit = (await call('audit?action=processing.replay', { token: READ })).body as {
      actor: string;
      affected: number;
      dryRun: boolean;
      target: unknown;
      outboundIds: number[];
    }[];
    expect(
      audit.map(({ actor, affected, dryRun, target, outboundIds }) => ({
        actor,
        affected,
        dryRun,
        target,
        outboundIds,
      })),
    ).toEqual([
      {
        actor: 'api:operator (Jan)',
        affected: 1,
        dryRun: false,
        target: { ids: [fixable], inboundIds: [fixable] },
        outboundIds: [],
      },
      {
        actor: 'api:operator (Jan)',
        affected: 1,
        dryRun: true,
        target: { senderOin: oinOf('42AA'), inboundIds: [fixable] },
        outboundIds: [],
      },
    ]);
  });
});
