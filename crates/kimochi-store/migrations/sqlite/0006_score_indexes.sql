-- `kimochi analyze` rewrites every customer's churn probability on each run, and keeping an index
-- on it in order cost as much as the rest of the write (measured on 1M customers: SQLite's upsert
-- took half the CPU time without it). No query reads scores by churn probability through it: the
-- lists that filter on churn risk scan a tenant's scores anyway.
DROP INDEX IF EXISTS customer_scores_churn;
