-- Portable SQL: the same migration runs on SQLite and PostgreSQL.
CREATE TABLE candidates (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    email        TEXT,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    submitted_at TEXT
);

-- Append-only: every saved version of an answer is kept.
CREATE TABLE answers (
    candidate_id TEXT    NOT NULL REFERENCES candidates (id),
    slot         TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    body         TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    PRIMARY KEY (candidate_id, slot, version)
);
