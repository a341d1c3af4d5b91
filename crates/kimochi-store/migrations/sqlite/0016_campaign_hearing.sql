-- Hearing points per campaign (issue 6, S2/K5): the set of questions its call list shows with
-- each call, answered with the outcome in the attempt's transaction. NULL shows none. The set is
-- checked to be the tenant's when the campaign is created; a set deleted later shows none.
ALTER TABLE campaigns ADD COLUMN hearing_set_id INTEGER;
