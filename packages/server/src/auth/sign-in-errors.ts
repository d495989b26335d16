import { AppError } from '../shared/errors.js';

/** Too many sign-in requests for this address or from this client; nothing was sent. */
export class SignInRateLimitedError extends AppError {
  readonly code = 'RATE_LIMITED';
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many sign-in requests; try again in ${retryAfterSeconds} seconds`);
  }
}

export type SignInProblem = 'INVALID' | 'EXPIRED' | 'USED' | 'TOO_MANY_ATTEMPTS';

const SIGN_IN_MESSAGES: Record<SignInProblem, string> = {
  INVALID: 'The code or link is not valid; check it or ask for a new one',
  EXPIRED: 'The code or link has expired; ask for a new one',
  USED: 'The code or link was already used; ask for a new one',
  TOO_MANY_ATTEMPTS: 'Too many wrong codes; ask for a new one',
};

/** A code or link that does not complete a sign-in. Nothing was issued. */
export class SignInInvalidError extends AppError {
  readonly code = 'SIGN_IN_INVALID';
  constructor(readonly reason: SignInProblem) {
    super(SIGN_IN_MESSAGES[reason]);
  }
}

export type RefreshProblem = 'UNKNOWN' | 'EXPIRED' | 'REVOKED' | 'REUSED';

/** A refresh token that cannot be used; REUSED means it had been used before, and its whole family is now revoked. */
export class RefreshTokenInvalidError extends AppError {
  readonly code = 'REFRESH_TOKEN_INVALID';
  constructor(readonly reason: RefreshProblem) {
    super(
      reason === 'REUSED'
        ? 'This refresh token was already used: every session started with the same sign-in is now signed out'
        : `The refresh token is ${reason.toLowerCase()}; sign in again`,
    );
  }
}
