import { DataKeys } from '../../src/infra/data-keys.js';

const key = (id: string, fill: number): string => `${id}:${Buffer.alloc(32, fill).toString('base64')}`;
const COLUMN = 'inbound_messages.raw_xml';
const TEXT = '<b:burgerservicenummer>123456782</b:burgerservicenummer>';

describe('data keys (AES-256-GCM at rest)', () => {
  test('seals under the first key as iv, tag and ciphertext, and opens back to the text', () => {
    const keys = DataKeys.parse(`${key('k2', 2)},${key('k1', 1)}`);
    const stored = keys.seal(TEXT, COLUMN);
    expect(stored.keyId).toBe('k2');
    expect(stored.plain).toBeNull();
    expect(stored.sealed!.length).toBe(12 + 16 + Buffer.byteLength(TEXT));
    expect(stored.sealed!.includes(Buffer.from('123456782'))).toBe(false);
    expect(keys.open(stored, COLUMN)).toBe(TEXT);
    // A fresh iv per value: the same text never seals the same twice.
    expect(keys.seal(TEXT, COLUMN).sealed!.equals(stored.sealed!)).toBe(false);
  });

  test('an older key still opens what it sealed; a removed key is named, not guessed', () => {
    const old = DataKeys.parse(key('k1', 1)).seal(TEXT, COLUMN);
    expect(DataKeys.parse(`${key('k2', 2)},${key('k1', 1)}`).open(old, COLUMN)).toBe(TEXT);
    expect(() => DataKeys.parse(key('k2', 2)).open(old, COLUMN)).toThrow(
      "inbound_messages.raw_xml sealed with data key 'k1', which is not in DATA_KEYS",
    );
  });

  test('an altered value, another column or a wrong key with the same id does not open', () => {
    const keys = DataKeys.parse(key('k1', 1));
    const stored = keys.seal(TEXT, COLUMN);
    const flipped = Buffer.from(stored.sealed!);
    flipped[flipped.length - 1]! ^= 1;
    expect(() => keys.open({ ...stored, sealed: flipped }, COLUMN)).toThrow();
    expect(() => keys.open(stored, 'outbound_messages.body_xml')).toThrow();
    expect(() => DataKeys.parse(key('k1', 9)).open(stored, COLUMN)).toThrow();
  });

  test('without keys values stay plain text, and plain rows open under any keys', () => {
    const plain = DataKeys.NONE.seal(TEXT, COLUMN);
    expect(plain).toEqual({ plain: TEXT, sealed: null, keyId: null });
    expect(DataKeys.parse(key('k1', 1)).open(plain, COLUMN)).toBe(TEXT);
  });
});
