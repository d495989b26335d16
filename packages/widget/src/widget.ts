import { SlotAvailabilityDocument, type SlotAvailabilityEventKind, type SlotwiseClient, type SlotFieldsFragment } from '@slotwise/sdk';
import { timeFormat, type TimeFormat } from '@slotwise/sdk/format';
import { addDays, todayIn, utcMidnight } from './format.js';
import { buildSkeleton, isFull, paintSlot, renderDays, type Skeleton } from './view.js';
import { FULL as FULL_MESSAGE, reserve, type Reservation } from './booking.js';
import type { Scope } from './scope.js';

export interface WidgetOptions {
  /** How dates and times are written ("en-GB", "de", …); the default is the Slotwise pages' "en-US". */
  locale?: string;
  /** The zone to show times in (IANA); default: the resource's (or form's). */
  timeZone?: string;
}

/** Weeks ahead a visitor may page to. */
const MAX_WEEKS = 12;

let widgets = 0;

/** One live availability widget in `host`: a week of slots, kept current by `slotAvailability`. */
export class AvailabilityWidget {
  private readonly ui: Skeleton;
  private readonly uid = `sw${++widgets}`;
  private readonly slots = new Map<string, SlotFieldsFragment>();
  private buttons = new Map<string, HTMLButtonElement>();
  private timeZone: string | undefined;
  private weekStart: string;
  private week = 0;
  private selected: string | undefined;
  private reservation: Reservation | undefined;
  /** A hold or sign-up is in flight: its own change event must not read as "full". */
  private busy = false;
  private stop: (() => void) | undefined;
  private readonly format: TimeFormat;

  constructor(
    host: HTMLElement,
    private readonly client: SlotwiseClient,
    private readonly scope: Scope,
    private readonly options: WidgetOptions = {},
  ) {
    this.format = timeFormat(options.locale);
    this.ui = buildSkeleton(host, this.uid);
    this.weekStart = new Date().toISOString().slice(0, 10);
    this.ui.submit.textContent = 'resourceId' in scope ? 'Hold this time' : 'Sign up';
    this.ui.prev.addEventListener('click', () => this.goToWeek(this.week - 1));
    this.ui.next.addEventListener('click', () => this.goToWeek(this.week + 1));
    this.ui.days.addEventListener('click', (e) => {
      const button = (e.target as Element).closest<HTMLButtonElement>('.sw-slot');
      if (button) this.choose(button.dataset.slotId!);
    });
    this.ui.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.submit();
    });
    this.ui.form.addEventListener('keydown', (e) => e.key === 'Escape' && this.clearChoice(true));
    this.ui.cancel.addEventListener('click', () => this.clearChoice(true));
    this.ui.confirm.addEventListener('click', () => void this.confirm());
    this.ui.release.addEventListener('click', () => {
      void this.reservation?.release().catch(() => {});
      this.clearChoice(true);
    });
    this.listen();
  }

  /** The visible week's local dates; the first week starts today in the zone times are shown in. */
  private dates(): string[] {
    return Array.from({ length: 7 }, (_, i) => addDays(this.weekStart, this.week * 7 + i));
  }

  private goToWeek(week: number) {
    if (week < 0 || week > MAX_WEEKS) return;
    this.week = week;
    this.clearChoice(false);
    this.listen();
  }

  /** (Re)subscribes for the visible week; the window is padded a day each side to cover any zone. */
  private listen() {
    this.stop?.();
    const first = utcMidnight(addDays(this.weekStart, this.week * 7));
    const from = new Date(first - 86_400_000).toISOString();
    const to = new Date(first + 8 * 86_400_000).toISOString();
    const zone = this.options.timeZone ? { timeZone: this.options.timeZone } : {};
    const events = this.client.subscribe(SlotAvailabilityDocument, { ...this.scope, from, to, ...zone });
    let active = true;
    this.stop = () => {
      active = false;
      void events.return();
    };
    this.render();
    void (async () => {
      try {
        for await (const { slotAvailability: event } of events) {
          if (!active) return;
          if (event.__typename !== 'SlotAvailabilityEvent') return this.say(event.message, 'error');
          this.apply(event.kind, event.timeZone, event.slots);
        }
      } catch {
        if (active) this.say('Live updates stopped — reload the page to see current availability.', 'error');
      }
    })();
  }

  private apply(kind: SlotAvailabilityEventKind, timeZone: string, slots: SlotFieldsFragment[]) {
    if (kind === 'REMOVED') {
      // A booking policy now refuses these (e.g. the minimum notice reached them): they go.
      for (const slot of slots) this.slots.delete(slot.id);
      this.render();
      return;
    }
    if (kind === 'SNAPSHOT') {
      this.slots.clear();
      if (!this.timeZone) {
        this.timeZone = timeZone;
        this.weekStart = todayIn(timeZone);
      }
    }
    let added = kind === 'SNAPSHOT';
    for (const slot of slots) {
      const known = this.slots.get(slot.id);
      // Events can arrive out of order across reconnects: keep the newest version of each slot.
      if (known && known.version >= slot.version) continue;
      if (!known) added = true;
      this.slots.set(slot.id, slot);
      const button = this.buttons.get(slot.id);
      if (button && slot.status !== 'CANCELLED') paintSlot(button, slot, slot.id === this.selected, this.format);
      else added = true;
    }
    if (added) this.render();
    const selected = this.selected && this.slots.get(this.selected);
    if (selected && isFull(selected) && !this.reservation && !this.busy) this.say(FULL_MESSAGE, 'error');
  }

  private visibleSlots() {
    const dates = new Set(this.dates());
    const now = Date.now();
    return [...this.slots.values()]
      .filter((s) => dates.has(s.localDate) && s.status !== 'CANCELLED' && Date.parse(s.startAt) > now)
      .sort((a, b) => a.startAt.localeCompare(b.startAt));
  }

  private render() {
    const dates = this.dates();
    const focusedId = (this.ui.root.activeElement as HTMLElement | null)?.dataset?.slotId;
    this.ui.title.textContent = this.format.dateRange(dates[0]!, dates[6]!);
    this.ui.zone.textContent = this.timeZone ? `Times in ${this.format.zone(this.timeZone)}` : '';
    this.ui.prev.disabled = this.week === 0;
    this.ui.next.disabled = this.week === MAX_WEEKS;
    this.buttons = renderDays(this.ui.days, dates, this.visibleSlots(), this.selected, this.uid, this.format);
    if (focusedId) this.buttons.get(focusedId)?.focus();
  }

  private choose(slotId: string) {
    const slot = this.slots.get(slotId);
    if (!slot || this.reservation) return;
    if (isFull(slot)) return this.say(FULL_MESSAGE, 'error');
    this.selected = slotId;
    for (const [id, button] of this.buttons) button.setAttribute('aria-pressed', String(id === slotId));
    this.ui.chosen.textContent = this.when(slot);
    this.ui.form.hidden = false;
    this.say('');
    this.ui.name.focus();
  }

  private clearChoice(refocus: boolean) {
    const previous = this.selected;
    this.selected = undefined;
    this.reservation = undefined;
    this.ui.form.hidden = true;
    this.ui.held.hidden = true;
    this.ui.submit.disabled = false;
    for (const button of this.buttons.values()) button.setAttribute('aria-pressed', 'false');
    if (refocus && previous) this.buttons.get(previous)?.focus();
  }

  private async submit() {
    const slot = this.selected && this.slots.get(this.selected);
    if (!slot) return;
    const name = this.ui.name.value.trim();
    const email = this.ui.email.value.trim();
    this.ui.name.setAttribute('aria-invalid', String(!name));
    this.ui.email.setAttribute('aria-invalid', String(!/^\S+@\S+\.\S+$/.test(email)));
    if (!name) return this.say('Please enter your name.', 'error', this.ui.name);
    if (!/^\S+@\S+\.\S+$/.test(email)) return this.say('Please enter a valid email address.', 'error', this.ui.email);
    this.ui.submit.disabled = true;
    this.busy = true;
    this.say('Reserving…');
    try {
      const outcome = await reserve(this.client, this.scope, slot.id, { name, email }).finally(() => (this.busy = false));
      this.ui.submit.disabled = false;
      if (outcome.kind === 'error') {
        if (outcome.field) this.ui[outcome.field].setAttribute('aria-invalid', 'true');
        const keepForm = outcome.field !== undefined;
        if (!keepForm) this.clearChoice(true);
        return this.say(outcome.message, 'error', outcome.field && this.ui[outcome.field]);
      }
      if (outcome.kind === 'registered') {
        this.clearChoice(true);
        return this.say(`You're signed up for ${this.when(slot)}.`, 'ok');
      }
      this.reservation = outcome.reservation;
      this.ui.form.hidden = true;
      const until =
        outcome.reservation.holdExpiresAt && this.timeZone ? ` until ${this.format.time(outcome.reservation.holdExpiresAt, this.timeZone)}` : '';
      this.ui.heldText.textContent = `${this.when(slot)} is held for you${until}. Confirm to book it.`;
      this.ui.held.hidden = false;
      this.say('Held — confirm to finish your booking.', 'ok', this.ui.confirm);
    } catch {
      this.ui.submit.disabled = false;
      this.say('Could not reach the booking service — please try again.', 'error');
    }
  }

  private async confirm() {
    const reservation = this.reservation;
    const slot = this.selected && this.slots.get(this.selected);
    if (!reservation || !slot) return;
    this.ui.confirm.disabled = true;
    try {
      const message = await reservation.confirm();
      this.ui.confirm.disabled = false;
      this.clearChoice(true);
      this.say(message.ok ? `Booked: ${this.when(slot)}. See you then!` : message.text, message.ok ? 'ok' : 'error');
    } catch {
      this.ui.confirm.disabled = false;
      this.say('Could not reach the booking service — please try again.', 'error');
    }
  }

  /** "Mon Nov 30, 5:00–6:00 PM": the words the signup page uses for the same slot. */
  private when(slot: SlotFieldsFragment): string {
    return this.format.slot(slot.startAt, slot.endAt, slot.timeZone);
  }

  private say(text: string, tone?: 'ok' | 'error', focus?: HTMLElement) {
    this.ui.status.textContent = text;
    this.ui.status.className = `sw-status${tone ? ` ${tone}` : ''}`;
    focus?.focus();
  }

  destroy() {
    this.stop?.();
  }
}
