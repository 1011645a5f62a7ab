/**
 * No value from a message reaches a log line, Redis or /metrics: requests carrying a personal number in
 * every form that once got past the masker (suffixed, dotted, spaced, zero-padded, prefixed), through
 * every path that refuses or handles a message, and then a scan of all three for any nine digits that
 * pass the BSN or onderwijsnummer check.
 */
import { Writable } from 'node:stream';
import type { Broker } from '../../src/broker.js';
import { DEMO_INSTITUTIONS, seedDemoPopulation } from '../../src/demo-seed.js';
import { createLogger } from '../../src/infra/log.js';
import { createProcessingQueue } from '../../src/infra/processing-queue.js';
import { type Pipeline, startPipeline } from '../../src/pipeline.js';
import { createHandlers } from '../../src/processing/handlers/index.js';
import { startProcessingWorker } from '../../src/processing/processing-worker.js';
import { isValidBsn, isValidOnderwijsnummer } from '../../src/register/pgn.js';
import { upsertInstitution } from '../../src/store/institutions.repo.js';
import { startTestBroker, waitFor } from '../support/broker.js';
import { scrape } from '../support/metrics-text.js';
import { actionOf, BROKER_OIN, BRP_OIN, bodyFixture, lasRequest, OIN_25BE, post, send } from '../support/soap.js';

const BSN = '123456782';
const BYPASS_FORMS = [`${BSN}x`, '123.456.782', '123 456 782', `00${BSN}`, `BSN${BSN}NL`];

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const KNOWN_OINS = [BROKER_OIN, OIN_25BE, BRP_OIN, ...DEMO_INSTITUTIONS.map((institution) => institution.oin)];

/** A number that is a clock reading (epoch seconds or milliseconds within a day of now), not a value from a message. */
function isClockReading(digits: string): boolean {
  const now = Date.now();
  return (
    Math.abs(Number(digits) - now) < 86_400_000 ||
    Math.abs(Number(digits) - now / 1000) < 86_400 ||
    Math.abs(Number(digits.slice(0, 10)) - now / 1000) < 86_400
  ); // seconds with a fraction, separator taken out
}

/** Every nine consecutive digits (separators `.`, white space and `-` taken out of a digit run) that pass the BSN or onderwijsnummer check, with where. */
function personalNumbersIn(text: string): string[] {
  let rest = text.replace(UUID, ' ');
  for (const oin of KNOWN_OINS) rest = rest.split(oin).join(' ');
  const found: string[] = [];
  for (const match of rest.matchAll(/\d(?:[.\s-]{0,3}\d)*/g)) {
    const digits = match[0].replace(/\D/g, '');
    if (isClockReading(digits)) continue;
    for (let i = 0; i + 9 <= digits.length; i++) {
      const nine = digits.slice(i, i + 9);
      if (isValidBsn(nine) || isValidOnderwijsnummer(nine))
        found.push(`${nine} in …${rest.slice(Math.max(0, match.index - 80), match.index + match[0].length + 40)}…`);
    }
  }
  return found;
}

/** Every key in Redis (SCAN over the whole database, not only this broker's prefix), with its contents, as text. */
async function redisText(broker: Broker): Promise<string> {
  const { redis } = broker;
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  const parts: string[] = [];
  for (const key of keys) {
    const type = await redis.type(key);
    const value =
      type === 'string'
        ? await redis.get(key)
        : type === 'hash'
          ? await redis.hgetall(key)
          : type === 'list'
            ? await redis.lrange(key, '0', '-1')
            : type === 'set'
              ? await redis.smembers(key)
              : type === 'zset'
                ? await redis.zrange(key, '0', '-1', 'WITHSCORES')
                : type === 'stream'
                  ? await redis.xrange(key, '-', '+')
                  : null;
    parts.push(key, JSON.stringify(value));
  }
  return parts.join('\n');
}

/** The series of a /metrics scrape without their sample values: measurements, not message content, which could enter only as a label. */
function seriesOf(scrape: string): string {
  return scrape
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.slice(0, line.lastIndexOf(' ')))
    .join('\n');
}

describe('personal data stays out of logs, Redis and metrics', () => {
  const lines: string[] = [];
  const capture = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  let broker: Broker;
  let pipeline: Pipeline;

  beforeAll(async () => {
    const log = createLogger('debug', capture);
    broker = await startTestBroker({ log });
    await seedDemoPopulation(broker.pool);
    const school = DEMO_INSTITUTIONS[0]!;
    await upsertInstitution(broker.pool, {
      ...school,
      endpointUrl: `${broker.baseUrl}/demo/institutions/${school.brins[0]}`,
    });
    await broker.registry.refresh();
    pipeline = startPipeline(broker.config, broker.pool, process.env.TEST_REDIS_URL!, log, {});
  });
  afterAll(async () => {
    await pipeline?.close();
    await broker?.close();
  });

  const enrolment = (): string => bodyFixture('valid/aanleverenInschrijvingVO.xml');
  const withElement = (body: string, name: string, value: string): string =>
    body.replace(new RegExp(`(<bas:${name}>)[^<]*(</bas:${name}>)`), `$1${value}$2`);

  test('each bypass form, on every path that refuses or handles a message', async () => {
    const refusals: [string, { path: string; soapAction: string; xml: string }][] = [
      ...BYPASS_FORMS.map((form): [string, { path: string; soapAction: string; xml: string }] => [
        `schema: burgerservicenummer ${form}`,
        lasRequest('aanleverenInschrijvingVO', withElement(enrolment(), 'burgerservicenummer', form)),
      ]),
      [
        'schema: an unexpected element named after a BSN',
        lasRequest(
          'aanleverenInschrijvingVO',
          enrolment().replace('<bas:brin>', `<bas:x${BSN}>1</bas:x${BSN}><bas:brin>`),
        ),
      ],
      [
        'bedrijfsdocument: ontvangendeInstantie',
        lasRequest('aanleverenInschrijvingVO', withElement(enrolment(), 'ontvangendeInstantie', `BSN${BSN}NL`)),
      ],
      [
        'bedrijfsdocument: datumTijdBedrijfsdocument',
        lasRequest(
          'aanleverenInschrijvingVO',
          withElement(enrolment(), 'datumTijdBedrijfsdocument', `${BSN}-01-01T00:00:00Z`),
        ),
      ],
      [
        'authorisation: verzendendeInstantie',
        lasRequest('aanleverenInschrijvingVO', withElement(enrolment(), 'verzendendeInstantie', '123.456.782')),
      ],
      [
        'envelope: wsa:MessageID',
        lasRequest('aanleverenInschrijvingVO', enrolment(), { messageId: `urn:uuid:${BSN}x` }),
      ],
      [
        'envelope: SOAPAction',
        {
          ...lasRequest('aanleverenInschrijvingVO', enrolment()),
          soapAction: `"${actionOf('aanleverenInschrijvingVO')}${BSN}"`,
        },
      ],
      [
        'well-formedness: a character reference',
        lasRequest('aanleverenInschrijvingVO', withElement(enrolment(), 'burgerservicenummer', `&#${BSN};`)),
      ],
      [
        'well-formedness: a mismatched end tag',
        lasRequest('aanleverenInschrijvingVO', enrolment().replace('</bas:brin>', `</bas:b${BSN}>`)),
      ],
    ];
    for (const [what, request] of refusals) {
      const answer = await send(broker.baseUrl, request);
      expect([what, answer.status]).toEqual([what, 500]);
    }
    // A message the broker accepts and processes; its feedback is delivered to the demo school.
    const accepted = await send(broker.baseUrl, lasRequest('aanleverenInschrijvingVO', enrolment()));
    expect(accepted.status).toBe(200);
    // Accepted too, each bypass form in a free-text field (the school's own volgnummer), processed and fed back.
    for (const form of BYPASS_FORMS) {
      const body = withElement(enrolment(), 'inschrijvingvolgnummer', form);
      expect([form, (await send(broker.baseUrl, lasRequest('aanleverenInschrijvingVO', body))).status]).toEqual([
        form,
        200,
      ]);
    }
    await waitFor(
      async () => lines.join(''),
      (text) => text.includes('demo institution received'),
      10_000,
    );
    // The shared address, where the SOAPAction chooses the contract.
    expect(
      (
        await post(broker.baseUrl, '/vo-webservices/', lasRequest('aanleverenInschrijvingVO', enrolment()).xml, {
          soapaction: `"x${BSN}"`,
        })
      ).status,
    ).toBe(500);

    const requestLinesIn = (text: string): string[] =>
      text.split('\n').filter((line) => line.includes('"message":"request"'));
    const logText = await waitFor(
      async () => lines.join(''),
      (text) => requestLinesIn(text).length >= refusals.length + 2 + BYPASS_FORMS.length,
    );
    await waitFor(
      async () =>
        (await broker.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM processing_results')).rows[0]!.n,
      (n) => n >= 1 + BYPASS_FORMS.length,
    );
    expect(personalNumbersIn(logText)).toEqual([]);
    expect(personalNumbersIn(await redisText(broker))).toEqual([]);
    expect(personalNumbersIn(seriesOf(await scrape(broker.baseUrl)))).toEqual([]);
    // The log still says what was wrong: the element and the kind of failure.
    const requestLines = requestLinesIn(logText).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(requestLines).toHaveLength(refusals.length + 2 + BYPASS_FORMS.length);
    expect(requestLines[0]).toMatchObject({
      faultCode: 'Client.DK0004',
      element: 'burgerservicenummer',
      reason: 'body not valid against the schema: pattern',
    });
    expect(requestLines[BYPASS_FORMS.length]).toMatchObject({
      faultCode: 'Client.DK0004',
      element: 'x******782',
      reason: 'body not valid against the schema: unexpected element',
    });
  });

  test('a processing job that fails leaves only the masked reason in Redis: no failedReason, stack or event with a number', async () => {
    const prefix = `${broker.config.queuePrefix}f`;
    // Any error out of the job's code stands for them all: here the worker's log line throws one quoting a BSN.
    const log = createLogger('error', capture);
    log.debug = (() => {
      throw new Error(`cannot log pupil ${BSN} (${BYPASS_FORMS.join(', ')})`);
    }) as unknown as typeof log.debug;
    const worker = startProcessingWorker({
      redisUrl: process.env.TEST_REDIS_URL!,
      prefix,
      pool: broker.pool,
      handlers: createHandlers(),
      brokerOin: BROKER_OIN,
      traceKey: 'test-trace-key-for-the-failing-job-0123456789',
      concurrency: 1,
      batchSize: 1,
      transactions: 1,
      log,
    });
    const queue = createProcessingQueue(broker.redis, prefix);
    try {
      const failed = new Promise<string>((resolve) => worker.on('failed', (_job, error) => resolve(error.message)));
      await queue.add('process', { messageIds: [987_654_321] });
      expect(await failed).toContain('******782');
      // The reason reached Redis (the queue's event stream keeps it), masked.
      const stored = await waitFor(
        () => redisText(broker),
        (text) => text.includes('cannot log pupil'),
      );
      expect(stored).toContain('cannot log pupil ******782');
      expect(personalNumbersIn(stored)).toEqual([]);
    } finally {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
