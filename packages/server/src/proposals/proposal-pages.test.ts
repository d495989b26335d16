import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { BOOK, call } from '../../test/kit/documents.js';
import { gid } from '../../test/kit/fixtures.js';
import { HOST_EMAIL, proposalFixtures, tokenOf } from '../../test/kit/proposals.js';
import { startServer, type RunningServer } from '../server.js';
import { proposalRoutes } from './proposal-route.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../../test-artifacts/', import.meta.url));

let t: TestApp;
let x: ReturnType<typeof proposalFixtures>;
let server: RunningServer;
let home: { locationId: string; resourceId: string };
let hours = 24;
const nextSlot = () => x.slot(home.locationId, home.resourceId, (hours += 2));

beforeAll(async () => {
  t = await createTestApp();
  x = proposalFixtures(t);
  home = await x.host();
  server = await startServer(t.app, { port: 0, host: '127.0.0.1', routes: [proposalRoutes(t.app)] });
});
afterAll(async () => {
  await server?.stop();
  await t?.close();
});

const get = async (path: string) => {
  const response = await fetch(`${server.url}${path}`);
  return {
    status: response.status,
    html: await response.text(),
    csp: response.headers.get('content-security-policy'),
    referrer: response.headers.get('referrer-policy'),
  };
};
const postForm = async (path: string, fields: Record<string, string>) => {
  const response = await fetch(`${server.url}${path}`, { method: 'POST', body: new URLSearchParams(fields) });
  return { status: response.status, html: await response.text() };
};

/** The guest's booking, a manage link, a pending proposal to `target`, and the host's Approve / Decline tokens. */
async function proposed() {
  const booking = await x.book(await nextSlot());
  const manage = await x.link(booking.rawId);
  const target = await nextSlot();
  expect(
    await call(t, `mutation ($input: ProposeRescheduleInput!) { proposeReschedule(input: $input) { __typename } }`, {
      token: manage,
      slotId: gid('Slot', target),
    }),
  ).toEqual({
    __typename: 'Proposal',
  });
  const mail = (await x.mails(`booking_id = '${booking.rawId}' AND kind = 'proposal'`))[0]!;
  const proposal = (
    await t.app.db.sql.query<{ id: string }>(`SELECT id FROM proposals WHERE booking_id = $1 AND status = 'PENDING'`, [booking.rawId])
  )[0]!.id;
  return {
    booking,
    manage,
    target,
    proposal,
    approve: tokenOf(x.linkIn(mail.content, 'Approve')),
    decline: tokenOf(x.linkIn(mail.content, 'Decline')),
  };
}

describe('pages over HTTP', () => {
  it('GET /reschedule shows the booking and the free slots with no script; a bad link gets a page saying how to start again', async () => {
    const booking = await x.book(await nextSlot());
    const free = await nextSlot();
    const page = await get(`/reschedule?r=${await x.link(booking.rawId)}`);
    expect(page.status).toBe(200);
    expect(page.csp).toContain("default-src 'none'");
    expect(page.referrer).toBe('no-referrer');
    expect(page.html).toContain('<h1>Propose another time</h1>');
    expect(page.html).toContain(`value="slot:${free}"`);
    expect(page.html).toContain('Times are shown in Central European Time (Berlin).');
    expect(page.html).not.toContain('<script');
    const bad = await get('/reschedule?r=ml_tampered0000000000000000');
    expect([bad.status, bad.html]).toEqual([404, expect.stringContaining('Open the link from your latest mail again')]);
    expect(bad.html).toContain('Nothing was changed.');
    // A cancelled booking's link offers no times: the page says what proposing would answer.
    await t.app.db.sql.query(`UPDATE bookings SET status = 'CANCELLED' WHERE id = $1`, [booking.rawId]);
    const cancelled = await get(`/reschedule?r=${await x.link(booking.rawId)}`);
    expect([cancelled.status, cancelled.html]).toEqual([409, expect.stringContaining('nothing to reschedule')]);
    expect(cancelled.html).not.toContain('type="radio"');
  });

  it("times read in the zone of whoever opened the link: the guest's own zone, the host's location", async () => {
    const booking = await x.book(await nextSlot(), 'guest.person@mail.example', 'America/Los_Angeles');
    expect((await get(`/reschedule?r=${await x.link(booking.rawId)}`)).html).toContain('Times are shown in Pacific Time (Los Angeles).');
    expect((await get(`/reschedule?r=${await x.link(booking.rawId, { role: 'host' })}`)).html).toContain(
      'Times are shown in Central European Time (Berlin).',
    );
  });

  it('a range booking is offered free ranges of the same length (search service) and proposes one', async () => {
    const room = await x.host({ exclusive: true, email: null });
    await t.app.db.sql.query(
      `INSERT INTO availability_rules (location_id, resource_id, kind, start_minute, end_minute) VALUES ($1, $2, 'WEEKLY', 540, 1020)`,
      [room.locationId, room.resourceId],
    );
    const start = new Date(Math.ceil(Date.now() / 86_400_000) * 86_400_000 + 2 * 86_400_000 + 9 * 3_600_000);
    const receipt = await call(t, BOOK, {
      range: {
        resourceId: gid('Resource', room.resourceId),
        startAt: start.toISOString(),
        endAt: new Date(start.getTime() + 5_400_000).toISOString(),
      },
      customer: { name: 'Grace Guest', email: 'guest.person@mail.example' },
    });
    const rawId = Buffer.from(receipt.booking.id, 'base64').toString().split(':')[1]!;
    const manage = await x.link(rawId);
    const page = await get(`/reschedule?r=${manage}`);
    const values = [...page.html.matchAll(/value="(range:[^"]+)"/g)].map((m) => m[1]!);
    expect(values.length).toBeGreaterThan(3);
    for (const v of values) {
      const [s, e] = v
        .slice(6)
        .split('/')
        .map((d) => Date.parse(d));
      expect(e! - s!).toBe(5_400_000);
    }
    const sent = await postForm('/reschedule', { r: manage, booking: rawId, time: values[0]!, note: 'earlier please' });
    expect([sent.status, sent.html]).toEqual([200, expect.stringContaining('Your proposal was sent')]);
    // No host email on a room: the decision goes to the organizer mailbox (staff).
    expect((await x.mails(`booking_id = '${rawId}' AND kind = 'proposal'`)).map((m) => m.to)).toEqual([t.app.config.NOTIFICATIONS_FROM_EMAIL]);
  });

  it('GET of an approve link (a mail scanner) changes nothing; the POST from its button approves once', async () => {
    const p = await proposed();
    const before = await x.state();
    for (let i = 0; i < 3; i++) {
      const page = await get(`/approve?t=${p.approve}`);
      expect(page.status).toBe(200);
      expect(page.html).toContain('<button type="submit">Approve the new time</button>');
    }
    expect((await get(`/decline?t=${p.decline}`)).status).toBe(200);
    // In German, the button posts to a page in German too.
    expect((await get(`/decline?t=${p.decline}&lang=de`)).html).toContain('<form method="post" action="/decline?lang=de">');
    expect(await x.state()).toEqual(before);
    expect((await get(`/approve?t=${p.decline}`)).status).toBe(403);

    const done = await postForm('/approve', { t: p.approve, proposal: p.proposal });
    expect([done.status, done.html]).toEqual([200, expect.stringContaining('New time approved')]);
    expect(await x.f.slotCounts(p.target)).toMatchObject({ booked: 1 });
    const again = await postForm('/approve', { t: p.approve, proposal: p.proposal });
    expect([again.status, again.html]).toEqual([410, expect.stringContaining('already used')]);
    // The Decline link was never used itself: the page says what decided the proposal.
    const late = await postForm('/decline', { t: p.decline, proposal: p.proposal });
    expect([late.status, late.html]).toEqual([409, expect.stringContaining('already approved')]);
  });

  it('a POST whose hidden proposal id was changed is refused as the wrong proposal', async () => {
    const p = await proposed();
    const other = await proposed();
    const before = await x.state();
    const refused = await postForm('/approve', { t: p.approve, proposal: other.proposal });
    expect([refused.status, refused.html]).toEqual([403, expect.stringContaining('belongs to another booking or proposal')]);
    expect(await x.state()).toEqual(before);
  });
});

describe.skipIf(!existsSync(CHROMIUM))('pages in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('the guest proposes with the keyboard-usable form, the host approves from the mail link', async () => {
    const booking = await x.book(await nextSlot());
    const target = await nextSlot();
    const page = await browser.newPage();
    await page.goto(`${server.url}/reschedule?r=${await x.link(booking.rawId)}`);
    expect(await page.title()).toBe('Propose another time: Alice Host');
    await page.locator(`input[value="slot:${target}"]`).check();
    await page.getByLabel('Note (optional)').fill('Could we do this one?');
    await page.screenshot({ path: `${ARTIFACTS}proposals-1-propose.png`, fullPage: true });
    await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Propose this time' }).click(),
    ]);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Your proposal was sent');

    const mail = (await x.mails(`booking_id = '${booking.rawId}' AND kind = 'proposal'`))[0]!;
    expect(mail.to).toBe(HOST_EMAIL);
    const host = await browser.newPage();
    await host.goto(`${server.url}/approve?t=${tokenOf(x.linkIn(mail.content, 'Approve'))}`);
    await expect.poll(() => host.getByRole('heading', { level: 1 }).textContent()).toBe('Approve the new time?');
    expect(await host.locator('dl.summary').textContent()).toContain('Could we do this one?');
    await host.screenshot({ path: `${ARTIFACTS}proposals-2-approve.png`, fullPage: true });
    await Promise.all([
      host.waitForResponse((r) => r.request().method() === 'POST'),
      host.getByRole('button', { name: 'Approve the new time' }).click(),
    ]);
    await expect.poll(() => host.getByRole('heading', { level: 1 }).textContent()).toBe('New time approved');
    expect(await x.f.slotCounts(target)).toMatchObject({ booked: 1 });
  }, 60_000);
});
