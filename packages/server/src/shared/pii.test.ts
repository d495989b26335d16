import { describe, expect, it } from 'vitest';
import { isCiphertext, Pii } from './pii.js';

const K1 = '11'.repeat(32);
const K2 = '22'.repeat(32);

describe('Pii key ring', () => {
  it('writes v2 with the current key id, reads values of every configured key, refuses unknown ones', () => {
    const one = new Pii({ current: { id: 'k1', keyHex: K1 } });
    const two = new Pii({ current: { id: 'k2', keyHex: K2 }, old: [{ id: 'k1', keyHex: K1 }], lookupKeyHex: K1 });
    const stored = one.encrypt('Ada Lovelace');
    expect(stored).toMatch(/^v2\.k1\./);
    expect(two.decrypt(stored)).toBe('Ada Lovelace');
    expect(two.isCurrent(stored)).toBe(false);
    expect(two.isCurrent(two.encrypt('x'))).toBe(true);
    expect(() => new Pii({ current: { id: 'k2', keyHex: K2 } }).decrypt(stored)).toThrow('encrypted with key "k1", which is not configured');
    // The key id is authenticated: relabelling a value breaks it.
    expect(() => new Pii({ current: { id: 'k9', keyHex: K1 } }).decrypt(stored.replace('v2.k1.', 'v2.k9.'))).toThrow();
    // Lookup hashes follow the lookup key, not the current key.
    expect(two.emailHash('Ada@Example.com')).toBe(one.emailHash('ada@example.com'));
  });

  it('reads legacy plaintext as it is, and sealed JSON or unsealed objects', () => {
    const p = new Pii(K1);
    expect(p.readText('Plain Name')).toBe('Plain Name');
    expect(isCiphertext('v1.not really')).toBe(false);
    expect(p.readText(p.encrypt('Secret'))).toBe('Secret');
    expect(p.unseal(p.seal({ q: 'a' }))).toEqual({ q: 'a' });
    expect(p.unseal({ q: 'a' })).toEqual({ q: 'a' });
    expect(() => p.decrypt('Plain Name')).toThrow('not an encrypted PII value');
  });
});
