import type { ZodError } from 'zod';

/** An expected failure: part of the schema, shown to the caller with a stable code. */
export abstract class AppError extends Error {
  abstract readonly code: string;
}

export interface FieldError {
  path: string[];
  message: string;
}

export class ValidationError extends AppError {
  readonly code = 'VALIDATION_FAILED';
  constructor(readonly fieldErrors: FieldError[]) {
    super(fieldErrors.map((e) => `${e.path.join('.')}: ${e.message}`).join('; '));
  }

  static field(path: string | string[], message: string): ValidationError {
    return new ValidationError([{ path: Array.isArray(path) ? path : path.split('.'), message }]);
  }

  static fromZod(error: ZodError, prefix: string[] = []): ValidationError {
    return new ValidationError(error.issues.map((issue) => ({ path: [...prefix, ...issue.path.map(String)], message: issue.message })));
  }
}

export class NotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} ${id} was not found`);
  }
}

/** Validates input with a zod schema; failures become a ValidationError with field paths. */
export function parseInput<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: ZodError } },
  value: unknown,
  prefix: string[] = ['input'],
): T {
  const result = schema.safeParse(value);
  if (!result.success) throw ValidationError.fromZod(result.error, prefix);
  return result.data;
}
