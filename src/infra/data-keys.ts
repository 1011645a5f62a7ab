import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** One AES-256 key of `DATA_KEYS`, with the id stored beside every value it sealed. */
export interface DataKey {
  readonly id: string;
  readonly key: Buffer;
}

/** A value as a row stores it: in plain text (no key configured), or sealed with the key named. */
export type StoredText =
  | { readonly plain: string; readonly sealed: null; readonly keyId: null }
  | { readonly plain: null; readonly sealed: Buffer; readonly keyId: string };

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;

/**
 * The keys stored messages are sealed with (AES-256-GCM): the first seals, every one opens, so a key
 * can be replaced by putting the new one first and re-encrypting (`keys rotate`). Without keys values
 * are stored in plain text (development only). A sealed value is iv ‖ tag ‖ ciphertext; its additional
 * data is the key id and the column it belongs to, so a value copied into another column does not open.
 */
export class DataKeys {
  static readonly NONE = new DataKeys([]);

  private readonly byId: ReadonlyMap<string, Buffer>;

  private constructor(readonly keys: readonly DataKey[]) {
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  /** `id:base64key,id:base64key` (first is current); throws with one line per problem. */
  static parse(text: string): DataKeys {
    const problems: string[] = [];
    const keys = text
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '')
      .map((part, i) => {
        const colon = part.indexOf(':');
        const id = colon < 0 ? '' : part.slice(0, colon);
        const key = Buffer.from(colon < 0 ? '' : part.slice(colon + 1), 'base64');
        // Never quote the key material in a problem line: it would end up in a start-up log.
        if (!KEY_ID_PATTERN.test(id)) problems.push(`key ${i + 1} needs an id of letters, digits, _ . - before ':'`);
        if (key.length !== 32) problems.push(`key ${id || i + 1} must be 32 bytes in base64, got ${key.length}`);
        return { id, key };
      });
    if (keys.length === 0) problems.push('no key given');
    const ids = keys.map((k) => k.id);
    const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
    if (repeated.length > 0) problems.push(`key ids must be unique: ${[...new Set(repeated)].join(', ')}`);
    if (problems.length > 0) throw new Error(problems.join('; '));
    return new DataKeys(keys);
  }

  /** The key new values are sealed with; undefined: stored in plain text. */
  get current(): DataKey | undefined {
    return this.keys[0];
  }

  /** `text` as it is to be stored in `column` (one cipher call, no round trip). */
  seal(text: string, column: string): StoredText {
    const current = this.current;
    if (!current) return { plain: text, sealed: null, keyId: null };
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', current.key, iv);
    cipher.setAAD(Buffer.from(`${current.id}:${column}`));
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return { plain: null, sealed: Buffer.concat([iv, cipher.getAuthTag(), body]), keyId: current.id };
  }

  /** The text of a stored value of `column`; throws when its key is not configured or it was altered. */
  open(stored: { plain: string | null; sealed: Buffer | null; keyId: string | null }, column: string): string {
    if (stored.keyId === null) return stored.plain ?? '';
    const key = this.byId.get(stored.keyId);
    if (!key) throw new Error(`${column} sealed with data key '${stored.keyId}', which is not in DATA_KEYS`);
    const sealed = stored.sealed!;
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(`${stored.keyId}:${column}`));
    decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }
}
