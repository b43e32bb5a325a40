-- Dispatch plans built from the hub's state: the instance the planner saw,
-- the plan it wrote, and whether the hub accepted it. Accepting a plan loads
-- departures through the ledger; this table only records the documents.
CREATE TABLE plans (
    id BIGSERIAL PRIMARY KEY,
    created_at_unix_ms BIGINT NOT NULL,
    planned_on TEXT NOT NULL,
    status TEXT NOT NULL,
    objective DOUBLE PRECISION NOT NULL,
    upper_bound DOUBLE PRECISION,
    instance_json TEXT NOT NULL,
    plan_json TEXT NOT NULL,
    accepted_at_unix_ms BIGINT,
    accept_batch BIGINT
);
