import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { seedDemoIfEmpty } from '../demo/seed.js';
import { startServer, type RunningServer } from '../server.js';

/** Debian's Chromium (CI installs it); playwright-core never downloads a browser of its own. */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`GraphiQL browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('GraphiQL with the network cut', () => {
  let t: TestApp;
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    // Off by default with DATABASE_URL (as tests run); on here, as in the embedded default.
    t = await createTestApp({ config: { GRAPHIQL: 'true', INTROSPECTION: 'true' } });
    await seedDemoIfEmpty(t.app);
    server = await startServer(t.app, { port: 0, host: '127.0.0.1' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await t?.close();
  });

  it('renders from the server’s own assets, shows the demo operations and the token note, and runs a query', async () => {
    const page = await browser.newPage();
    const blocked: string[] = [];
    // Every request that is not to this server fails, as it would on a machine without internet access.
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1') return route.continue();
      blocked.push(url.href);
      return route.abort('internetdisconnected');
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));

    await page.goto(`${server.url}/graphql`, { waitUntil: 'load' });
    expect(await page.title()).toBe('Slotwise');
    const editor = page.locator('.graphiql-query-editor');
    // Monaco writes spaces as U+00A0, which \s matches.
    await expect.poll(() => editor.innerText(), { timeout: 30_000 }).toMatch(/query\s+Locations/);
    expect(await editor.innerText()).toMatch(/Authorization.{0,4}:\s+.{0,4}Bearer/);

    // Cursor into the Locations operation, then run it.
    await page.locator('.graphiql-query-editor .view-line', { hasText: /query\s+Locations/ }).click();
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => page.locator('.graphiql-response').innerText(), { timeout: 20_000 }).toMatch(/"name":\s+"Riverside\s+Clinic"/);

    expect(pageErrors).toEqual([]);
    expect(blocked.filter((u) => /\.(js|css|woff2?)(\?|$)/.test(u))).toEqual([]);
  }, 90_000);
});
