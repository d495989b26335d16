import { z } from 'zod';
import { ValidationError, parseInput } from './errors.js';
import { isValidTimeZone } from './time.js';
import { TIME_ZONE_MESSAGE } from './validation.js';

/**
 * How a public read is asked for, beyond its scope: by staff (drafts visible), in the viewer's
 * own zone (local dates and times rendered in it; the scope's zone when left out), and for
 * resources with every one of the required skills.
 */
export interface Viewer {
  staff?: boolean;
  timeZone?: string | null;
  skills?: string[] | null;
  /** The token of the caller's last write (Slotwise-Read-After): a replica answers only once it has replayed it. */
  readAfter?: string | null;
  /** Read on the primary whatever the replica's state: the response cache keeps this answer. */
  primary?: boolean;
}

/** A skill as staff write it and searches name it: lower case, letters, digits, spaces, + and -. */
export const skillSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} +-]{0,47}$/u, 'must be 1-48 letters, digits, spaces, + or -, e.g. dermatology');

/** A resource's skills: at most 30, duplicates dropped. */
export const skillsSchema = z
  .array(skillSchema)
  .max(30, 'at most 30 skills')
  .transform((skills) => [...new Set(skills)]);

/** The viewer zone argument: an IANA zone, or null for the scope's own. */
export function viewerTimeZone(zone: string | null | undefined, path: (string | number)[] = ['timeZone']): string | null {
  if (zone == null) return null;
  if (!isValidTimeZone(zone)) throw ValidationError.field(path.map(String), TIME_ZONE_MESSAGE);
  return zone;
}

/** The required-skills argument, normalized; null when none is required. */
export function requiredSkills(skills: string[] | null | undefined, path: string[] = ['skills']): string[] | null {
  if (!skills?.length) return null;
  return parseInput(skillsSchema, skills, path);
}

/** Both read arguments at once, as a resolver passes them on. */
export function viewerOf(args: { timeZone?: string | null; skills?: string[] | null }, staff: boolean): Viewer {
  return { staff, timeZone: viewerTimeZone(args.timeZone), skills: requiredSkills(args.skills) };
}
