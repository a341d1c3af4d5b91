-- Crisis-word alerts (issue 4 F5, issue 5 live board): a tenant's own NG words, the alerts raised
-- by contacts that contain crisis words, and the webhooks they are delivered to through an
-- outbox. An alert is written in the same transaction as its contact (one per contact, never
-- doubled), and its outbox rows in the same transaction as the alert.

-- A tenant's own crisis words, matched together with the built-in list. `phrase_key` is the text
-- engine's matching key (width, kana script, case, spacing and symbols folded), so two spellings
-- of one word cannot both be stored.
CREATE TABLE crisis_words (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    phrase TEXT NOT NULL,
    phrase_key TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    note TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, phrase_key)
);

-- One alert per contact with crisis words: the most severe word's severity and every match with
-- its byte span in the contact's text, as JSON ([{"phrase","severity","start","end"}]).
-- `created_at` is when the alert was stored (the database's clock: imports and the demo record
-- contacts without a request time).
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    contact_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    matches TEXT NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)),
    acknowledged_by INTEGER,
    acknowledged_at INTEGER,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, contact_id),
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, acknowledged_by) REFERENCES users (tenant_id, id)
);
CREATE INDEX alerts_by_time ON alerts (tenant_id, created_at);

-- The supervisor board counts today's contacts per operator, channel and reason: without this
-- index that is a scan of the tenant's whole history on every refresh.
CREATE INDEX contacts_started ON contacts (tenant_id, started_at);

-- Where a tenant's alerts are posted, signed with HMAC-SHA256 under `secret`.
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, url)
);

-- The outbox: one row per (alert, webhook), written with the alert. A worker claims due rows
-- with a lease, posts them, and marks them delivered or schedules a retry with backoff;
-- `next_attempt_at` NULL means given up.
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    webhook_id INTEGER NOT NULL,
    alert_id INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER DEFAULT 0,
    leased_until INTEGER NOT NULL DEFAULT 0,
    delivered_at INTEGER,
    last_error TEXT,
    UNIQUE (webhook_id, alert_id),
    FOREIGN KEY (tenant_id, webhook_id) REFERENCES webhooks (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, alert_id) REFERENCES alerts (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE delivered_at IS NULL;
