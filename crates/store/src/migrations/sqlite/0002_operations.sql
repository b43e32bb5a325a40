-- Operations: the documents that go with ledger batches (pledges, inbound
-- legs and manifests, receipts, hub transfers, requests, departures, loading
-- lists, deliveries). Stock itself moves only through the journal.
CREATE TABLE op_requests (
    idem_key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    request_digest TEXT NOT NULL,
    batch_id INTEGER NOT NULL,
    reference TEXT NOT NULL,
    recorded_at_unix_ms INTEGER NOT NULL
);
CREATE TABLE pledges (
    code TEXT PRIMARY KEY,
    donor TEXT NOT NULL,
    pledged_on TEXT NOT NULL,
    note TEXT NOT NULL,
    batch_id INTEGER NOT NULL,
    cancelled_on TEXT
);
CREATE TABLE pledge_lines (
    pledge_code TEXT NOT NULL,
    line_no INTEGER NOT NULL,
    item TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    earmark TEXT NOT NULL,
    lot_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (pledge_code, line_no)
);
CREATE INDEX pledge_lines_lot ON pledge_lines(lot_id);
CREATE TABLE inbound_legs (
    code TEXT PRIMARY KEY,
    mode TEXT NOT NULL,
    origin TEXT NOT NULL,
    node TEXT NOT NULL,
    carrier TEXT NOT NULL,
    vehicle_ref TEXT NOT NULL,
    expected_arrival TEXT NOT NULL,
    donor TEXT,
    recorded_at_unix_ms INTEGER NOT NULL
);
CREATE TABLE manifests (
    leg_code TEXT PRIMARY KEY,
    idem_key TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_digest TEXT NOT NULL,
    line_count INTEGER NOT NULL,
    total_quantity INTEGER NOT NULL,
    batch_id INTEGER NOT NULL
);
CREATE TABLE manifest_lines (
    leg_code TEXT NOT NULL,
    line_no INTEGER NOT NULL,
    lot_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    packs INTEGER,
    PRIMARY KEY (leg_code, line_no)
) WITHOUT ROWID;
CREATE TABLE receipts (
    id INTEGER PRIMARY KEY,
    leg_code TEXT NOT NULL,
    idem_key TEXT NOT NULL UNIQUE,
    received_on TEXT NOT NULL,
    received_by TEXT NOT NULL,
    batch_id INTEGER NOT NULL
);
CREATE TABLE receipt_lines (
    leg_code TEXT NOT NULL,
    line_no INTEGER NOT NULL,
    receipt_id INTEGER NOT NULL,
    lot_id INTEGER NOT NULL,
    manifest_quantity INTEGER NOT NULL,
    counted INTEGER NOT NULL,
    damaged INTEGER NOT NULL,
    damaged_to TEXT NOT NULL,
    short_quantity INTEGER NOT NULL,
    over_quantity INTEGER NOT NULL,
    note TEXT NOT NULL,
    PRIMARY KEY (leg_code, line_no)
);
CREATE INDEX receipt_lines_lot ON receipt_lines(lot_id);
CREATE TABLE hub_transfers (
    code TEXT PRIMARY KEY,
    from_node TEXT NOT NULL,
    to_node TEXT NOT NULL,
    vehicle TEXT NOT NULL,
    dispatched_on TEXT NOT NULL,
    arrived_on TEXT,
    dispatch_batch INTEGER NOT NULL,
    arrival_batch INTEGER
);
CREATE TABLE hub_transfer_lines (
    transfer_code TEXT NOT NULL,
    lot_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    PRIMARY KEY (transfer_code, lot_id)
);
CREATE TABLE requests (
    code TEXT PRIMARY KEY,
    destination TEXT NOT NULL,
    item TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    needed_by TEXT NOT NULL,
    grace_days INTEGER NOT NULL,
    requested_by TEXT NOT NULL,
    cancelled_on TEXT,
    recorded_at_unix_ms INTEGER NOT NULL
);
CREATE TABLE departures (
    code TEXT PRIMARY KEY,
    node TEXT NOT NULL,
    destination TEXT NOT NULL,
    mode TEXT NOT NULL,
    service TEXT NOT NULL,
    vehicle TEXT NOT NULL,
    departs_on TEXT NOT NULL,
    arrives_on TEXT NOT NULL,
    payload_kg REAL NOT NULL,
    volume_m3 REAL NOT NULL,
    cold_volume_m3 REAL NOT NULL,
    dangerous_goods_allowed INTEGER NOT NULL,
    fixed_cost_usd REAL NOT NULL,
    cost_per_kg_usd REAL NOT NULL,
    status TEXT NOT NULL,
    departed_on TEXT,
    recorded_at_unix_ms INTEGER NOT NULL
);
CREATE TABLE loading_lines (
    departure_code TEXT NOT NULL,
    line_no INTEGER NOT NULL,
    lot_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    request_code TEXT,
    seq INTEGER NOT NULL,
    batch_id INTEGER NOT NULL,
    unloaded_batch INTEGER,
    PRIMARY KEY (departure_code, line_no)
);
CREATE INDEX loading_lines_request ON loading_lines(request_code);
CREATE TABLE deliveries (
    departure_code TEXT PRIMARY KEY,
    received_by TEXT NOT NULL,
    received_on TEXT NOT NULL,
    note TEXT NOT NULL,
    batch_id INTEGER NOT NULL
);
CREATE TABLE delivery_lines (
    departure_code TEXT NOT NULL,
    line_no INTEGER NOT NULL,
    lot_id INTEGER NOT NULL,
    loaded INTEGER NOT NULL,
    received INTEGER NOT NULL,
    short_quantity INTEGER NOT NULL,
    request_code TEXT,
    PRIMARY KEY (departure_code, line_no)
);
CREATE TABLE stock_events (
    batch_id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    node TEXT NOT NULL,
    reason TEXT NOT NULL,
    recorded_on TEXT NOT NULL
);
CREATE TABLE corrections (
    batch_id INTEGER NOT NULL,
    corrects_seq INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    reason TEXT NOT NULL,
    recorded_on TEXT NOT NULL,
    PRIMARY KEY (batch_id, corrects_seq)
);
