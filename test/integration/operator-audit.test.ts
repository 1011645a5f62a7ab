/**
 * Every audited operator action writes its audit row in its own transaction: when the row cannot be
 * written, nothing of the action stays; when the action commits, its row is there exactly once.
 */
import { randomUUID } from 'node:crypto';
import { silentLogger } from '../../src/infra/log.js';
import {
  addInstitution,
  loadPopulation,
  loadRioLinks,
  pauseInstitution,
  purgeErrorQueue,
  replayErrorQueue,
  replayProcessing,
  resumeInstitution,
  runQuality,
  submitMutation,
} from '../../src/operator/operator-actions.js';
import { mutationMessage } from '../../src/operator/submit-person-mutation.js';
import { listAudit } from '../../src/store/audit.repo.js';
import { insertOutbound } from '../../src/store/register.repo.js';
import { useTestBroker } from '../support/broker.js';
import { BROKER_OIN, BRP_OIN } from '../support/soap.js';

/** The actor whose audit rows the test trigger refuses, as a failing audit write would. */
const REFUSED = 'test:audit-refused';
const INSTITUTION = '0000000700025BE00000';

describe('operator actions and their audit rows: one transaction', () => {
  const broker = useTestBroker();
  const pool = () => broker().pool;
  const deps = () => ({ pool: pool(), brokerOin: BROKER_OIN, log: silentLogger() });
  const one = async <T>(sql: string, params: unknown[] = []): Promise<T> =>
    (await pool().query(sql, params)).rows[0] as T;

  beforeAll(async () => {
    await pool().query(`CREATE FUNCTION refuse_test_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.actor = '${REFUSED}' THEN RAISE EXCEPTION 'audit row refused (test)'; END IF; RETURN NEW; END $$`);
    await pool().query(
      'CREATE TRIGGER refuse_test_audit BEFORE INSERT ON operator_audit FOR EACH ROW EXECUTE FUNCTION refuse_test_audit()',
    );
  });

  async function errorQueued(tag: string): Promise<number> {
    const client = await pool().connect();
    try {
      const [row] = await insertOutbound(client, [
        {
          institutionOin: INSTITUTION,
          brin: '25BE',
          operation: 'terugkoppelenInschrijvingVO',
          wsaMessageId: randomUUID(),
          documentId: randomUUID(),
          bodyXml: `<x>${tag}</x>`,
          causeMessageId: null,
        },
      ]);
      await client.query("UPDATE outbound_messages SET status = 'error', last_error = 'HTTP 503' WHERE id = $1", [
        row!.id,
      ]);
      return row!.id;
    } finally {
      client.release();
    }
  }

  async function processingFailed(): Promise<number> {
    const message = mutationMessage(
      { brpSourceOin: BRP_OIN, brokerOin: BROKER_OIN },
      { bsn: '200000469', name: { achternaam: 'Smit' } },
    );
    const id = await submitMutation(pool(), 'test:setup', message, ['name']);
    await pool().query("UPDATE processing_outbox SET failed_at = now(), failure = 'test' WHERE message_id = $1", [id]);
    return id;
  }

  const auditRows = async (action: string, actor: string): Promise<number> =>
    (
      await one<{ n: number }>('SELECT count(*)::int AS n FROM operator_audit WHERE action = $1 AND actor = $2', [
        action,
        actor,
      ])
    ).n;

  /** Each action, and a look at whether it took effect; `prepare` makes the state it acts on (run anew per actor). */
  const actions: {
    action: string;
    prepare?: () => Promise<unknown>;
    run: (actor: string, prepared: unknown) => Promise<unknown>;
    tookEffect: (prepared: unknown) => Promise<boolean>;
  }[] = [
    {
      action: 'errors.replay',
      prepare: () => errorQueued('replay'),
      run: (actor, id) => replayErrorQueue(deps(), actor, { ids: [id as number] }),
      tookEffect: async (id) =>
        (await one<{ status: string }>('SELECT status FROM outbound_messages WHERE id = $1', [id])).status ===
        'pending',
    },
    {
      action: 'errors.purge',
      prepare: () => errorQueued('purge'),
      run: (actor, id) => purgeErrorQueue(deps(), actor, { ids: [id as number] }),
      tookEffect: async (id) =>
        (await one<{ status: string }>('SELECT status FROM outbound_messages WHERE id = $1', [id])).status === 'purged',
    },
    {
      action: 'processing.replay',
      prepare: processingFailed,
      run: (actor, id) => replayProcessing(deps(), actor, { ids: [id as number] }),
      tookEffect: async (id) =>
        (
          await one<{ failed: boolean }>(
            'SELECT failed_at IS NOT NULL AS failed FROM processing_outbox WHERE message_id = $1',
            [id],
          )
        ).failed === false,
    },
    {
      action: 'institution.pause',
      prepare: () => pool().query('UPDATE institutions SET paused = false WHERE oin = $1', [INSTITUTION]),
      run: (actor) => pauseInstitution(deps(), actor, INSTITUTION),
      tookEffect: async () =>
        (await one<{ paused: boolean }>('SELECT paused FROM institutions WHERE oin = $1', [INSTITUTION])).paused,
    },
    {
      action: 'institution.resume',
      prepare: () => pool().query('UPDATE institutions SET paused = true WHERE oin = $1', [INSTITUTION]),
      run: (actor) => resumeInstitution(deps(), actor, INSTITUTION),
      tookEffect: async () =>
        !(await one<{ paused: boolean }>('SELECT paused FROM institutions WHERE oin = $1', [INSTITUTION])).paused,
    },
    {
      action: 'institution.add',
      prepare: async () => `00000007${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}000000`,
      run: (actor, oin) =>
        addInstitution(
          pool(),
          actor,
          { oin: oin as string, name: 'Audit test', brins: ['77AU'], endpointUrl: null, enabled: true },
          {
            also: true,
            alsoName: '--also',
            endpoint: {
              policy: { allowHttp: true, allowLoopback: true, allowPrivate: true, ownPorts: [], ownPathPrefixes: [] },
              field: '--endpoint',
            },
          },
        ),
      tookEffect: async (oin) =>
        (await one<{ n: number }>('SELECT count(*)::int AS n FROM institutions WHERE oin = $1', [oin])).n === 1,
    },
    {
      action: 'quality.run',
      prepare: async () => (await one<{ n: number }>('SELECT count(*)::int AS n FROM quality_runs')).n,
      run: (actor) => runQuality(deps(), actor),
      tookEffect: async (before) =>
        (await one<{ n: number }>('SELECT count(*)::int AS n FROM quality_runs')).n > (before as number),
    },
    {
      action: 'population.load',
      prepare: async () => `9${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`,
      run: (actor, bsn) =>
        loadPopulation(
          pool(),
          actor,
          [
            {
              bsn: bsn as string,
              birthDate: '2010-01-01',
              gender: '1',
              surname: 'Audit',
              prefixes: null,
              firstNames: null,
              address: null,
              dateOfDeath: null,
            },
          ],
          'people.json',
        ),
      tookEffect: async (bsn) =>
        (await one<{ n: number }>('SELECT count(*)::int AS n FROM population_register WHERE bsn = $1', [bsn])).n === 1,
    },
    {
      action: 'population.mutate',
      prepare: async () => (await one<{ n: number }>('SELECT count(*)::int AS n FROM inbound_messages')).n,
      run: (actor) =>
        submitMutation(
          pool(),
          actor,
          mutationMessage(
            { brpSourceOin: BRP_OIN, brokerOin: BROKER_OIN },
            { bsn: '200000469', name: { achternaam: 'Jansen' } },
          ),
          ['name'],
        ),
      tookEffect: async (before) =>
        (await one<{ n: number }>('SELECT count(*)::int AS n FROM inbound_messages')).n > (before as number),
    },
    {
      action: 'rio.load',
      prepare: async () => `${String(Math.floor(Math.random() * 1000)).padStart(3, '0')}X300`,
      run: (actor, location) =>
        loadRioLinks(pool(), actor, [{ vestiging: '25BE00', onderwijslocatie: location as string }], 'rio.json'),
      tookEffect: async (location) =>
        (
          await one<{ n: number }>('SELECT count(*)::int AS n FROM rio_onderwijslocaties WHERE onderwijslocatie = $1', [
            location,
          ])
        ).n === 1,
    },
  ];

  test.each(actions.map((a) => [a.action, a] as const))(
    '%s: when its audit row cannot be written, nothing of it stays',
    async (action, { prepare, run, tookEffect }) => {
      const prepared = await prepare?.();
      await expect(run(REFUSED, prepared)).rejects.toThrow('audit row refused (test)');
      expect(await tookEffect(prepared)).toBe(false);
      expect(await auditRows(action, REFUSED)).toBe(0);
    },
  );

  test.each(actions.map((a) => [a.action, a] as const))(
    '%s: once it commits, its audit row is there exactly once',
    async (action, { prepare, run, tookEffect }) => {
      const actor = `test:${action}`;
      const prepared = await prepare?.();
      await run(actor, prepared);
      expect(await tookEffect(prepared)).toBe(true);
      expect(await auditRows(action, actor)).toBe(1);
    },
  );

  test('an action on no institution changes nothing and records nothing', async () => {
    expect(await pauseInstitution(deps(), 'test:none', '00000007000099ZZ0000')).toBe(false);
    expect(await resumeInstitution(deps(), 'test:none', '00000007000099ZZ0000')).toBeNull();
    expect((await listAudit(pool(), { limit: 1000 })).filter((entry) => entry.actor === 'test:none')).toEqual([]);
  });
});
