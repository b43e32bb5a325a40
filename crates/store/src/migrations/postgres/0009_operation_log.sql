-- The operation log: one record per operation (stock-moving or not), who
-- did it, the journal entries it appended and the documents it wrote; the
-- records are the leaves of an RFC 6962 Merkle tree whose complete subtrees
-- are kept in merkle_nodes (level 0 = leaf hashes), so appending never
-- re-hashes the log. tree_heads keeps the signed heads the hub published.
CREATE TABLE operations (
    leaf_index BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    op_key TEXT NOT NULL,
    actor TEXT NOT NULL,
    recorded_at_unix_ms BIGINT NOT NULL,
    batch_id BIGINT,
    first_seq BIGINT NOT NULL,
    transfer_count BIGINT NOT NULL,
    chain_before BYTEA NOT NULL,
    chain_after BYTEA NOT NULL,
    leaf_hash BYTEA NOT NULL
);
CREATE UNIQUE INDEX operations_batch ON operations(batch_id) WHERE batch_id IS NOT NULL;
CREATE TABLE operation_documents (
    doc_table TEXT NOT NULL,
    doc_key TEXT NOT NULL,
    leaf_index BIGINT NOT NULL,
    digest BYTEA NOT NULL,
    PRIMARY KEY (doc_table, doc_key, leaf_index)
);
CREATE INDEX operation_documents_leaf ON operation_documents(leaf_index);
CREATE TABLE merkle_nodes (
    level BIGINT NOT NULL,
    node_index BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (level, node_index)
);
CREATE TABLE tree_heads (
    tree_size BIGINT NOT NULL,
    timestamp_ms BIGINT NOT NULL,
    root_hash TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (tree_size, timestamp_ms)
);
CREATE TABLE hub_keys (
    public_key TEXT PRIMARY KEY,
    created_at_unix_ms BIGINT NOT NULL
);
CREATE TRIGGER operations_append_only BEFORE UPDATE OR DELETE ON operations
    FOR EACH ROW EXECUTE FUNCTION reliefhub_append_only();
CREATE TRIGGER operation_documents_append_only BEFORE UPDATE OR DELETE ON operation_documents
    FOR EACH ROW EXECUTE FUNCTION reliefhub_append_only();
CREATE TRIGGER merkle_nodes_append_only BEFORE UPDATE OR DELETE ON merkle_nodes
    FOR EACH ROW EXECUTE FUNCTION reliefhub_append_only();
CREATE TRIGGER tree_heads_append_only BEFORE UPDATE OR DELETE ON tree_heads
    FOR EACH ROW EXECUTE FUNCTION reliefhub_append_only();
