import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * Customer email and phone are stored encrypted (AES-256-GCM) with a keyed lookup hash beside
 * them, so "bookings of this email" is an index lookup and a database dump shows no contact data.
 * Ciphertext format: `v1.<iv>.<tag>.<data>` (base64url parts).
 */
export class Pii {
  private readonly encKey: Buffer;
  private readonly hashKey: Buffer;

  constructor(keyHex: string) {
    const key = Buffer.from(keyHex, 'hex');
    if (key.length !== 32) throw new Error('ENCRYPTION_KEY must be 32 bytes (64 hex characters)');
    // Separate keys per purpose, derived from the one configured secret.
    this.encKey = createHmac('sha256', key).update('slotwise:pii:encrypt').digest();
    this.hashKey = createHmac('sha256', key).update('slotwise:pii:lookup').digest();
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.encKey, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
  }

  decrypt(stored: string): string {
    const [version, iv, tag, data] = stored.split('.');
    if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('not an encrypted PII value');
    const decipher = createDecipheriv('aes-256-gcm', this.encKey, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
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

let current: Pii | null = null;

/**
 * Sets the process-wide key (done once when services are built). Code deep inside a
 * transaction (e.g. the multi-slot booking used by forms) encrypts without threading it through.
 */
export function configurePii(keyHex: string): Pii {
  current = new Pii(keyHex);
  return current;
}

export function pii(): Pii {
  if (!current) throw new Error('PII encryption is not configured (configurePii was not called)');
  return current;
}
