/** The logger's masker: personal numbers in any form and any place in a log entry never reach the output. */
import { Writable } from 'node:stream';
import { createLogger, maskPersonalNumbers } from '../../src/infra/log.js';
import { isValidBsn, nextOnderwijsnummer } from '../../src/register/pgn.js';

const BSN = '123456782';
const OWN = nextOnderwijsnummer(100_000_000);

/** The planted personal numbers found in `text`, separators (`.`, white space, `-`) taken out of digit runs. */
function personalNumbersIn(text: string): string[] {
  const found: string[] = [];
  for (const run of text.match(/\d(?:[.\s-]{0,3}\d)*/g) ?? []) {
    const digits = run.replace(/\D/g, '');
    for (let i = 0; i + 9 <= digits.length; i++) {
      const nine = digits.slice(i, i + 9);
      if (nine === BSN || nine === OWN) found.push(nine);
    }
  }
  return found;
}

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('maskPersonalNumbers', () => {
  test.each([
    ['suffixed', `${BSN}x`, '******782x'],
    ['dotted', '123.456.782', '******782'],
    ['spaced', '123 456 782', '******782'],
    ['hyphenated', '123-456-782', '******782'],
    ['zero-padded', `00${BSN}`, '******782'],
    ['prefixed and suffixed', `BSN${BSN}NL`, 'BSN******782NL'],
    ['an onderwijsnummer inside a longer token', `OWN${OWN}a`, `OWN******${OWN.slice(-3)}a`],
    ['padded to the length of an OIN, but not one', `00000000000${BSN}`, '******782'],
  ])('%s: %s', (_name, value, masked) => {
    expect(isValidBsn(BSN)).toBe(true);
    expect(maskPersonalNumbers(`value '${value}' refused`)).toBe(`value '${masked}' refused`);
  });

  test('dates, times, durations, counts, UUIDs and OINs stay readable', () => {
    const text =
      'at 2026-09-01T10:15:00.123Z after 12.5 ms, 3 of 40 in 25BE, id 12345678-1234-4123-8123-123456789012, OIN 00000001800866472000 and 0000000700025BE00000';
    expect(maskPersonalNumbers(text)).toBe(text);
  });
});

describe('the logger masks every field, nested ones too', () => {
  test('objects, arrays and errors; numbers stay as they are', async () => {
    const { stream, text } = capture();
    const log = createLogger('debug', stream);
    const cause = new Error(`value '123.456.782' is not valid`);
    log.error('nested', {
      detail: { reason: `element burgerservicenummer: '${BSN}x'`, deeper: { list: ['123 456 782', { own: OWN }] } },
      errors: [cause],
      error: new TypeError(`BSN${BSN}NL`),
      messageId: 12_345_678,
    });
    log.warn(`top level 00${BSN}`);
    await new Promise((resolve) => setImmediate(resolve));
    const [first, second] = text()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, any>);
    expect(first!.detail.reason).toBe("element burgerservicenummer: '******782x'");
    expect(first!.detail.deeper.list).toEqual(['******782', { own: `******${OWN.slice(-3)}` }]);
    expect(first!.errors[0]).toMatchObject({ name: 'Error', message: "value '******782' is not valid" });
    expect(first!.errors[0].stack).toContain("value '******782' is not valid");
    expect(first!.error).toMatchObject({ name: 'TypeError', message: 'BSN******782NL' });
    expect(first!.messageId).toBe(12_345_678); // numbers are the broker's own ids and counts
    expect(second!.message).toBe('top level ******782');
    expect(personalNumbersIn(text())).toEqual([]);
    // The caller's objects are not changed: an error logged may still be thrown on.
    expect(cause.message).toBe("value '123.456.782' is not valid");
  });

  test('a cycle is written once, not followed', async () => {
    const { stream, text } = capture();
    const log = createLogger('info', stream);
    const loop: Record<string, unknown> = { bsn: BSN };
    loop.self = loop;
    log.info('cycle', { loop });
    await new Promise((resolve) => setImmediate(resolve));
    expect(JSON.parse(text()).loop).toEqual({ bsn: '******782', self: '[Circular]' });
  });
});
