import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AvailabilityDocument, SlotAvailabilityDocument } from '../src/documents.js';
import { browserTimeZone, createClient } from '../src/index.js';
import { startLiveServer, type LiveServer } from './live-server.js';
import { as, setUpScenario, type Scenario } from './scenario.js';

/** Issue #20: the SDK passes the browser's zone when asked to (`timeZone: 'browser'`), or a zone given. */
let server: LiveServer;
let s: Scenario;

beforeAll(async () => {
  server = await startLiveServer();
  s = await setUpScenario(server);
});
afterAll(() => server?.stop());

const window = () => ({ from: new Date(Date.now() + 86_400_000).toISOString(), to: new Date(Date.now() + 3 * 86_400_000).toISOString() });
/** HH:MM of an instant on a zone's wall clock, as the server should render it. */
const wall = (iso: string, timeZone: string) =>
  new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));

describe('the client timeZone option', () => {
  it("'browser' sends the process zone with every query that takes $timeZone; answers read in it", async () => {
    // Tests run with TZ=UTC: the zone Intl reports here is the one a browser would send.
    expect(browserTimeZone()).toBe('UTC');
    const sent: unknown[] = [];
    const client = createClient({
      url: server.url,
      timeZone: 'browser',
      fetch: (input, init) => {
        sent.push(JSON.parse(String(init?.body)).variables);
        return fetch(input, init);
      },
    });
    const answer = as((await client.request(AvailabilityDocument, { resourceId: s.resourceId, ...window() })).availability, 'Availability');
    expect(sent[0]).toMatchObject({ timeZone: 'UTC' });
    expect(answer.timeZone).toBe('UTC');
    expect(answer.slots[0]!.localStart).toBe(wall(answer.slots[0]!.startAt, 'UTC'));
    expect(answer.slots[0]!.timeZone).toBe('UTC');
  });

  it('a named zone, overridden per call; without the option the location zone (New York) answers', async () => {
    const tokyo = createClient({ url: server.url, timeZone: 'Asia/Tokyo' });
    const inTokyo = as((await tokyo.request(AvailabilityDocument, { resourceId: s.resourceId, ...window() })).availability, 'Availability');
    expect(inTokyo.timeZone).toBe('Asia/Tokyo');
    expect(inTokyo.slots[0]!.localStartAt).toContain('+09:00');
    expect(inTokyo.slots[0]!.localStart).toBe(wall(inTokyo.slots[0]!.startAt, 'Asia/Tokyo'));
    const perCall = as(
      (await tokyo.request(AvailabilityDocument, { resourceId: s.resourceId, ...window(), timeZone: 'Europe/Lisbon' })).availability,
      'Availability',
    );
    expect(perCall.timeZone).toBe('Europe/Lisbon');
    const plain = as(
      (await createClient({ url: server.url }).request(AvailabilityDocument, { resourceId: s.resourceId, ...window() })).availability,
      'Availability',
    );
    expect(plain.timeZone).toBe('America/New_York');
  });

  it('subscriptions get the zone too', async () => {
    const client = createClient({ url: server.url, timeZone: 'Asia/Tokyo', transport: 'sse' });
    const events = client.subscribe(SlotAvailabilityDocument, { resourceId: s.resourceId, ...window() });
    const first = (await events.next()).value!.slotAvailability;
    await events.return();
    expect(first).toMatchObject({ __typename: 'SlotAvailabilityEvent', kind: 'SNAPSHOT', timeZone: 'Asia/Tokyo' });
  });
});
