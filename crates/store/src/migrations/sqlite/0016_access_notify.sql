-- A server learns that a user was disabled or a token revoked by another
-- process at once: on SQLite by `PRAGMA data_version` before each request
-- (nothing to store); on PostgreSQL by a notification (LISTEN/NOTIFY).
SELECT 1;
