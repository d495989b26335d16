/** A request-level failure: transport, authentication, validation of the document, or a masked server error. */
export class SlotwiseError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status?: number,
    readonly errors: ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }> = [],
  ) {
    super(message);
    this.name = 'SlotwiseError';
  }
}

/** Business errors are union members with a `code`; everything else is a success. */
export type BusinessError<T> = Extract<T, { __typename: `${string}Error`; code: string }>;

/** Narrows a mutation result to its error members (`ValidationError`, `SlotFullError`, ...). */
export function isBusinessError<T extends { __typename: string }>(result: T): result is BusinessError<T> {
  return result.__typename.endsWith('Error') && typeof (result as { code?: unknown }).code === 'string';
}
