-- Segment facts (issue 6, T2): what segment counts need from a customer's contact history, kept
-- at write time so that a count starts from the customers that match instead of probing every
-- customer's contacts. Recomputed with customer_stats in the transaction of every contact write
-- and after bulk loads (shared.rs, RECOMPUTE_CALL_FACTS / RECOMPUTE_TAG_FACTS); a database that
-- already holds contacts gets them computed once when it is opened after this migration.

-- One row per customer with at least one phone call: the last call (any direction; email
-- tracking events are on the email channel, so never a call), its outcome, the last reached call
-- (an outcome other than no contact, busy or hung up) and whether it listened well (segment.rs).
CREATE TABLE customer_call_facts (
    tenant_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    last_call_at INTEGER NOT NULL,
    last_call_outcome TEXT,
    last_reached_at INTEGER,
    listened_well INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX customer_call_facts_outcome ON customer_call_facts (tenant_id, last_call_outcome, last_call_at);
CREATE INDEX customer_call_facts_listened ON customer_call_facts (tenant_id, listened_well, last_call_at);
-- The customers called after a count's as_of, whose facts are replayed from their contacts.
CREATE INDEX customer_call_facts_at ON customer_call_facts (tenant_id, last_call_at);

-- When each customer's contacts were last tagged with each kimochi tag (one row per tag seen).
CREATE TABLE customer_tag_facts (
    tenant_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    tag TEXT NOT NULL,
    last_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, customer_id, tag),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX customer_tag_facts_tag ON customer_tag_facts (tenant_id, tag, last_at);

-- Call attempts in a window: outbound phone calls by time.
CREATE INDEX contacts_calls ON contacts (tenant_id, channel, direction, started_at, customer_id);
-- Column conditions of segments start from the matching customers; the indexes hold the columns
-- the common rules test together (the issue's: stage, churn level and probability; no-contact
-- streak and unmet expectation), so that a count reads the index only. `kimochi analyze`
-- rewrites the churn columns on each run (0006 dropped an index on churn_probability alone):
-- the price of a count read from this index instead of every customer's scores.
CREATE INDEX customer_stats_no_contact ON customer_stats (tenant_id, consecutive_no_contact, expectation_notes, gap_notes);
CREATE INDEX customer_stats_last_order ON customer_stats (tenant_id, last_order_at);
CREATE INDEX customer_scores_stage ON customer_scores (tenant_id, stage, churn_level, churn_probability);
CREATE INDEX customer_scores_dormant ON customer_scores (tenant_id, positive_dormant);
