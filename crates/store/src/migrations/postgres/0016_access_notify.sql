-- A server learns that a user was disabled or a token revoked by another
-- process at once: every change of the users or tokens notifies the
-- channel `reliefhub_access`, which the server listens on.
CREATE FUNCTION reliefhub_access_changed() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('reliefhub_access', TG_TABLE_NAME);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER api_users_access_changed AFTER UPDATE OR DELETE ON api_users
    FOR EACH STATEMENT EXECUTE FUNCTION reliefhub_access_changed();
CREATE TRIGGER api_tokens_access_changed AFTER UPDATE OR DELETE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION reliefhub_access_changed();
