-- Outbound email with tracking (issue 6, F6): the outbox of messages to customers. A sender
-- claims due rows with a lease (like webhook_deliveries), marks a row sent only after the SMTP
-- server accepted it, and records a `sent` contact in that same transaction.
--
-- `token` is the message's tracking token (128 random bits, hex) kept as is, not hashed: the
-- sender needs it to render the tracked links of every (re)send, and the mail it is in is the
-- capability anyway; a reader of this table could change consent directly. It is unique, so
-- the public tracking routes find the message (and its tenant) through one index probe.
-- `links` are the message's distinct links at enqueue (JSON array): a click redirects only to
-- one of them, never to a URL taken from the request. `message_id` is fixed at enqueue, so a
-- resend after a crash between the server's OK and the commit carries the same Message-ID.
-- `next_attempt_at` is NULL once the message is finished (sent, failed or bounced).
CREATE TABLE email_messages (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    customer_id INTEGER NOT NULL,
    campaign_id INTEGER,
    campaign_step INTEGER,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT,
    links TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE,
    message_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'bounced')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    leased_until INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    opened_at INTEGER,
    last_opened_at INTEGER,
    clicked_at INTEGER,
    unsubscribed_at INTEGER,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX email_messages_due ON email_messages (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX email_messages_customer ON email_messages (tenant_id, customer_id, id);
CREATE INDEX email_messages_campaign ON email_messages (tenant_id, campaign_id, id) WHERE campaign_id IS NOT NULL;

-- Behavioural data (issue 6, T1) imported from outside tools: survey answers (`key` the
-- question, `value` the answer, attributes {"survey"}) and web visits (`url`, attributes
-- {"referrer"}). Email opens and clicks from outside tools are contacts instead (one history
-- with the tracked ones). `dedupe_key` (SHA-256 of the row's content) makes re-importing a file
-- a no-op. Indexes serve segment conditions: "answered Q with V" (kind, key, value), "visited a
-- URL containing X in the last N days" (kind, occurred_at: the time range narrows, the URL is
-- then matched), and a customer's recent events for the karte.
CREATE TABLE behavior_events (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    customer_id INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('survey', 'web')),
    occurred_at INTEGER NOT NULL,
    key TEXT NOT NULL DEFAULT '',
    value TEXT NOT NULL DEFAULT '',
    url TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    dedupe_key TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, dedupe_key),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX behavior_events_customer ON behavior_events (tenant_id, customer_id, occurred_at);
CREATE INDEX behavior_events_time ON behavior_events (tenant_id, kind, occurred_at);
CREATE INDEX behavior_events_answer ON behavior_events (tenant_id, kind, key, value);
