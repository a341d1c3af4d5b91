-- Each tenant's own kimochi lexicon (issue 4): phrases in the built-in lexicons' TSV format
-- (phrase, tag, optional weight) that the text engine adds to the built-in ones when it tags
-- the tenant's contacts. Stored as the administrator wrote it; checked before it is stored.
CREATE TABLE tenant_lexicons (
    tenant_id INTEGER PRIMARY KEY REFERENCES tenants (id),
    source TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
