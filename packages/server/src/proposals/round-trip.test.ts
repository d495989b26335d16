import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { BOOK, call } from '../../test/kit/documents.js';
import { gid, GUEST, HOST, clinic, fixtures } from '../../test/kit/fixtures.js';
import { parseIcs } from '../../test/kit/mail.js';
import { wsClient, wsSubscribe } from '../../test/kit/live.js';
import { startMailServer, type MailServer, type ReceivedMail } from '../../test/mail-server.js';
import { manageRoute } from '../calendar/manage-route.js';
import { startServer, type RunningServer } from '../server.js';
import { proposalRoutes } from './proposal-route.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../../test-artifacts/', import.meta.url));
const DAY = 86_400_000;

/**
 * Issue #13 end to end: a booking's invites over real SMTP, the guest's manage link opened in headless
 * Chromium, a proposal, the host's Approve link (GET shows, POST decides), updated invites to both, and
 * a live subscriber seeing the move.
 */
describe.skipIf(!existsSync(CHROMIUM))('reschedule round trip: SMTP, Chromium, live', () => {
  let t: TestApp;
  let smtp: MailServer;
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    smtp = await startMailServer();
    t = await createTestApp({ config: { SMTP_URL: smtp.url } });
    // The server's own delivery job sends the mails, as in production.
    server = await startServer(t.app, { port: 0, host: '127.0.0.1', routes: [manageRoute(t.app), proposalRoutes(t.app)] });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await t?.close();
    await smtp?.close();
  });

  /** The token of a link in a received mail's text, opened on this test's server. */
  const linkIn = (mail: ReceivedMail, label: string) => {
    const url = new RegExp(`${label}: (\\S+)`).exec(mail.parsed.text ?? '')?.[1];
    if (!url) throw new Error(`no "${label}" link in ${mail.parsed.subject}`);
    const parsed = new URL(url);
    return `${server.url}${parsed.pathname}${parsed.search}`;
  };
  const invite = (mail: ReceivedMail) => {
    const ics = mail.parsed.attachments.find((a) => a.filename === 'invite.ics')!.content.toString('utf8');
    const { method, events } = parseIcs(ics);
    return { to: mail.envelope.to[0], method, uid: events[0]!.uid, sequence: events[0]!.sequence, start: events[0]!.start, end: events[0]!.end };
  };

  it('booking -> invites -> the guest proposes from the manage link -> the host approves -> both get REQUEST SEQUENCE 1 with the new time', async () => {
    const c = await clinic(t);
    const day = Math.ceil(Date.now() / DAY) * DAY;
    const from = await c.slot(new Date(day + 2 * DAY + 15 * 3_600_000).toISOString());
    const to = await c.slot(new Date(day + 3 * DAY + 16 * 3_600_000).toISOString(), 60);
    const [target] = await t.app.db.sql.query<{ start_at: Date; end_at: Date }>(`SELECT start_at, end_at FROM slots WHERE id = $1`, [to]);
    const live = wsSubscribe(wsClient(server.url), { resourceId: encodeGlobalID('Resource', c.hostId) });
    expect(await live.log.at(0)).toMatchObject({ kind: 'SNAPSHOT' });

    const { booking } = await call(t, BOOK, { slotId: gid('Slot', from), customer: GUEST });
    const invites = await smtp.waitForMessages(2, 15_000);
    expect(
      invites
        .map(invite)
        .map((m) => [m.method, m.sequence])
        .sort(),
    ).toEqual([
      ['REQUEST', 0],
      ['REQUEST', 0],
    ]);
    const guestInvite = invites.find((m) => m.envelope.to[0] === GUEST.email)!;

    // The guest opens the manage link from the invitation and proposes the other time.
    const guest = await browser.newPage();
    await guest.goto(linkIn(guestInvite, 'See or cancel this booking'));
    await guest.getByRole('link', { name: 'Propose another time' }).click();
    await expect.poll(() => guest.getByRole('heading', { level: 1 }).textContent()).toBe('Propose another time');
    await guest.locator(`input[value="slot:${to}"]`).check();
    await guest.getByLabel('Note (optional)').fill('The afternoon suits me better');
    await guest.screenshot({ path: `${ARTIFACTS}round-trip-1-propose.png`, fullPage: true });
    await Promise.all([
      guest.waitForResponse((r) => r.request().method() === 'POST'),
      guest.getByRole('button', { name: 'Propose this time' }).click(),
    ]);
    await expect.poll(() => guest.getByRole('heading', { level: 1 }).textContent()).toBe('Your proposal was sent');

    // The host's mail has Approve; opening it (as a mail scanner would) changes nothing.
    const proposalMail = (await smtp.waitForMessages(3, 15_000))[2]!;
    expect(proposalMail.envelope.to).toEqual([HOST.email]);
    expect(proposalMail.parsed.subject).toMatch(/^Proposed new time: /);
    expect(proposalMail.raw).not.toContain(GUEST.email);
    const approveUrl = linkIn(proposalMail, 'Approve');
    expect((await fetch(approveUrl)).status).toBe(200);
    const host = await browser.newPage();
    await host.goto(approveUrl);
    await expect.poll(() => host.getByRole('heading', { level: 1 }).textContent()).toBe('Approve the new time?');
    const [unchanged] = await t.app.db.sql.query(`SELECT ics_sequence, slot_id FROM bookings WHERE ics_uid = $1`, [booking.icsUid]);
    expect(unchanged).toEqual({ ics_sequence: 0, slot_id: from });
    await host.screenshot({ path: `${ARTIFACTS}round-trip-2-approve.png`, fullPage: true });
    const eventsBefore = live.log.items.length;
    await Promise.all([
      host.waitForResponse((r) => r.request().method() === 'POST'),
      host.getByRole('button', { name: 'Approve the new time' }).click(),
    ]);
    await expect.poll(() => host.getByRole('heading', { level: 1 }).textContent()).toBe('New time approved');

    // Both parties receive the update: REQUEST, same UID, SEQUENCE 1, the new times.
    const updates = (await smtp.waitForMessages(5, 15_000)).slice(3).map(invite);
    expect(updates.map((u) => [u.to, u.method, u.uid, u.sequence, u.start, u.end]).sort()).toEqual(
      [GUEST.email, HOST.email]
        .sort()
        .map((email) => [email, 'REQUEST', booking.icsUid, 1, target!.start_at.toISOString(), target!.end_at.toISOString()]),
    );
    // The old slot is free again; the live subscriber saw both slots change.
    const f = fixtures(t.app.db.sql);
    expect(await f.slotCounts(from)).toMatchObject({ booked: 0 });
    expect(await f.slotCounts(to)).toMatchObject({ booked: 1 });
    const local = (id: string) => Buffer.from(id, 'base64').toString().split(':')[1];
    await live.log.until(
      () => {
        const seen = live.log.items
          .slice(eventsBefore)
          .flatMap((e) => e.slots ?? [])
          .map((s) => [local(s.id), s.booked]);
        return seen.some(([id, n]) => id === from && n === 0) && seen.some(([id, n]) => id === to && n === 1);
      },
      10_000,
      'the move on both slots',
    );
    live.stop();
    expect(smtp.messages).toHaveLength(5);
  }, 90_000);
});
