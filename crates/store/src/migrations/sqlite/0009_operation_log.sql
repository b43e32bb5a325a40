-- The operation log: one record per operation (stock-moving or not), who
-- did it, the journal entries it appended and the documents it wrote; the
-- records are the leaves of an RFC 6962 Merkle tree whose complete subtrees
-- are kept in merkle_nodes (level 0 = leaf hashes), so appending never
-- re-hashes the log. tree_heads keeps the signed heads the hub published.
CREATE TABLE operations (
    leaf_index INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    op_key TEXT NOT NULL,
    actor TEXT NOT NULL,
    recorded_at_unix_ms INTEGER NOT NULL,
    batch_id INTEGER,
    first_seq INTEGER NOT NULL,
    transfer_count INTEGER NOT NULL,
    chain_before BLOB NOT NULL,
    chain_after BLOB NOT NULL,
    leaf_hash BLOB NOT NULL
);
CREATE UNIQUE INDEX operations_batch ON operations(batch_id) WHERE batch_id IS NOT NULL;
CREATE TABLE operation_documents (
    doc_table TEXT NOT NULL,
    doc_key TEXT NOT NULL,
    leaf_index INTEGER NOT NULL,
    digest BLOB NOT NULL,
    PRIMARY KEY (doc_table, doc_key, leaf_index)
) WITHOUT ROWID;
CREATE INDEX operation_documents_leaf ON operation_documents(leaf_index);
CREATE TABLE merkle_nodes (
    level INTEGER NOT NULL,
    node_index INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, node_index)
) WITHOUT ROWID;
CREATE TABLE tree_heads (
    tree_size INTEGER NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    root_hash TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (tree_size, timestamp_ms)
);
CREATE TABLE hub_keys (
    public_key TEXT PRIMARY KEY,
    created_at_unix_ms INTEGER NOT NULL
);
CREATE TRIGGER operations_append_only_update BEFORE UPDATE ON operations
BEGIN SELECT RAISE(ABORT, 'the operation log is append-only'); END;
CREATE TRIGGER operations_append_only_delete BEFORE DELETE ON operations
BEGIN SELECT RAISE(ABORT, 'the operation log is append-only'); END;
CREATE TRIGGER operation_documents_append_only_update BEFORE UPDATE ON operation_documents
BEGIN SELECT RAISE(ABORT, 'the operation log is append-only'); END;
CREATE TRIGGER operation_documents_append_only_delete BEFORE DELETE ON operation_documents
BEGIN SELECT RAISE(ABORT, 'the operation log is append-only'); END;
CREATE TRIGGER merkle_nodes_append_only_update BEFORE UPDATE ON merkle_nodes
BEGIN SELECT RAISE(ABORT, 'the operation log is append-only'); END;
CREATE TRIGGER merkle_nodes_append_only_delete BEFORE DELETE ON merkle_nodes
BEGIN SELECT RAISE(ABORT, 'the operation log is append-only'); END;
CREATE TRIGGER tree_heads_append_only_update BEFORE UPDATE ON tree_heads
BEGIN SELECT RAISE(ABORT, 'published tree heads are kept as published'); END;
CREATE TRIGGER tree_heads_append_only_delete BEFORE DELETE ON tree_heads
BEGIN SELECT RAISE(ABORT, 'published tree heads are kept as published'); END;
