import { decodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { BOOK, call } from '../../test/kit/documents.js';
import { gid, GUEST, HOST, clinic } from '../../test/kit/fixtures.js';
import { queuedMails, renderBookingMail } from '../../test/kit/mail.js';
import { startServer, type RunningServer } from '../server.js';
import { issueMagicLink } from '../links/magic-links.js';
import { manageRoute } from './manage-route.js';

let t: TestApp;
let c: Awaited<ReturnType<typeof clinic>>;
let server: RunningServer;

beforeAll(async () => {
  t = await createTestApp();
  c = await clinic(t);
  server = await startServer(t.app, { port: 0, host: '127.0.0.1', routes: [manageRoute(t.app)] });
});
afterAll(async () => {
  await server?.stop();
  await t?.close();
});

/** A booked session and the manage tokens its invitations carry, per recipient. */
async function bookedSession(startAt: string) {
  const { booking } = await call(t, BOOK, { slotId: gid('Slot', await c.slot(startAt)), customer: { ...GUEST, timeZone: 'Europe/Lisbon' } });
  const id = decodeGlobalID(booking.id).id;
  const mails = await queuedMails(t, `booking_id = $1 AND kind = 'invitation'`, [id]);
  const token = (to: string) => /manage\?t=(ml_[\w-]+)/.exec(mails.find((m) => m.to === to)!.content.text)![1]!;
  return { id, guestToken: token(GUEST.email), hostToken: token(HOST.email) };
}

const get = (token: string) => fetch(`${server.url}/manage?t=${encodeURIComponent(token)}`);
const post = (fields: Record<string, string>) =>
  fetch(`${server.url}/manage`, {
    method: 'POST',
    body: new URLSearchParams(fields),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
const state = async (id: string) =>
  (await renderBookingMail(t),
  await t.app.db.sql.query(
    `SELECT b.status::text AS status, b.ics_sequence, (SELECT count(*)::int FROM outbox_messages WHERE booking_id = b.id) AS mails,
         (SELECT count(*)::int FROM magic_links WHERE booking_id = b.id AND used_at IS NOT NULL) AS used_links
       FROM bookings b WHERE b.id = $1`,
    [id],
  ))[0];

describe('the manage page', () => {
  it("GET shows the booking in the viewer's zone and UTC with a POST cancel button, and changes nothing", async () => {
    const { id, guestToken, hostToken } = await bookedSession('2055-01-05T15:00:00Z');
    const before = await state(id);
    const response = await get(guestToken);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await response.text();
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('<h1>Session with Ada</h1>');
    expect(html).toContain('Tue Jan 5, 3:00–3:30 PM Western European Time (Lisbon)<br>2055-01-05 15:00–15:30 UTC');
    expect(html).toContain('<dd>Riverside Clinic, 1 River St</dd>');
    expect(html).toContain('<dt>Status</dt><dd>Confirmed</dd>');
    expect(html).toMatch(/<form method="post" action="\/manage">\s*<input type="hidden" name="t" value="ml_[\w-]+">/);
    expect(html).not.toContain(HOST.email);
    const host = await (await get(hostToken)).text();
    expect(host).toContain('<h1>Session with Grace</h1>');
    expect(host).toContain('Tue Jan 5, 10:00–10:30 AM Eastern Time (New York)');
    expect(host).not.toContain(GUEST.email);
    // ?lang= writes dates and times as that locale does, and says so in the page's lang.
    const british = await (await fetch(`${server.url}/manage?t=${hostToken}&lang=en-GB`)).text();
    expect(british).toContain('<html lang="en-GB">');
    expect(british).toContain('Tue 5 Jan, 10:00–10:30 Eastern Time (New York)');
    // Its buttons and link keep the locale, so the answer to them reads the same way.
    expect(british).toContain('<form method="post" action="/manage?lang=en-GB">');
    expect(british).toMatch(/href="\/reschedule\?r=ml_[\w-]+&amp;lang=en-GB"/);
    const answered = await fetch(`${server.url}/manage?lang=en-GB`, {
      method: 'POST',
      body: new URLSearchParams({ t: hostToken, action: 'nothing' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(await answered.text()).toContain('Tue 5 Jan, 10:00–10:30 Eastern Time (New York)');
    expect((await fetch(`${server.url}/manage?t=${guestToken}`, { method: 'HEAD' })).status).toBe(200);
    expect(await state(id)).toEqual(before);
  });

  it('POST cancels through the booking engine, which queues the CANCELs; a second POST changes nothing', async () => {
    const { id, guestToken } = await bookedSession('2055-01-06T15:00:00Z');
    const response = await post({ t: guestToken, action: 'cancel' });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('The booking is cancelled.');
    expect(html).toContain('<dt>Status</dt><dd>Cancelled</dd>');
    expect(html).not.toContain('Cancel this booking');
    const cancels = await queuedMails(t, `booking_id = $1 AND kind = 'cancellation'`, [id]);
    expect(cancels.map((m) => [m.to, m.icsMethod, m.icsSequence]).sort()).toEqual(
      [
        [HOST.email, 'CANCEL', 1],
        [GUEST.email, 'CANCEL', 1],
      ].sort(),
    );
    const after = await state(id);
    expect(after).toMatchObject({ status: 'CANCELLED', ics_sequence: 1 });
    expect((await post({ t: guestToken, action: 'cancel' })).status).toBe(200);
    expect(await state(id)).toEqual(after);
    // The link still shows the (cancelled) booking.
    expect(await (await get(guestToken)).text()).toContain('<dd>Cancelled</dd>');
  });

  it('answers unknown, expired and missing tokens with a clear page, changing nothing', async () => {
    const { id, guestToken } = await bookedSession('2055-01-07T15:00:00Z');
    const unknown = await get('ml_not-a-real-token');
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('<h1>Link not valid</h1>');
    expect((await get('')).status).toBe(404);
    const bad = await post({ t: 'ml_not-a-real-token', action: 'cancel' });
    expect(bad.status).toBe(404);
    // A proposal's Approve link is refused here as the proposal pages refuse a manage link: 403.
    const approve = await issueMagicLink(t.app.db.sql, {
      purpose: 'approve',
      bookingId: id,
      role: 'host',
      email: HOST.email,
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    const misused = await get(approve);
    expect(misused.status).toBe(403);
    expect(await misused.text()).toContain('<h1>Link meant for another step</h1>');
    expect((await post({ t: approve, action: 'cancel' })).status).toBe(403);

    await t.app.db.sql.query(
      `UPDATE magic_links SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day' WHERE booking_id = $1`,
      [id],
    );
    const before = await state(id);
    const expired = await get(guestToken);
    expect(expired.status).toBe(410);
    expect(await expired.text()).toContain('<h1>Link expired</h1>');
    expect((await post({ t: guestToken, action: 'cancel' })).status).toBe(410);
    expect(await state(id)).toEqual(before);
    expect((await fetch(`${server.url}/manage`, { method: 'DELETE' })).status).toBe(405);
  });
});
