import { createHash, createSecretKey, KeyObject, randomBytes } from 'node:crypto';
import { SignJWT, createRemoteJWKSet, decodeJwt, jwtVerify, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Role } from '../generated/prisma/enums.js';
import type { Actor } from '../shared/actor.js';
import { AppError, NotFoundError, ValidationError, parseInput } from '../shared/errors.js';
import { sqlIn } from '../db/database.js';
import { ensureUser, insertApiToken, insertUser, setApiTokenRevokedAt, setUserRoles, touchApiToken, upsertAdminUser } from './auth.store.js';
import type { SigningKeys } from './signing-keys.js';

export const ROLES: Role[] = ['admin', 'manager', 'scheduler', 'frontdesk', 'user'];
const API_TOKEN_PREFIX = 'sw_';
// Writing last_used_at on every request would turn each read into a write; once a minute is enough.
const LAST_USED_RESOLUTION_MS = 60_000;
/** Verified JWTs remembered (the oldest forgotten first): each is a few hundred bytes. */
const VERIFIED_TOKENS_MAX = 10_000;
const HMAC_HASHES: Record<string, string> = { HS256: 'SHA-256', HS384: 'SHA-384', HS512: 'SHA-512' };

export class AuthenticationError extends AppError {
  readonly code = 'UNAUTHENTICATED';
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export const createUserInput = z.object({
  email: z.email('must be an email address').transform((e) => e.toLowerCase()),
  name: z.string().trim().max(200).default(''),
  roles: z
    .array(z.enum(ROLES as [Role, ...Role[]]))
    .min(1, 'give at least one role')
    .default(['user']),
});

export const createApiTokenInput = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(100),
  expiresAt: z
    .date()
    .refine((d) => d.getTime() > Date.now(), 'must be in the future')
    .nullish(),
});

export class AuthService {
  /** What verifies JWTs not of this server: null when only its own (JWT_SIGNING_ALG ES256, RS256, EdDSA) are taken. */
  private readonly jwtKey: KeyObject | ReturnType<typeof createRemoteJWKSet> | null;
  /** JWT_SECRET as a CryptoKey per HMAC algorithm: jose imports a raw or KeyObject secret on every verification. */
  private readonly hmacKeys = new Map<string, Promise<CryptoKey>>();
  /**
   * Tokens verified with a key that never changes while the process runs (JWT_SECRET, the server's
   * own), by their exact text: a client sends the same token with each request. Everything jose
   * checked is fixed by that text except the time, so a hit only checks `exp` again (jose's rule).
   * Not for JWT_JWKS_URL, whose keys rotate.
   */
  private readonly verifiedTokens = new Map<string, { actor: Actor; exp: number }>();
  private readonly userIdsByEmail = new Map<string, string>();
  private readonly pendingUsers = new Map<string, Promise<string>>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly config: Pick<
      Config,
      'JWT_SECRET' | 'JWT_JWKS_URL' | 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'JWT_MAX_LIFETIME_SECONDS' | 'JWT_CLOCK_SKEW_SECONDS' | 'JWT_API_TOKEN_MAX_DAYS'
    >,
    /** The server's own access tokens (sign-in); tokens with its issuer are verified with it, all others as before. */
    private readonly ownTokens?: SigningKeys,
  ) {
    if (config.JWT_JWKS_URL) this.jwtKey = createRemoteJWKSet(new URL(config.JWT_JWKS_URL));
    // A KeyObject, not raw bytes: jose then imports it once per algorithm, not on every request.
    else if (config.JWT_SECRET) this.jwtKey = createSecretKey(Buffer.from(config.JWT_SECRET, 'utf8'));
    else this.jwtKey = null;
  }

  /** Turns an Authorization header into an actor; no header is the public; a bad credential is an error. */
  async authenticate(authorization: string | null | undefined): Promise<Actor | null> {
    if (!authorization) return null;
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match) throw new AuthenticationError('Authorization must be "Bearer <token>"');
    const credential = match[1]!;
    if (credential.startsWith(API_TOKEN_PREFIX)) return this.fromApiToken(credential);
    const verified = this.verifiedTokens.get(credential);
    if (verified && verified.exp > Math.floor(Date.now() / 1000) - this.config.JWT_CLOCK_SKEW_SECONDS) return verified.actor;
    if (verified) this.verifiedTokens.delete(credential);
    return this.fromJwt(credential);
  }

  private remember(token: string, actor: Actor, exp: number): Actor {
    if (this.verifiedTokens.size >= VERIFIED_TOKENS_MAX) this.verifiedTokens.delete(this.verifiedTokens.keys().next().value!);
    // Shared by every request with this token: nothing may change it.
    Object.freeze(actor.roles);
    this.verifiedTokens.set(token, { actor: Object.freeze(actor), exp });
    return actor;
  }

  private hmacKey = (header: JWTHeaderParameters): KeyObject | Promise<CryptoKey> => {
    const secret = this.jwtKey as KeyObject;
    const hash = HMAC_HASHES[header.alg];
    // Any other algorithm gets the secret as it is, and jose refuses it as before.
    if (!hash) return secret;
    let key = this.hmacKeys.get(header.alg);
    if (!key) {
      key = crypto.subtle.importKey('raw', secret.export(), { name: 'HMAC', hash }, false, ['verify']);
      this.hmacKeys.set(header.alg, key);
    }
    return key;
  };

  private async fromApiToken(token: string): Promise<Actor> {
    const row = await this.prisma.apiToken.findUnique({
      where: { tokenHash: hashToken(token) },
      include: { user: { select: { id: true, email: true, roles: true } } },
    });
    const now = Date.now();
    if (!row || row.revokedAt || (row.expiresAt && row.expiresAt.getTime() <= now)) {
      throw new AuthenticationError('API token is unknown, revoked or expired');
    }
    if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await touchApiToken(this.prisma, row.id, new Date(now));
    }
    return { userId: row.user.id, email: row.user.email, roles: row.user.roles, via: 'api-token' };
  }

  /**
   * A JWT must carry `exp` no further than JWT_MAX_LIFETIME_SECONDS away (`nbf` is honoured, both
   * with JWT_CLOCK_SKEW_SECONDS of tolerance). Every refusal says only "invalid token": the
   * library's reason is not passed on, so it cannot coach a forger.
   */
  private async fromJwt(token: string): Promise<Actor> {
    if (this.ownTokens && issuerOf(token) === this.ownTokens.issuer) return this.fromOwnToken(token, this.ownTokens);
    const key = this.jwtKey;
    if (!key) throw new AuthenticationError('invalid token');
    let payload: JWTPayload;
    try {
      const options = {
        issuer: this.config.JWT_ISSUER,
        audience: this.config.JWT_AUDIENCE,
        requiredClaims: ['exp'],
        clockTolerance: this.config.JWT_CLOCK_SKEW_SECONDS,
      };
      payload = (key instanceof KeyObject ? await jwtVerify(token, this.hmacKey, options) : await jwtVerify(token, key, options)).payload;
    } catch {
      throw new AuthenticationError('invalid token');
    }
    const issuedAt = typeof payload.iat === 'number' ? payload.iat : Math.floor(Date.now() / 1000);
    if (payload.exp! - issuedAt > this.config.JWT_MAX_LIFETIME_SECONDS + this.config.JWT_CLOCK_SKEW_SECONDS) {
      throw new AuthenticationError('invalid token');
    }
    const email = typeof payload.email === 'string' ? payload.email.toLowerCase() : undefined;
    if (!email) throw new AuthenticationError('invalid token');
    const claimed = Array.isArray(payload.roles) ? payload.roles : [];
    const roles = ROLES.filter((r) => claimed.includes(r));
    const actor: Actor = { userId: await this.userIdFor(email), email, roles: roles.length ? roles : ['user'], via: 'jwt' };
    return this.jwtKey instanceof KeyObject ? this.remember(token, actor, payload.exp!) : actor;
  }

  /** A token from sign-in: the user is its `sub`, its roles were read from the user row when it was issued. */
  private async fromOwnToken(token: string, keys: SigningKeys): Promise<Actor> {
    let payload: JWTPayload;
    try {
      payload = await keys.verify(token, this.config.JWT_CLOCK_SKEW_SECONDS);
    } catch {
      throw new AuthenticationError('invalid token');
    }
    if (typeof payload.email !== 'string' || typeof payload.sub !== 'string') throw new AuthenticationError('invalid token');
    const claimed = Array.isArray(payload.roles) ? payload.roles : [];
    const roles = ROLES.filter((r) => claimed.includes(r));
    return this.remember(token, { userId: payload.sub, email: payload.email, roles: roles.length ? roles : ['user'], via: 'jwt' }, payload.exp!);
  }

  /**
   * JWT users come from an identity provider: they get a local row (for their bookings) on first
   * sight. A new user's first requests often arrive together: in this process they share one
   * lookup, and across processes INSERT ... ON CONFLICT lets exactly one insert win while the
   * others read its row (Prisma's upsert would fail the losers with a unique violation).
   */
  private userIdFor(email: string): Promise<string> {
    const cached = this.userIdsByEmail.get(email);
    if (cached) return Promise.resolve(cached);
    let pending = this.pendingUsers.get(email);
    if (!pending) {
      pending = this.ensureUser(email).finally(() => this.pendingUsers.delete(email));
      this.pendingUsers.set(email, pending);
    }
    return pending;
  }

  private async ensureUser(email: string): Promise<string> {
    const { id } = await ensureUser(sqlIn(this.prisma), email);
    this.userIdsByEmail.set(email, id);
    return id;
  }

  /** Signs an HS256 token (tests, the CLI, and deployments without an identity provider). */
  async issueJwt(user: { email: string; roles: Role[] }, expiresIn = '1h'): Promise<string> {
    if (!this.config.JWT_SECRET) throw new Error('issuing JWTs needs JWT_SECRET');
    let jwt = new SignJWT({ email: user.email, roles: user.roles }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime(expiresIn);
    if (this.config.JWT_ISSUER) jwt = jwt.setIssuer(this.config.JWT_ISSUER);
    if (this.config.JWT_AUDIENCE) jwt = jwt.setAudience(this.config.JWT_AUDIENCE);
    return jwt.sign(new TextEncoder().encode(this.config.JWT_SECRET));
  }

  async createUser(input: z.input<typeof createUserInput>) {
    const data = parseInput(createUserInput, input);
    const existing = await this.prisma.user.findUnique({ where: { email: data.email }, select: { id: true } });
    if (existing) throw ValidationError.field(['input', 'email'], 'a user with this email already exists');
    return insertUser(this.prisma, data);
  }

  /**
   * Creates a token; the plain value is returned once and only its hash is kept. A JWT user's
   * token outlives the JWT, so it expires within JWT_API_TOKEN_MAX_DAYS (by default exactly then).
   */
  async createApiToken(userId: string, input: z.input<typeof createApiTokenInput>, via: Actor['via'] = 'api-token') {
    const data = parseInput(createApiTokenInput, input);
    if (via === 'jwt') {
      const latest = new Date(Date.now() + this.config.JWT_API_TOKEN_MAX_DAYS * 86_400_000);
      if (data.expiresAt && data.expiresAt > latest) {
        throw ValidationError.field(
          ['input', 'expiresAt'],
          `must be within ${this.config.JWT_API_TOKEN_MAX_DAYS} days for a token created with a JWT`,
        );
      }
      data.expiresAt ??= latest;
    }
    const token = API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const apiToken = await insertApiToken(this.prisma, {
      userId,
      name: data.name,
      expiresAt: data.expiresAt ?? null,
      tokenHash: hashToken(token),
      prefix: token.slice(0, 10),
    });
    return { token, apiToken };
  }

  async revokeApiToken(actor: Actor, id: string) {
    const row = await this.prisma.apiToken.findUnique({ where: { id } });
    if (!row || (row.userId !== actor.userId && !actor.roles.includes('admin'))) throw new NotFoundError('ApiToken', id);
    return setApiTokenRevokedAt(this.prisma, id, row.revokedAt ?? new Date());
  }

  /** Creates the user (or adds the admin role) and a token; used by `slotwise admin create`. */
  async ensureAdmin(email: string, name = '') {
    // Read as createUser reads one (the CLI's --email may come padded): a bad address is a ValidationError.
    const data = parseInput(createUserInput.pick({ email: true, name: true }), { email: email.trim(), name }, []);
    const user = await upsertAdminUser(this.prisma, data.email, data.name);
    const updated = user.roles.includes('admin') ? user : await setUserRoles(this.prisma, user.id, [...user.roles, 'admin']);
    return { user: updated, ...(await this.createApiToken(updated.id, { name: 'cli' })) };
  }
}

/** The unverified `iss` of a JWT, to choose the key that verifies it; undefined when it does not decode. */
function issuerOf(token: string): string | undefined {
  try {
    return decodeJwt(token).iss;
  } catch {
    return undefined;
  }
}
