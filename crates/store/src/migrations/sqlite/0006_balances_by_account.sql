-- Balances are looked up by account and lot (the primary key) or by
-- account alone; no query reads them by lot alone, so the index on lot_id
-- only cost two index entries per new lot (a large import writes two
-- balances per manifest line).
DROP INDEX IF EXISTS balances_lot;
