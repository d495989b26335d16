import type { SqlQuery } from '../db/database.js';
import type { ApiToken, Prisma, User } from '../generated/prisma/client.js';
import type { Role } from '../generated/prisma/enums.js';

/** SQL of sign-in (requests with code + link, refresh tokens, signing keys) and the writes to users and API tokens. */

export interface StoredSigningKey {
  kid: string;
  publicJwk: string;
  privateKey: string;
}

export async function oldestSigningKey(q: SqlQuery, alg: string): Promise<StoredSigningKey | null> {
  const [row] = await q.query<{ kid: string; public_jwk: string; private_key: string }>(
    `SELECT kid, public_jwk, private_key FROM signing_keys WHERE alg = $1 ORDER BY created_at, kid LIMIT 1`,
    [alg],
  );
  return row ? { kid: row.kid, publicJwk: row.public_jwk, privateKey: row.private_key } : null;
}

export async function insertSigningKey(q: SqlQuery, key: StoredSigningKey & { alg: string }): Promise<void> {
  await q.query(`INSERT INTO signing_keys (kid, alg, public_jwk, private_key) VALUES ($1, $2, $3, $4) ON CONFLICT (kid) DO NOTHING`, [
    key.kid,
    key.alg,
    key.publicJwk,
    key.privateKey,
  ]);
}

export interface SignInRequestRow {
  id: string;
  email: string;
  emailHash: string;
  codeHash: string;
  attempts: number;
  expiresAt: Date;
  usedAt: Date | null;
}

export async function insertSignInRequest(
  q: SqlQuery,
  row: { id: string; email: string; emailHash: string; codeHash: string; tokenHash: string; expiresAt: Date; createdAt: Date },
): Promise<void> {
  await q.query(
    `INSERT INTO sign_in_requests (id, email, email_hash, code_hash, token_hash, expires_at, created_at)
     VALUES ($1::uuid, $2, $3, $4, $5, $6::timestamptz, $7::timestamptz)`,
    [row.id, row.email, row.emailHash, row.codeHash, row.tokenHash, row.expiresAt.toISOString(), row.createdAt.toISOString()],
  );
}

type RawRequest = { id: string; email: string; email_hash: string; code_hash: string; attempts: number; expires_at: Date; used_at: Date | null };
const REQUEST_COLUMNS = 'id, email, email_hash, code_hash, attempts, expires_at, used_at';
const toRequest = (r: RawRequest): SignInRequestRow => ({
  id: r.id,
  email: r.email,
  emailHash: r.email_hash,
  codeHash: r.code_hash,
  attempts: r.attempts,
  expiresAt: new Date(r.expires_at),
  usedAt: r.used_at ? new Date(r.used_at) : null,
});

/** The request behind a link token, locked. */
export async function lockSignInRequestByToken(q: SqlQuery, tokenHash: string): Promise<SignInRequestRow | null> {
  const [row] = await q.query<RawRequest>(`SELECT ${REQUEST_COLUMNS} FROM sign_in_requests WHERE token_hash = $1 FOR UPDATE`, [tokenHash]);
  return row ? toRequest(row) : null;
}

/** An address's requests of the last `since`, newest first, locked: codes are checked against them. */
export async function lockSignInRequestsByEmail(q: SqlQuery, emailHash: string, since: Date): Promise<SignInRequestRow[]> {
  const rows = await q.query<RawRequest>(
    `SELECT ${REQUEST_COLUMNS} FROM sign_in_requests WHERE email_hash = $1 AND created_at >= $2::timestamptz
     ORDER BY created_at DESC FOR UPDATE`,
    [emailHash, since.toISOString()],
  );
  return rows.map(toRequest);
}

export async function countFailedAttempts(q: SqlQuery, ids: string[]): Promise<void> {
  if (ids.length) await q.query(`UPDATE sign_in_requests SET attempts = attempts + 1 WHERE id = ANY($1::uuid[])`, [ids]);
}

/** A completed sign-in uses up every open request of the address (one mail's code or link, once). */
export async function useSignInRequests(q: SqlQuery, emailHash: string, now: Date): Promise<void> {
  await q.query(`UPDATE sign_in_requests SET used_at = $2::timestamptz WHERE email_hash = $1 AND used_at IS NULL`, [emailHash, now.toISOString()]);
}

/** The user with this address, created on first sign-in (ON CONFLICT: concurrent first sign-ins share one row). */
export async function ensureUser(q: SqlQuery, email: string): Promise<{ id: string; email: string; roles: Role[] }> {
  const [row] = await q.query<{ id: string; email: string; roles: Role[] | string }>(
    `INSERT INTO users (email) VALUES ($1) ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id, email, roles::text[] AS roles`,
    [email],
  );
  return { id: row!.id, email: row!.email, roles: parseRoles(row!.roles) };
}

export async function findUser(q: SqlQuery, id: string): Promise<{ id: string; email: string; roles: Role[] } | null> {
  const [row] = await q.query<{ id: string; email: string; roles: Role[] | string }>(
    `SELECT id, email, roles::text[] AS roles FROM users WHERE id = $1::uuid`,
    [id],
  );
  return row ? { id: row.id, email: row.email, roles: parseRoles(row.roles) } : null;
}

/** text[] arrives as an array from pg, as '{a,b}' from some drivers. */
function parseRoles(value: Role[] | string): Role[] {
  return Array.isArray(value)
    ? value
    : (value
        .replace(/^\{|\}$/g, '')
        .split(',')
        .filter(Boolean) as Role[]);
}

export interface RefreshTokenRow {
  id: string;
  familyId: string;
  userId: string;
  expiresAt: Date;
  rotatedAt: Date | null;
  revokedAt: Date | null;
}

export async function insertRefreshToken(q: SqlQuery, row: { familyId: string; userId: string; tokenHash: string; expiresAt: Date }): Promise<void> {
  await q.query(`INSERT INTO refresh_tokens (family_id, user_id, token_hash, expires_at) VALUES ($1::uuid, $2::uuid, $3, $4::timestamptz)`, [
    row.familyId,
    row.userId,
    row.tokenHash,
    row.expiresAt.toISOString(),
  ]);
}

export async function lockRefreshToken(q: SqlQuery, tokenHash: string): Promise<RefreshTokenRow | null> {
  const [row] = await q.query<{ id: string; family_id: string; user_id: string; expires_at: Date; rotated_at: Date | null; revoked_at: Date | null }>(
    `SELECT id, family_id, user_id, expires_at, rotated_at, revoked_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
    [tokenHash],
  );
  return row
    ? {
        id: row.id,
        familyId: row.family_id,
        userId: row.user_id,
        expiresAt: new Date(row.expires_at),
        rotatedAt: row.rotated_at ? new Date(row.rotated_at) : null,
        revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
      }
    : null;
}

export async function markRotated(q: SqlQuery, id: string, now: Date): Promise<void> {
  await q.query(`UPDATE refresh_tokens SET rotated_at = $2::timestamptz WHERE id = $1::uuid`, [id, now.toISOString()]);
}

/** Revokes every live token of a family; returns how many. */
export async function revokeFamily(q: SqlQuery, familyId: string, now: Date): Promise<number> {
  const rows = await q.query(
    `UPDATE refresh_tokens SET revoked_at = $2::timestamptz WHERE family_id = $1::uuid AND revoked_at IS NULL RETURNING id`,
    [familyId, now.toISOString()],
  );
  return rows.length;
}

/** Revokes every family of a user (sign out everywhere); returns how many tokens. */
export async function revokeUserTokens(q: SqlQuery, userId: string, now: Date): Promise<number> {
  const rows = await q.query(`UPDATE refresh_tokens SET revoked_at = $2::timestamptz WHERE user_id = $1::uuid AND revoked_at IS NULL RETURNING id`, [
    userId,
    now.toISOString(),
  ]);
  return rows.length;
}

// ---- users and API tokens (Prisma) ----------------------------------------------------------------

type Tx = Prisma.TransactionClient;

export function insertUser(tx: Tx, data: { email: string; name: string; roles: Role[] }): Promise<User> {
  return tx.user.create({ data });
}

/** The user with this address, created with the admin role when new; an existing user is returned as is. */
export function upsertAdminUser(tx: Tx, email: string, name: string): Promise<User> {
  return tx.user.upsert({ where: { email }, create: { email, name, roles: ['admin'] }, update: {} });
}

export function setUserRoles(tx: Tx, id: string, roles: Role[]): Promise<User> {
  return tx.user.update({ where: { id }, data: { roles } });
}

export function insertApiToken(
  tx: Tx,
  data: { userId: string; name: string; expiresAt: Date | null; tokenHash: string; prefix: string },
): Promise<ApiToken> {
  return tx.apiToken.create({ data });
}

export async function touchApiToken(tx: Tx, id: string, at: Date): Promise<void> {
  await tx.apiToken.update({ where: { id }, data: { lastUsedAt: at } });
}

export function setApiTokenRevokedAt(tx: Tx, id: string, at: Date): Promise<ApiToken> {
  return tx.apiToken.update({ where: { id }, data: { revokedAt: at } });
}
