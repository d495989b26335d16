import { builder } from '../builder.js';
import type { Context } from '../context.js';
import { clientIp, remoteAddressOf } from '../ratelimit/client.js';
import { ErrorInterface } from '../shared/shared.graphql.js';
import { RoleEnum } from './auth.graphql.js';
import { RefreshTokenInvalidError, SignInInvalidError, SignInRateLimitedError } from './sign-in-errors.js';
import type { AuthSession } from './sign-in.service.js';

builder.objectType(SignInRateLimitedError, {
  name: 'SignInRateLimitedError',
  description: 'Too many sign-in requests for this address or from this client (per hour); nothing was sent.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof SignInRateLimitedError,
  fields: (t) => ({ retryAfterSeconds: t.exposeInt('retryAfterSeconds') }),
});

const SignInInvalidReasonEnum = builder.enumType('SignInInvalidReason', {
  values: ['INVALID', 'EXPIRED', 'USED', 'TOO_MANY_ATTEMPTS'] as const,
});

builder.objectType(SignInInvalidError, {
  name: 'SignInInvalidError',
  description: 'The code or link does not sign in: wrong, expired, already used, or locked after too many wrong codes. Ask for a new one.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof SignInInvalidError,
  fields: (t) => ({ reason: t.field({ type: SignInInvalidReasonEnum, resolve: (e) => e.reason }) }),
});

const RefreshTokenInvalidReasonEnum = builder.enumType('RefreshTokenInvalidReason', {
  values: ['UNKNOWN', 'EXPIRED', 'REVOKED', 'REUSED'] as const,
});

builder.objectType(RefreshTokenInvalidError, {
  name: 'RefreshTokenInvalidError',
  description: 'The refresh token does not work. REUSED: it had been used before, so every token of its sign-in was revoked.',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof RefreshTokenInvalidError,
  fields: (t) => ({ reason: t.field({ type: RefreshTokenInvalidReasonEnum, resolve: (e) => e.reason }) }),
});

const SignInRequestedRef = builder.objectRef<{ expiresAt: Date }>('SignInRequested').implement({
  description: 'A code and a link are on their way (the same answer for every address).',
  fields: (t) => ({ expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'When the code and the link stop working.' }) }),
});

const SessionUserRef = builder.objectRef<AuthSession['user']>('SessionUser').implement({
  fields: (t) => ({
    email: t.exposeString('email'),
    roles: t.expose('roles', { type: [RoleEnum] }),
  }),
});

const AuthSessionRef = builder.objectRef<AuthSession>('AuthSession').implement({
  description: 'Send accessToken as "Authorization: Bearer"; before it expires, trade refreshToken for a new pair (refreshSession).',
  fields: (t) => ({
    accessToken: t.exposeString('accessToken', { description: 'A JWT, valid for ACCESS_TOKEN_TTL_SECONDS.' }),
    accessTokenExpiresAt: t.expose('accessTokenExpiresAt', { type: 'DateTime' }),
    refreshToken: t.exposeString('refreshToken', { description: 'Works once: refreshSession answers a new one. Keep it secret.' }),
    refreshTokenExpiresAt: t.expose('refreshTokenExpiresAt', { type: 'DateTime' }),
    user: t.field({ type: SessionUserRef, resolve: (s) => s.user }),
  }),
});

const SignedOutRef = builder.objectRef<{ revoked: number }>('SignedOut').implement({
  fields: (t) => ({ revoked: t.exposeInt('revoked', { description: 'Refresh tokens revoked now.' }) }),
});

const RequestSignInInput = builder.inputType('RequestSignInInput', {
  fields: (t) => ({ email: t.string({ required: true }) }),
});

const CompleteSignInInput = builder.inputType('CompleteSignInInput', {
  description: 'The 6-digit code with the email it was sent to, or the token from the link (t=...). Exactly one of code or token.',
  fields: (t) => ({
    email: t.string({ description: 'Required with code; with token, checked when given.' }),
    code: t.string(),
    token: t.string(),
  }),
});

const RefreshSessionInput = builder.inputType('RefreshSessionInput', {
  fields: (t) => ({ refreshToken: t.string({ required: true }) }),
});

const SignOutInput = builder.inputType('SignOutInput', {
  fields: (t) => ({
    refreshToken: t.string({ required: true }),
    everywhere: t.boolean({ description: "Also end every other session of the token's user." }),
  }),
});

/** The caller's address, by the same TRUST_PROXY rules as the rate limiter. */
function clientAddress(ctx: Context): string | undefined {
  return clientIp({ headers: ctx.headers, remoteAddress: remoteAddressOf(ctx as Parameters<typeof remoteAddressOf>[0]) }, ctx.config.TRUST_PROXY);
}

builder.mutationField('requestSignIn', (t) =>
  t.field({
    type: SignInRequestedRef,
    description: 'Mails a one-time code and a sign-in link to the address. Same answer whether or not the address has an account.',
    authScopes: { public: true },
    errors: { types: [SignInRateLimitedError] },
    args: { input: t.arg({ type: RequestSignInInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.signIn.request(input.email, clientAddress(ctx)),
  }),
);

builder.mutationField('completeSignIn', (t) =>
  t.field({
    type: AuthSessionRef,
    description: "Trades the mail's code or link token (once, before it expires) for an access token and a refresh token.",
    authScopes: { public: true },
    errors: { types: [SignInInvalidError] },
    args: { input: t.arg({ type: CompleteSignInInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.signIn.complete(input),
  }),
);

builder.mutationField('refreshSession', (t) =>
  t.field({
    type: AuthSessionRef,
    description:
      'A new access token and refresh token for a refresh token, which is spent. Using a spent one again revokes every token of its sign-in.',
    authScopes: { public: true },
    errors: { types: [RefreshTokenInvalidError] },
    args: { input: t.arg({ type: RefreshSessionInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.signIn.refresh(input.refreshToken),
  }),
);

builder.mutationField('signOut', (t) =>
  t.field({
    type: SignedOutRef,
    description:
      'Revokes the refresh token and its sign-in (or, with everywhere, all of its user). Access tokens already issued expire on their own.',
    authScopes: { public: true },
    errors: {},
    args: { input: t.arg({ type: SignOutInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.signIn.signOut(input.refreshToken, input.everywhere ?? false),
  }),
);
