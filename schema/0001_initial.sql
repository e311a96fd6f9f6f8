-- containd schema, version 1. Timestamps are Unix milliseconds (UTC). JSON columns hold
-- canonical JSON. Secrets never appear here in plain text: see the secrets table.

CREATE TABLE incidents (
    id               TEXT PRIMARY KEY,
    tenant           TEXT NOT NULL,
    external_ref     TEXT,
    idempotency_key  TEXT,
    request_sha256   TEXT NOT NULL,            -- of the canonical request, for idempotent replays
    request_json     TEXT NOT NULL,            -- the validated submission
    plan_json        TEXT NOT NULL,            -- accounts, scope, warnings, permissions
    status           TEXT NOT NULL,            -- running | waiting_approval | verifying | contained | needs_attention | cancelled
    phase            TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    contained_at     INTEGER,                  -- the emergency policy was read back enabled
    attention_json   TEXT NOT NULL DEFAULT '[]',
    version          INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE UNIQUE INDEX incidents_by_idempotency_key ON incidents(tenant, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX incidents_by_external_ref ON incidents(tenant, external_ref) WHERE external_ref IS NOT NULL;
CREATE INDEX incidents_by_status ON incidents(status, created_at);
CREATE INDEX incidents_by_created ON incidents(created_at, id);

CREATE TABLE accounts (
    incident_id           TEXT NOT NULL REFERENCES incidents(id),
    upn                   TEXT NOT NULL,
    object_id             TEXT,
    tier                  TEXT NOT NULL,
    tier_reason           TEXT NOT NULL,
    synced                INTEGER NOT NULL DEFAULT 0,
    revoked_at            INTEGER,
    password_reset_at     INTEGER,
    tap_issued_at         INTEGER,
    methods_removed_json  TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (incident_id, upn)
) STRICT;

CREATE TABLE steps (
    incident_id        TEXT NOT NULL REFERENCES incidents(id),
    seq                INTEGER NOT NULL,
    phase              TEXT NOT NULL,
    stage              INTEGER NOT NULL,
    kind               TEXT NOT NULL,
    target             TEXT NOT NULL,
    depends_on         INTEGER,
    requires_approval  INTEGER NOT NULL DEFAULT 0,
    approved_by        TEXT,
    params_json        TEXT NOT NULL,
    status             TEXT NOT NULL,          -- pending | running | succeeded | failed | skipped | waiting_approval
    attempt            INTEGER NOT NULL DEFAULT 0,
    not_before         INTEGER,                -- earliest next attempt (backoff, Retry-After, timers)
    deadline           INTEGER,                -- the step gives up after this (set at its first attempt)
    intent_json        TEXT,                   -- what the step will send, committed before it is sent
    result_json        TEXT,
    error              TEXT,
    started_at         INTEGER,
    finished_at        INTEGER,
    PRIMARY KEY (incident_id, seq)
) STRICT;
CREATE INDEX steps_open ON steps(incident_id) WHERE status IN ('pending', 'running', 'waiting_approval');

-- The audit trail: append-only and hash-chained per incident (each row's hash covers the
-- previous row's hash), so a changed or deleted entry shows.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    incident_id  TEXT NOT NULL REFERENCES incidents(id),
    at           INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    step_seq     INTEGER,
    data_json    TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
) STRICT;
CREATE INDEX events_by_incident ON events(incident_id, id);
CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

-- Read-only snapshots taken before later steps destroy what they show.
CREATE TABLE evidence (
    id            INTEGER PRIMARY KEY,
    incident_id   TEXT NOT NULL REFERENCES incidents(id),
    step_seq      INTEGER,
    kind          TEXT NOT NULL,
    target        TEXT NOT NULL,
    captured_at   INTEGER NOT NULL,
    content_json  TEXT NOT NULL,
    sha256        TEXT NOT NULL
) STRICT;
CREATE INDEX evidence_by_incident ON evidence(incident_id, id);

-- Temporary passwords and TAPs, AES-256-GCM encrypted (key outside the database). The
-- ciphertext is wiped when revealed; the row stays as the audit of the reveal.
CREATE TABLE secrets (
    incident_id  TEXT NOT NULL REFERENCES incidents(id),
    name         TEXT NOT NULL,               -- "password:<upn>", "tap:<upn>"
    nonce        BLOB,
    ciphertext   BLOB,
    tag          BLOB,
    created_at   INTEGER NOT NULL,
    revealed_at  INTEGER,
    revealed_by  TEXT,
    PRIMARY KEY (incident_id, name)
) STRICT;
