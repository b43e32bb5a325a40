-- A plan built to keep an accepted plan's loads names that plan and lists
-- what became of each of its loads (kept, moved, dropped, with reasons).
ALTER TABLE plans ADD COLUMN based_on BIGINT;
ALTER TABLE plans ADD COLUMN changes_json TEXT;
