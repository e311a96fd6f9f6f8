-- Notifications (lib/notify): a durable outbox of webhook deliveries, filled from the events
-- table by a cursor, and the last known health of each tenant.

-- How far the event pump has read the events table (one row: name 'events').
CREATE TABLE notify_cursor (
    name      TEXT PRIMARY KEY,
    event_id  INTEGER NOT NULL
) STRICT;
-- A database upgraded to this schema starts at its present: old incidents notify nobody.
INSERT INTO notify_cursor (name, event_id) SELECT 'events', coalesce(max(id), 0) FROM events;

-- One row per (subscriber, notification): sent until a 2xx answer (at least once), with backoff.
CREATE TABLE notify_outbox (
    id               INTEGER PRIMARY KEY,
    subscriber       TEXT NOT NULL,
    source           TEXT NOT NULL,          -- what caused it: "event:<id>", "health:<tenant>:<n>"
    kind             TEXT NOT NULL,          -- accepted | contained | attention_raised | ...
    incident_id      TEXT,
    tenant           TEXT,
    payload_json     TEXT NOT NULL,          -- the generic payload; Teams and Slack are rendered from it
    status           TEXT NOT NULL,          -- pending | delivered | failed (gave up)
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_code        INTEGER,                -- the receiver's last HTTP status (0: no answer)
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    delivered_at     INTEGER,
    UNIQUE (subscriber, source)
) STRICT;
CREATE INDEX notify_outbox_due ON notify_outbox(next_attempt_at) WHERE status = 'pending';
CREATE INDEX notify_outbox_by_incident ON notify_outbox(incident_id, id);

-- The last preflight result per tenant: a change of state is what gets notified.
CREATE TABLE tenant_health (
    tenant      TEXT PRIMARY KEY,
    healthy     INTEGER NOT NULL,
    gaps_json   TEXT NOT NULL,
    checked_at  INTEGER NOT NULL,
    changes     INTEGER NOT NULL DEFAULT 0  -- how many times the state changed (the outbox source)
) STRICT;
