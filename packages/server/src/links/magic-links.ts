import { createHash } from 'node:crypto';
import { randomBytes } from '../shared/random.js';
import type { SqlQuery } from '../db/database.js';
import { pii } from '../shared/pii.js';
import { insertMagicLinks, markMagicLinkUsed, selectMagicLink, setManageLinkExpiry } from './links.store.js';

export type MagicLinkPurpose = 'manage' | 'propose' | 'approve' | 'decline';
export type MagicLinkRole = 'host' | 'guest';

export interface MagicLink {
  id: string;
  purpose: MagicLinkPurpose;
  bookingId: string;
  role: MagicLinkRole;
  emailHash: string;
  proposalId: string | null;
  expiresAt: Date;
  usedAt: Date | null;
}

export type MagicLinkProblem = 'unknown' | 'expired' | 'used' | 'wrong-purpose';

/** A link that cannot be used: unknown (or tampered), expired, already used, or meant for another step. */
export class MagicLinkError extends Error {
  constructor(readonly problem: MagicLinkProblem) {
    super(`magic link ${problem}`);
  }
}

export function hashMagicToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface NewMagicLink {
  purpose: MagicLinkPurpose;
  bookingId: string;
  role: MagicLinkRole;
  email: string;
  expiresAt: Date;
  proposalId?: string | null;
}

/** Creates a link in the caller's transaction and returns its token (shown once, in the mail). */
export async function issueMagicLink(tx: SqlQuery, link: NewMagicLink): Promise<string> {
  return (await issueMagicLinks(tx, [link]))[0]!;
}

/** Several links in one statement (a mail to each party of a booking); tokens in the same order. */
export async function issueMagicLinks(tx: SqlQuery, links: NewMagicLink[]): Promise<string[]> {
  if (!links.length) return [];
  const tokens = links.map(() => `ml_${randomBytes(24).toString('base64url')}`);
  const rows = links.map((link, i) => ({
    token_hash: hashMagicToken(tokens[i]!),
    purpose: link.purpose,
    booking_id: link.bookingId,
    role: link.role,
    email_hash: pii().emailHash(link.email),
    proposal_id: link.proposalId ?? null,
    expires_at: link.expiresAt.toISOString(),
  }));
  await insertMagicLinks(tx, JSON.stringify(rows));
  return tokens;
}

/**
 * A moved booking's manage links, the ones in its earlier mails too, last until its new end (plus the
 * margin): each booking's links get the expiry given, the last one where a booking is given twice.
 */
export async function renewManageLinks(tx: SqlQuery, renewals: { bookingId: string; expiresAt: Date }[]): Promise<void> {
  const last = new Map(renewals.map((r) => [r.bookingId, r.expiresAt.toISOString()]));
  if (last.size) await setManageLinkExpiry(tx, [...last.keys()], [...last.values()]);
}

/**
 * The live link behind a token, for one of the given purposes; throws MagicLinkError otherwise.
 * `forUpdate` locks the row, so two requests deciding with one link queue and the second sees it used.
 */
export async function findMagicLink(
  q: SqlQuery,
  token: string,
  purposes: MagicLinkPurpose[],
  now: Date,
  options: { forUpdate?: boolean; allowUsed?: boolean } = {},
): Promise<MagicLink> {
  const row = await selectMagicLink(q, hashMagicToken(token), options);
  if (!row) throw new MagicLinkError('unknown');
  if (!purposes.includes(row.purpose)) throw new MagicLinkError('wrong-purpose');
  if (row.used_at && !options.allowUsed) throw new MagicLinkError('used');
  if (new Date(row.expires_at).getTime() <= now.getTime()) throw new MagicLinkError('expired');
  return {
    id: row.id,
    purpose: row.purpose,
    bookingId: row.booking_id,
    role: row.role,
    emailHash: row.email_hash,
    proposalId: row.proposal_id,
    expiresAt: new Date(row.expires_at),
    usedAt: row.used_at ? new Date(row.used_at) : null,
  };
}

/** Marks a link used; false when another request used it first. */
export async function useMagicLink(tx: SqlQuery, id: string, now: Date): Promise<boolean> {
  return markMagicLinkUsed(tx, id, now);
}
