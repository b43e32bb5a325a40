-- A server refuses a user disabled or a token revoked by another process
-- on the very next request. On SQLite it reads `PRAGMA data_version`
-- before trusting a cached token, so nothing counts here; the table is
-- kept so that both databases have the same tables (a backup of either
-- restores into the other). On PostgreSQL triggers count it up.
CREATE TABLE api_access_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO api_access_version (id, version) VALUES (1, 0);
