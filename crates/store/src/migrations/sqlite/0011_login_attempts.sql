-- Each login attempt is recorded as a failure before its password is
-- checked (in the transaction that checks the limits) and struck out by its
-- attempt id when the password was right.
ALTER TABLE api_login_failures ADD COLUMN attempt TEXT;
CREATE INDEX api_login_failures_attempt ON api_login_failures(attempt);
