-- `kimochi analyze` replaces a tenant's scores wholesale (delete, then COPY straight into the
-- table, in one transaction). The foreign key to customers made PostgreSQL lock and check the
-- customer of every inserted row: 8 of the 17 s of a 1M-row replacement (measured on this
-- machine). The store keeps the invariant itself instead: a replacement ends with one
-- anti-join that drops scores of ids that are not the tenant's customers, an upsert of single
-- scores only writes rows of existing customers, and deleting a customer deletes their scores
-- (after waiting for a running replacement). No existing row changes: they all satisfied the key.
ALTER TABLE customer_scores DROP CONSTRAINT IF EXISTS customer_scores_tenant_id_customer_id_fkey;
