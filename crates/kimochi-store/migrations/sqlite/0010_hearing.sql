-- Hearing points (issue 6 S2/K5): a tenant's named sets of questions with typed answers, each
-- filling a soft attribute, and the answers captured with a contact. One answer row per question
-- shown on a contact, asked or not (the asked-rate report counts both), written in the contact's
-- transaction. The answers table is kept flat (typed value columns, the time it was heard) so that
-- segments can filter on it directly.

CREATE TABLE hearing_sets (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- Shown on the contact form of inbound contacts; at most one per tenant.
    default_inbound INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, name)
);
CREATE UNIQUE INDEX hearing_sets_default_inbound ON hearing_sets (tenant_id) WHERE default_inbound;

-- `kind` is choice, number, text or date; `options` a JSON array of the choices (choice only);
-- `min_value`/`max_value`/`unit` for numbers; `max_chars` for text. A question removed from a
-- set that already has answers is retired (kept for the reports) rather than deleted.
CREATE TABLE hearing_questions (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    set_id INTEGER NOT NULL,
    position INTEGER NOT NULL,
    label TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('choice', 'number', 'text', 'date')),
    options TEXT NOT NULL DEFAULT '[]',
    min_value REAL,
    max_value REAL,
    unit TEXT,
    max_chars INTEGER,
    soft_attribute TEXT NOT NULL,
    hint TEXT NOT NULL DEFAULT '',
    weight INTEGER NOT NULL DEFAULT 10,
    retired INTEGER NOT NULL DEFAULT 0,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, set_id) REFERENCES hearing_sets (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX hearing_questions_set ON hearing_questions (tenant_id, set_id, position);

-- One row per question shown on a contact. `answered` is true when a value was given; the value
-- sits in the column of the question's kind (value_text for choice and text, value_number,
-- value_date as ISO text). `answered_at` is the contact's start (when it was heard).
CREATE TABLE hearing_answers (
    id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    customer_id INTEGER NOT NULL,
    contact_id INTEGER NOT NULL,
    set_id INTEGER NOT NULL,
    question_id INTEGER NOT NULL,
    agent_id INTEGER,
    asked INTEGER NOT NULL,
    answered INTEGER NOT NULL,
    value_text TEXT,
    value_number REAL,
    value_date TEXT,
    answered_at INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, contact_id, question_id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, set_id) REFERENCES hearing_sets (tenant_id, id),
    FOREIGN KEY (tenant_id, question_id) REFERENCES hearing_questions (tenant_id, id),
    FOREIGN KEY (tenant_id, agent_id) REFERENCES users (tenant_id, id)
);
CREATE INDEX hearing_answers_customer ON hearing_answers (tenant_id, customer_id, answered_at);
CREATE INDEX hearing_answers_question ON hearing_answers (tenant_id, question_id, answered_at);
CREATE INDEX hearing_answers_time ON hearing_answers (tenant_id, answered_at);
