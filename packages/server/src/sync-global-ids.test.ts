import { encodeGlobalID } from '@pothos/plugin-relay';
import { describe, expect, it } from 'vitest';
import { encodeGlobalId } from './sync-global-ids.js';

describe('encodeGlobalId', () => {
  it('gives the relay plugin encoding for any id, short or long, ASCII or not', () => {
    for (const id of ['3f1c2a4e-9b7d-4c1e-8f2a-0d6b5e4c3a21', '', 'a', 'ab', 'héllo', '日本語', '\ud800x', '😀', 'x'.repeat(340), 'é'.repeat(400)]) {
      expect(encodeGlobalId('Slot', id)).toBe(encodeGlobalID('Slot', id));
    }
  });
});
