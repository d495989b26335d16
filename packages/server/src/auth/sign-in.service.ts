import { createHash, randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { SqlQuery, SqlRunner } from '../db/database.js';
import type { Role } from '../generated/prisma/enums.js';
import type { Outbox } from '../mail/outbox.js';
import type { RateLimitStore } from '../ratelimit/store.js';
import { ValidationError, parseInput } from '../shared/errors.js';
import { pii } from '../shared/pii.js';
import {
  countFailedAttempts,
  ensureUser,
  findUser,
  insertRefreshToken,
  insertSignInRequest,
  lockRefreshToken,
  lockSignInRequestByToken,
  lockSignInRequestsByEmail,
  markRotated,
  revokeFamily,
  revokeUserTokens,
  useSignInRequests,
  type SignInRequestRow,
} from './auth.store.js';
import { RefreshTokenInvalidError, SignInInvalidError, SignInRateLimitedError, type RefreshProblem, type SignInProblem } from './sign-in-errors.js';
import { signInMail } from './sign-in-mail.js';
import type { SigningKeys } from './signing-keys.js';

export type SignInConfig = Pick<
  Config,
  | 'ACCESS_TOKEN_TTL_SECONDS'
  | 'REFRESH_TOKEN_TTL_DAYS'
  | 'SIGN_IN_CODE_TTL_MINUTES'
  | 'SIGN_IN_REQUESTS_PER_EMAIL_PER_HOUR'
  | 'SIGN_IN_REQUESTS_PER_IP_PER_HOUR'
  | 'SIGN_IN_LINK_URL'
  | 'PUBLIC_URL'
  | 'PORT'
>;

/** Wrong codes a request survives; the next wrong one (or the right one) after that is refused. */
export const MAX_CODE_ATTEMPTS = 5;
const REFRESH_PREFIX = 'rt_';
const LINK_PREFIX = 'si_';
const DAY_MS = 86_400_000;

const emailInput = z.email('must be an email address').transform((e) => e.trim().toLowerCase());
const completeInput = z
  .object({
    email: emailInput.nullish(),
    code: z
      .string()
      .trim()
      .regex(/^\d{6}$/, 'must be the 6 digits from the mail')
      .nullish(),
    token: z.string().trim().min(1).max(200).nullish(),
  })
  .superRefine((v, ctx) => {
    if ((v.code == null) === (v.token == null)) {
      for (const path of ['code', 'token']) ctx.addIssue({ code: 'custom', path: [path], message: 'give exactly one of code or token' });
    }
    if (v.code != null && v.email == null) ctx.addIssue({ code: 'custom', path: ['email'], message: 'is required with a code' });
  });

export interface AuthSession {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  user: { id: string; email: string; roles: Role[] };
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
const codeHash = (requestId: string, code: string) => sha256(`${requestId}:${code}`);
const sameHex = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));

type Outcome<T> = { ok: true; value: T } | { ok: false; error: Error };

/**
 * Passwordless sign-in (issue #20): a mail with a one-time code and a link, then a short-lived
 * access JWT and a rotating refresh token. Failed attempts and reuse detection are committed
 * before the error is answered, so a refusal still counts.
 */
export class SignInService {
  /** The clock; tests move it to expire codes and tokens. */
  now: () => Date = () => new Date();

  constructor(
    private readonly deps: {
      sql: SqlRunner;
      outbox: Outbox;
      keys: SigningKeys;
      /** Hour windows, keyed by email hash and by client address. */
      limits: RateLimitStore;
      config: SignInConfig;
    },
  ) {}

  /**
   * Mails a code and a link to `email`. Every address gets the same answer and the same mail (an
   * unknown address becomes a user when it signs in), so the answer says nothing about who has an account.
   */
  async request(emailValue: string, clientAddress: string | undefined): Promise<{ expiresAt: Date }> {
    const email = parseInput(emailInput, emailValue, ['input', 'email']);
    const emailHash = pii().emailHash(email);
    await this.checkLimits(emailHash, clientAddress);
    const now = this.now();
    const { config } = this.deps;
    const id = randomUUID();
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const token = LINK_PREFIX + randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + config.SIGN_IN_CODE_TTL_MINUTES * 60_000);
    const link = new URL(config.SIGN_IN_LINK_URL ?? `${(config.PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/+$/, '')}/sign-in`);
    link.searchParams.set('t', token);
    await this.deps.sql.transaction(async (tx) => {
      await insertSignInRequest(tx, {
        id,
        email: pii().encrypt(email),
        emailHash,
        codeHash: codeHash(id, code),
        tokenHash: sha256(token),
        expiresAt,
        createdAt: now,
      });
      await this.deps.outbox.enqueue(tx, [
        { kind: 'sign-in', to: email, dedupeKey: `sign-in:${id}`, content: signInMail(code, link.href, config.SIGN_IN_CODE_TTL_MINUTES) },
      ]);
    });
    return { expiresAt };
  }

  private async checkLimits(emailHash: string, clientAddress: string | undefined) {
    const { config, limits } = this.deps;
    const checks: [string, number][] = [
      [`email:${emailHash}`, config.SIGN_IN_REQUESTS_PER_EMAIL_PER_HOUR],
      [`ip:${clientAddress ?? 'unknown'}`, config.SIGN_IN_REQUESTS_PER_IP_PER_HOUR],
    ];
    const windows = await Promise.all(
      checks.filter(([, limit]) => limit > 0).map(async ([key, limit]) => ({ ...(await limits.hit(key, 1)), limit })),
    );
    const over = windows.filter((w) => w.count > w.limit);
    if (over.length) throw new SignInRateLimitedError(Math.max(...over.map((w) => Math.ceil(w.resetInMs / 1000)), 1));
  }

  /** A code (with its email) or a link token, once, before it expires: a new session for that address's user. */
  async complete(input: { email?: string | null; code?: string | null; token?: string | null }): Promise<AuthSession> {
    const data = parseInput(completeInput, input);
    const now = this.now();
    const outcome = await this.deps.sql.transaction(
      async (tx): Promise<Outcome<AuthSession['user'] & { refresh: { token: string; expiresAt: Date; familyId: string } }>> => {
        const found = data.token ? await this.byToken(tx, data.token, data.email ?? null, now) : await this.byCode(tx, data.email!, data.code!, now);
        if (!found.ok) return found;
        const request = found.value;
        await useSignInRequests(tx, request.emailHash, now);
        const user = await ensureUser(tx, pii().decrypt(request.email));
        return { ok: true, value: { ...user, refresh: await this.newRefreshToken(tx, user.id, randomUUID(), now) } };
      },
    );
    if (!outcome.ok) throw outcome.error;
    const { refresh, ...user } = outcome.value;
    return this.session(user, refresh, now);
  }

  private async byToken(tx: SqlQuery, token: string, email: string | null, now: Date): Promise<Outcome<SignInRequestRow>> {
    const request = await lockSignInRequestByToken(tx, sha256(token));
    if (!request || (email && request.emailHash !== pii().emailHash(email))) return refused('INVALID');
    return usable(request, now);
  }

  private async byCode(tx: SqlQuery, email: string, code: string, now: Date): Promise<Outcome<SignInRequestRow>> {
    const ttlMs = this.deps.config.SIGN_IN_CODE_TTL_MINUTES * 60_000;
    // Older requests too, so an expired or used code is told apart from a wrong one.
    const requests = await lockSignInRequestsByEmail(tx, pii().emailHash(email), new Date(now.getTime() - ttlMs - DAY_MS));
    const match = requests.find((r) => sameHex(r.codeHash, codeHash(r.id, code)));
    if (match) return usable(match, now);
    const open = requests.filter((r) => !r.usedAt && r.expiresAt > now && r.attempts < MAX_CODE_ATTEMPTS);
    await countFailedAttempts(
      tx,
      open.map((r) => r.id),
    );
    return refused('INVALID');
  }

  /** Rotates a refresh token: the old one is spent, a new one joins its family. A spent one shown again revokes the family. */
  async refresh(token: string): Promise<AuthSession> {
    const now = this.now();
    const outcome = await this.deps.sql.transaction(
      async (tx): Promise<Outcome<AuthSession['user'] & { refresh: { token: string; expiresAt: Date; familyId: string } }>> => {
        const row = token.startsWith(REFRESH_PREFIX) ? await lockRefreshToken(tx, sha256(token)) : null;
        if (!row) return refusedRefresh('UNKNOWN');
        // A spent token shown again is a leak whatever happened since: its family goes (again, harmlessly).
        if (row.rotatedAt) {
          await revokeFamily(tx, row.familyId, now);
          return refusedRefresh('REUSED');
        }
        if (row.revokedAt) return refusedRefresh('REVOKED');
        if (row.expiresAt <= now) return refusedRefresh('EXPIRED');
        const user = await findUser(tx, row.userId);
        if (!user) return refusedRefresh('REVOKED');
        await markRotated(tx, row.id, now);
        return { ok: true, value: { ...user, refresh: await this.newRefreshToken(tx, user.id, row.familyId, now) } };
      },
    );
    if (!outcome.ok) throw outcome.error;
    const { refresh, ...user } = outcome.value;
    return this.session(user, refresh, now);
  }

  /**
   * Ends the session the refresh token belongs to (its whole family), or with `everywhere` every
   * session of its user. An unknown token changes nothing. Access tokens already issued stay valid
   * until they expire (ACCESS_TOKEN_TTL_SECONDS).
   */
  async signOut(token: string, everywhere: boolean): Promise<{ revoked: number }> {
    const now = this.now();
    return this.deps.sql.transaction(async (tx) => {
      const row = token.startsWith(REFRESH_PREFIX) ? await lockRefreshToken(tx, sha256(token)) : null;
      if (!row) throw ValidationError.field(['input', 'refreshToken'], 'is not a refresh token of this server');
      return { revoked: everywhere ? await revokeUserTokens(tx, row.userId, now) : await revokeFamily(tx, row.familyId, now) };
    });
  }

  private async newRefreshToken(tx: SqlQuery, userId: string, familyId: string, now: Date) {
    const token = REFRESH_PREFIX + randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + this.deps.config.REFRESH_TOKEN_TTL_DAYS * DAY_MS);
    await insertRefreshToken(tx, { familyId, userId, tokenHash: sha256(token), expiresAt });
    return { token, expiresAt, familyId };
  }

  private async session(user: AuthSession['user'], refresh: { token: string; expiresAt: Date; familyId: string }, now: Date): Promise<AuthSession> {
    const roles: Role[] = user.roles.length ? user.roles : ['user'];
    const access = await this.deps.keys.sign(
      { sub: user.id, email: user.email, roles, sid: refresh.familyId },
      this.deps.config.ACCESS_TOKEN_TTL_SECONDS,
      now,
    );
    return {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      refreshToken: refresh.token,
      refreshTokenExpiresAt: refresh.expiresAt,
      user: { ...user, roles },
    };
  }
}

function usable(request: SignInRequestRow, now: Date): Outcome<SignInRequestRow> {
  if (request.usedAt) return refused('USED');
  if (request.expiresAt <= now) return refused('EXPIRED');
  if (request.attempts >= MAX_CODE_ATTEMPTS) return refused('TOO_MANY_ATTEMPTS');
  return { ok: true, value: request };
}

const refused = (reason: SignInProblem): { ok: false; error: Error } => ({ ok: false, error: new SignInInvalidError(reason) });
const refusedRefresh = (reason: RefreshProblem): { ok: false; error: Error } => ({ ok: false, error: new RefreshTokenInvalidError(reason) });
