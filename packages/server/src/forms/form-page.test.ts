import { decodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectNoErrors, type TestApp } from '../../test/kit/app.js';
import { fixtures, gid } from '../../test/kit/fixtures.js';
import { SEED_SCHEDULE, createForm, publishedForm, rowCounts } from '../../test/kit/forms.js';
import { startServer, type RunningServer } from '../server.js';
import { formPageRoute } from './form-route.js';

let t: TestApp;
let server: RunningServer;
const setNow = (iso: string) => {
  t.app.services.forms.now = () => new Date(iso);
  t.app.services.registrations.now = () => new Date(iso);
};

beforeAll(async () => {
  t = await createTestApp();
  setNow('2054-12-01T12:00:00Z');
  server = await startServer(t.app, { port: 0, host: '127.0.0.1', routes: [formPageRoute(t.app)] });
});
afterAll(async () => {
  await server.stop();
  await t.close();
});

const get = (path: string) => fetch(`${server.url}${path}`);
function post(slug: string, fields: Record<string, string | string[]>) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const value of [v].flat()) body.append(k, value);
  return fetch(`${server.url}/form/${slug}`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
}
const person = { name: 'Ada Lovelace', email: 'ada@example.com' };
/** The page names slots by their database ids (the API by global ids). */
const uuids = (form: { slots: { id: string }[] }) => form.slots.map((s) => decodeGlobalID(s.id).id);

describe('GET /form/:slug', () => {
  it('groups slots by local day in the form zone with accessible labels, badges and no script', async () => {
    const form = await publishedForm(t, { slug: 'page-view', title: 'Coaching <script>alert(1)</script>', description: 'Bring "boots" & water' });
    const ids = uuids(form);
    const taken = ids[1]!;
    expectNoErrors(
      await t.execute(`mutation ($id: ID!) { cancelFormSlot(slotId: $id) { __typename } }`, { id: form.slots[2]!.id }, { token: t.adminToken }),
    );
    expect((await post('page-view', { ...person, slotId: taken })).status).toBe(200);

    const response = await get('/form/page-view');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await response.text();
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('Coaching &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('Bring &quot;boots&quot; &amp; water');
    expect([...html.matchAll(/<legend>([^<]+)<\/legend>/g)].map((m) => m[1])).toEqual(['Mon Jan 4', 'Wed Jan 6', 'Mon Jan 11', 'Wed Jan 13']);
    const first = ids[0]!;
    expect(html).toContain(
      `<input type="checkbox" id="slot-${first}" name="slotId" value="${first}"><label for="slot-${first}">5:00–6:00 PM</label>`,
    );
    expect(html).toContain(`value="${taken}" disabled><label for="slot-${taken}">6:00–7:00 PM <span class="badge full">Full</span>`);
    expect(html).toContain(`value="${ids[2]}" disabled><label for="slot-${ids[2]}">7:00–8:00 PM <span class="badge cancelled">Cancelled</span>`);
    expect(html).toContain('<label for="email">Email</label>');
  });

  it('hides slots that have started', async () => {
    await publishedForm(t, { slug: 'past-hidden' });
    setNow('2055-01-06T23:30:00Z'); // Wed Jan 6, 18:30 EST
    try {
      const html = await (await get('/form/past-hidden')).text();
      expect([...html.matchAll(/<legend>([^<]+)<\/legend>/g)].map((m) => m[1])).toEqual(['Wed Jan 6', 'Mon Jan 11', 'Wed Jan 13']);
      expect(html.match(/type="checkbox"/g)).toHaveLength(10);
    } finally {
      setNow('2054-12-01T12:00:00Z');
    }
  });

  it('answers 404 for a draft (nothing of it shown), and refuses to book from it', async () => {
    const form = await createForm(t, { slug: 'draft-page', title: 'Secret draft title' });
    const page = await get('/form/draft-page');
    expect(page.status).toBe(404);
    expect(await page.text()).not.toContain('Secret draft title');
    const before = await rowCounts(t);
    const response = await post('draft-page', { ...person, slotId: uuids(form)[0]! });
    expect(response.status).toBe(404);
    expect(await rowCounts(t)).toEqual(before);
  });

  it('answers 404 for an unknown slug, on GET and POST', async () => {
    expect((await get('/form/no-such-form')).status).toBe(404);
    expect((await get('/form/Bad%20Slug')).status).toBe(404);
    const before = await rowCounts(t);
    expect((await post('no-such-form', { ...person, slotId: 'x' })).status).toBe(404);
    expect(await rowCounts(t)).toEqual(before);
  });
});

describe('POST /form/:slug', () => {
  it('books the chosen slots and lists them as "Mon Jan 4, 5:00–6:00 PM" in the form zone', async () => {
    const form = await publishedForm(t, { slug: 'post-ok' });
    const response = await post('post-ok', { ...person, phone: '', slotId: [uuids(form)[4]!, uuids(form)[0]!] });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('Thank you, Ada Lovelace.');
    expect([...html.matchAll(/<li>([^<]+)<\/li>/g)].map((m) => m[1])).toEqual(['Mon Jan 4, 5:00–6:00 PM', 'Wed Jan 6, 5:00–6:00 PM']);
  });

  it('refuses invalid input with 422, keeps what was typed, escapes it, and writes nothing', async () => {
    const form = await publishedForm(t, { slug: 'post-invalid', maxSlotsPerRegistration: 2 });
    const ids = uuids(form);
    const before = await rowCounts(t);
    const cases: [string, Record<string, string | string[]>, string][] = [
      ['no slot', { ...person }, 'choose at least one slot'],
      ['too many', { ...person, slotId: ids.slice(0, 3) }, 'choose at most 2 slots'],
      ['bad email', { name: '<b>Ada</b>', email: 'not-an-email', slotId: ids[0]! }, 'must be an email address'],
    ];
    for (const [name, fields, message] of cases) {
      const response = await post('post-invalid', fields);
      expect(response.status, name).toBe(422);
      const html = await response.text();
      expect(html, name).toContain(message);
      expect(html, name).toContain('role="alert"');
    }
    const html = await (await post('post-invalid', { name: '<b>Ada</b>', email: 'not-an-email', slotId: [ids[0]!, ids[5]!] })).text();
    expect(html).toContain('value="&lt;b&gt;Ada&lt;/b&gt;"');
    expect(html).toContain('value="not-an-email" autocomplete="email" required aria-invalid="true" aria-describedby="email-error"');
    expect(html).toContain(`value="${ids[0]}" checked>`);
    expect(html).toContain(`value="${ids[5]}" checked>`);
    expect(await rowCounts(t)).toEqual(before);
  });

  it("answers 404 for slot ids that are not this form's and books none of them", async () => {
    const form = await publishedForm(t, { slug: 'post-tampered' });
    const other = await publishedForm(t);
    const before = await rowCounts(t);
    const [mine, theirs] = [uuids(form)[0]!, uuids(other)[0]!];
    for (const slotId of [[mine, theirs], [mine, 'not-a-uuid'], [form.slots[1]!.id], ['00000000-0000-7000-8000-000000000000']]) {
      const response = await post('post-tampered', { ...person, slotId });
      expect(response.status).toBe(404);
      const html = await response.text();
      expect(html).toContain('not part of this form');
      expect(html).toContain('value="Ada Lovelace"');
    }
    expect(await rowCounts(t)).toEqual(before);
  });

  it('a closed form: its page is 404; a sign-up sent from the page loaded before is 403, saying so, input kept, nothing booked', async () => {
    const form = await publishedForm(t, { slug: 'post-closed' });
    expectNoErrors(await t.execute(`mutation ($id: ID!) { closeForm(id: $id) { __typename } }`, { id: form.id }, { token: t.adminToken }));
    expect((await get('/form/post-closed')).status).toBe(404);
    const before = await rowCounts(t);
    const response = await post('post-closed', { ...person, slotId: uuids(form)[0]! });
    expect(response.status).toBe(403);
    const html = await response.text();
    expect(html).toMatch(/role="alert".*This form is closed\./);
    expect(html).toContain('value="Ada Lovelace"');
    expect(await rowCounts(t)).toEqual(before);
  });

  it("a time the location's booking rules refuse: 409, the page names it, input kept, nothing booked", async () => {
    const f = fixtures(t.app.db.sql);
    const locationId = await f.location('America/New_York');
    // A 30-day horizon: the form's 2055 times are all too far ahead.
    await t.app.db.sql.query(`UPDATE locations SET horizon_days = 30 WHERE id = $1`, [locationId]);
    const form = await publishedForm(t, { slug: 'post-policy', locationId: gid('Location', locationId) });
    // The page offers none of them.
    const page = await (await get('/form/post-policy')).text();
    expect(page.match(/<input type="checkbox"[^>]*>/g)!.every((box) => box.includes(' disabled'))).toBe(true);
    expect(page).toContain('<span class="badge unavailable">Not available</span>');
    const before = await rowCounts(t);
    const response = await post('post-policy', { ...person, slotId: uuids(form)[0]! });
    expect(response.status).toBe(409);
    const html = await response.text();
    expect(html).toContain('booking rules do not allow this time (it is too far ahead)');
    expect(html).toContain('<li>Mon Jan 4, 5:00–6:00 PM</li>');
    expect(html).toContain('value="Ada Lovelace"');
    expect(await rowCounts(t)).toEqual(before);
  });

  it('20 concurrent POSTs for the last seat: one 200, nineteen 409 naming the slot with the rest of the input kept', async () => {
    const form = await publishedForm(t, { slug: 'post-race', schedule: { ...SEED_SCHEDULE, capacityPerSlot: 2 } });
    const [first, , , last] = uuids(form) as [string, string, string, string]; // last: Mon Jan 4, 8:00–9:00 PM
    expect((await post('post-race', { ...person, slotId: last })).status).toBe(200);
    const before = await rowCounts(t);

    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post('post-race', { name: `Racer ${i}`, email: `racer${i}@example.com`, slotId: [first, last] })),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, ...Array(19).fill(409)]);
    const loser = await responses.find((r) => r.status === 409)!.text();
    expect(loser).toContain('these times were taken while you were choosing');
    expect(loser).toContain('<li>Mon Jan 4, 8:00–9:00 PM</li>');
    expect(loser).toMatch(/value="Racer \d+"/);
    expect(loser).toContain(`value="${first}" checked>`);
    expect(loser).toContain(`value="${last}" disabled>`);

    expect(await rowCounts(t)).toEqual({
      registrations: before.registrations + 1,
      registration_slots: before.registration_slots + 2,
      bookings: before.bookings + 2,
      booked: before.booked + 2,
    });
  });
});

describe('POST /form/:slug rate limit', () => {
  it('answers 429 with Retry-After past the per-client booking limit and books nothing', async () => {
    const limited = await createTestApp({ config: { RATE_LIMIT_BOOKINGS_PER_MINUTE: '2' } });
    limited.app.services.forms.now = () => new Date('2054-12-01T12:00:00Z');
    limited.app.services.registrations.now = () => new Date('2054-12-01T12:00:00Z');
    const limitedServer = await startServer(limited.app, { port: 0, host: '127.0.0.1', routes: [formPageRoute(limited.app)] });
    try {
      const form = await publishedForm(limited, { slug: 'limited' });
      const ids = uuids(form);
      const send = (slotId: string) =>
        fetch(`${limitedServer.url}/form/limited`, {
          method: 'POST',
          body: new URLSearchParams({ ...person, slotId }),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
      expect((await send(ids[0]!)).status).toBe(200);
      expect((await send(ids[1]!)).status).toBe(200);
      const before = await limited.app.db.prisma.booking.count();
      const refused = await send(ids[2]!);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await refused.text()).toContain('Too many sign-ups');
      expect(await limited.app.db.prisma.booking.count()).toBe(before);
    } finally {
      await limitedServer.stop();
      await limited.close();
    }
  });

  it('the same person twice for one slot: 409 marking the email, nothing booked', async () => {
    const form = await publishedForm(t, { slug: 'post-twice', schedule: { ...SEED_SCHEDULE, capacityPerSlot: 5 } });
    const [slot] = uuids(form) as [string];
    expect((await post('post-twice', { ...person, slotId: slot })).status).toBe(200);
    const before = await rowCounts(t);
    const again = await post('post-twice', { ...person, email: person.email.toUpperCase(), slotId: slot });
    expect(again.status).toBe(409);
    const html = await again.text();
    expect(html).toContain('you already have some of these times');
    expect(html).toContain('already signed up for one of these times with this email');
    expect(await rowCounts(t)).toEqual(before);
  });
});
