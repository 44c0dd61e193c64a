-- The candidate's work (issue 16): each `sre-check upload` stores its archive, as sent, with the
-- listing it carries and a reference to the report it came with (stored in the same transaction).
-- Append-only, idempotent by the archive's digest per candidate. The archive's bytes live here, in
-- the database, so a killed server leaves the row whole or absent, a backup of the database takes
-- the work along, and the storage quota counts it. BYTEA: PostgreSQL's byte string; SQLite takes
-- any type name and stores the bound bytes as a BLOB.
CREATE TABLE submissions (
    -- Random id, `s-<16 hex>` (like candidates' ids); later tables (re-runs) reference it.
    id                TEXT   PRIMARY KEY,
    candidate_id      TEXT   NOT NULL REFERENCES candidates (id),
    -- `sha256:<hex>` of the archive's bytes.
    digest            TEXT   NOT NULL,
    received_at       TEXT   NOT NULL,
    -- Size of the archive as sent.
    bytes             BIGINT NOT NULL,
    file_count        BIGINT NOT NULL,
    report_digest     TEXT   NOT NULL,
    -- The challenge edition the listing names.
    challenge_version TEXT   NOT NULL,
    challenge_digest  TEXT   NOT NULL,
    -- The archive's `submission.json` (an `sre-check.submission/1` listing).
    listing           TEXT   NOT NULL,
    archive           BYTEA  NOT NULL,
    UNIQUE (candidate_id, digest),
    FOREIGN KEY (candidate_id, report_digest) REFERENCES reports (candidate_id, digest)
);
CREATE INDEX submissions_by_arrival ON submissions (candidate_id, received_at);
