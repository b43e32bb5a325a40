-- A manager may mark a request must-ship: the planner then meets it in
-- full or says why the hub cannot. 1 when marked, NULL otherwise (so the
-- digests of requests never marked stay as they were).
ALTER TABLE requests ADD COLUMN must_ship BIGINT;
