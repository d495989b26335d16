import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type SlotwiseClient } from '@slotwise/sdk';
import { BookDocument } from '@slotwise/sdk/documents';
import { startLiveServer, type LiveServer } from '../../sdk/test/live-server.js';
import { as, setUpScenario, type Scenario } from '../../sdk/test/scenario.js';
import { startPageServer, type PageServer } from './page-server.js';

let server: LiveServer;
let pages: PageServer;
let s: Scenario;
let browser: Browser;
let other: SlotwiseClient;

beforeAll(async () => {
  const [api, bundle] = await Promise.all([
    startLiveServer(),
    build({
      entryPoints: [new URL('./app.tsx', import.meta.url).pathname],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      jsx: 'automatic',
      define: { 'process.env.NODE_ENV': '"production"' },
      minify: true,
      logLevel: 'warning',
    }),
  ]);
  server = api;
  s = await setUpScenario(server, { capacity: 1 });
  other = createClient({ url: server.url });
  pages = await startPageServer({
    backend: server.origin,
    html: '<!doctype html><html lang="en"><title>Book</title><div id="root"></div><script type="module" src="/app.js"></script>',
    script: bundle.outputFiles[0]!.text,
    countQueries: /^\{"query":"query Availability\b/,
  });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await pages?.stop();
  await server?.stop();
});

async function openPage(transport: 'ws' | 'sse'): Promise<Page> {
  const page = await browser.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`${pages.origin}/?resource=${s.resourceId}&transport=${transport}`);
  await page.locator('#status', { hasText: 'live' }).waitFor();
  return page;
}

const slotItem = (page: Page, slotId: string) => page.locator(`#slots li[data-slot-id="${slotId}"]`);

/** Another visitor books a slot, straight against the API. */
async function bookElsewhere(slotId: string) {
  as((await other.request(BookDocument, { input: { slotId, customer: { name: 'Other', email: 'other@example.com' } } })).book, 'BookingReceipt');
}

describe('@slotwise/react hooks in Chromium against a real server', () => {
  it('useHold then useConfirm book a slot; the page sees its own booking live', async () => {
    const page = await openPage('ws');
    const slot = s.slots[0]!;
    expect(await page.locator('#zone').textContent()).toBe('America/New_York');
    await slotItem(page, slot.id).getByRole('button').click();
    await page.locator('#outcome', { hasText: 'held HELD' }).waitFor();
    await page.locator('#confirm').click();
    await page.locator('#outcome', { hasText: 'confirmed CONFIRMED' }).waitFor();
    await slotItem(page, slot.id).waitFor({ state: 'detached' });
    const uuid = Buffer.from(slot.id, 'base64').toString().split(':')[1];
    const [row] = await server.query<{ status: string }>('SELECT status FROM bookings WHERE slot_id = $1', [uuid]);
    expect(row?.status).toBe('CONFIRMED');
    await page.close();
  });

  it.each(['ws', 'sse'] as const)("over %s, a second client's booking makes the slot disappear without a refetch", async (transport) => {
    const page = await openPage(transport);
    const slot = s.slots[transport === 'ws' ? 1 : 2]!;
    await slotItem(page, slot.id).waitFor();
    const queriesBefore = pages.queries();
    await bookElsewhere(slot.id);
    await slotItem(page, slot.id).waitFor({ state: 'detached' });
    expect(pages.queries(), 'no availability query after the first').toBe(queriesBefore);
    await page.close();
  });

  it('useBook narrows a full slot to SlotFullError and a bad id to ValidationError', async () => {
    const page = await openPage('ws');
    const slot = s.slots[3]!;
    await bookElsewhere(slot.id);
    await page.locator('#slot-id').fill(slot.id);
    await page.locator('#book').click();
    await page.locator('#outcome', { hasText: `SlotFullError on ${slot.id}` }).waitFor();
    expect(await page.locator('#hook-error').textContent()).toBe('SlotFullError');
    await page.locator('#slot-id').fill('');
    await page.locator('#book').click();
    await page.locator('#outcome', { hasText: 'invalid input.slotId' }).waitFor();
    await page.close();
  });

  it.each(['ws', 'sse'] as const)('over %s, a booking made while the connection was down shows after it comes back', async (transport) => {
    const page = await openPage(transport);
    const slot = s.slots[transport === 'ws' ? 4 : 5]!;
    await slotItem(page, slot.id).waitFor();
    pages.setDown(true);
    try {
      if (transport === 'sse') await page.locator('#status', { hasText: 'reconnecting' }).waitFor();
      // Missed live: only the snapshot after reconnecting can tell the page.
      await bookElsewhere(slot.id);
      expect(await slotItem(page, slot.id).count()).toBe(1);
    } finally {
      pages.setDown(false);
    }
    await slotItem(page, slot.id).waitFor({ state: 'detached', timeout: 30_000 });
    await page.locator('#status', { hasText: 'live' }).waitFor();
    await page.close();
  });
});
