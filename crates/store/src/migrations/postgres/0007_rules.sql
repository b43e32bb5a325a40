-- Rules: a destination says whether it has a seaport (ports and airports of
-- the hub's nodes serve sea and air by their kind); an item says whether its
-- lots need an expiry date.
ALTER TABLE destinations ADD COLUMN seaport BIGINT NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN needs_expiry BIGINT NOT NULL DEFAULT 0;
-- Databases made before this version: the built-in seaports, and perishable
-- items (those with a minimum shelf life) need an expiry.
UPDATE destinations SET seaport = 1 WHERE locode IN ('SDPZU', 'DJJIB', 'KEMBA', 'LYBEN', 'SOMGQ');
UPDATE items SET needs_expiry = 1 WHERE min_shelf_life_days > 0;
