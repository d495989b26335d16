import type { Config } from '../config.js';

export interface MailSettings {
  /** NOTIFICATIONS_FROM_EMAIL: sender and ORGANIZER. */
  from: string;
  /** Base of every link in a mail: PUBLIC_URL, or http://localhost:<PORT>. */
  publicUrl: string;
  /** The zone an invite's local times are written in (the booking's zone), or null for UTC. */
  icsTimeZone: (bookingZone: string) => string | null;
  /** REMINDER_MINUTES_BEFORE, largest first. */
  reminderMinutes: number[];
}

export function mailSettings(
  config: Pick<Config, 'NOTIFICATIONS_FROM_EMAIL' | 'PUBLIC_URL' | 'PORT' | 'ICS_TIME_ZONES' | 'REMINDER_MINUTES_BEFORE'>,
): MailSettings {
  return {
    from: config.NOTIFICATIONS_FROM_EMAIL,
    publicUrl: (config.PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/+$/, ''),
    icsTimeZone: config.ICS_TIME_ZONES === 'local' ? (zone) => zone : () => null,
    reminderMinutes: config.REMINDER_MINUTES_BEFORE,
  };
}

/** Manage links work until a week after the booking ends (and at least a day from now). */
const MANAGE_LINK_MARGIN_MS = 7 * 86_400_000;
const MIN_LINK_LIFE_MS = 86_400_000;

export function manageLinkExpiry(endAt: Date, now: Date): Date {
  // Date.now() as well: the table checks expires_at against the database's clock, not a test's.
  return new Date(Math.max(endAt.getTime() + MANAGE_LINK_MARGIN_MS, now.getTime() + MIN_LINK_LIFE_MS, Date.now() + MIN_LINK_LIFE_MS));
}
