-- Dispatch plans built from the hub's state: the instance the planner saw,
-- the plan it wrote, and whether the hub accepted it. Accepting a plan loads
-- departures through the ledger; this table only records the documents.
CREATE TABLE plans (
    id INTEGER PRIMARY KEY,
    created_at_unix_ms INTEGER NOT NULL,
    planned_on TEXT NOT NULL,
    status TEXT NOT NULL,
    objective REAL NOT NULL,
    upper_bound REAL,
    instance_json TEXT NOT NULL,
    plan_json TEXT NOT NULL,
    accepted_at_unix_ms INTEGER,
    accept_batch INTEGER
);
