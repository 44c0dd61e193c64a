-- Verification (issue 17): workers re-run the Docker topics on each stored submission, in a
-- sandbox, and report what they found. Tokens are stored hashed, like the others.
CREATE TABLE workers (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

-- One row per submission once a worker has claimed it; a submission without a row is pending.
-- `running` rows hold a lease: a worker that stops renewing it loses the job when
-- `lease_expires_at` passes, and the next claim takes it again (`attempts` counts the claims).
-- Only the holder of the current `lease` can renew or finish it.
CREATE TABLE verifications (
    submission_id    TEXT   PRIMARY KEY REFERENCES submissions (id),
    -- running | verified | error
    state            TEXT   NOT NULL,
    lease            TEXT   NOT NULL,
    worker_id        TEXT   NOT NULL REFERENCES workers (id),
    attempts         BIGINT NOT NULL,
    claimed_at       TEXT   NOT NULL,
    lease_expires_at TEXT   NOT NULL,
    finished_at      TEXT,
    -- The container runtime the worker's engine used (e.g. runsc), and whether it was a sandbox.
    runtime          TEXT,
    sandboxed        BIGINT,
    overall          TEXT,
    -- Checks the candidate reported as passing that the worker did not verify as passing.
    disagreements    BIGINT,
    -- The verified report (sre-check's JSON) or why there is none.
    report           TEXT,
    error            TEXT
);
CREATE INDEX verifications_by_state ON verifications (state, lease_expires_at);
