-- Scoring (issue 3): the per-customer aggregates that `kimochi analyze` reads without rescanning
-- history, the tags the text engine leaves on a contact, and the persisted scores.

-- What the text engine heard in a contact: overall polarity, the kimochi kinds as a list framed by
-- commas (',advocacy,gap,') so that one kind is found with LIKE '%,kind,%', and the number of
-- crisis words matched. NULL / '' / 0 until the contact was tagged.
ALTER TABLE contacts ADD COLUMN polarity TEXT;
ALTER TABLE contacts ADD COLUMN kimochi TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN crisis INTEGER NOT NULL DEFAULT 0;

-- A purchase is an order with a positive amount (a free sample request is an order, not a
-- purchase). Purchase days are distinct days in Japan time ((unix seconds + 9 h) / 1 day).
ALTER TABLE customer_stats ADD COLUMN first_purchase_at INTEGER;
ALTER TABLE customer_stats ADD COLUMN last_purchase_at INTEGER;
ALTER TABLE customer_stats ADD COLUMN purchase_days INTEGER NOT NULL DEFAULT 0;
-- Spend on the first purchase day: the CLV models count repeat purchases only.
ALTER TABLE customer_stats ADD COLUMN first_day_amount INTEGER NOT NULL DEFAULT 0;
-- Orders holding at least one line of each product kind.
ALTER TABLE customer_stats ADD COLUMN sample_orders INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_stats ADD COLUMN trial_orders INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_stats ADD COLUMN main_orders INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_stats ADD COLUMN subscription_kind_orders INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_stats ADD COLUMN other_orders INTEGER NOT NULL DEFAULT 0;
-- Subscription deliveries (orders flagged is_subscription).
ALTER TABLE customer_stats ADD COLUMN subscription_orders INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_stats ADD COLUMN first_subscription_at INTEGER;
ALTER TABLE customer_stats ADD COLUMN last_subscription_at INTEGER;
-- Outbound phone calls, and those that reached the customer.
ALTER TABLE customer_stats ADD COLUMN outbound_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_stats ADD COLUMN outbound_reached INTEGER NOT NULL DEFAULT 0;
-- Kimochi signals (kimochi_analytics::features::KimochiSignals).
ALTER TABLE customer_stats ADD COLUMN expectation_notes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_stats ADD COLUMN gap_notes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_stats ADD COLUMN concern_notes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_stats ADD COLUMN potential_notes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_stats ADD COLUMN positive_contacts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_stats ADD COLUMN negative_contacts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_stats ADD COLUMN advocacy INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_stats ADD COLUMN churn_intent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_stats ADD COLUMN complaints INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_stats ADD COLUMN crisis INTEGER NOT NULL DEFAULT 0;

-- Per customer and product, for purchase cycles: recomputed with customer_stats.
CREATE TABLE customer_product_stats (
    tenant_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    product_id INTEGER NOT NULL,
    first_order_at INTEGER NOT NULL,
    last_order_at INTEGER NOT NULL,
    purchase_days INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, product_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id)
) WITHOUT ROWID;

-- The latest scores of each customer (kimochi_domain::CustomerScore), written by `kimochi analyze`.
CREATE TABLE customer_scores (
    tenant_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    as_of TEXT NOT NULL,
    stage TEXT NOT NULL,
    rfm_cell INTEGER,
    recency_days INTEGER,
    p_alive REAL,
    expected_purchases REAL,
    expected_spend REAL,
    clv REAL,
    churn_probability REAL,
    churn_level TEXT,
    -- JSON array of {"code","text","weight"}
    churn_reasons TEXT NOT NULL,
    loyalty TEXT,
    near_loyal TEXT,
    positive_dormant INTEGER NOT NULL,
    cluster INTEGER,
    cluster_label TEXT,
    -- JSON array of {"product_id","next_expected","days_overdue","interval_days"}
    repeat_alerts TEXT NOT NULL,
    scored_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX customer_scores_cell ON customer_scores (tenant_id, rfm_cell);
CREATE INDEX customer_scores_churn ON customer_scores (tenant_id, churn_probability);

-- One row per scoring run: the fitted models, counts per cell and stage, churn drivers, clusters.
CREATE TABLE score_runs (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    as_of TEXT NOT NULL,
    scored_at INTEGER NOT NULL,
    customers INTEGER NOT NULL,
    -- JSON document (kimochi_domain::ScoreRunSummary)
    summary TEXT NOT NULL
);
CREATE INDEX score_runs_tenant ON score_runs (tenant_id, id);
