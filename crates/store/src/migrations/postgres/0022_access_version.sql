-- A server refuses a user disabled or a token revoked by another process
-- on the very next request: every change of the users or tokens (not a
-- new token) counts up this one row in the same transaction, and the
-- server reads it before trusting a cached token (one indexed row; the
-- reads of concurrent requests share one query).
CREATE TABLE api_access_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO api_access_version (id, version) VALUES (1, 0);
CREATE FUNCTION reliefhub_access_version() RETURNS trigger AS $$
BEGIN
    UPDATE api_access_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER api_users_access_version AFTER UPDATE OR DELETE ON api_users
    FOR EACH STATEMENT EXECUTE FUNCTION reliefhub_access_version();
CREATE TRIGGER api_tokens_access_version AFTER UPDATE OR DELETE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION reliefhub_access_version();
