import { describe, expect, it } from 'vitest';
import type { TestApp } from '../../test/kit/app.js';
import { gid } from '../../test/kit/fixtures.js';
import { sample } from '../../test/kit/imip-samples/samples.js';
import { APPROVE, GUEST_EMAIL, HOST_EMAIL, PROPOSE, proposalFixtures, tokenOf } from '../../test/kit/proposals.js';
import { createSlotwise } from '../app.js';
import { loadConfig } from '../config.js';

/** The same flow on the embedded default (PGlite, no services): propose, approve, a calendar COUNTER and REPLY. */
describe('proposals on the embedded database', () => {
  it('propose with the manage link -> approve from the mail -> moved; COUNTER from Google -> proposal; REPLY DECLINED cancels', async () => {
    const app = await createSlotwise({
      config: loadConfig({ DATA_DIR: 'memory://', LOG_LEVEL: 'silent', INBOUND_MAIL_TOKEN: 'embedded-inbound-token-0123' }),
    });
    try {
      const execute = async (query: string, variables?: Record<string, unknown>) =>
        (
          await app.yoga.fetch('http://slotwise.test/graphql', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query, variables }),
          })
        ).json();
      const t = { app, execute } as unknown as TestApp;
      const x = proposalFixtures(t);
      const home = await x.host();
      const booking = await x.book(await x.slot(home.locationId, home.resourceId, 26));
      const target = await x.slot(home.locationId, home.resourceId, 30);

      const proposed = (await execute(PROPOSE, { input: { token: await x.link(booking.rawId), slotId: gid('Slot', target) } })).data
        .proposeReschedule;
      expect(proposed).toMatchObject({ __typename: 'Proposal', status: 'PENDING' });
      const mail = (await x.mails(`kind = 'proposal'`))[0]!;
      expect(mail.to).toBe(HOST_EMAIL);
      const approved = (await execute(APPROVE, { input: { token: tokenOf(x.linkIn(mail.content, 'Approve')) } })).data.approveProposal;
      expect(approved).toMatchObject({ __typename: 'ProposalDecision', proposal: { status: 'APPROVED', booking: { icsSequence: 1 } } });
      expect(await x.f.slotCounts(target)).toMatchObject({ booked: 1 });

      const [row] = await app.db.sql.query<{ ics_uid: string; start_at: Date; end_at: Date }>(
        `SELECT ics_uid, start_at, end_at FROM bookings WHERE id = $1`,
        [booking.rawId],
      );
      const vars = { uid: row!.ics_uid, sequence: 1, attendee: GUEST_EMAIL, start: row!.start_at, end: row!.end_at };
      const later = await x.slot(home.locationId, home.resourceId, 34);
      const [s] = await app.db.sql.query<{ start_at: Date; end_at: Date }>(`SELECT start_at, end_at FROM slots WHERE id = $1`, [later]);
      expect(await app.services.imip.ingest(sample('google-counter', { ...vars, newStart: s!.start_at, newEnd: s!.end_at }), 'http')).toMatchObject({
        outcome: 'counter-proposal',
      });
      expect(await app.services.imip.ingest(sample('outlook-reply', { ...vars, partstat: 'DECLINED' }), 'http')).toMatchObject({
        outcome: 'declined-guest',
      });
      const [after] = await app.db.sql.query(`SELECT status, ics_sequence FROM bookings WHERE id = $1`, [booking.rawId]);
      expect(after).toEqual({ status: 'CANCELLED', ics_sequence: 2 });
    } finally {
      await app.close();
    }
  }, 60_000);
});
