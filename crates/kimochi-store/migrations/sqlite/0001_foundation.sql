-- The foundation schema on SQLite. Every table but `tenants` carries `tenant_id`, every
-- reference between tenant rows is a composite (tenant_id, id) foreign key, so a row can never
-- point at another tenant's row. Timestamps are Unix seconds (UTC); dates are ISO text.
-- `id INTEGER PRIMARY KEY` is SQLite's rowid (fast); UNIQUE (tenant_id, id) is the key others
-- reference.

CREATE TABLE tenants (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, name)
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    login TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    team_id INTEGER,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, login),
    FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, id)
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    role TEXT NOT NULL,
    label TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, id)
);

CREATE TABLE sessions (
    session_hash TEXT PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    csrf_token TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    external_id TEXT,
    name TEXT NOT NULL,
    kana TEXT,
    -- search keys: normalised, katakana, lower-case, without spaces (kimochi_domain::normalize::search_key)
    name_key TEXT NOT NULL,
    kana_key TEXT,
    birth_date TEXT,
    gender TEXT NOT NULL,
    prefecture TEXT,
    address TEXT,
    -- domestic digits joined with ';' (the lookup index is customer_phones)
    phones TEXT NOT NULL,
    emails TEXT NOT NULL,
    consent_phone INTEGER NOT NULL,
    consent_email INTEGER NOT NULL,
    consent_dm INTEGER NOT NULL,
    do_not_call INTEGER NOT NULL,
    ad_medium TEXT,
    attributes TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, external_id)
);
CREATE INDEX customers_name_key ON customers (tenant_id, name_key);
CREATE INDEX customers_kana_key ON customers (tenant_id, kana_key);

CREATE TABLE customer_phones (
    tenant_id INTEGER NOT NULL,
    phone TEXT NOT NULL,
    customer_id INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, phone, customer_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX customer_phones_customer ON customer_phones (tenant_id, customer_id);

CREATE TABLE customer_emails (
    tenant_id INTEGER NOT NULL,
    email TEXT NOT NULL,
    customer_id INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, email, customer_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX customer_emails_customer ON customer_emails (tenant_id, customer_id);

-- Per-customer aggregates, recomputed in the transaction of every order or contact write.
CREATE TABLE customer_stats (
    tenant_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    first_order_at INTEGER,
    last_order_at INTEGER,
    order_count INTEGER NOT NULL,
    total_amount INTEGER NOT NULL,
    last_contact_at INTEGER,
    last_outcome TEXT,
    consecutive_no_contact INTEGER NOT NULL,
    contact_count INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    external_id TEXT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    category TEXT,
    price INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, external_id)
);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    external_id TEXT,
    customer_id INTEGER NOT NULL,
    ordered_at INTEGER NOT NULL,
    channel TEXT,
    ad_medium TEXT,
    is_subscription INTEGER NOT NULL,
    total_amount INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, external_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX orders_customer ON orders (tenant_id, customer_id, ordered_at);

CREATE TABLE order_lines (
    tenant_id INTEGER NOT NULL,
    order_id INTEGER NOT NULL,
    line_no INTEGER NOT NULL,
    product_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, order_id, line_no),
    FOREIGN KEY (tenant_id, order_id) REFERENCES orders (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id)
) WITHOUT ROWID;

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    external_id TEXT,
    customer_id INTEGER NOT NULL,
    channel TEXT NOT NULL,
    direction TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    agent_id INTEGER,
    reason TEXT,
    outcome TEXT,
    text TEXT NOT NULL,
    -- the first contact of the thread; NULL when this contact starts one
    thread_id INTEGER,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, external_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, agent_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX contacts_customer ON contacts (tenant_id, customer_id, started_at);

CREATE TABLE kimochi_notes (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    captured_by INTEGER,
    captured_at INTEGER NOT NULL,
    contact_id INTEGER,
    product_id INTEGER,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, captured_by) REFERENCES users (tenant_id, id),
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id)
);
CREATE INDEX kimochi_notes_customer ON kimochi_notes (tenant_id, customer_id, captured_at);

CREATE TABLE handover_notes (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    author_id INTEGER,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, author_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX handover_notes_customer ON handover_notes (tenant_id, customer_id, created_at);

CREATE TABLE faq_articles (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    category TEXT,
    tags TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, id)
);

-- Kept when the customer is deleted: the audit trail outlives the data it speaks of.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    at INTEGER NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id INTEGER,
    action TEXT NOT NULL,
    customer_id INTEGER,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, at);
