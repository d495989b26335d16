/**
 * Embed: <script src="https://host/widget.js" defer></script>
 *        <div data-slotwise-resource="<resource id>"></div>  (or data-slotwise-form="<form id>")
 *        data-slotwise-locale="en-GB" writes dates and times that way; by default the nearest `lang` attribute's.
 * Times show in the resource's zone; data-slotwise-time-zone="browser" shows them in the visitor's
 * own zone, data-slotwise-time-zone="Europe/Lisbon" in that one.
 * The API is the script's own origin: https://host/graphql.
 */
import { browserTimeZone, createClient } from '@slotwise/sdk';
import { AvailabilityWidget } from './widget.js';

const script = (document.currentScript as HTMLScriptElement | null) ?? document.querySelector<HTMLScriptElement>('script[src*="widget.js"]');
const apiUrl = new URL('/graphql', script?.src ?? location.href).href;
// A stable id per browser tab: rate limits count this visitor alone, not everyone behind the same address.
function sessionId(): string {
  try {
    const id = sessionStorage.getItem('slotwise-session') ?? crypto.randomUUID();
    sessionStorage.setItem('slotwise-session', id);
    return id;
  } catch {
    return crypto.randomUUID();
  }
}
const client = createClient({ url: apiUrl, headers: { 'x-session-id': sessionId() } });

function mount(root: ParentNode = document) {
  for (const el of root.querySelectorAll<HTMLElement>('[data-slotwise-resource], [data-slotwise-form]')) {
    if (el.dataset.slotwiseMounted) continue;
    el.dataset.slotwiseMounted = 'true';
    const { slotwiseResource: resourceId, slotwiseForm: formId, slotwiseLocale, slotwiseTimeZone: zone } = el.dataset;
    const locale = slotwiseLocale ?? el.closest<HTMLElement>('[lang]')?.lang;
    const timeZone = zone === 'browser' ? browserTimeZone() : zone || undefined;
    new AvailabilityWidget(el, client, resourceId ? { resourceId } : { formId: formId! }, { locale, timeZone });
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => mount());
else mount();

/** For pages that add the element later. */
(window as unknown as { Slotwise?: unknown }).Slotwise = { mount };
