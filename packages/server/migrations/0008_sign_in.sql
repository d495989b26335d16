-- Passwordless sign-in (issue #20): one-time codes and links, refresh tokens, the server's signing keys.

-- One sign-in request: a 6-digit code and a link token, mailed together. Either completes it, once.
-- Only hashes of the code and the token are stored; the address is encrypted (PII) with its lookup hash.
CREATE TABLE sign_in_requests (
  id          uuid PRIMARY KEY DEFAULT uuid_v7(),
  email       text NOT NULL,
  email_hash  text NOT NULL,
  code_hash   text NOT NULL,
  token_hash  text NOT NULL UNIQUE,
  -- wrong codes tried against this request; at the limit it is dead
  attempts    integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_requests_email_idx ON sign_in_requests (email_hash, created_at);

-- Refresh tokens, stored hashed. Each use rotates: the used row gets rotated_at and a new row joins
-- its family. A rotated token shown again means it leaked: the whole family is revoked.
CREATE TABLE refresh_tokens (
  id          uuid PRIMARY KEY DEFAULT uuid_v7(),
  family_id   uuid NOT NULL,
  user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash  text NOT NULL UNIQUE,
  expires_at  timestamptz NOT NULL,
  rotated_at  timestamptz,
  revoked_at  timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- Generated key pairs for asymmetric access tokens (when no JWT_PRIVATE_KEY is configured), shared
-- by every instance: the oldest key of the algorithm signs, /.well-known/jwks.json publishes it.
CREATE TABLE signing_keys (
  kid          text PRIMARY KEY,
  alg          text NOT NULL,
  -- the public key as a JWK (JSON text)
  public_jwk   text NOT NULL,
  -- the private key, PKCS#8 PEM, encrypted with ENCRYPTION_KEY
  private_key  text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX signing_keys_alg_idx ON signing_keys (alg, created_at);
