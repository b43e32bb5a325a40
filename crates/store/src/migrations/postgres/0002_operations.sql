-- Operations: the documents that go with ledger batches (pledges, inbound
-- legs and manifests, receipts, hub transfers, requests, departures, loading
-- lists, deliveries). Stock itself moves only through the journal.
CREATE TABLE op_requests (
    idem_key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    request_digest TEXT NOT NULL,
    batch_id BIGINT NOT NULL,
    reference TEXT NOT NULL,
    recorded_at_unix_ms BIGINT NOT NULL
);
CREATE TABLE pledges (
    code TEXT PRIMARY KEY,
    donor TEXT NOT NULL,
    pledged_on TEXT NOT NULL,
    note TEXT NOT NULL,
    batch_id BIGINT NOT NULL,
    cancelled_on TEXT
);
CREATE TABLE pledge_lines (
    pledge_code TEXT NOT NULL,
    line_no BIGINT NOT NULL,
    item TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    earmark TEXT NOT NULL,
    lot_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
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
    recorded_at_unix_ms BIGINT NOT NULL
);
CREATE TABLE manifests (
    leg_code TEXT PRIMARY KEY,
    idem_key TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_digest TEXT NOT NULL,
    line_count BIGINT NOT NULL,
    total_quantity BIGINT NOT NULL,
    batch_id BIGINT NOT NULL
);
CREATE TABLE manifest_lines (
    leg_code TEXT NOT NULL,
    line_no BIGINT NOT NULL,
    lot_id BIGINT NOT NULL,
    quantity BIGINT NOT NULL,
    packs BIGINT,
    PRIMARY KEY (leg_code, line_no)
);
CREATE TABLE receipts (
    id BIGINT PRIMARY KEY,
    leg_code TEXT NOT NULL,
    idem_key TEXT NOT NULL UNIQUE,
    received_on TEXT NOT NULL,
    received_by TEXT NOT NULL,
    batch_id BIGINT NOT NULL
);
CREATE TABLE receipt_lines (
    leg_code TEXT NOT NULL,
    line_no BIGINT NOT NULL,
    receipt_id BIGINT NOT NULL,
    lot_id BIGINT NOT NULL,
    manifest_quantity BIGINT NOT NULL,
    counted BIGINT NOT NULL,
    damaged BIGINT NOT NULL,
    damaged_to TEXT NOT NULL,
    short_quantity BIGINT NOT NULL,
    over_quantity BIGINT NOT NULL,
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
    dispatch_batch BIGINT NOT NULL,
    arrival_batch BIGINT
);
CREATE TABLE hub_transfer_lines (
    transfer_code TEXT NOT NULL,
    lot_id BIGINT NOT NULL,
    quantity BIGINT NOT NULL,
    PRIMARY KEY (transfer_code, lot_id)
);
CREATE TABLE requests (
    code TEXT PRIMARY KEY,
    destination TEXT NOT NULL,
    item TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    priority BIGINT NOT NULL,
    needed_by TEXT NOT NULL,
    grace_days BIGINT NOT NULL,
    requested_by TEXT NOT NULL,
    cancelled_on TEXT,
    recorded_at_unix_ms BIGINT NOT NULL
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
    payload_kg DOUBLE PRECISION NOT NULL,
    volume_m3 DOUBLE PRECISION NOT NULL,
    cold_volume_m3 DOUBLE PRECISION NOT NULL,
    dangerous_goods_allowed BIGINT NOT NULL,
    fixed_cost_usd DOUBLE PRECISION NOT NULL,
    cost_per_kg_usd DOUBLE PRECISION NOT NULL,
    status TEXT NOT NULL,
    departed_on TEXT,
    recorded_at_unix_ms BIGINT NOT NULL
);
CREATE TABLE loading_lines (
    departure_code TEXT NOT NULL,
    line_no BIGINT NOT NULL,
    lot_id BIGINT NOT NULL,
    quantity BIGINT NOT NULL,
    request_code TEXT,
    seq BIGINT NOT NULL,
    batch_id BIGINT NOT NULL,
    unloaded_batch BIGINT,
    PRIMARY KEY (departure_code, line_no)
);
CREATE INDEX loading_lines_request ON loading_lines(request_code);
CREATE TABLE deliveries (
    departure_code TEXT PRIMARY KEY,
    received_by TEXT NOT NULL,
    received_on TEXT NOT NULL,
    note TEXT NOT NULL,
    batch_id BIGINT NOT NULL
);
CREATE TABLE delivery_lines (
    departure_code TEXT NOT NULL,
    line_no BIGINT NOT NULL,
    lot_id BIGINT NOT NULL,
    loaded BIGINT NOT NULL,
    received BIGINT NOT NULL,
    short_quantity BIGINT NOT NULL,
    request_code TEXT,
    PRIMARY KEY (departure_code, line_no)
);
CREATE TABLE stock_events (
    batch_id BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    node TEXT NOT NULL,
    reason TEXT NOT NULL,
    recorded_on TEXT NOT NULL
);
CREATE TABLE corrections (
    batch_id BIGINT NOT NULL,
    corrects_seq BIGINT NOT NULL,
    quantity BIGINT NOT NULL,
    reason TEXT NOT NULL,
    recorded_on TEXT NOT NULL,
    PRIMARY KEY (batch_id, corrects_seq)
);
