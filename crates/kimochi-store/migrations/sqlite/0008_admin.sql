-- Administration (issue 5): users can be deactivated (kept for the audit log and the contacts
-- they logged, but no longer able to log in), and each tenant may set its own stage thresholds.
ALTER TABLE users ADD COLUMN deactivated_at INTEGER;

CREATE TABLE tenant_stage_settings (
    tenant_id INTEGER PRIMARY KEY REFERENCES tenants (id),
    dormant_after_days INTEGER NOT NULL,
    subscription_active_days INTEGER NOT NULL,
    repeater_min_main_orders INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
