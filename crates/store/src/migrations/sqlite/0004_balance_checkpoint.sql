-- The balances table holds every balance as of one journal sequence number,
-- the checkpoint. Writers append journal entries and fold the entries after
-- the checkpoint (the tail) into balances in bulk; readers go through the
-- store, which folds the tail before they read.
CREATE TABLE ledger_checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    balances_seq INTEGER NOT NULL
);
INSERT INTO ledger_checkpoint (id, balances_seq) SELECT 1, COALESCE(MAX(seq), 0) FROM journal;
