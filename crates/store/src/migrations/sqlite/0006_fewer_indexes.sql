-- Two indexes that cost more than they gave: every new lot paid an entry in
-- each (a large import writes one lot and two balances per manifest line).
-- Balances are read by account and lot (the primary key) or by account; no
-- query reads them by lot alone. The lots a batch created are one run of
-- ids (ids are handed out in commit order), found on the primary key.
DROP INDEX IF EXISTS balances_lot;
DROP INDEX IF EXISTS lots_created_batch;
