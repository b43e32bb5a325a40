-- The foundation: reference data, lots, batches, the journal and balances.
CREATE TABLE items (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    unit TEXT NOT NULL,
    unit_weight_kg REAL NOT NULL,
    unit_volume_m3 REAL NOT NULL,
    cold_chain INTEGER NOT NULL,
    un_number TEXT,
    min_shelf_life_days INTEGER NOT NULL
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
    latitude_deg REAL NOT NULL,
    longitude_deg REAL NOT NULL
);
CREATE TABLE destinations (
    locode TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    country TEXT NOT NULL,
    iata TEXT,
    icao TEXT,
    latitude_deg REAL NOT NULL,
    longitude_deg REAL NOT NULL
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
    latitude_deg REAL NOT NULL,
    longitude_deg REAL NOT NULL
);
CREATE INDEX airports_iata ON airports(iata) WHERE iata IS NOT NULL;
CREATE TABLE batches (
    id INTEGER PRIMARY KEY,
    idem_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    content_digest BLOB NOT NULL,
    recorded_at_unix_ms INTEGER NOT NULL,
    first_seq INTEGER NOT NULL,
    transfer_count INTEGER NOT NULL
);
CREATE TABLE lots (
    id INTEGER PRIMARY KEY,
    item TEXT NOT NULL,
    donor TEXT NOT NULL,
    batch TEXT NOT NULL,
    expiry TEXT,
    earmark TEXT NOT NULL,
    created_batch INTEGER NOT NULL
);
CREATE INDEX lots_created_batch ON lots(created_batch);
CREATE TABLE journal (
    seq INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL,
    lot_id INTEGER NOT NULL,
    from_account TEXT NOT NULL,
    to_account TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    corrects INTEGER,
    hash BLOB NOT NULL
);
CREATE INDEX journal_corrects ON journal(corrects) WHERE corrects IS NOT NULL;
CREATE TABLE balances (
    account TEXT NOT NULL,
    lot_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    PRIMARY KEY (account, lot_id)
) WITHOUT ROWID;
CREATE INDEX balances_lot ON balances(lot_id);
CREATE TRIGGER journal_append_only_update BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only: correct with a reversing transfer'); END;
CREATE TRIGGER journal_append_only_delete BEFORE DELETE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only: correct with a reversing transfer'); END;
CREATE TRIGGER batches_append_only_update BEFORE UPDATE ON batches
BEGIN SELECT RAISE(ABORT, 'batches are append-only'); END;
CREATE TRIGGER batches_append_only_delete BEFORE DELETE ON batches
BEGIN SELECT RAISE(ABORT, 'batches are append-only'); END;
CREATE TRIGGER lots_append_only_update BEFORE UPDATE ON lots
BEGIN SELECT RAISE(ABORT, 'lots are append-only'); END;
CREATE TRIGGER lots_append_only_delete BEFORE DELETE ON lots
BEGIN SELECT RAISE(ABORT, 'lots are append-only'); END;
