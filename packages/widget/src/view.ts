import { CSS } from './styles.js';
import type { TimeFormat } from '@slotwise/sdk/format';
import { placesLabel, slotLabel, type SlotLike } from './format.js';

export interface ViewSlot extends SlotLike {
  id: string;
}

type Attrs = Record<string, string | boolean | undefined>;

/** A tiny element factory: attributes (false/undefined left out), then children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === undefined) continue;
    if (name === 'text') el.textContent = String(value);
    else el.setAttribute(name, value === true ? '' : value);
  }
  el.append(...children);
  return el;
}

/** The static parts of the widget; days, panels and status are filled in by the controller. */
export function buildSkeleton(host: HTMLElement, uid: string) {
  const root = host.attachShadow({ mode: 'open' });
  // The visible words are the accessible name; the arrows are decoration.
  const prev = h('button', { type: 'button', class: 'sw-prev' }, h('span', { 'aria-hidden': 'true', text: '‹ ' }), 'Previous week');
  const next = h('button', { type: 'button', class: 'sw-next' }, 'Next week', h('span', { 'aria-hidden': 'true', text: ' ›' }));
  const title = h('h2', { id: `${uid}-title`, 'aria-live': 'polite', text: 'Loading…' });
  const zone = h('p', { class: 'sw-zone' });
  const days = h('div', { class: 'sw-days' });

  const name = h('input', { name: 'name', autocomplete: 'name', required: true, maxlength: '120' });
  const email = h('input', { name: 'email', type: 'email', autocomplete: 'email', required: true, maxlength: '200' });
  const chosen = h('p', { id: `${uid}-chosen` });
  const submit = h('button', { type: 'submit', class: 'sw-primary' });
  const cancel = h('button', { type: 'button', text: 'Cancel' });
  const form = h(
    'form',
    { class: 'sw-panel sw-form', hidden: true, 'aria-labelledby': `${uid}-chosen`, novalidate: true },
    chosen,
    h('label', {}, 'Name', name),
    h('label', {}, 'Email', email),
    h('div', { class: 'sw-actions' }, submit, cancel),
  );

  const heldText = h('p', { id: `${uid}-held` });
  const confirm = h('button', { type: 'button', class: 'sw-primary sw-confirm', text: 'Confirm booking' });
  const release = h('button', { type: 'button', text: 'Choose another time' });
  const held = h(
    'div',
    { class: 'sw-panel sw-held', hidden: true, role: 'group', 'aria-labelledby': `${uid}-held` },
    heldText,
    h('div', { class: 'sw-actions' }, confirm, release),
  );

  const status = h('p', { class: 'sw-status', role: 'status', 'aria-live': 'polite' });
  const section = h(
    'section',
    { class: 'sw', 'aria-labelledby': `${uid}-title` },
    h('div', { class: 'sw-head' }, prev, title, next),
    zone,
    days,
    form,
    held,
    status,
  );
  root.append(h('style', { text: CSS }), section);
  return { root, prev, next, title, zone, days, form, chosen, name, email, submit, cancel, held, heldText, confirm, release, status };
}

export type Skeleton = ReturnType<typeof buildSkeleton>;

const isFull = (slot: ViewSlot) => slot.remaining <= 0 || slot.status === 'FULL' || slot.status === 'BLOCKED';

/** Updates one slot button in place, so focus and the screen reader's position survive live changes. */
export function paintSlot(button: HTMLButtonElement, slot: ViewSlot, selected: boolean, format: TimeFormat) {
  // The space keeps "9:00 AM" and "1 place left" two words for assistive tech (the label starts with them).
  button.replaceChildren(h('span', { text: format.time(slot.startAt, slot.timeZone) }), ' ', h('small', { text: placesLabel(slot) }));
  button.setAttribute('aria-label', slotLabel(slot, format));
  button.setAttribute('aria-pressed', String(selected));
  button.classList.toggle('full', isFull(slot));
  // Still focusable: choosing a full slot explains why it cannot be booked.
  button.setAttribute('aria-disabled', String(isFull(slot)));
}

/** One column per local date of the week, slots by start; returns the buttons by slot id. */
export function renderDays(
  container: HTMLElement,
  dates: string[],
  slots: ViewSlot[],
  selectedId: string | undefined,
  uid: string,
  format: TimeFormat,
) {
  const buttons = new Map<string, HTMLButtonElement>();
  const columns = dates.map((date) => {
    const headingId = `${uid}-d${date}`;
    const daySlots = slots.filter((s) => s.localDate === date);
    const list = daySlots.length
      ? h(
          'ul',
          {},
          ...daySlots.map((slot) => {
            const button = h('button', { type: 'button', class: 'sw-slot', 'data-slot-id': slot.id });
            paintSlot(button, slot, slot.id === selectedId, format);
            buttons.set(slot.id, button);
            return h('li', {}, button);
          }),
        )
      : h('p', { text: 'No times' });
    return h('div', { class: 'sw-day', role: 'group', 'aria-labelledby': headingId }, h('h3', { id: headingId, text: format.day(date) }), list);
  });
  container.replaceChildren(...columns);
  return buttons;
}

export { isFull };
