-- Master data: items, organisations and destinations as a hub keeps them.
-- Every new column may be NULL, so the documents recorded before this version
-- keep their digests (a NULL column is left out of a row's digest):
--   items: names in French, Arabic and Russian (NULL: the English name),
--     units per pack (NULL: 1), GTINs (space-separated GTIN-8/12/13/14, NULL:
--     none), the dangerous-goods class of its UN number, and its value per
--     unit in US dollars (NULL: not known);
--   organisations: names in French, Arabic and Russian;
--   destinations: names in French, Arabic and Russian, and whether it has an
--     airport (NULL: it has one when it has an IATA or ICAO code);
--   loading_lines: the item's kg and m³ per unit when the line was loaded, so
--     an edit of the item does not change a departure's history (NULL for
--     lines loaded before this version: the item's current figures).
ALTER TABLE items ADD COLUMN name_fr TEXT;
ALTER TABLE items ADD COLUMN name_ar TEXT;
ALTER TABLE items ADD COLUMN name_ru TEXT;
ALTER TABLE items ADD COLUMN pack_size BIGINT;
ALTER TABLE items ADD COLUMN gtins TEXT;
ALTER TABLE items ADD COLUMN un_class TEXT;
ALTER TABLE items ADD COLUMN value_usd_per_unit DOUBLE PRECISION;
ALTER TABLE organisations ADD COLUMN name_fr TEXT;
ALTER TABLE organisations ADD COLUMN name_ar TEXT;
ALTER TABLE organisations ADD COLUMN name_ru TEXT;
ALTER TABLE destinations ADD COLUMN name_fr TEXT;
ALTER TABLE destinations ADD COLUMN name_ar TEXT;
ALTER TABLE destinations ADD COLUMN name_ru TEXT;
ALTER TABLE destinations ADD COLUMN airport BIGINT;
ALTER TABLE loading_lines ADD COLUMN unit_weight_kg DOUBLE PRECISION;
ALTER TABLE loading_lines ADD COLUMN unit_volume_m3 DOUBLE PRECISION;
