import { existsSync } from 'node:fs';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousViolations } from '../../test/axe.js';
import { createTestApp, type TestApp } from '../../test/kit/app.js';
import { BOOK, call } from '../../test/kit/documents.js';
import { gid, GUEST, clinic } from '../../test/kit/fixtures.js';
import { queuedMails } from '../../test/kit/mail.js';
import { startServer, type RunningServer } from '../server.js';
import { manageRoute } from './manage-route.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`manage page browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('the manage page in headless Chromium', () => {
  let t: TestApp;
  let c: Awaited<ReturnType<typeof clinic>>;
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    t = await createTestApp();
    c = await clinic(t);
    server = await startServer(t.app, { port: 0, host: '127.0.0.1', routes: [manageRoute(t.app)] });
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

  it('has no serious or critical axe-core violation, before and after cancelling', async () => {
    const { booking } = await call(t, BOOK, {
      slotId: gid('Slot', await c.slot('2055-01-05T15:00:00Z')),
      customer: { ...GUEST, timeZone: 'Europe/Lisbon' },
    });
    const mails = await queuedMails(t, `booking_id = $1 AND kind = 'invitation'`, [decodeGlobalID(booking.id).id]);
    const token = /manage\?t=(ml_[\w-]+)/.exec(mails.find((m) => m.to === GUEST.email)!.content.text)![1]!;

    // bypassCSP: only so that the test can inject axe-core.
    const page = await browser.newPage({ bypassCSP: true });
    await page.goto(`${server.url}/manage?t=${encodeURIComponent(token)}`);
    expect(await seriousViolations(page), 'booking shown').toEqual([]);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: /cancel/i }).click()]);
    const [row] = await t.app.db.sql.query<{ status: string }>('SELECT status::text AS status FROM bookings WHERE id = $1', [
      decodeGlobalID(booking.id).id,
    ]);
    expect(row!.status).toBe('CANCELLED');
    expect(await seriousViolations(page), 'cancelled').toEqual([]);
  });
});
