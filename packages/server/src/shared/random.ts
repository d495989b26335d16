import { randomBytes as opensslRandomBytes, randomFillSync } from 'node:crypto';

/**
 * Cryptographically strong random bytes, cut from a pool filled 4 KB at a time. Each call into OpenSSL
 * costs about 4.5 µs whatever its size, and one booking takes about ten small pieces (its id, the IVs
 * of its sealed contact data and mails, its tokens). Every pool is filled once and each of its bytes
 * handed out once, as node's own randomUUID does; a larger request goes straight to OpenSSL.
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = 0;

export function randomBytes(size: number): Buffer {
  if (size > POOL_BYTES) return opensslRandomBytes(size);
  if (used + size > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafeSlow(POOL_BYTES));
    used = 0;
  }
  const bytes = pool.subarray(used, used + size);
  used += size;
  return bytes;
}
