-- Outbound care campaigns (issue 6: T3, T4, F13, B1). A campaign keeps a snapshot of its
-- members with their group (the holdout is drawn once, from the stored seed), each treatment
-- member's place in the steps, and the call list's bookkeeping (attempts, spacing, lease).
CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    purpose TEXT NOT NULL,
    holdout_fraction REAL NOT NULL,
    -- the shuffle seed, as the bits of a u64
    seed INTEGER NOT NULL,
    -- the steps as JSON (kimochi_domain::campaign::CampaignStep)
    steps TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    UNIQUE (tenant_id, id)
);

CREATE TABLE campaign_members (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    campaign_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    in_holdout INTEGER NOT NULL,
    -- index of the current step; the number of steps once finished
    step INTEGER NOT NULL,
    step_started_at INTEGER NOT NULL,
    last_email_at INTEGER,
    -- when a waiting member is next due (NULL: at the next run), so the runner skips the rest
    wake_at INTEGER,
    -- on the call list of the current (call) step, with that step's rules copied
    call_open INTEGER NOT NULL,
    call_max_attempts INTEGER NOT NULL,
    call_from_minute INTEGER NOT NULL,
    call_to_minute INTEGER NOT NULL,
    call_spacing_seconds INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    last_attempt_at INTEGER,
    last_outcome TEXT,
    -- who holds the member on their screen ("user:ID" or "token:ID") and until when
    lease_holder TEXT,
    lease_until INTEGER,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, campaign_id, customer_id),
    FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX campaign_members_calls ON campaign_members (tenant_id, call_open, attempts);
CREATE INDEX campaign_members_customer ON campaign_members (tenant_id, customer_id);

-- Emails the step runner decided are due: the hand-off to the email outbox.
CREATE TABLE campaign_emails (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    campaign_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    step INTEGER NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    taken_at INTEGER,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, campaign_id, customer_id, step),
    FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX campaign_emails_due ON campaign_emails (tenant_id, taken_at, id);

-- Each call attempt with the contact that records it (written in one transaction).
CREATE TABLE campaign_attempts (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    campaign_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    contact_id INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    at INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, member_id) REFERENCES campaign_members (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX campaign_attempts_member ON campaign_attempts (tenant_id, member_id);
