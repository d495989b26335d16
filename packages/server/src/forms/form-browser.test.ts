import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../../test/axe.js';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { publishedForm, rowCounts } from '../../test/kit/forms.js';
import { startServer, type RunningServer } from '../server.js';
import { formPageRoute } from './form-route.js';

/** Debian's Chromium (CI installs it); playwright-core never downloads a browser of its own. */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../../test-artifacts/', import.meta.url));
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`form browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('signup page in headless Chromium', () => {
  let t: TestApp;
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    t = await createTestApp();
    t.app.services.forms.now = () => new Date('2054-12-01T12:00:00Z');
    t.app.services.registrations.now = () => new Date('2054-12-01T12:00:00Z');
    server = await startServer(t.app, { port: 0, host: '127.0.0.1', routes: [formPageRoute(t.app)] });
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
  });

  const slot = (page: Page, day: string, time: string) => page.locator('fieldset.day', { hasText: day }).getByLabel(time, { exact: false });

  it('two slots chosen (keyboard and mouse) and booked; the page that lost the race gets 409 and keeps its input', async () => {
    await publishedForm(t, { slug: 'browser-coaching', title: 'Soccer coaching', maxSlotsPerRegistration: 2 });
    // bypassCSP: only so that the test can inject axe-core.
    const winner = await browser.newPage({ bypassCSP: true });
    const loser = await browser.newPage({ bypassCSP: true });
    // Both registrants open the page before either sends it.
    await winner.goto(`${server.url}/form/browser-coaching`);
    await loser.goto(`${server.url}/form/browser-coaching`);
    expect(await winner.title()).toBe('Soccer coaching');
    expect(await seriousViolations(winner), 'signup page').toEqual([]);

    // Keyboard only for the fields and the first slot: Tab through name, email, phone, then Space.
    await winner.getByLabel('Name').focus();
    await winner.keyboard.type('Ada Lovelace');
    await winner.keyboard.press('Tab');
    await winner.keyboard.type('ada@example.com');
    await winner.keyboard.press('Tab');
    await winner.keyboard.press('Tab');
    await winner.keyboard.press('Space');
    await expect.poll(() => slot(winner, 'Mon Jan 4', '5:00–6:00 PM').isChecked()).toBe(true);
    await slot(winner, 'Wed Jan 6', '6:00–7:00 PM').check();
    await winner.screenshot({ path: `${ARTIFACTS}forms-1-chosen.png`, fullPage: true });
    const [submitted] = await Promise.all([
      winner.waitForResponse((r) => r.request().method() === 'POST'),
      winner.getByRole('button', { name: 'Sign up' }).press('Enter'),
    ]);
    expect(submitted.status()).toBe(200);
    await expect.poll(() => winner.getByRole('heading', { level: 1 }).textContent()).toBe('You are signed up');
    expect(await winner.locator('ul.confirmed li').allTextContents()).toEqual(['Mon Jan 4, 5:00–6:00 PM', 'Wed Jan 6, 6:00–7:00 PM']);
    await winner.screenshot({ path: `${ARTIFACTS}forms-2-success.png`, fullPage: true });
    expect(await seriousViolations(winner), 'signed up').toEqual([]);

    // The second page still shows Wed 6:00 as free; it picks that one and another, and loses.
    const before = await rowCounts(t);
    await loser.getByLabel('Name').fill('Grace Hopper');
    await loser.getByLabel('Email').fill('grace@example.com');
    await slot(loser, 'Wed Jan 6', '6:00–7:00 PM').check();
    await slot(loser, 'Mon Jan 11', '7:00–8:00 PM').check();
    const [conflict] = await Promise.all([
      loser.waitForResponse((r) => r.request().method() === 'POST'),
      loser.getByRole('button', { name: 'Sign up' }).click(),
    ]);
    expect(conflict.status()).toBe(409);
    await expect.poll(() => loser.getByRole('alert').textContent()).toContain('these times were taken while you were choosing');
    expect(await loser.getByRole('alert').locator('li').allTextContents()).toEqual(['Wed Jan 6, 6:00–7:00 PM']);
    expect(await loser.getByLabel('Name').inputValue()).toBe('Grace Hopper');
    expect(await loser.getByLabel('Email').inputValue()).toBe('grace@example.com');
    expect(await slot(loser, 'Mon Jan 11', '7:00–8:00 PM').isChecked()).toBe(true);
    const lost = slot(loser, 'Wed Jan 6', '6:00–7:00 PM');
    expect([await lost.isChecked(), await lost.isDisabled()]).toEqual([false, true]);
    await loser.screenshot({ path: `${ARTIFACTS}forms-3-conflict-409.png`, fullPage: true });
    expect(await seriousViolations(loser), 'conflict').toEqual([]);
    expect(await rowCounts(t)).toEqual(before);

    expect(existsSync(`${ARTIFACTS}forms-3-conflict-409.png`)).toBe(true);
  }, 60_000);
});
