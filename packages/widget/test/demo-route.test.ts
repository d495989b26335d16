import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveServer, type LiveServer } from '../../sdk/test/live-server.js';
import { setUpScenario, type Scenario } from '../../sdk/test/scenario.js';

let server: LiveServer;
let s: Scenario;
beforeAll(async () => {
  server = await startLiveServer({ routes: [['widget/widget-route.ts', 'widgetRoutes']] });
  s = await setUpScenario(server);
});
afterAll(() => server?.stop());

describe('/widget.js and /demo', () => {
  it('serves the bundle to any origin', async () => {
    const response = await fetch(`${server.origin}/widget.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect((await response.text()).length).toBeGreaterThan(1000);
  });

  it('embeds the first resource with one script tag and one element', async () => {
    const html = await (await fetch(`${server.origin}/demo`)).text();
    expect(html).toContain('<script src="/widget.js" defer></script>');
    expect(html).toContain(`<div data-slotwise-resource="${s.resourceId}"></div>`);
  });

  it('takes ?resource= or ?form=, and refuses ids that are not ids', async () => {
    expect(await (await fetch(`${server.origin}/demo?form=Rm9ybTp4`)).text()).toContain('<div data-slotwise-form="Rm9ybTp4"></div>');
    const bad = await fetch(`${server.origin}/demo?resource=%22%3E%3Cscript%3E`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).not.toContain('<script>');
  });
});
