-- Documents in the chain: every write to a document table (and to the
-- master data) notes the document it touched (the table and the value of its
-- grouping column; '' for master data tables, which are one document each)
-- in op_touched. The store records, in the same transaction, a digest of each
-- touched document as the operation left it, and empties op_touched; rows
-- left there were written outside any operation, which `verify` reports.
CREATE TABLE op_touched (
    doc_table TEXT NOT NULL,
    doc_key TEXT NOT NULL,
    PRIMARY KEY (doc_table, doc_key)
) WITHOUT ROWID;
CREATE TRIGGER op_requests_touched_insert AFTER INSERT ON op_requests
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('op_requests', CAST(NEW.idem_key AS TEXT)); END;
CREATE TRIGGER op_requests_touched_update AFTER UPDATE ON op_requests
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('op_requests', CAST(NEW.idem_key AS TEXT)); INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('op_requests', CAST(OLD.idem_key AS TEXT)); END;
CREATE TRIGGER op_requests_touched_delete AFTER DELETE ON op_requests
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('op_requests', CAST(OLD.idem_key AS TEXT)); END;
CREATE TRIGGER pledges_touched_insert AFTER INSERT ON pledges
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('pledges', CAST(NEW.code AS TEXT)); END;
CREATE TRIGGER pledges_touched_update AFTER UPDATE ON pledges
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('pledges', CAST(NEW.code AS TEXT)); INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('pledges', CAST(OLD.code AS TEXT)); END;
CREATE TRIGGER pledges_touched_delete AFTER DELETE ON pledges
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('pledges', CAST(OLD.code AS TEXT)); END;
CREATE TRIGGER pledge_lines_touched_insert AFTER INSERT ON pledge_lines
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('pledge_lines', CAST(NEW.pledge_code AS TEXT)); END;
CREATE TRIGGER pledge_lines_touched_update AFTER UPDATE ON pledge_lines
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('pledge_lines', CAST(NEW.pledge_code AS TEXT)); INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('pledge_lines', CAST(OLD.pledge_code AS TEXT)); END;
CREATE TRIGGER pledge_lines_touched_delete AFTER DELETE ON pledge_lines
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('pledge_lines', CAST(OLD.pledge_code AS TEXT)); END;
CREATE TRIGGER inbound_legs_touched_insert AFTER INSERT ON inbound_legs
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('inbound_legs', CAST(NEW.code AS TEXT)); END;
CREATE TRIGGER inbound_legs_touched_update AFTER UPDATE ON inbound_legs
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('inbound_legs', CAST(NEW.code AS TEXT)); INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('inbound_legs', CAST(OLD.code AS TEXT)); END;
CREATE TRIGGER inbound_legs_touched_delete AFTER DELETE ON inbound_legs
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('inbound_legs', CAST(OLD.code AS TEXT)); END;
CREATE TRIGGER manifests_touched_insert AFTER INSERT ON manifests
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('manifests', CAST(NEW.leg_code AS TEXT)); END;
CREATE TRIGGER manifests_touched_update AFTER UPDATE ON manifests
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('manifests', CAST(NEW.leg_code AS TEXT)); INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('manifests', CAST(OLD.leg_code AS TEXT)); END;
CREATE TRIGGER manifests_touched_delete AFTER DELETE ON manifests
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('manifests', CAST(OLD.leg_code AS TEXT)); END;
CREATE TRIGGER manifest_lines_touched_insert AFTER INSERT ON manifest_lines
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('manifest_lines', CAST(NEW.leg_code AS TEXT)); END;
CREATE TRIGGER manifest_lines_touched_update AFTER UPDATE ON manifest_lines
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('manifest_lines', CAST(NEW.leg_code AS TEXT)); INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('manifest_lines', CAST(OLD.leg_code AS TEXT)); END;
CREATE TRIGGER manifest_lines_touched_delete AFTER DELETE ON manifest_lines
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('manifest_lines', CAST(OLD.leg_code AS TEXT)); END;
CREATE TRIGGER receipts_touched_insert AFTER INSERT ON receipts
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('receipts', CAST(NEW.id AS TEXT)); END;
CREATE TRIGGER receipts_touched_update AFTER UPDATE ON receipts
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('receipts', CAST(NEW.id AS TEXT)); INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('receipts', CAST(OLD.id AS TEXT)); END;
CREATE TRIGGER receipts_touched_delete AFTER DELETE ON receipts
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('receipts', CAST(OLD.id AS TEXT)); END;
CREATE TRIGGER receipt_lines_touched_insert AFTER INSERT ON receipt_lines
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('receipt_lines', CAST(NEW.leg_code AS TEXT)); END;
CREATE TRIGGER receipt_lines_touched_update AFTER UPDATE ON receipt_lines
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('receipt_lines', CAST(NEW.leg_code AS TEXT)); INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('receipt_lines', CAST(OLD.leg_code AS TEXT)); END;
CREATE TRIGGER receipt_lines_touched_delete AFTER DELETE ON receipt_lines
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('receipt_lines', CAST(OLD.leg_code AS TEXT)); END;
CREATE TRIGGER hub_transfers_touched_insert AFTER INSERT ON hub_transfers
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('hub_transfers', CAST(NEW.code AS TEXT)); END;
CREATE TRIGGER hub_transfers_touched_update AFTER UPDATE ON hub_transfers
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('hub_transfers', CAST(NEW.code AS TEXT)); INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('hub_transfers', CAST(OLD.code AS TEXT)); END;
CREATE TRIGGER hub_transfers_touched_delete AFTER DELETE ON hub_transfers
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('hub_transfers', CAST(OLD.code AS TEXT)); END;
CREATE TRIGGER hub_transfer_lines_touched_insert AFTER INSERT ON hub_transfer_lines
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('hub_transfer_lines', CAST(NEW.transfer_code AS TEXT)); END;
CREATE TRIGGER hub_transfer_lines_touched_update AFTER UPDATE ON hub_transfer_lines
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('hub_transfer_lines', CAST(NEW.transfer_code AS TEXT)); INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('hub_transfer_lines', CAST(OLD.transfer_code AS TEXT)); END;
CREATE TRIGGER hub_transfer_lines_touched_delete AFTER DELETE ON hub_transfer_lines
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('hub_transfer_lines', CAST(OLD.transfer_code AS TEXT)); END;
CREATE TRIGGER requests_touched_insert AFTER INSERT ON requests
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('requests', CAST(NEW.code AS TEXT)); END;
CREATE TRIGGER requests_touched_update AFTER UPDATE ON requests
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('requests', CAST(NEW.code AS TEXT)); INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('requests', CAST(OLD.code AS TEXT)); END;
CREATE TRIGGER requests_touched_delete AFTER DELETE ON requests
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('requests', CAST(OLD.code AS TEXT)); END;
CREATE TRIGGER departures_touched_insert AFTER INSERT ON departures
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('departures', CAST(NEW.code AS TEXT)); END;
CREATE TRIGGER departures_touched_update AFTER UPDATE ON departures
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('departures', CAST(NEW.code AS TEXT)); INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('departures', CAST(OLD.code AS TEXT)); END;
CREATE TRIGGER departures_touched_delete AFTER DELETE ON departures
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('departures', CAST(OLD.code AS TEXT)); END;
CREATE TRIGGER loading_lines_touched_insert AFTER INSERT ON loading_lines
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('loading_lines', CAST(NEW.departure_code AS TEXT)); END;
CREATE TRIGGER loading_lines_touched_update AFTER UPDATE ON loading_lines
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('loading_lines', CAST(NEW.departure_code AS TEXT)); INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('loading_lines', CAST(OLD.departure_code AS TEXT)); END;
CREATE TRIGGER loading_lines_touched_delete AFTER DELETE ON loading_lines
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('loading_lines', CAST(OLD.departure_code AS TEXT)); END;
CREATE TRIGGER deliveries_touched_insert AFTER INSERT ON deliveries
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('deliveries', CAST(NEW.departure_code AS TEXT)); END;
CREATE TRIGGER deliveries_touched_update AFTER UPDATE ON deliveries
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('deliveries', CAST(NEW.departure_code AS TEXT)); INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('deliveries', CAST(OLD.departure_code AS TEXT)); END;
CREATE TRIGGER deliveries_touched_delete AFTER DELETE ON deliveries
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('deliveries', CAST(OLD.departure_code AS TEXT)); END;
CREATE TRIGGER delivery_lines_touched_insert AFTER INSERT ON delivery_lines
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('delivery_lines', CAST(NEW.departure_code AS TEXT)); END;
CREATE TRIGGER delivery_lines_touched_update AFTER UPDATE ON delivery_lines
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('delivery_lines', CAST(NEW.departure_code AS TEXT)); INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('delivery_lines', CAST(OLD.departure_code AS TEXT)); END;
CREATE TRIGGER delivery_lines_touched_delete AFTER DELETE ON delivery_lines
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('delivery_lines', CAST(OLD.departure_code AS TEXT)); END;
CREATE TRIGGER stock_events_touched_insert AFTER INSERT ON stock_events
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('stock_events', CAST(NEW.batch_id AS TEXT)); END;
CREATE TRIGGER stock_events_touched_update AFTER UPDATE ON stock_events
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('stock_events', CAST(NEW.batch_id AS TEXT)); INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('stock_events', CAST(OLD.batch_id AS TEXT)); END;
CREATE TRIGGER stock_events_touched_delete AFTER DELETE ON stock_events
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('stock_events', CAST(OLD.batch_id AS TEXT)); END;
CREATE TRIGGER corrections_touched_insert AFTER INSERT ON corrections
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('corrections', CAST(NEW.batch_id AS TEXT)); END;
CREATE TRIGGER corrections_touched_update AFTER UPDATE ON corrections
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('corrections', CAST(NEW.batch_id AS TEXT)); INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('corrections', CAST(OLD.batch_id AS TEXT)); END;
CREATE TRIGGER corrections_touched_delete AFTER DELETE ON corrections
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('corrections', CAST(OLD.batch_id AS TEXT)); END;
CREATE TRIGGER plans_touched_insert AFTER INSERT ON plans
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('plans', CAST(NEW.id AS TEXT)); END;
CREATE TRIGGER plans_touched_update AFTER UPDATE ON plans
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('plans', CAST(NEW.id AS TEXT)); INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('plans', CAST(OLD.id AS TEXT)); END;
CREATE TRIGGER plans_touched_delete AFTER DELETE ON plans
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('plans', CAST(OLD.id AS TEXT)); END;
CREATE TRIGGER items_touched_insert AFTER INSERT ON items
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('items', ''); END;
CREATE TRIGGER items_touched_update AFTER UPDATE ON items
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('items', ''); END;
CREATE TRIGGER items_touched_delete AFTER DELETE ON items
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('items', ''); END;
CREATE TRIGGER organisations_touched_insert AFTER INSERT ON organisations
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('organisations', ''); END;
CREATE TRIGGER organisations_touched_update AFTER UPDATE ON organisations
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('organisations', ''); END;
CREATE TRIGGER organisations_touched_delete AFTER DELETE ON organisations
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('organisations', ''); END;
CREATE TRIGGER nodes_touched_insert AFTER INSERT ON nodes
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('nodes', ''); END;
CREATE TRIGGER nodes_touched_update AFTER UPDATE ON nodes
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('nodes', ''); END;
CREATE TRIGGER nodes_touched_delete AFTER DELETE ON nodes
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('nodes', ''); END;
CREATE TRIGGER destinations_touched_insert AFTER INSERT ON destinations
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('destinations', ''); END;
CREATE TRIGGER destinations_touched_update AFTER UPDATE ON destinations
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('destinations', ''); END;
CREATE TRIGGER destinations_touched_delete AFTER DELETE ON destinations
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('destinations', ''); END;
CREATE TRIGGER countries_touched_insert AFTER INSERT ON countries
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('countries', ''); END;
CREATE TRIGGER countries_touched_update AFTER UPDATE ON countries
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('countries', ''); END;
CREATE TRIGGER countries_touched_delete AFTER DELETE ON countries
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('countries', ''); END;
CREATE TRIGGER airports_touched_insert AFTER INSERT ON airports
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('airports', ''); END;
CREATE TRIGGER airports_touched_update AFTER UPDATE ON airports
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('airports', ''); END;
CREATE TRIGGER airports_touched_delete AFTER DELETE ON airports
BEGIN INSERT OR IGNORE INTO op_touched (doc_table, doc_key) VALUES ('airports', ''); END;
