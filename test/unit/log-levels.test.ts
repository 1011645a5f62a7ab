/** The logger writes the configured level and above, masked, and nothing below it. */
import { Writable } from 'node:stream';
import { createLogger } from '../../src/infra/log.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

test('at warn, info and debug write nothing; warn and error are written with personal numbers masked', async () => {
  const { stream, lines } = capture();
  const log = createLogger('warn', stream);
  log.debug('debug line', { bsn: '123456782' });
  log.info('info line', { bsn: '123456782' });
  log.warn('warn line', { bsn: '123456782' });
  log.error('error line');
  await new Promise((resolve) => setImmediate(resolve));
  expect(lines().map((line) => [line.level, line.message])).toEqual([
    ['warn', 'warn line'],
    ['error', 'error line'],
  ]);
  expect(lines()[0]!.bsn).toBe('******782');
});

test('a call below the level does nothing at all: not even its fields are read', () => {
  const { stream } = capture();
  const log = createLogger('warn', stream);
  let reads = 0;
  const fields = {
    get bsn(): string {
      reads += 1;
      return '123456782';
    },
  };
  log.info('info line', fields);
  log.debug('debug line', fields);
  expect(reads).toBe(0);
  log.warn('warn line', fields);
  expect(reads).toBeGreaterThan(0);
});

test('at debug, every level is written', async () => {
  const { stream, lines } = capture();
  const log = createLogger('debug', stream);
  log.debug('d');
  log.info('i');
  log.warn('w');
  await new Promise((resolve) => setImmediate(resolve));
  expect(lines().map((line) => line.level)).toEqual(['debug', 'info', 'warn']);
});
