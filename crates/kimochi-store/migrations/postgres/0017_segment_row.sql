-- One segment row per customer (issue 6, T2): the profile flags and the call facts that segment
-- rules test move into customer_stats beside the aggregates, so that a rule over them is one
-- index range or one scan of a narrow table instead of a probe per customer into `customers`
-- (consent, do-not-call) or into `customer_call_facts` (at 1M customers, "listened well last
-- time and no order for 180 days" intersected 320k and 600k ids). The flags are copied from the
-- customer in the transaction of every customer write and in RECOMPUTE_STATS; the call facts
-- are recomputed with the stats (shared.rs, CLEAR_CALL_FACTS / RECOMPUTE_CALL_FACTS).
ALTER TABLE customer_stats ADD COLUMN consent_phone BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE customer_stats ADD COLUMN consent_email BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE customer_stats ADD COLUMN consent_dm BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE customer_stats ADD COLUMN do_not_call BOOLEAN NOT NULL DEFAULT FALSE;
-- The last phone call (NULL: never called), its outcome, the last reached call and whether it
-- listened well (migration 0014's customer_call_facts, whose rows move here).
ALTER TABLE customer_stats ADD COLUMN last_call_at BIGINT;
ALTER TABLE customer_stats ADD COLUMN last_call_outcome TEXT;
ALTER TABLE customer_stats ADD COLUMN last_reached_at BIGINT;
ALTER TABLE customer_stats ADD COLUMN listened_well BIGINT NOT NULL DEFAULT 0;

UPDATE customer_stats s
SET consent_phone = c.consent_phone, consent_email = c.consent_email, consent_dm = c.consent_dm,
    do_not_call = c.do_not_call, last_call_at = f.last_call_at, last_call_outcome = f.last_call_outcome,
    last_reached_at = f.last_reached_at, listened_well = COALESCE(f.listened_well, 0)
FROM customers c
LEFT JOIN customer_call_facts f ON f.tenant_id = c.tenant_id AND f.customer_id = c.id
WHERE c.tenant_id = s.tenant_id AND c.id = s.customer_id;

DROP TABLE customer_call_facts;

-- The no-contact streak with the flags a call list needs ("callable, unanswered twice" reads the
-- index only).
DROP INDEX customer_stats_no_contact;
CREATE INDEX customer_stats_no_contact
    ON customer_stats (tenant_id, consecutive_no_contact, expectation_notes, gap_notes, consent_phone, do_not_call);
CREATE INDEX customer_stats_call_outcome ON customer_stats (tenant_id, last_call_outcome, last_call_at);
-- Listened well last time, with the last order beside it (the win-back rule of the issue).
CREATE INDEX customer_stats_listened ON customer_stats (tenant_id, listened_well, last_order_at, last_call_at);
-- The customers called after a count's as_of, whose call facts are replayed from their contacts.
CREATE INDEX customer_stats_last_call ON customer_stats (tenant_id, last_call_at);
CREATE INDEX customer_stats_do_not_call ON customer_stats (tenant_id, do_not_call);
