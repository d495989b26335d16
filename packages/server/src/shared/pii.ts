import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { randomBytes } from './random.js';

/** One data key of the key ring: its id (written into every value it encrypts) and 32 bytes as hex. */
export interface PiiKey {
  id: string;
  keyHex: string;
}

export interface PiiKeys {
  /** Encrypts everything written from now on. */
  current: PiiKey;
  /** Earlier keys, still read (values written under them) until `slotwise keys rotate` has moved everything. */
  old?: PiiKey[];
  /**
   * Secret of the lookup hashes (email, phone). Hashes never rotate: they back unique indexes,
   * filters and magic links that store nothing else. Default: the current key.
   */
  lookupKeyHex?: string;
}

export const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
export const DEFAULT_KEY_ID = 'k1';
const B64 = '[A-Za-z0-9_-]';
const V1 = new RegExp(`^v1\\.${B64}+\\.${B64}+\\.${B64}*$`);
const V2 = new RegExp(`^v2\\.[A-Za-z0-9_-]{1,32}\\.${B64}+\\.${B64}+\\.${B64}*$`);

/** A value that is not in our ciphertext format: plaintext written before it was encrypted (migration 0006). */
export function isCiphertext(stored: string): boolean {
  return V1.test(stored) || V2.test(stored);
}

/** A JSON value stored encrypted in a jsonb column. */
export type Sealed = { sealed: string };

export function isSealed(column: unknown): column is Sealed {
  return (
    typeof column === 'object' &&
    column !== null &&
    !Array.isArray(column) &&
    Object.keys(column).length === 1 &&
    typeof (column as Sealed).sealed === 'string'
  );
}

const derive = (keyHex: string, purpose: string) => createHmac('sha256', Buffer.from(keyHex, 'hex')).update(purpose).digest();

function checkKey(keyHex: string, name: string) {
  if (Buffer.from(keyHex, 'hex').length !== 32 || !/^[0-9a-fA-F]{64}$/.test(keyHex)) throw new Error(`${name} must be 32 bytes (64 hex characters)`);
}

/**
 * Personal data at rest (contact data, names, notes, free-text answers, mail content) is stored
 * encrypted (AES-256-GCM); email and phone also get a keyed lookup hash beside them, so "bookings
 * of this email" is an index lookup and a database dump shows no personal data.
 *
 * Ciphertext: `v2.<key id>.<iv>.<tag>.<data>` (base64url parts; `v2.<key id>` is authenticated
 * data). `v1.<iv>.<tag>.<data>` (before key ids) is still read: tried with every key of the ring.
 */
export class Pii {
  readonly currentKeyId: string;
  private readonly encKeys = new Map<string, Buffer>();
  private readonly hashKey: Buffer;

  constructor(keys: PiiKeys | string) {
    const ring: PiiKeys = typeof keys === 'string' ? { current: { id: DEFAULT_KEY_ID, keyHex: keys } } : keys;
    for (const k of [ring.current, ...(ring.old ?? [])]) {
      if (!KEY_ID.test(k.id)) throw new Error(`encryption key id "${k.id}" must be 1-32 letters, digits, _ or -`);
      if (this.encKeys.has(k.id)) throw new Error(`encryption key id "${k.id}" is used twice`);
      checkKey(k.keyHex, `encryption key ${k.id}`);
      // Separate keys per purpose, derived from each configured secret.
      this.encKeys.set(k.id, derive(k.keyHex, 'slotwise:pii:encrypt'));
    }
    this.currentKeyId = ring.current.id;
    const lookup = ring.lookupKeyHex ?? ring.current.keyHex;
    checkKey(lookup, 'ENCRYPTION_LOOKUP_KEY');
    this.hashKey = derive(lookup, 'slotwise:pii:lookup');
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const header = `v2.${this.currentKeyId}`;
    const cipher = createCipheriv('aes-256-gcm', this.encKeys.get(this.currentKeyId)!, iv);
    cipher.setAAD(Buffer.from(header));
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [header, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
  }

  /** A value this class encrypted; anything else (plaintext, an unknown key, tampering) throws. */
  decrypt(stored: string): string {
    if (V2.test(stored)) {
      const [, kid, iv, tag, data] = stored.split('.') as [string, string, string, string, string];
      const key = this.encKeys.get(kid);
      if (!key) throw new Error(`encrypted with key "${kid}", which is not configured (ENCRYPTION_KEY_ID / ENCRYPTION_OLD_KEYS)`);
      return open(key, iv, tag, data, `v2.${kid}`);
    }
    if (V1.test(stored)) {
      const [, iv, tag, data] = stored.split('.') as [string, string, string, string];
      for (const key of this.encKeys.values()) {
        try {
          return open(key, iv, tag, data, null);
        } catch {
          // not this key: GCM's tag tells
        }
      }
      throw new Error('a v1 value none of the configured keys decrypts');
    }
    throw new Error('not an encrypted PII value');
  }

  /**
   * Columns that held plaintext before migration 0006 (names, notes): rows written before it are
   * read as they are until `slotwise keys rotate` encrypts them.
   */
  readText(stored: string): string {
    return isCiphertext(stored) ? this.decrypt(stored) : stored;
  }

  readNullable(stored: string | null): string | null {
    return stored === null ? null : this.readText(stored);
  }

  encryptNullable(plain: string | null | undefined): string | null {
    return plain == null ? null : this.encrypt(plain);
  }

  /** A JSON value for a jsonb column, encrypted: `{ "sealed": "v2..." }`. */
  seal(value: unknown): Sealed {
    return { sealed: this.encrypt(JSON.stringify(value)) };
  }

  /** The value of `seal`; an unsealed column (written before it was encrypted) is returned as it is. */
  unseal<T>(column: unknown): T {
    return (isSealed(column) ? JSON.parse(this.decrypt(column.sealed)) : column) as T;
  }

  /** Written under the current key: nothing for `keys rotate` to do. */
  isCurrent(stored: string): boolean {
    return stored.startsWith(`v2.${this.currentKeyId}.`);
  }

  /** Lookup hash of an email: case-insensitive, so filters match however it was typed. */
  emailHash(email: string): string {
    return this.lookupHash(email.trim().toLowerCase());
  }

  /** Lookup hash of a phone number: digits and a leading + only. */
  phoneHash(phone: string): string {
    return this.lookupHash(phone.replace(/[^\d+]/g, ''));
  }

  private lookupHash(value: string): string {
    return createHmac('sha256', this.hashKey).update(value).digest('hex');
  }
}

function open(key: Buffer, iv: string, tag: string, data: string, aad: string | null): string {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  if (aad !== null) decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
}

/** The key ring the configuration describes (ENCRYPTION_KEY[_ID], ENCRYPTION_OLD_KEYS, ENCRYPTION_LOOKUP_KEY). */
export function piiKeysFromConfig(config: {
  ENCRYPTION_KEY?: string;
  ENCRYPTION_KEY_ID?: string;
  ENCRYPTION_OLD_KEYS: PiiKey[];
  ENCRYPTION_LOOKUP_KEY?: string;
}): PiiKeys {
  if (!config.ENCRYPTION_KEY) throw new Error('ENCRYPTION_KEY is not set');
  return {
    current: { id: config.ENCRYPTION_KEY_ID ?? DEFAULT_KEY_ID, keyHex: config.ENCRYPTION_KEY },
    old: config.ENCRYPTION_OLD_KEYS,
    lookupKeyHex: config.ENCRYPTION_LOOKUP_KEY,
  };
}

let current: Pii | null = null;

/**
 * Sets the process-wide key ring (done once when services are built). Code deep inside a
 * transaction (e.g. the multi-slot booking used by forms) encrypts without threading it through.
 */
export function configurePii(keys: PiiKeys | string): Pii {
  current = new Pii(keys);
  return current;
}

export function pii(): Pii {
  if (!current) throw new Error('PII encryption is not configured (configurePii was not called)');
  return current;
}
