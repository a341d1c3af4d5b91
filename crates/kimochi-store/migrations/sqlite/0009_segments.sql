-- Saved segments (issue 6, T2): a named rule over a tenant's customers. The rule is stored in its
-- JSON form (kimochi_domain::segment) and compiled to SQL when it is counted or listed, so a
-- segment always selects on the current data. Names are unique per tenant.
CREATE TABLE segments (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    rule TEXT NOT NULL,
    created_by INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, name),
    FOREIGN KEY (tenant_id, created_by) REFERENCES users (tenant_id, id)
);
