-- Documents in the chain: every write to a document table (and to the
-- master data) notes the document it touched (the table and the value of its
-- grouping column; '' for master data tables, which are one document each)
-- in op_touched. The store records, in the same transaction, a digest of each
-- touched document as the operation left it, and empties op_touched; rows
-- left there were written outside any operation, which `verify` reports.
-- (The triggers test for the row rather than use INSERT OR IGNORE: an
-- upsert's conflict policy would override theirs.)
CREATE TABLE op_touched (
    doc_table TEXT NOT NULL,
    doc_key TEXT NOT NULL,
    PRIMARY KEY (doc_table, doc_key)
) WITHOUT ROWID;
CREATE TRIGGER op_requests_touched_insert AFTER INSERT ON op_requests
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'op_requests', CAST(NEW.idem_key AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'op_requests' AND doc_key = CAST(NEW.idem_key AS TEXT)); END;
CREATE TRIGGER op_requests_touched_update AFTER UPDATE ON op_requests
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'op_requests', CAST(NEW.idem_key AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'op_requests' AND doc_key = CAST(NEW.idem_key AS TEXT)); INSERT INTO op_touched (doc_table, doc_key) SELECT 'op_requests', CAST(OLD.idem_key AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'op_requests' AND doc_key = CAST(OLD.idem_key AS TEXT)); END;
CREATE TRIGGER op_requests_touched_delete AFTER DELETE ON op_requests
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'op_requests', CAST(OLD.idem_key AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'op_requests' AND doc_key = CAST(OLD.idem_key AS TEXT)); END;
CREATE TRIGGER pledges_touched_insert AFTER INSERT ON pledges
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'pledges', CAST(NEW.code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'pledges' AND doc_key = CAST(NEW.code AS TEXT)); END;
CREATE TRIGGER pledges_touched_update AFTER UPDATE ON pledges
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'pledges', CAST(NEW.code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'pledges' AND doc_key = CAST(NEW.code AS TEXT)); INSERT INTO op_touched (doc_table, doc_key) SELECT 'pledges', CAST(OLD.code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'pledges' AND doc_key = CAST(OLD.code AS TEXT)); END;
CREATE TRIGGER pledges_touched_delete AFTER DELETE ON pledges
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'pledges', CAST(OLD.code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'pledges' AND doc_key = CAST(OLD.code AS TEXT)); END;
CREATE TRIGGER pledge_lines_touched_insert AFTER INSERT ON pledge_lines
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'pledge_lines', CAST(NEW.pledge_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'pledge_lines' AND doc_key = CAST(NEW.pledge_code AS TEXT)); END;
CREATE TRIGGER pledge_lines_touched_update AFTER UPDATE ON pledge_lines
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'pledge_lines', CAST(NEW.pledge_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'pledge_lines' AND doc_key = CAST(NEW.pledge_code AS TEXT)); INSERT INTO op_touched (doc_table, doc_key) SELECT 'pledge_lines', CAST(OLD.pledge_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'pledge_lines' AND doc_key = CAST(OLD.pledge_code AS TEXT)); END;
CREATE TRIGGER pledge_lines_touched_delete AFTER DELETE ON pledge_lines
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'pledge_lines', CAST(OLD.pledge_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'pledge_lines' AND doc_key = CAST(OLD.pledge_code AS TEXT)); END;
CREATE TRIGGER inbound_legs_touched_insert AFTER INSERT ON inbound_legs
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'inbound_legs', CAST(NEW.code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'inbound_legs' AND doc_key = CAST(NEW.code AS TEXT)); END;
CREATE TRIGGER inbound_legs_touched_update AFTER UPDATE ON inbound_legs
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'inbound_legs', CAST(NEW.code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'inbound_legs' AND doc_key = CAST(NEW.code AS TEXT)); INSERT INTO op_touched (doc_table, doc_key) SELECT 'inbound_legs', CAST(OLD.code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'inbound_legs' AND doc_key = CAST(OLD.code AS TEXT)); END;
CREATE TRIGGER inbound_legs_touched_delete AFTER DELETE ON inbound_legs
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'inbound_legs', CAST(OLD.code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'inbound_legs' AND doc_key = CAST(OLD.code AS TEXT)); END;
CREATE TRIGGER manifests_touched_insert AFTER INSERT ON manifests
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'manifests', CAST(NEW.leg_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'manifests' AND doc_key = CAST(NEW.leg_code AS TEXT)); END;
CREATE TRIGGER manifests_touched_update AFTER UPDATE ON manifests
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'manifests', CAST(NEW.leg_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'manifests' AND doc_key = CAST(NEW.leg_code AS TEXT)); INSERT INTO op_touched (doc_table, doc_key) SELECT 'manifests', CAST(OLD.leg_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'manifests' AND doc_key = CAST(OLD.leg_code AS TEXT)); END;
CREATE TRIGGER manifests_touched_delete AFTER DELETE ON manifests
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'manifests', CAST(OLD.leg_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'manifests' AND doc_key = CAST(OLD.leg_code AS TEXT)); END;
CREATE TRIGGER manifest_lines_touched_insert AFTER INSERT ON manifest_lines
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'manifest_lines', CAST(NEW.leg_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'manifest_lines' AND doc_key = CAST(NEW.leg_code AS TEXT)); END;
CREATE TRIGGER manifest_lines_touched_update AFTER UPDATE ON manifest_lines
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'manifest_lines', CAST(NEW.leg_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'manifest_lines' AND doc_key = CAST(NEW.leg_code AS TEXT)); INSERT INTO op_touched (doc_table, doc_key) SELECT 'manifest_lines', CAST(OLD.leg_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'manifest_lines' AND doc_key = CAST(OLD.leg_code AS TEXT)); END;
CREATE TRIGGER manifest_lines_touched_delete AFTER DELETE ON manifest_lines
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'manifest_lines', CAST(OLD.leg_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'manifest_lines' AND doc_key = CAST(OLD.leg_code AS TEXT)); END;
CREATE TRIGGER receipts_touched_insert AFTER INSERT ON receipts
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'receipts', CAST(NEW.id AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'receipts' AND doc_key = CAST(NEW.id AS TEXT)); END;
CREATE TRIGGER receipts_touched_update AFTER UPDATE ON receipts
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'receipts', CAST(NEW.id AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'receipts' AND doc_key = CAST(NEW.id AS TEXT)); INSERT INTO op_touched (doc_table, doc_key) SELECT 'receipts', CAST(OLD.id AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'receipts' AND doc_key = CAST(OLD.id AS TEXT)); END;
CREATE TRIGGER receipts_touched_delete AFTER DELETE ON receipts
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'receipts', CAST(OLD.id AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'receipts' AND doc_key = CAST(OLD.id AS TEXT)); END;
CREATE TRIGGER receipt_lines_touched_insert AFTER INSERT ON receipt_lines
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'receipt_lines', CAST(NEW.leg_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'receipt_lines' AND doc_key = CAST(NEW.leg_code AS TEXT)); END;
CREATE TRIGGER receipt_lines_touched_update AFTER UPDATE ON receipt_lines
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'receipt_lines', CAST(NEW.leg_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'receipt_lines' AND doc_key = CAST(NEW.leg_code AS TEXT)); INSERT INTO op_touched (doc_table, doc_key) SELECT 'receipt_lines', CAST(OLD.leg_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'receipt_lines' AND doc_key = CAST(OLD.leg_code AS TEXT)); END;
CREATE TRIGGER receipt_lines_touched_delete AFTER DELETE ON receipt_lines
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'receipt_lines', CAST(OLD.leg_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'receipt_lines' AND doc_key = CAST(OLD.leg_code AS TEXT)); END;
CREATE TRIGGER hub_transfers_touched_insert AFTER INSERT ON hub_transfers
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'hub_transfers', CAST(NEW.code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'hub_transfers' AND doc_key = CAST(NEW.code AS TEXT)); END;
CREATE TRIGGER hub_transfers_touched_update AFTER UPDATE ON hub_transfers
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'hub_transfers', CAST(NEW.code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'hub_transfers' AND doc_key = CAST(NEW.code AS TEXT)); INSERT INTO op_touched (doc_table, doc_key) SELECT 'hub_transfers', CAST(OLD.code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'hub_transfers' AND doc_key = CAST(OLD.code AS TEXT)); END;
CREATE TRIGGER hub_transfers_touched_delete AFTER DELETE ON hub_transfers
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'hub_transfers', CAST(OLD.code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'hub_transfers' AND doc_key = CAST(OLD.code AS TEXT)); END;
CREATE TRIGGER hub_transfer_lines_touched_insert AFTER INSERT ON hub_transfer_lines
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'hub_transfer_lines', CAST(NEW.transfer_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'hub_transfer_lines' AND doc_key = CAST(NEW.transfer_code AS TEXT)); END;
CREATE TRIGGER hub_transfer_lines_touched_update AFTER UPDATE ON hub_transfer_lines
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'hub_transfer_lines', CAST(NEW.transfer_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'hub_transfer_lines' AND doc_key = CAST(NEW.transfer_code AS TEXT)); INSERT INTO op_touched (doc_table, doc_key) SELECT 'hub_transfer_lines', CAST(OLD.transfer_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'hub_transfer_lines' AND doc_key = CAST(OLD.transfer_code AS TEXT)); END;
CREATE TRIGGER hub_transfer_lines_touched_delete AFTER DELETE ON hub_transfer_lines
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'hub_transfer_lines', CAST(OLD.transfer_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'hub_transfer_lines' AND doc_key = CAST(OLD.transfer_code AS TEXT)); END;
CREATE TRIGGER requests_touched_insert AFTER INSERT ON requests
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'requests', CAST(NEW.code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'requests' AND doc_key = CAST(NEW.code AS TEXT)); END;
CREATE TRIGGER requests_touched_update AFTER UPDATE ON requests
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'requests', CAST(NEW.code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'requests' AND doc_key = CAST(NEW.code AS TEXT)); INSERT INTO op_touched (doc_table, doc_key) SELECT 'requests', CAST(OLD.code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'requests' AND doc_key = CAST(OLD.code AS TEXT)); END;
CREATE TRIGGER requests_touched_delete AFTER DELETE ON requests
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'requests', CAST(OLD.code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'requests' AND doc_key = CAST(OLD.code AS TEXT)); END;
CREATE TRIGGER departures_touched_insert AFTER INSERT ON departures
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'departures', CAST(NEW.code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'departures' AND doc_key = CAST(NEW.code AS TEXT)); END;
CREATE TRIGGER departures_touched_update AFTER UPDATE ON departures
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'departures', CAST(NEW.code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'departures' AND doc_key = CAST(NEW.code AS TEXT)); INSERT INTO op_touched (doc_table, doc_key) SELECT 'departures', CAST(OLD.code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'departures' AND doc_key = CAST(OLD.code AS TEXT)); END;
CREATE TRIGGER departures_touched_delete AFTER DELETE ON departures
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'departures', CAST(OLD.code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'departures' AND doc_key = CAST(OLD.code AS TEXT)); END;
CREATE TRIGGER loading_lines_touched_insert AFTER INSERT ON loading_lines
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'loading_lines', CAST(NEW.departure_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'loading_lines' AND doc_key = CAST(NEW.departure_code AS TEXT)); END;
CREATE TRIGGER loading_lines_touched_update AFTER UPDATE ON loading_lines
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'loading_lines', CAST(NEW.departure_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'loading_lines' AND doc_key = CAST(NEW.departure_code AS TEXT)); INSERT INTO op_touched (doc_table, doc_key) SELECT 'loading_lines', CAST(OLD.departure_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'loading_lines' AND doc_key = CAST(OLD.departure_code AS TEXT)); END;
CREATE TRIGGER loading_lines_touched_delete AFTER DELETE ON loading_lines
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'loading_lines', CAST(OLD.departure_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'loading_lines' AND doc_key = CAST(OLD.departure_code AS TEXT)); END;
CREATE TRIGGER deliveries_touched_insert AFTER INSERT ON deliveries
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'deliveries', CAST(NEW.departure_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'deliveries' AND doc_key = CAST(NEW.departure_code AS TEXT)); END;
CREATE TRIGGER deliveries_touched_update AFTER UPDATE ON deliveries
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'deliveries', CAST(NEW.departure_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'deliveries' AND doc_key = CAST(NEW.departure_code AS TEXT)); INSERT INTO op_touched (doc_table, doc_key) SELECT 'deliveries', CAST(OLD.departure_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'deliveries' AND doc_key = CAST(OLD.departure_code AS TEXT)); END;
CREATE TRIGGER deliveries_touched_delete AFTER DELETE ON deliveries
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'deliveries', CAST(OLD.departure_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'deliveries' AND doc_key = CAST(OLD.departure_code AS TEXT)); END;
CREATE TRIGGER delivery_lines_touched_insert AFTER INSERT ON delivery_lines
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'delivery_lines', CAST(NEW.departure_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'delivery_lines' AND doc_key = CAST(NEW.departure_code AS TEXT)); END;
CREATE TRIGGER delivery_lines_touched_update AFTER UPDATE ON delivery_lines
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'delivery_lines', CAST(NEW.departure_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'delivery_lines' AND doc_key = CAST(NEW.departure_code AS TEXT)); INSERT INTO op_touched (doc_table, doc_key) SELECT 'delivery_lines', CAST(OLD.departure_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'delivery_lines' AND doc_key = CAST(OLD.departure_code AS TEXT)); END;
CREATE TRIGGER delivery_lines_touched_delete AFTER DELETE ON delivery_lines
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'delivery_lines', CAST(OLD.departure_code AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'delivery_lines' AND doc_key = CAST(OLD.departure_code AS TEXT)); END;
CREATE TRIGGER stock_events_touched_insert AFTER INSERT ON stock_events
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'stock_events', CAST(NEW.batch_id AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'stock_events' AND doc_key = CAST(NEW.batch_id AS TEXT)); END;
CREATE TRIGGER stock_events_touched_update AFTER UPDATE ON stock_events
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'stock_events', CAST(NEW.batch_id AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'stock_events' AND doc_key = CAST(NEW.batch_id AS TEXT)); INSERT INTO op_touched (doc_table, doc_key) SELECT 'stock_events', CAST(OLD.batch_id AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'stock_events' AND doc_key = CAST(OLD.batch_id AS TEXT)); END;
CREATE TRIGGER stock_events_touched_delete AFTER DELETE ON stock_events
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'stock_events', CAST(OLD.batch_id AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'stock_events' AND doc_key = CAST(OLD.batch_id AS TEXT)); END;
CREATE TRIGGER corrections_touched_insert AFTER INSERT ON corrections
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'corrections', CAST(NEW.batch_id AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'corrections' AND doc_key = CAST(NEW.batch_id AS TEXT)); END;
CREATE TRIGGER corrections_touched_update AFTER UPDATE ON corrections
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'corrections', CAST(NEW.batch_id AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'corrections' AND doc_key = CAST(NEW.batch_id AS TEXT)); INSERT INTO op_touched (doc_table, doc_key) SELECT 'corrections', CAST(OLD.batch_id AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'corrections' AND doc_key = CAST(OLD.batch_id AS TEXT)); END;
CREATE TRIGGER corrections_touched_delete AFTER DELETE ON corrections
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'corrections', CAST(OLD.batch_id AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'corrections' AND doc_key = CAST(OLD.batch_id AS TEXT)); END;
CREATE TRIGGER plans_touched_insert AFTER INSERT ON plans
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'plans', CAST(NEW.id AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'plans' AND doc_key = CAST(NEW.id AS TEXT)); END;
CREATE TRIGGER plans_touched_update AFTER UPDATE ON plans
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'plans', CAST(NEW.id AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'plans' AND doc_key = CAST(NEW.id AS TEXT)); INSERT INTO op_touched (doc_table, doc_key) SELECT 'plans', CAST(OLD.id AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'plans' AND doc_key = CAST(OLD.id AS TEXT)); END;
CREATE TRIGGER plans_touched_delete AFTER DELETE ON plans
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'plans', CAST(OLD.id AS TEXT) WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'plans' AND doc_key = CAST(OLD.id AS TEXT)); END;
CREATE TRIGGER items_touched_insert AFTER INSERT ON items
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'items', '' WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'items' AND doc_key = ''); END;
CREATE TRIGGER items_touched_update AFTER UPDATE ON items
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'items', '' WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'items' AND doc_key = ''); END;
CREATE TRIGGER items_touched_delete AFTER DELETE ON items
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'items', '' WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'items' AND doc_key = ''); END;
CREATE TRIGGER organisations_touched_insert AFTER INSERT ON organisations
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'organisations', '' WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'organisations' AND doc_key = ''); END;
CREATE TRIGGER organisations_touched_update AFTER UPDATE ON organisations
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'organisations', '' WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'organisations' AND doc_key = ''); END;
CREATE TRIGGER organisations_touched_delete AFTER DELETE ON organisations
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'organisations', '' WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'organisations' AND doc_key = ''); END;
CREATE TRIGGER nodes_touched_insert AFTER INSERT ON nodes
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'nodes', '' WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'nodes' AND doc_key = ''); END;
CREATE TRIGGER nodes_touched_update AFTER UPDATE ON nodes
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'nodes', '' WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'nodes' AND doc_key = ''); END;
CREATE TRIGGER nodes_touched_delete AFTER DELETE ON nodes
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'nodes', '' WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'nodes' AND doc_key = ''); END;
CREATE TRIGGER destinations_touched_insert AFTER INSERT ON destinations
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'destinations', '' WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'destinations' AND doc_key = ''); END;
CREATE TRIGGER destinations_touched_update AFTER UPDATE ON destinations
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'destinations', '' WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'destinations' AND doc_key = ''); END;
CREATE TRIGGER destinations_touched_delete AFTER DELETE ON destinations
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'destinations', '' WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'destinations' AND doc_key = ''); END;
CREATE TRIGGER countries_touched_insert AFTER INSERT ON countries
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'countries', '' WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'countries' AND doc_key = ''); END;
CREATE TRIGGER countries_touched_update AFTER UPDATE ON countries
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'countries', '' WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'countries' AND doc_key = ''); END;
CREATE TRIGGER countries_touched_delete AFTER DELETE ON countries
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'countries', '' WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'countries' AND doc_key = ''); END;
CREATE TRIGGER airports_touched_insert AFTER INSERT ON airports
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'airports', '' WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'airports' AND doc_key = ''); END;
CREATE TRIGGER airports_touched_update AFTER UPDATE ON airports
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'airports', '' WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'airports' AND doc_key = ''); END;
CREATE TRIGGER airports_touched_delete AFTER DELETE ON airports
BEGIN INSERT INTO op_touched (doc_table, doc_key) SELECT 'airports', '' WHERE NOT EXISTS (SELECT 1 FROM op_touched WHERE doc_table = 'airports' AND doc_key = ''); END;
