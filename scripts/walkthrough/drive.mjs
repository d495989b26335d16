// Drives the walkthrough app (built from the READMEs' snippets) in Chromium against a running server:
// books a slot through the hooks, then a second client books another and the page loses it without a refetch.
// node drive.mjs <app origin> <api origin>
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../packages/react/package.json', import.meta.url));
const { chromium } = require('playwright-core');
const [appOrigin, apiOrigin] = process.argv.slice(2);
const api = `${apiOrigin}/graphql`;

const demo = await (await fetch(`${apiOrigin}/demo`)).text();
const resourceId = /data-slotwise-resource="([^"]+)"/.exec(demo)?.[1];
if (!resourceId) throw new Error('no demo resource (start the server with SEED_DEMO=true)');

async function gql(query, variables) {
  const res = await fetch(api, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()).data;
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(30_000);
  let availabilityQueries = 0;
  page.on('request', (r) => r.method() === 'POST' && /query Availability\b/.test(r.postData() ?? '') && availabilityQueries++);
  await page.goto(`${appOrigin}/?resource=${encodeURIComponent(resourceId)}&api=${encodeURIComponent(api)}`);
  await page.getByText('(live)').waitFor();
  const items = page.locator('li[data-slot-id]');
  const first = items.first();
  const mine = await first.getAttribute('data-slot-id');
  await first.getByRole('button').click();
  await page.getByRole('status').getByText('Booked, see you then!').waitFor();
  console.log(`booked through the hooks: ${mine}`);

  // A second visitor books another open slot until it is full; the page drops it live.
  const other = await items.nth(1).getAttribute('data-slot-id');
  for (let i = 0; i < 20; i++) {
    const r = await gql('mutation($input: BookInput!) { book(input: $input) { __typename } }', {
      input: { slotId: other, customer: { name: 'Other', email: `other${i}@example.com` } },
    });
    if (r.book.__typename !== 'BookingReceipt') break;
  }
  const queriesBefore = availabilityQueries;
  await page.locator(`li[data-slot-id="${other}"]`).waitFor({ state: 'detached' });
  if (availabilityQueries !== queriesBefore) throw new Error('the page refetched availability');
  console.log(`a second client filled ${other}: it left the page live, no refetch (${availabilityQueries} availability query in all)`);
} finally {
  await browser.close();
}
