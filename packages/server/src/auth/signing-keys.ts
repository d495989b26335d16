import { createPublicKey } from 'node:crypto';
import {
  SignJWT,
  calculateJwkThumbprint,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importJWK,
  importPKCS8,
  jwtVerify,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import type { Config } from '../config.js';
import type { SqlRunner } from '../db/database.js';
import { pii } from '../shared/pii.js';
import { insertSigningKey, oldestSigningKey } from './auth.store.js';

export type SigningAlg = 'HS256' | 'ES256' | 'RS256' | 'EdDSA';

export type SigningConfig = Pick<Config, 'JWT_SECRET' | 'JWT_SIGNING_ALG' | 'JWT_PRIVATE_KEY' | 'PUBLIC_URL' | 'PORT'>;

interface ActiveKey {
  alg: SigningAlg;
  kid?: string;
  signKey: CryptoKey | Uint8Array;
  verifyKey: CryptoKey | Uint8Array;
  /** The public half, published at /.well-known/jwks.json; none for HS256 (a secret is never published). */
  publicJwk?: JWK;
}

/**
 * The key this server signs its own access tokens with: JWT_SECRET (HS256), JWT_PRIVATE_KEY, or a
 * key pair generated once and kept (private half encrypted) in `signing_keys`, so every instance
 * signs and verifies with the same one.
 */
export class SigningKeys {
  readonly alg: SigningAlg;
  /** `iss` and `aud` of the server's own tokens: its public base URL. */
  readonly issuer: string;
  private active: ActiveKey | null = null;

  constructor(private readonly config: SigningConfig) {
    this.alg = config.JWT_SIGNING_ALG ?? (config.JWT_SECRET ? 'HS256' : 'ES256');
    this.issuer = (config.PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/+$/, '');
  }

  /** Loads (or generates and stores) the key; called once at start, after migrations. */
  async init(sql: SqlRunner): Promise<void> {
    this.active ??= await this.load(sql);
  }

  private async load(sql: SqlRunner): Promise<ActiveKey> {
    if (this.alg === 'HS256') {
      if (!this.config.JWT_SECRET) throw new Error('JWT_SIGNING_ALG HS256 needs JWT_SECRET');
      const secret = new TextEncoder().encode(this.config.JWT_SECRET);
      return { alg: 'HS256', signKey: secret, verifyKey: secret };
    }
    if (this.config.JWT_PRIVATE_KEY) {
      // Environment variables often carry a PEM with its line breaks written as \n.
      const pem = this.config.JWT_PRIVATE_KEY.replace(/\\n/g, '\n');
      const publicJwk = createPublicKey(pem).export({ format: 'jwk' }) as JWK;
      return this.fromParts(await importPKCS8(pem, this.alg), publicJwk);
    }
    let stored = await oldestSigningKey(sql, this.alg);
    if (!stored) {
      const pair = await generateKeyPair(this.alg, { extractable: true });
      const publicJwk = await exportJWK(pair.publicKey);
      const kid = await calculateJwkThumbprint(publicJwk);
      // Instances starting together may each insert one; all of them then sign with the oldest.
      await insertSigningKey(sql, {
        kid,
        alg: this.alg,
        publicJwk: JSON.stringify(publicJwk),
        privateKey: pii().encrypt(await exportPKCS8(pair.privateKey)),
      });
      stored = (await oldestSigningKey(sql, this.alg))!;
    }
    return this.fromParts(await importPKCS8(pii().decrypt(stored.privateKey), this.alg), JSON.parse(stored.publicJwk) as JWK);
  }

  private async fromParts(privateKey: CryptoKey, jwk: JWK): Promise<ActiveKey> {
    const kid = await calculateJwkThumbprint(jwk);
    const publicJwk = { ...jwk, kid, alg: this.alg, use: 'sig' };
    return { alg: this.alg, kid, signKey: privateKey, verifyKey: (await importJWK(publicJwk, this.alg)) as CryptoKey, publicJwk };
  }

  private key(): ActiveKey {
    if (!this.active) throw new Error('SigningKeys.init was not called');
    return this.active;
  }

  /** A short-lived access token for a user; `sid` names the refresh-token family it came from. */
  async sign(
    claims: { sub: string; email: string; roles: string[]; sid: string },
    ttlSeconds: number,
    now: Date,
  ): Promise<{ token: string; expiresAt: Date }> {
    const key = this.key();
    const iat = Math.floor(now.getTime() / 1000);
    const token = await new SignJWT({ email: claims.email, roles: claims.roles, sid: claims.sid })
      .setProtectedHeader({ alg: key.alg, typ: 'JWT', ...(key.kid ? { kid: key.kid } : {}) })
      .setSubject(claims.sub)
      .setIssuer(this.issuer)
      .setAudience(this.issuer)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttlSeconds)
      .sign(key.signKey);
    return { token, expiresAt: new Date((iat + ttlSeconds) * 1000) };
  }

  /** Verifies one of this server's own tokens (signature, issuer, audience, exp); throws otherwise. */
  async verify(token: string, clockToleranceSeconds: number): Promise<JWTPayload> {
    const key = this.key();
    const { payload } = await jwtVerify(token, key.verifyKey, {
      algorithms: [key.alg],
      issuer: this.issuer,
      audience: this.issuer,
      requiredClaims: ['exp', 'sub'],
      clockTolerance: clockToleranceSeconds,
    });
    return payload;
  }

  /** The JWK Set of /.well-known/jwks.json, or null with HS256. */
  jwks(): { keys: JWK[] } | null {
    const { publicJwk } = this.key();
    return publicJwk ? { keys: [publicJwk] } : null;
  }
}
