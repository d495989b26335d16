import { decodeGlobalID } from '@pothos/plugin-relay';
import { ValidationError } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Decodes a Relay global ID of the given type; anything else is a ValidationError on that field. */
export function parseGlobalId(value: string, typename: string, path: string[]): string {
  try {
    const decoded = decodeGlobalID(value);
    if (decoded.typename === typename && UUID.test(decoded.id)) return decoded.id;
  } catch {
    // fall through to the typed error
  }
  throw ValidationError.field(path, `must be a ${typename} ID`);
}
