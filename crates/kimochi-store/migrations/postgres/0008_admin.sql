-- Administration (issue 5): users can be deactivated (kept for the audit log and the contacts
-- they logged, but no longer able to log in), and each tenant may set its own stage thresholds.
ALTER TABLE users ADD COLUMN deactivated_at BIGINT;

CREATE TABLE tenant_stage_settings (
    tenant_id BIGINT PRIMARY KEY REFERENCES tenants (id),
    dormant_after_days BIGINT NOT NULL,
    subscription_active_days BIGINT NOT NULL,
    repeater_min_main_orders BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
