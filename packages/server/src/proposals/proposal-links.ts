import type { Config } from '../config.js';
import type { Party } from './parties.js';
import type { SqlQuery } from '../db/database.js';
import {
  findMagicLink,
  hashMagicToken,
  issueMagicLink,
  MagicLinkError,
  type MagicLink,
  type MagicLinkPurpose,
  type MagicLinkRole,
} from '../links/magic-links.js';
import { LinkInvalidError, type LinkInvalidReason } from './proposal-errors.js';
import { selectMagicLink } from '../links/links.store.js';
import { writeAudit } from './proposal.store.js';

const REASONS: Record<MagicLinkError['problem'], LinkInvalidReason> = {
  unknown: 'UNKNOWN',
  expired: 'EXPIRED',
  used: 'USED',
  'wrong-purpose': 'WRONG_PURPOSE',
};

/** Tokens are `ml_` + 32 base64url characters; anything far from that is not worth a lookup. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{8,200}$/;

/** The live link behind a token, or LinkInvalidError saying why not and how to start again. */
export async function openLink(
  sql: SqlQuery,
  token: string,
  purposes: MagicLinkPurpose[],
  now: Date,
  options: { forUpdate?: boolean; allowUsed?: boolean } = {},
): Promise<MagicLink> {
  if (!TOKEN_SHAPE.test(token)) throw new LinkInvalidError('UNKNOWN');
  try {
    return await findMagicLink(sql, token, purposes, now, options);
  } catch (error) {
    if (error instanceof MagicLinkError) throw new LinkInvalidError(REASONS[error.problem]);
    throw error;
  }
}

/** A refused use of a known link is audited too (an unknown token has no row to name). */
export async function auditRefusedLink(sql: SqlQuery, token: string, reason: LinkInvalidReason, requestId?: string | null): Promise<void> {
  if (!TOKEN_SHAPE.test(token)) return;
  const link = await selectMagicLink(sql, hashMagicToken(token));
  if (!link) return;
  await writeAudit(sql, {
    entityType: 'MagicLink',
    entityId: link.id,
    action: 'LINK_REFUSED',
    actorLabel: 'link',
    requestId,
    newValues: { reason, purpose: link.purpose, bookingId: link.booking_id },
  });
}

export async function auditLinkUse(
  sql: SqlQuery,
  link: MagicLink,
  step: string,
  requestId?: string | null,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await writeAudit(sql, {
    entityType: 'MagicLink',
    entityId: link.id,
    action: 'LINK_USED',
    actorLabel: `link:${link.role}`,
    requestId,
    newValues: { step, purpose: link.purpose, role: link.role, bookingId: link.bookingId, proposalId: link.proposalId, ...extra },
  });
}

/** Absolute URLs of the public pages: PUBLIC_URL, or this server on localhost. */
export function publicUrl(config: Pick<Config, 'PUBLIC_URL' | 'PORT'>, path: string, params: Record<string, string>): string {
  const base = (config.PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/+$/, '');
  return `${base}${path}?${new URLSearchParams(params).toString()}`;
}

/** Approve and decline links for the party that decides a proposal, valid as long as the proposal is. */
export async function issueDecisionLinks(
  sql: SqlQuery,
  config: Pick<Config, 'PUBLIC_URL' | 'PORT'>,
  link: { bookingId: string; proposalId: string; role: MagicLinkRole; email: string; expiresAt: Date },
): Promise<{ approveUrl: string; declineUrl: string }> {
  const approve = await issueMagicLink(sql, { ...link, purpose: 'approve' });
  const decline = await issueMagicLink(sql, { ...link, purpose: 'decline' });
  return { approveUrl: publicUrl(config, '/approve', { t: approve }), declineUrl: publicUrl(config, '/decline', { t: decline }) };
}

/** A link to the proposal page for one party, e.g. in a mail that says a proposal did not go through. */
export async function issueProposeLink(
  sql: SqlQuery,
  config: Pick<Config, 'PUBLIC_URL' | 'PORT' | 'PROPOSE_LINK_TTL_HOURS'>,
  bookingId: string,
  party: Party,
  now: Date,
): Promise<string> {
  const token = await issueMagicLink(sql, {
    purpose: 'propose',
    bookingId,
    role: party.role,
    email: party.email,
    expiresAt: new Date(now.getTime() + config.PROPOSE_LINK_TTL_HOURS * 3_600_000),
  });
  return publicUrl(config, '/reschedule', { r: token });
}
