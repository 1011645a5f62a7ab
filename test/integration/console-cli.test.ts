/**
 * The operator CLI against a running broker and pipeline (real PostgreSQL, Redis and institution
 * endpoints): replay by filter, dry runs that change nothing, purge, pause/resume, trace, stats, audit,
 * and the processing error queue.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../src/infra/paths.js';
import { waitFor } from '../support/broker.js';
import {
  databaseUrlOf,
  errorQueued,
  oinOf,
  outboundOf,
  processed,
  processingErrorQueued,
  sendEnrolment,
  unprocessable,
  useBrokerWithSchools,
} from '../support/console.js';

const run = promisify(execFile);
const CLI = path.join(PROJECT_ROOT, 'bin', 'bron-broker.js');

describe('operator CLI against a running broker', () => {
  const { broker, endpoints } = useBrokerWithSchools(['31AA', '32AA', '33AA', '34AA']);
  let env: NodeJS.ProcessEnv;
  const cli = async (...args: string[]): Promise<string> =>
    (await run(process.execPath, [CLI, ...args], { env })).stdout;
  const statusOf = async (id: number): Promise<string> =>
    (await broker().pool.query('SELECT status FROM outbound_messages WHERE id = $1', [id])).rows[0].status;

  beforeAll(async () => {
    env = {
      ...process.env,
      DATABASE_URL: databaseUrlOf(broker()),
      REDIS_URL: process.env.TEST_REDIS_URL,
      QUEUE_PREFIX: broker().config.queuePrefix,
      USER: 'tester',
      BROKER_PROFILE: 'development',
    };
  });

  test('errors list filters by institution and fault; replay by filter delivers only the matching messages; dry run changes nothing', async () => {
    const a1 = await errorQueued(broker(), endpoints(), '31AA', 'R-1');
    const a2 = await errorQueued(broker(), endpoints(), '31AA', 'R-2');
    const b1 = await errorQueued(broker(), endpoints(), '32AA', 'R-3');

    const listed = JSON.parse(
      await cli('errors', 'list', '--institution', oinOf('31AA'), '--fault', 'client.dk0004', '--json'),
    ) as { id: number }[];
    expect(listed.map((e) => e.id)).toEqual([a1.id, a2.id]);
    expect(JSON.parse(await cli('errors', 'list', '--fault', 'HTTP 503', '--json'))).toEqual([]);
    expect(
      JSON.parse(
        await cli(
          'errors',
          'list',
          '--contract',
          'DUO_VOAanlevering_InschrijvingVO_V1',
          '--older-than',
          '0s',
          '--json',
        ),
      ).map((e: { id: number }) => e.id),
    ).toEqual([a1.id, a2.id, b1.id]);
    expect(
      JSON.parse(
        await cli(
          'errors',
          'list',
          '--newer-than',
          '1h',
          '--contract',
          'DUO_VOInformatiediensten_IdentificerenPersoonVO_V1',
          '--json',
        ),
      ),
    ).toEqual([]);

    expect(await cli('errors', 'replay', '--institution', oinOf('31AA'), '--dry-run')).toBe(
      `would replay 2 message(s): ${a1.id}, ${a2.id}\n`,
    );
    expect([await statusOf(a1.id), await statusOf(a2.id), await statusOf(b1.id)]).toEqual(['error', 'error', 'error']);
    const before = endpoints().received('31AA').length;

    expect(await cli('errors', 'replay', '--institution', oinOf('31AA'))).toBe(
      `replay 2 message(s): ${a1.id}, ${a2.id}\n`,
    );
    await waitFor(
      async () => [await statusOf(a1.id), await statusOf(a2.id)],
      (s) => s.every((x) => x === 'delivered'),
    );
    expect([await statusOf(a1.id), await statusOf(a2.id), await statusOf(b1.id)]).toEqual([
      'delivered',
      'delivered',
      'error',
    ]);
    expect(endpoints().received('31AA').length).toBe(before + 2);
  });

  test('a bulk replay reports progress (plain lines when not on a terminal)', async () => {
    const c = await errorQueued(broker(), endpoints(), '33AA', 'P-1');
    const { stdout, stderr } = await run(process.execPath, [CLI, 'errors', 'replay', '--institution', oinOf('33AA')], {
      env,
    });
    expect(stdout).toBe(`replay 1 message(s): ${c.id}\n`);
    expect(stderr).toContain('replay: 0/1');
    expect(stderr).toContain('replay: 1/1');
    await outboundOf(broker(), c.documentId, 'delivered');
  });

  test('purge by filter takes messages out of delivery; a purge dry run changes nothing', async () => {
    const p = await errorQueued(broker(), endpoints(), '32AA', 'U-1');
    const matching = JSON.parse(await cli('errors', 'list', '--institution', oinOf('32AA'), '--json')) as {
      id: number;
    }[];
    expect(matching.map((e) => e.id)).toContain(p.id);
    expect(await cli('errors', 'purge', '--institution', oinOf('32AA'), '--dry-run')).toMatch(
      new RegExp(`^would purge ${matching.length} message`),
    );
    expect(await statusOf(p.id)).toBe('error');
    expect(await cli('errors', 'purge', '--institution', oinOf('32AA'))).toMatch(
      new RegExp(`^purge ${matching.length} message`),
    );
    expect(await statusOf(p.id)).toBe('purged');
    expect(JSON.parse(await cli('errors', 'list', '--institution', oinOf('32AA'), '--json'))).toEqual([]);
  });

  test('pause holds deliveries without using attempts; resume delivers what waited', async () => {
    expect(await cli('institutions', 'pause', oinOf('33AA'))).toBe(`paused ${oinOf('33AA')}\n`);
    const documentId = await sendEnrolment(broker(), '33AA', 'H-1');
    const waiting = await outboundOf(broker(), documentId, 'pending');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(
      (await broker().pool.query('SELECT attempts FROM outbound_messages WHERE id = $1', [waiting.id])).rows[0]
        .attempts,
    ).toBe(0);
    const shown = await cli('institutions', 'show', oinOf('33AA'));
    expect(shown).toMatch(/paused\s+yes/);
    expect(shown).toMatch(/queued\s+1/);
    expect(await cli('institutions', 'resume', oinOf('33AA'))).toBe(`resumed ${oinOf('33AA')}; 1 message(s) queued\n`);
    await outboundOf(broker(), documentId, 'delivered');
  });

  test('trace shows one message from received to acknowledged, by id, by BRIN and by pupil, the PGN masked', async () => {
    const documentId = await sendEnrolment(broker(), '31AA', 'T-1', '111222333');
    const { inboundId, id } = await outboundOf(broker(), documentId, 'delivered');
    const byId = await cli('trace', String(inboundId));
    const steps = [...byId.matchAll(/^ {2}\S+ \S+ {2}(\S+)/gm)].map((m) => m[1]);
    expect(steps).toEqual(['received', 'validated', 'accepted', 'processed', 'push', 'attempt', 'acknowledged']);
    expect(byId).toContain(`[o${id}] attempt 1: delivered, HTTP 200`);
    expect(byId).toContain('pupil *****2333');
    expect(byId).not.toContain('111222333');

    expect(await cli('trace', `o${id}`)).toBe(byId);
    expect(await cli('trace', documentId)).toBe(byId);
    expect(await cli('trace', '--brin', '31AA', '--limit', '1')).toBe(byId);

    const byPupil = JSON.parse(await cli('trace', '--pupil', '111222333', '--json')) as {
      inboundId: number;
      pupils: string[];
    }[];
    expect(byPupil.map((t) => t.inboundId)).toEqual([inboundId]);
    expect(byPupil[0]!.pupils).toEqual(['*****2333']);
    expect(await cli('trace', '--pupil', '999999990')).toBe('no messages found\n');
    const stored = (await broker().pool.query('SELECT pupil_key FROM pupil_trace')).rows.map((r) =>
      Buffer.from(r.pupil_key).toString('hex'),
    );
    expect(stored.join()).not.toContain(Buffer.from('111222333').toString('hex'));
  });

  test('trace of an error-queued message ends in the error queue with the reason', async () => {
    const e = await errorQueued(broker(), endpoints(), '31AA', 'T-2');
    const out = await cli('trace', String(e.inboundId));
    expect(out).toMatch(/attempt {7}\[o\d+\] attempt 1: failed, HTTP 500, Client\.DK0004/);
    expect(out).toMatch(/error-queue {3}\[o\d+\] SOAP fault Client\.DK0004/);
  });

  test('stats and the audit log of the actions above, with who did them', async () => {
    const stats = JSON.parse(await cli('stats', '--json'));
    expect(stats.acceptedLastHour).toBeGreaterThanOrEqual(8);
    expect(stats.deliveredLastHour).toBeGreaterThanOrEqual(4);
    expect(stats.queues).toHaveProperty('processing');
    const audit = JSON.parse(await cli('audit', '--json')) as {
      actor: string;
      action: string;
      affected: number;
      dryRun: boolean;
      target: Record<string, unknown>;
    }[];
    const actions = audit.map((a) => `${a.action}${a.dryRun ? ' (dry run)' : ''} ${a.affected}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'errors.replay (dry run) 2',
        'errors.replay 2',
        'errors.purge 2',
        'institution.pause 1',
        'institution.resume 1',
      ]),
    );
    expect(new Set(audit.map((a) => a.actor))).toEqual(new Set(['cli:tester']));
    expect(audit.find((a) => a.action === 'errors.replay' && !a.dryRun && a.affected === 2)!.target).toEqual({
      institutionOin: oinOf('31AA'),
    });
    expect(await cli('audit', '--action', 'institution.pause')).toMatch(/cli:tester\s+institution\.pause\s+1/);
  });

  test('ping reports an answering endpoint and a dead one (exit code 2)', async () => {
    expect(await cli('institutions', 'ping', oinOf('31AA'))).toMatch(/^healthy: \S+ answered HTTP 200 in \d+ ms/);
    await broker().pool.query("UPDATE institutions SET endpoint_url = 'http://127.0.0.1:9/x' WHERE oin = $1", [
      oinOf('32AA'),
    ]);
    await expect(cli('institutions', 'ping', oinOf('32AA'))).rejects.toMatchObject({
      code: 2,
      stdout: expect.stringContaining('unreachable'),
    });
  });

  test('processing-errors: list shows each reason, replay needs a scope, a dry run changes nothing, a replay has the message processed', async () => {
    const broken = await unprocessable(broker(), '34AA', 'X-1');
    const fixable = await processingErrorQueued(broker(), '34AA', 'X-2', 'Error: rule engine bug for ******782');
    const time = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d';
    const [header, first, second, ...rest] = (await cli('processing-errors', 'list', '--sender', oinOf('34AA')))
      .trimEnd()
      .split('\n');
    expect(header).toMatch(/^ID\s+CONTRACT\s+OPERATION\s+SENDER\s+BRIN\s+RECEIVED\s+FAILED\s+REASON$/);
    expect(first).toMatch(
      new RegExp(
        `^${broken}\\s+DUO_VOAanlevering_InschrijvingVO_V1\\s+anOperationWithoutHandler\\s+${oinOf('34AA')}\\s+34AA\\s+${time}\\s+${time}\\s+.*no handler for anOperationWithoutHandler`,
      ),
    );
    expect(second).toMatch(new RegExp(`^${fixable}\\s.*rule engine bug for \\*{6}782$`));
    expect(rest).toEqual([]);
    expect(
      JSON.parse(await cli('processing-errors', 'list', '--limit', '1', '--json')).map(
        (e: { messageId: number }) => e.messageId,
      ),
    ).toEqual([broken]);
    expect(JSON.parse(await cli('processing-errors', 'list', '--sender', oinOf('31AA'), '--json'))).toEqual([]);

    await expect(cli('processing-errors', 'replay')).rejects.toMatchObject({
      stderr: 'name message ids, --sender or --all\n',
    });
    expect(await cli('processing-errors', 'replay', String(fixable), '--dry-run')).toBe(
      `would replay 1 message(s): ${fixable}\n`,
    );
    const failedAt = async (): Promise<unknown[]> =>
      (await broker().pool.query('SELECT failed_at FROM processing_outbox WHERE message_id = $1', [fixable])).rows.map(
        (r) => r.failed_at,
      );
    expect(await failedAt()).toEqual([expect.any(Date)]);

    expect(await cli('processing-errors', 'replay', String(fixable))).toBe(`replay 1 message(s): ${fixable}\n`);
    // Due at once: out of the queue, then processed once the sweeper has woken it (the row goes with it).
    expect([[], [null]]).toContainEqual(await failedAt());
    expect(await waitFor(() => processed(broker(), fixable), Boolean)).toBe(true);
    expect(await failedAt()).toEqual([]);

    const audit = JSON.parse(await cli('audit', '--action', 'processing.replay', '--json')) as {
      actor: string;
      affected: number;
      dryRun: boolean;
      target: unknown;
    }[];
    expect(audit.map(({ actor, affected, dryRun, target }) => ({ actor, affected, dryRun, target }))).toEqual([
      { actor: 'cli:tester', affected: 1, dryRun: false, target: { ids: [fixable], inboundIds: [fixable] } },
      { actor: 'cli:tester', affected: 1, dryRun: true, target: { ids: [fixable], inboundIds: [fixable] } },
    ]);
  });
});
