import { AppError } from '../../shared/errors.js';
import type { Understood } from './extracted-form.js';

/**
 * The sentence has parts the extractor could not read, parts that contradict each other, or lacks
 * a part a schedule needs. Nothing is created; the phrases are named so the user can rephrase.
 */
export class FormTextNotUnderstoodError extends AppError {
  readonly code = 'FORM_TEXT_NOT_UNDERSTOOD';
  constructor(
    readonly unparsed: string[],
    readonly missing: string[],
    readonly conflicts: string[],
    readonly understood: Understood[],
  ) {
    const parts = [
      unparsed.length ? `could not read ${unparsed.map((p) => `"${p}"`).join(', ')}` : '',
      conflicts.length ? `conflicting: ${conflicts.join(', ')}` : '',
      missing.length ? `missing ${missing.join('; ')}` : '',
    ].filter(Boolean);
    super(`Nothing was created: ${parts.join('; ')}.`);
  }
}
