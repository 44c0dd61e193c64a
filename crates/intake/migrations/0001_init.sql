-- Portable SQL: the same migration runs on SQLite and PostgreSQL. Times are RFC 3339 UTC strings
-- with milliseconds (they sort as text); numbers are BIGINT so both backends decode them as i64.
-- Tokens are never stored: only the hex SHA-256 of each.

CREATE TABLE reviewers (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE candidates (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    email            TEXT,
    token_hash       TEXT NOT NULL UNIQUE,
    -- The reviewer who sent the invite; NULL when made with `sre-intake invite create`.
    invited_by       TEXT REFERENCES reviewers (id),
    created_at       TEXT NOT NULL,
    expires_at       TEXT,
    -- Set once by POST /submit; answers and reports are read-only afterwards.
    submitted_at     TEXT
);

-- Append-only: every saved version of an answer is kept. Versions count from 1 per slot.
CREATE TABLE answers (
    candidate_id TEXT   NOT NULL REFERENCES candidates (id),
    slot         TEXT   NOT NULL,
    version      BIGINT NOT NULL,
    body         TEXT   NOT NULL,
    bytes        BIGINT NOT NULL,
    created_at   TEXT   NOT NULL,
    PRIMARY KEY (candidate_id, slot, version)
);

-- sre-check reports, idempotent by the digest of their canonical JSON.
CREATE TABLE reports (
    candidate_id TEXT   NOT NULL REFERENCES candidates (id),
    digest       TEXT   NOT NULL,
    received_at  TEXT   NOT NULL,
    overall      TEXT   NOT NULL,
    passed       BIGINT NOT NULL,
    failed       BIGINT NOT NULL,
    errors       BIGINT NOT NULL,
    skipped      BIGINT NOT NULL,
    body         TEXT   NOT NULL,
    PRIMARY KEY (candidate_id, digest)
);
CREATE INDEX reports_by_arrival ON reports (candidate_id, received_at);

-- One score per reviewer, candidate and evaluation criterion (topic id + criterion name from the
-- manifest); a reviewer's new score replaces their old one.
CREATE TABLE scores (
    candidate_id TEXT   NOT NULL REFERENCES candidates (id),
    reviewer_id  TEXT   NOT NULL REFERENCES reviewers (id),
    topic        TEXT   NOT NULL,
    criterion    TEXT   NOT NULL,
    score        BIGINT NOT NULL CHECK (score BETWEEN 1 AND 4),
    note         TEXT   NOT NULL,
    updated_at   TEXT   NOT NULL,
    PRIMARY KEY (candidate_id, reviewer_id, topic, criterion)
);
