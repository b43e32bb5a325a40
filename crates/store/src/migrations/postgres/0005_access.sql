-- Access to the HTTP API: users, bearer tokens (stored as SHA-256 digests),
-- failed login attempts (for rate limiting) and the responses of mutating
-- requests by (user, Idempotency-Key), so a replay returns the first answer.
CREATE TABLE api_users (
    id BIGINT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    organisation TEXT,
    country TEXT,
    created_at_unix_ms BIGINT NOT NULL,
    disabled_at_unix_ms BIGINT
);
CREATE TABLE api_tokens (
    token_sha256 TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    label TEXT NOT NULL,
    created_at_unix_ms BIGINT NOT NULL,
    expires_at_unix_ms BIGINT NOT NULL,
    revoked_at_unix_ms BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);
CREATE TABLE api_login_failures (
    scope TEXT NOT NULL,
    at_unix_ms BIGINT NOT NULL
);
CREATE INDEX api_login_failures_scope ON api_login_failures(scope, at_unix_ms);
CREATE TABLE api_idempotency (
    user_id BIGINT NOT NULL,
    idem_key TEXT NOT NULL,
    request_digest TEXT NOT NULL,
    status BIGINT NOT NULL,
    body TEXT NOT NULL,
    recorded_at_unix_ms BIGINT NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
