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
);
-- TG_ARGV[0]: the grouping column ('' for a table that is one document).
CREATE FUNCTION reliefhub_touched() RETURNS trigger AS $$
BEGIN
    IF TG_ARGV[0] = '' THEN
        INSERT INTO op_touched (doc_table, doc_key) VALUES (TG_TABLE_NAME, '') ON CONFLICT DO NOTHING;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO op_touched (doc_table, doc_key)
            VALUES (TG_TABLE_NAME, to_jsonb(NEW) ->> TG_ARGV[0]) ON CONFLICT DO NOTHING;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO op_touched (doc_table, doc_key)
            VALUES (TG_TABLE_NAME, to_jsonb(OLD) ->> TG_ARGV[0]) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER op_requests_touched AFTER INSERT OR UPDATE OR DELETE ON op_requests
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('idem_key');
CREATE TRIGGER pledges_touched AFTER INSERT OR UPDATE OR DELETE ON pledges
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('code');
CREATE TRIGGER pledge_lines_touched AFTER INSERT OR UPDATE OR DELETE ON pledge_lines
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('pledge_code');
CREATE TRIGGER inbound_legs_touched AFTER INSERT OR UPDATE OR DELETE ON inbound_legs
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('code');
CREATE TRIGGER manifests_touched AFTER INSERT OR UPDATE OR DELETE ON manifests
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('leg_code');
CREATE TRIGGER manifest_lines_touched AFTER INSERT OR UPDATE OR DELETE ON manifest_lines
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('leg_code');
CREATE TRIGGER receipts_touched AFTER INSERT OR UPDATE OR DELETE ON receipts
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('id');
CREATE TRIGGER receipt_lines_touched AFTER INSERT OR UPDATE OR DELETE ON receipt_lines
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('leg_code');
CREATE TRIGGER hub_transfers_touched AFTER INSERT OR UPDATE OR DELETE ON hub_transfers
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('code');
CREATE TRIGGER hub_transfer_lines_touched AFTER INSERT OR UPDATE OR DELETE ON hub_transfer_lines
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('transfer_code');
CREATE TRIGGER requests_touched AFTER INSERT OR UPDATE OR DELETE ON requests
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('code');
CREATE TRIGGER departures_touched AFTER INSERT OR UPDATE OR DELETE ON departures
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('code');
CREATE TRIGGER loading_lines_touched AFTER INSERT OR UPDATE OR DELETE ON loading_lines
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('departure_code');
CREATE TRIGGER deliveries_touched AFTER INSERT OR UPDATE OR DELETE ON deliveries
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('departure_code');
CREATE TRIGGER delivery_lines_touched AFTER INSERT OR UPDATE OR DELETE ON delivery_lines
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('departure_code');
CREATE TRIGGER stock_events_touched AFTER INSERT OR UPDATE OR DELETE ON stock_events
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('batch_id');
CREATE TRIGGER corrections_touched AFTER INSERT OR UPDATE OR DELETE ON corrections
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('batch_id');
CREATE TRIGGER plans_touched AFTER INSERT OR UPDATE OR DELETE ON plans
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('id');
CREATE TRIGGER items_touched AFTER INSERT OR UPDATE OR DELETE ON items
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('');
CREATE TRIGGER organisations_touched AFTER INSERT OR UPDATE OR DELETE ON organisations
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('');
CREATE TRIGGER nodes_touched AFTER INSERT OR UPDATE OR DELETE ON nodes
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('');
CREATE TRIGGER destinations_touched AFTER INSERT OR UPDATE OR DELETE ON destinations
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('');
CREATE TRIGGER countries_touched AFTER INSERT OR UPDATE OR DELETE ON countries
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('');
CREATE TRIGGER airports_touched AFTER INSERT OR UPDATE OR DELETE ON airports
    FOR EACH ROW EXECUTE FUNCTION reliefhub_touched('');
