import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@slotwise/sdk';
import { BookDocument, CreateFormDocument, PublishFormDocument } from '@slotwise/sdk/documents';
import { seriousViolations } from '../../server/test/axe.js';
import { startLiveServer, type LiveServer } from '../../sdk/test/live-server.js';
import { as, dayFromNow, setUpScenario, type Scenario } from '../../sdk/test/scenario.js';

const ARTIFACTS = new URL('../../../test-artifacts/', import.meta.url).pathname;
const FULL = 'That slot is full — please pick another';

let server: LiveServer;
let s: Scenario;
let browser: Browser;

beforeAll(async () => {
  server = await startLiveServer({
    routes: [
      ['widget/widget-route.ts', 'widgetRoutes'],
      ['forms/form-route.ts', 'formPageRoute'],
    ],
  });
  s = await setUpScenario(server, { capacity: 2 });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function openWidget(query: string): Promise<Page> {
  // bypassCSP: the demo page's CSP would refuse the axe-core script the test injects, not the widget.
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, bypassCSP: true });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  await page.goto(`${server.origin}/demo?${query}`);
  return page;
}

const slotButton = (page: Page, slotId: string) => page.locator(`button.sw-slot[data-slot-id="${slotId}"]`);

describe('the embeddable widget in Chromium', () => {
  it('two pages: A books the last place, B shows it Full within a second and gets the full message', async () => {
    const slot = s.slots[0]!;
    // One of the two places goes before the pages open.
    as(
      (
        await createClient({ url: server.url }).request(BookDocument, {
          input: { slotId: slot.id, customer: { name: 'Early', email: 'early@example.com' } },
        })
      ).book,
      'BookingReceipt',
    );

    const [a, b] = await Promise.all([openWidget(`resource=${s.resourceId}`), openWidget(`resource=${s.resourceId}`)]);
    for (const page of [a, b]) {
      await expect
        .poll(() => slotButton(page, slot.id).getAttribute('aria-label'))
        .toMatch(/^\d{1,2}:\d{2} [AP]M, 1 place left, \w{3} \w{3} \d{1,2}, until \d{1,2}:\d{2} [AP]M$/);
    }
    expect(await a.locator('.sw-zone').textContent()).toBe('Times in Eastern Time (New York)');
    expect(await seriousViolations(a), 'browsing').toEqual([]);

    // B chose the slot and is typing when A takes it.
    await slotButton(b, slot.id).click();
    // Sent empty first: the invalid state.
    await b.getByRole('button', { name: 'Hold this time' }).click();
    await expect.poll(() => b.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');
    expect(await seriousViolations(b), 'invalid').toEqual([]);
    await b.getByLabel('Name').fill('Bea');
    await b.getByLabel('Email').fill('bea@example.com');
    expect(await seriousViolations(b), 'form').toEqual([]);

    // A uses only the keyboard: the slot button, then name, email and Enter.
    await slotButton(a, slot.id).focus();
    await a.keyboard.press('Enter');
    await a.keyboard.type('Ann');
    await a.keyboard.press('Tab');
    await a.keyboard.type('ann@example.com');
    await a.keyboard.press('Enter');
    await a.getByRole('button', { name: 'Confirm booking' }).waitFor();
    expect(await seriousViolations(a), 'held').toEqual([]);
    const heldAt = Date.now();
    await b.waitForFunction(
      (id) => document.querySelector('[data-slotwise-resource]')!.shadowRoot!.querySelector(`[data-slot-id="${id}"]`)!.classList.contains('full'),
      slot.id,
      { timeout: 1000 },
    );
    expect(Date.now() - heldAt).toBeLessThan(1000);
    expect(await slotButton(b, slot.id).getAttribute('aria-label')).toMatch(/^\d{1,2}:\d{2} [AP]M, Full, .*, until \d{1,2}:\d{2} [AP]M$/);

    await a.keyboard.press('Enter');
    await expect
      .poll(() => a.getByRole('status').textContent(), { timeout: 15_000 })
      // "9:30–10:00 AM", or "11:30 AM–12:00 PM" when the slot crosses noon (which slot it is depends on the hour the test runs).
      .toMatch(/^Booked: \w{3} \w{3} \d{1,2}, \d{1,2}:\d{2}( [AP]M)?–\d{1,2}:\d{2} [AP]M/);
    expect(await seriousViolations(a), 'booked').toEqual([]);

    await b.getByRole('button', { name: 'Hold this time' }).click();
    await expect.poll(() => b.getByRole('status').textContent()).toBe(FULL);
    expect(await seriousViolations(b), 'full').toEqual([]);
    // A full slot stays focusable (aria-disabled): choosing it explains why.
    await b.getByRole('status').evaluate((el) => (el.textContent = ''));
    await slotButton(b, slot.id).focus();
    await b.keyboard.press('Enter');
    expect(await b.getByRole('status').textContent()).toBe(FULL);

    mkdirSync(ARTIFACTS, { recursive: true });
    await b.screenshot({ path: `${ARTIFACTS}widget-page-b-full.png`, fullPage: true });
    await a.screenshot({ path: `${ARTIFACTS}widget-page-a-booked.png`, fullPage: true });
    const rows = await server.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM bookings WHERE slot_id = $1 GROUP BY status`,
      [Buffer.from(slot.id, 'base64').toString().split(':')[1]],
    );
    expect(rows).toEqual([{ status: 'CONFIRMED', n: 2 }]);
  }, 120_000);

  it('says so when a hold expired before it was confirmed', async () => {
    const slot = s.slots[1]!;
    const page = await openWidget(`resource=${s.resourceId}`);
    await slotButton(page, slot.id).click();
    await page.getByLabel('Name').fill('Slow');
    await page.getByLabel('Email').fill('slow@example.com');
    await page.getByRole('button', { name: 'Hold this time' }).click();
    await page.getByRole('button', { name: 'Confirm booking' }).waitFor();
    await server.query(`UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE status = 'HELD'`);
    await page.getByRole('button', { name: 'Confirm booking' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe('Your hold expired before you confirmed — please pick a time again');
  });

  it('"Choose another time" gives the held place back at once', async () => {
    const slot = s.slots[2]!;
    const page = await openWidget(`resource=${s.resourceId}`);
    await slotButton(page, slot.id).click();
    await page.getByLabel('Name').fill('Undecided');
    await page.getByLabel('Email').fill('undecided@example.com');
    await page.getByRole('button', { name: 'Hold this time' }).click();
    // "At once": long before the hold would expire; the timeouts only allow for a loaded machine.
    await expect.poll(() => slotButton(page, slot.id).getAttribute('aria-label'), { timeout: 10_000 }).toMatch(/, 1 place left, /);
    await page.getByRole('button', { name: 'Choose another time' }).click();
    await expect.poll(() => slotButton(page, slot.id).getAttribute('aria-label'), { timeout: 10_000 }).toMatch(/, 2 places left, /);
    expect(
      await page.evaluate(() => document.querySelector('[data-slotwise-resource]')!.shadowRoot!.activeElement?.getAttribute('data-slot-id')),
    ).toBe(slot.id);
  });

  it('signs up for a form slot with data-slotwise-form', async () => {
    const form = as(
      (
        await s.admin.request(CreateFormDocument, {
          input: {
            title: 'Workshop',
            slug: 'workshop',
            timeZone: 'Europe/Berlin',
            schedule: {
              daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
              startTime: '17:00',
              endTime: '18:00',
              slotMinutes: 60,
              startDate: dayFromNow(2),
              weeks: 1,
            },
          },
        })
      ).createForm,
      'Form',
    );
    await s.admin.request(PublishFormDocument, { id: form.id });
    const page = await openWidget(`form=${form.id}`);
    await expect.poll(() => page.locator('.sw-zone').textContent()).toBe('Times in Central European Time (Berlin)');
    const first = page.locator('button.sw-slot').first();
    expect(await first.getAttribute('aria-label')).toMatch(/^5:00 PM, 1 place left, \w{3} \w{3} \d{1,2}, until 6:00 PM$/);
    await first.click();
    await page.getByLabel('Name').fill('Wanda');
    await page.getByLabel('Email').fill('not-an-email');
    await page.getByRole('button', { name: 'Sign up' }).click();
    expect(await page.getByRole('status').textContent()).toBe('Please enter a valid email address.');
    expect(await page.getByLabel('Email').evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement)).toBe(true);
    await page.getByLabel('Email').fill('wanda@example.com');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await expect
      .poll(() => page.getByRole('status').textContent(), { timeout: 15_000 })
      .toMatch(/^You're signed up for \w{3} \w{3} \d{1,2}, 5:00–6:00 PM\.$/);
    await expect.poll(() => first.getAttribute('aria-label'), { timeout: 15_000 }).toMatch(/^5:00 PM, Full, .*, until 6:00 PM$/);
  });

  it('works embedded on another origin with one script tag and one element', async () => {
    // A shop's page on its own origin (localhost:<other port>); the widget and API stay on 127.0.0.1.
    const html = `<!doctype html><title>Shop</title><h1>Our shop</h1>
      <script src="${server.origin}/widget.js" defer></script><div data-slotwise-resource="${s.resourceId}"></div>`;
    const shop = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
    await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', resolve));
    const context = await browser.newContext();
    context.setDefaultTimeout(5000);
    try {
      const page = await context.newPage();
      await page.goto(`http://localhost:${(shop.address() as AddressInfo).port}/`);
      await expect.poll(() => slotButton(page, s.slots[3]!.id).getAttribute('aria-label'), { timeout: 5000 }).toMatch(/, 2 places left, /);
    } finally {
      await context.close();
      shop.close();
    }
  });

  it('a slot reaching the minimum notice (a booking policy) disappears from the page as time passes', async () => {
    const resource = Buffer.from(s.resourceId, 'base64').toString().split(':')[1];
    const [inserted] = await server.query<{ id: string }>(
      `INSERT INTO slots (location_id, resource_id, time_zone, start_at, end_at, capacity)
       SELECT location_id, id, 'America/New_York', now() + interval '68 seconds', now() + interval '30 minutes', 2 FROM resources WHERE id = $1
       RETURNING id`,
      [resource],
    );
    const slotId = inserted!.id;
    await server.query(`UPDATE resources SET min_notice_minutes = 1 WHERE id = $1`, [resource]);
    try {
      const page = await openWidget(`resource=${s.resourceId}`);
      const button = page.locator(`button.sw-slot[data-slot-id="${Buffer.from(`Slot:${slotId}`).toString('base64')}"]`);
      await expect.poll(() => button.count(), { timeout: 10_000 }).toBe(1);
      // Due about 8 seconds after the insert; generous for a loaded machine.
      await expect.poll(() => button.count(), { timeout: 40_000 }).toBe(0);
    } finally {
      await server.query(`UPDATE resources SET min_notice_minutes = NULL WHERE id = $1`, [resource]);
    }
  }, 60_000);

  it('data-slotwise-time-zone="browser" shows times on the visitor\'s clock (a Tokyo browser)', async () => {
    const html = `<!doctype html><title>Shop</title><h1>Our shop</h1>
      <script src="${server.origin}/widget.js" defer></script><div data-slotwise-resource="${s.resourceId}" data-slotwise-time-zone="browser"></div>`;
    const shop = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html));
    await new Promise<void>((resolve) => shop.listen(0, '127.0.0.1', resolve));
    const context = await browser.newContext({ timezoneId: 'Asia/Tokyo' });
    context.setDefaultTimeout(5000);
    try {
      const page = await context.newPage();
      await page.goto(`http://localhost:${(shop.address() as AddressInfo).port}/`);
      const slot = s.slots[3]!;
      const tokyo = new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Tokyo', hour: 'numeric', minute: '2-digit' }).format(new Date(slot.startAt));
      await expect.poll(() => slotButton(page, slot.id).getAttribute('aria-label'), { timeout: 5000 }).toMatch(new RegExp(`^${tokyo}, `));
      expect(tokyo).not.toBe(slot.localStart);
      expect(await page.locator('[data-slotwise-resource]').evaluate((el) => el.shadowRoot!.querySelector('.sw-zone')!.textContent)).toMatch(
        /^Times in .*Tokyo/,
      );
    } finally {
      await context.close();
      shop.close();
    }
  });

  it('pages between weeks and labels the week', async () => {
    const page = await openWidget(`resource=${s.resourceId}`);
    const prev = page.getByRole('button', { name: 'Previous week' });
    await expect.poll(() => page.locator('.sw-slot').count()).toBeGreaterThan(0);
    expect(await prev.isDisabled()).toBe(true);
    const firstWeek = await page.locator('h2').textContent();
    await page.getByRole('button', { name: 'Next week' }).click();
    await expect.poll(() => page.locator('h2').textContent()).not.toBe(firstWeek);
    expect(await prev.isDisabled()).toBe(false);
    expect(await page.locator('.sw-day h3').count()).toBe(7);
  });

  it.each(['en-US', 'en-GB', 'de'])('in %s, the widget and the signup page write the same slot, day and zone alike', async (lang) => {
    const slug = `same-words-${lang.toLowerCase()}`;
    const form = as(
      (
        await s.admin.request(CreateFormDocument, {
          input: {
            title: 'Same words',
            slug,
            timeZone: 'America/New_York',
            schedule: {
              daysOfWeek: [1, 2, 3, 4, 5, 6, 7],
              startTime: '17:00',
              endTime: '18:00',
              slotMinutes: 60,
              startDate: dayFromNow(2),
              weeks: 1,
            },
          },
        })
      ).createForm,
      'Form',
    );
    await s.admin.request(PublishFormDocument, { id: form.id });

    const signup = await browser.newPage();
    await signup.goto(`${server.origin}/form/${slug}?lang=${lang}`);
    const day = signup.locator('fieldset.day').first();
    const pageDay = (await day.locator('legend').textContent())!;
    const pageRange = (await day
      .locator('.slot label')
      .first()
      .evaluate((el) => el.firstChild!.textContent))!;
    const pageZone = await signup.locator('.hint .zone').textContent();
    expect(await signup.locator('html').getAttribute('lang')).toBe(lang);
    await signup.close();

    const widget = await openWidget(`form=${form.id}&lang=${lang}`);
    const first = widget.locator('button.sw-slot').first();
    await first.waitFor();
    expect(await first.evaluate((el) => el.closest('.sw-day')!.querySelector('h3')!.textContent)).toBe(pageDay);
    await first.click();
    expect(await widget.locator('.sw-form p').first().textContent()).toBe(`${pageDay}, ${pageRange}`);
    expect(await widget.locator('.sw-zone').textContent()).toBe(`Times in ${pageZone}`);
    await widget.close();
  });
});
