-- The foundation: reference data, lots, batches, the journal and balances.
CREATE TABLE items (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    unit TEXT NOT NULL,
    unit_weight_kg DOUBLE PRECISION NOT NULL,
    unit_volume_m3 DOUBLE PRECISION NOT NULL,
    cold_chain BIGINT NOT NULL,
    un_number TEXT,
    min_shelf_life_days BIGINT NOT NULL
);
CREATE TABLE organisations (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    country TEXT NOT NULL
);
CREATE TABLE nodes (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    locode TEXT NOT NULL,
    iata TEXT,
    icao TEXT,
    latitude_deg DOUBLE PRECISION NOT NULL,
    longitude_deg DOUBLE PRECISION NOT NULL
);
CREATE TABLE destinations (
    locode TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    country TEXT NOT NULL,
    iata TEXT,
    icao TEXT,
    latitude_deg DOUBLE PRECISION NOT NULL,
    longitude_deg DOUBLE PRECISION NOT NULL
);
CREATE TABLE countries (
    alpha2 TEXT PRIMARY KEY,
    alpha3 TEXT NOT NULL,
    numeric_code TEXT NOT NULL,
    name_en TEXT NOT NULL,
    name_fr TEXT NOT NULL,
    name_ar TEXT NOT NULL,
    name_ru TEXT NOT NULL
);
CREATE TABLE airports (
    ident TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    country TEXT NOT NULL,
    municipality TEXT NOT NULL,
    iata TEXT,
    latitude_deg DOUBLE PRECISION NOT NULL,
    longitude_deg DOUBLE PRECISION NOT NULL
);
CREATE INDEX airports_iata ON airports(iata) WHERE iata IS NOT NULL;
CREATE TABLE batches (
    id BIGINT PRIMARY KEY,
    idem_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    content_digest BYTEA NOT NULL,
    recorded_at_unix_ms BIGINT NOT NULL,
    first_seq BIGINT NOT NULL,
    transfer_count BIGINT NOT NULL
);
CREATE TABLE lots (
    id BIGINT PRIMARY KEY,
    item TEXT NOT NULL,
    donor TEXT NOT NULL,
    batch TEXT NOT NULL,
    expiry TEXT,
    earmark TEXT NOT NULL,
    created_batch BIGINT NOT NULL
);
CREATE INDEX lots_created_batch ON lots(created_batch);
CREATE TABLE journal (
    seq BIGINT PRIMARY KEY,
    batch_id BIGINT NOT NULL,
    lot_id BIGINT NOT NULL,
    from_account TEXT NOT NULL,
    to_account TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    corrects BIGINT,
    hash BYTEA NOT NULL
);
CREATE INDEX journal_corrects ON journal(corrects) WHERE corrects IS NOT NULL;
CREATE TABLE balances (
    account TEXT NOT NULL,
    lot_id BIGINT NOT NULL,
    quantity BIGINT NOT NULL,
    PRIMARY KEY (account, lot_id)
);
CREATE INDEX balances_lot ON balances(lot_id);
CREATE FUNCTION reliefhub_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: correct with a reversing transfer', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE ON journal
    FOR EACH ROW EXECUTE FUNCTION reliefhub_append_only();
CREATE TRIGGER batches_append_only BEFORE UPDATE OR DELETE ON batches
    FOR EACH ROW EXECUTE FUNCTION reliefhub_append_only();
CREATE TRIGGER lots_append_only BEFORE UPDATE OR DELETE ON lots
    FOR EACH ROW EXECUTE FUNCTION reliefhub_append_only();
