//! The OpenAPI 3.1 document of the API, at `/api/openapi.json`. Written by hand next to the
//! router; the web tests walk every operation listed here (authentication, cross-tenant 404), so
//! a route missing from this document is a route missing from the tests.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

fn id_param() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "integer", "format": "int64" } })
}

fn limit_param() -> Value {
    json!({ "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 500 } })
}

/// `from`, `to` (YYYY-MM-DD, Japan time, both included; default: the twelve months up to the
/// latest scoring run's day, else today) and, for call reasons, `period`.
fn report_params(with_period: bool) -> Vec<Value> {
    let date = json!({ "type": "string", "format": "date" });
    let mut params = vec![
        json!({ "name": "from", "in": "query", "required": false, "schema": date }),
        json!({ "name": "to", "in": "query", "required": false, "schema": date }),
    ];
    if with_period {
        params.push(json!({ "name": "period", "in": "query", "required": false, "schema": { "enum": ["day", "week", "month"], "default": "month" } }));
    }
    params
}

fn body(schema: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

fn answer(status: &str, description: &str) -> Value {
    json!({ status: { "description": description }, "4XX": { "$ref": "#/components/responses/Error" } })
}

fn op(summary: &str, parameters: Vec<Value>, request: Option<Value>, status: &str) -> Value {
    let mut operation = json!({ "summary": summary, "parameters": parameters, "responses": answer(status, summary) });
    if let Some(request) = request {
        operation["requestBody"] = request;
    }
    operation
}

// --- campaigns (issue 6) ---
/// The campaign operations (kept apart: one `json!` for the whole document would exceed the
/// macro's recursion limit).
fn campaign_paths() -> Value {
    let object_body =
        || json!({ "required": true, "content": { "application/json": { "schema": { "type": "object" } } } });
    let task_param =
        json!({ "name": "task", "in": "path", "required": true, "schema": { "type": "integer", "format": "int64" } });
    json!({
            "/api/v1/campaigns": {
                "get": op("Campaigns, newest first", vec![], None, "200"),
                "post": op("Create a campaign: {name, purpose, customer_ids, holdout_percent (default 10), seed?, steps: [{kind: email, subject, body} | {kind: wait, days} | {kind: call, condition: everyone|not_opened|not_clicked, max_attempts, from, to, spacing_minutes}]}; the members are a snapshot, the holdout reproducible from the seed (analyst, supervisor, admin)", vec![], Some(object_body()), "201")
            },
            "/api/v1/campaigns/{id}": {
                "get": op("A campaign with its steps and group sizes", vec![id_param()], None, "200"),
                "put": op("Rename a campaign or change its purpose: {name, purpose}", vec![id_param()], Some(object_body()), "200"),
                "delete": op("Delete a campaign with its members (contacts stay; supervisor, admin)", vec![id_param()], None, "204")
            },
            "/api/v1/campaigns/{id}/members": { "get": op("Members with group and step state; names and phones masked for analysts (?after=&limit=, at most 1000)", vec![id_param()], None, "200") },
            "/api/v1/campaigns/{id}/results": { "get": op("Treatment vs holdout over ?window_days= (default 90): contact rate, response, conversion, retention, revenue per member, the difference with its 95% interval (Newcombe; Welch for revenue)", vec![id_param()], None, "200") },
            "/api/v1/campaigns/{id}/results.csv": { "get": op("The results as CSV (UTF-8 with BOM)", vec![id_param()], None, "200") },
            "/api/v1/campaigns/{id}/calls/next": { "post": op("Lease the next member to call to the caller, with talk hints; {task: null} when nobody may be called now", vec![id_param()], None, "200") },
            "/api/v1/campaigns/{id}/calls/{task}/outcome": { "post": op("Record a call attempt on a leased member: {outcome: reached|no_answer|busy|hung_up|callback|ordered|refused, text}; stored as an outbound phone contact", vec![id_param(), task_param.clone()], Some(object_body()), "200") }
    })
}

/// The document.
pub fn document() -> Value {
    let mut document = core_document();
    // Added after the fact: one `json!` literal of the whole document is at serde_json's macro
    // recursion limit.
    email_paths(&mut document);
    hearing_paths(&mut document);
    document["paths"]["/api/v1/lexicon"] = json!({
        "get": op("The tenant's own kimochi lexicon, TSV lines `phrase<TAB>tag[<TAB>weight]` on top of the built-in ones (admin)", vec![], None, "200"),
        "put": op("Replace the tenant's own lexicon (admin, at most 200,000 bytes); a bad line answers 422 naming it and nothing changes; contacts recorded from now on are read with it", vec![], Some(body("LexiconInput")), "200"),
    });
    document["components"]["schemas"]["LexiconInput"] = json!({
        "type": "object", "required": ["lexicon"], "additionalProperties": false,
        "properties": { "lexicon": { "type": "string" } } });
    if let (Some(paths), Value::Object(segments)) = (document["paths"].as_object_mut(), segment_paths()) {
        paths.extend(segments);
    }
    document
}

/// Email (issue 6): queue one email to a customer, list the outbox.
fn email_paths(document: &mut Value) {
    let query_id = |name: &str| json!({ "name": name, "in": "query", "required": false, "schema": { "type": "integer", "format": "int64" } });
    document["paths"]["/api/v1/customers/{id}/emails"] = json!({ "post": op(
        "Queue an email to the customer (202): refused without email consent (409 consent.missing) or address (422, field email). Links are rewritten to tracked links, an open pixel and RFC 8058 List-Unsubscribe headers are added; sent through the configured SMTP server with retries (agent, supervisor, admin)",
        vec![id_param()], Some(body("EmailInput")), "202") });
    document["paths"]["/api/v1/emails"] = json!({ "get": op(
        "Emails newest first with status (queued, sending, sent, failed, bounced), attempts, last error and the first open, click and unsubscribe times; the address is masked for analysts",
        vec![query_id("customer_id"), query_id("campaign_id"), limit_param()], None, "200") });
    let flag = |name: &str| json!({ "name": name, "in": "query", "required": false, "schema": { "type": "boolean", "default": false } });
    document["paths"]["/api/v1/imports/events"] = json!({ "post": op(
        "Import behavioural data (the body: CSV in UTF-8 or Shift_JIS, or JSON lines; at most 1 MiB): kind=survey (customer, survey, question, answer, answered_at), web (customer, url, accessed_at, referrer) or email (customer, event opened/clicked, occurred_at, url, campaign); the customer by customer_external_id, email or phone. All or nothing unless skip_invalid; bad rows as 422 import.rejected with line and column (admin)",
        vec![json!({ "name": "kind", "in": "query", "required": true, "schema": { "enum": ["survey", "web", "email"] } }), flag("dry_run"), flag("skip_invalid")],
        Some(json!({ "required": true, "content": { "text/csv": { "schema": { "type": "string" } }, "application/x-ndjson": { "schema": { "type": "string" } } } })), "200") });
    document["paths"]["/api/v1/customers/{id}/behavior-events"] = json!({ "get": op(
        "The customer's imported survey answers and web visits, newest first (kind, occurred_at, question, answer, url, attributes); free text masked for analysts",
        vec![id_param(), limit_param()], None, "200") });
    document["components"]["schemas"]["EmailInput"] = json!({
        "type": "object", "required": ["subject", "body"], "additionalProperties": false, "properties": {
            "subject": { "type": "string", "maxLength": 200 },
            "body": { "type": "string", "description": "plain text, at most 100 KiB" },
            "body_html": { "type": ["string", "null"], "description": "optional HTML alternative, at most 100 KiB" } } });
}

/// Segments (issue 6), kept out of the main `json!` (it would exceed the macro recursion limit).
fn segment_paths() -> Value {
    json!({
            "/api/v1/segments": {
                "get": op("Saved segments of the tenant, by name (analyst, supervisor, admin)", vec![], None, "200"),
                "post": op("Save a segment: a name unique in the tenant, a description and a rule (analyst, supervisor, admin)", vec![], Some(body("SegmentInput")), "201"),
            },
            "/api/v1/segments/count": { "post": op("How many customers a rule selects now (the builder's live count). A bad rule answers 422 with `field` = the path of the bad node, e.g. `all[2].value`", vec![], Some(body("SegmentCountInput")), "200") },
            "/api/v1/segments/fields": { "get": op("The fields a segment rule may test: type, operators, window (`days`), codes and the subject keys a condition must give one of (`subject`)", vec![], None, "200") },
            "/api/v1/segments/{id}": {
                "get": op("A saved segment", vec![id_param()], None, "200"),
                "put": op("Replace a saved segment", vec![id_param()], Some(body("SegmentInput")), "200"),
                "delete": op("Delete a saved segment", vec![id_param()], None, "204"),
            },
            "/api/v1/segments/{id}/members": { "get": op("A page of the segment's customers in id order (masked for analysts); `next_after` continues", vec![id_param(),
                json!({ "name": "after", "in": "query", "required": false, "schema": { "type": "integer", "format": "int64" } }),
                json!({ "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 500 } })], None, "200") },
            "/api/v1/segments/{id}/export.csv": { "get": op("The segment's customers as CSV (UTF-8 with BOM; masked for analysts)", vec![id_param()], None, "200") },
            "/api/v1/segments/{id}/export.xlsx": { "get": op("The segment's customers as xlsx (masked for analysts)", vec![id_param()], None, "200") }
    })
}

/// Hearing points and potential screening (issue 6), added to the base document.
fn hearing_paths(document: &mut Value) {
    let date = json!({ "type": "string", "format": "date" });
    let paths = [
        (
            "/api/v1/hearing-sets",
            json!({
                "get": op("Hearing-point sets (聞き出しポイント) with their questions in order", vec![], None, "200"),
                "post": op("Create a hearing-point set (admin); errors name the question", vec![], Some(body("HearingSetInput")), "201"),
            }),
        ),
        (
            "/api/v1/hearing-sets/{id}",
            json!({
                "get": op("A hearing-point set", vec![id_param()], None, "200"),
                "put": op("Replace a set's name, flags and questions (admin); questions keep their answers by id, one left out is deleted or, with answers, retired", vec![id_param()], Some(body("HearingSetInput")), "200"),
                "delete": op("Delete a set nobody answered (admin); 409 hearing.answered otherwise", vec![id_param()], None, "204"),
            }),
        ),
        (
            "/api/v1/customers/{id}/soft-facts",
            json!({
                "get": op("The customer's latest answer per soft attribute (free text masked for analysts)", vec![id_param()], None, "200"),
            }),
        ),
        (
            "/api/v1/hearing/asked-rates",
            json!({
                "get": op("How often each operator asked each question when its set was shown (asked / shown) and got an answer (answered / asked), for [from, to] in JST (default the last 30 days; supervisor, analyst, admin)", vec![
                    json!({ "name": "from", "in": "query", "required": false, "schema": date }),
                    json!({ "name": "to", "in": "query", "required": false, "schema": date }),
                ], None, "200"),
            }),
        ),
        (
            "/api/v1/prospects",
            json!({
                "get": op("Potential screening (S3): customers with hearing answers or potential notes, scored 0–100 with reasons and the suggested date of the next approach, highest score first (personal data masked for analysts)", vec![
                    json!({ "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 200 } }),
                ], None, "200"),
            }),
        ),
    ];
    for (path, item) in paths {
        document["paths"][path] = item;
    }
    let optional_number = json!({ "type": ["number", "null"] });
    document["components"]["schemas"]["HearingSetInput"] = json!({ "type": "object", "required": ["name", "questions"], "additionalProperties": false, "properties": {
        "name": { "type": "string", "minLength": 1, "maxLength": 200 },
        "description": { "type": "string", "maxLength": 500 },
        "default_inbound": { "type": "boolean" },
        "questions": { "type": "array", "minItems": 1, "maxItems": 30, "items": { "type": "object", "required": ["label", "kind", "soft_attribute"], "additionalProperties": false, "properties": {
            "id": { "type": ["integer", "null"] },
            "label": { "type": "string" },
            "kind": { "enum": ["choice", "number", "text", "date"] },
            "options": { "type": "array", "items": { "type": "string" } },
            "min": optional_number, "max": optional_number, "unit": { "type": ["string", "null"] },
            "max_chars": { "type": ["integer", "null"], "minimum": 1, "maximum": 1000 },
            "soft_attribute": { "type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$" },
            "hint": { "type": "string", "maxLength": 500 },
            "weight": { "type": ["integer", "null"], "minimum": 0, "maximum": 50 } } } } } });
    document["components"]["schemas"]["ContactInput"]["properties"]["hearing"] = json!({
        "type": ["object", "null"], "required": ["set_id"], "additionalProperties": false,
        "description": "The hearing checklist of this contact, stored in its transaction: a bad answer stores neither",
        "properties": {
            "set_id": { "type": "integer" },
            "answers": { "type": "array", "items": { "type": "object", "required": ["question_id"], "additionalProperties": false, "properties": {
                "question_id": { "type": "integer" },
                "asked": { "type": ["boolean", "null"], "description": "default: whether a value is given" },
                "value": { "type": ["string", "number", "null"] } } } } } });
}

fn core_document() -> Value {
    let string = json!({ "type": "string" });
    let optional_string = json!({ "type": ["string", "null"] });
    let mut document = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "kimochi API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Contact-center CRM. Every request acts on the caller's tenant; an id of another tenant answers 404. Times are RFC 3339 (JST by default); amounts are whole yen. Errors: {\"error\": {\"code\", \"message\", \"field\", \"details\", \"request_id\"}}; messages are Japanese unless Accept-Language prefers English."
        },
        "security": [{ "bearer": [] }, { "session": [] }],
        "paths": {
            "/api/v1/session": { "get": op("The caller: tenant, role, CSRF token for session users", vec![], None, "200") },
            "/api/v1/customers": {
                "get": op("Search customers by name, kana, phone (any format) or email", vec![
                    json!({ "name": "q", "in": "query", "required": true, "schema": { "type": "string", "maxLength": 200 } }),
                    json!({ "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 200 } }),
                ], None, "200"),
                "post": op("Create a customer", vec![], Some(body("CustomerInput")), "201"),
            },
            "/api/v1/customers/{id}": {
                "get": op("A customer's profile (personal data masked for analysts)", vec![id_param()], None, "200"),
                "put": op("Replace a customer's profile", vec![id_param()], Some(body("CustomerInput")), "200"),
                "delete": op("Delete a customer and their history (supervisor, admin)", vec![id_param()], None, "204"),
            },
            "/api/v1/customers/{id}/karte": { "get": op("The customer karte: profile, aggregates, purchases per product, threads, kimochi timeline, handover notes, and the latest scores (stage, RFM cell, P(alive), CLV, churn risk with reasons, loyalty quadrant, customer type, repeat alerts)", vec![id_param()], None, "200") },
            "/api/v1/customers/{id}/kimochi-timeline": { "get": op("The expectation-gap timeline (K1, K2): the original expectation (earliest expectation-tagged contact or expectation note), the experiences after it with their valence and kinds, a gap score in [0, 1] (recency-weighted share of negative experiences, raised by explicit gap tags; formula in `method`) and its history; with churn intent in the latest contact, a `retention` block with the expectation, the gap history and rule-based retention points. Texts masked for roles without personal data. Reads the latest 1,000 contacts and notes; the karte's `expectation_gap` is the same over the karte's window.", vec![id_param()], None, "200") },
            "/api/v1/customers/{id}/orders": {
                "get": op("A customer's orders, newest first", vec![id_param(), limit_param()], None, "200"),
                "post": op("Record an order", vec![id_param()], Some(body("OrderInput")), "201"),
            },
            "/api/v1/customers/{id}/contacts": {
                "get": op("A customer's contacts across channels, newest first", vec![id_param(), limit_param()], None, "200"),
                "post": op("Record a contact (outbound ones honour consent and do-not-call)", vec![id_param()], Some(body("ContactInput")), "201"),
            },
            "/api/v1/customers/{id}/kimochi": {
                "get": op("A customer's kimochi notes", vec![id_param(), limit_param()], None, "200"),
                "post": op("Record a kimochi note", vec![id_param()], Some(body("KimochiInput")), "201"),
            },
            "/api/v1/customers/{id}/handover-notes": {
                "get": op("Handover notes and cautions", vec![id_param(), limit_param()], None, "200"),
                "post": op("Leave a handover note or caution", vec![id_param()], Some(body("HandoverInput")), "201"),
            },
            "/api/v1/orders/{id}": { "get": op("An order with its lines", vec![id_param()], None, "200") },
            "/api/v1/contacts/{id}": { "get": op("A contact", vec![id_param()], None, "200") },
            "/api/v1/products": {
                "get": op("Products", vec![], None, "200"),
                "post": op("Create a product (supervisor, admin)", vec![], Some(body("ProductInput")), "201"),
            },
            "/api/v1/products/{id}": { "get": op("A product", vec![id_param()], None, "200") },
            "/api/v1/faq": {
                "get": op("FAQ articles", vec![], None, "200"),
                "post": op("Create an FAQ article (supervisor, admin)", vec![], Some(body("FaqInput")), "201"),
            },
            "/api/v1/faq/{id}": {
                "get": op("An FAQ article", vec![id_param()], None, "200"),
                "put": op("Replace an FAQ article (supervisor, admin)", vec![id_param()], Some(body("FaqInput")), "200"),
                "delete": op("Delete an FAQ article (supervisor, admin)", vec![id_param()], None, "204"),
            },
            "/api/v1/search/faq": { "get": op("Full-text search of FAQ articles (Japanese words and character bigrams; title matches weigh more). Hits: id, title, title_snippet, snippet ({text, html, matches}; html is escaped, matches in <mark>), score", vec![
                json!({ "name": "q", "in": "query", "required": true, "schema": { "type": "string", "maxLength": 200 }, "description": "Words separated by spaces; every one must match. No query syntax: any text is searched as written." }),
                json!({ "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 50, "default": 10 } }),
            ], None, "200") },
            "/api/v1/search/voc": { "get": op("Full-text search of contacts' voice-of-customer texts, filtered by period, channel and kimochi kind. Hits: contact_id, customer_id, started_at, channel, kimochi, snippet, score, masked (personal data in the text masked for analysts). Audited", vec![
                json!({ "name": "q", "in": "query", "required": true, "schema": { "type": "string", "maxLength": 200 } }),
                json!({ "name": "from", "in": "query", "required": false, "schema": { "type": "string", "examples": ["2026-04-01", "2026-04-01T09:00:00+09:00"] }, "description": "First day (JST) or instant included" }),
                json!({ "name": "to", "in": "query", "required": false, "schema": { "type": "string", "examples": ["2026-04-30"] }, "description": "Last day (JST, included) or instant (excluded)" }),
                json!({ "name": "channel", "in": "query", "required": false, "schema": { "type": "string", "examples": ["phone,email"] }, "description": "Comma-separated channels, any of them" }),
                json!({ "name": "kimochi", "in": "query", "required": false, "schema": { "type": "string", "examples": ["churn_intent,anger"] }, "description": "Comma-separated kimochi kinds, any of them" }),
                json!({ "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 50, "default": 10 } }),
            ], None, "200") },
            "/api/v1/users": { "get": op("Users of the tenant (supervisor, admin)", vec![], None, "200") },
            "/api/v1/audit": { "get": op("The audit log, newest first (admin)", vec![limit_param()], None, "200") },
            "/api/v1/crisis-words": {
                "get": op("The tenant's own crisis words (NGワード), matched with the built-in list (admin)", vec![], None, "200"),
                "post": op("Add a crisis word; 409 with field `phrase` when it (or a spelling of it: width, kana, spacing, symbols) is listed (admin)", vec![], Some(body("CrisisWordInput")), "201"),
            },
            "/api/v1/crisis-words/{id}": {
                "get": op("A crisis word (admin)", vec![id_param()], None, "200"),
                "put": op("Replace a crisis word (admin)", vec![id_param()], Some(body("CrisisWordInput")), "200"),
                "delete": op("Remove a crisis word (admin)", vec![id_param()], None, "204"),
            },
            "/api/v1/alerts": { "get": op("Crisis-word alerts, newest first: severity, the words with byte spans into the contact's text (supervisor, admin)", vec![
                json!({ "name": "since", "in": "query", "required": false, "schema": { "type": "string", "examples": ["2026-11-01T09:00:00+09:00", "2026-11-01 09:00"] } }),
                json!({ "name": "unacknowledged", "in": "query", "required": false, "schema": { "type": "boolean" } }),
                json!({ "name": "limit", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": 500 } }),
            ], None, "200") },
            "/api/v1/alerts/{id}": { "get": op("An alert (supervisor, admin)", vec![id_param()], None, "200") },
            "/api/v1/alerts/{id}/ack": { "post": op("Acknowledge an alert; the first acknowledgement stands (supervisor, admin)", vec![id_param()], None, "200") },
            "/api/v1/webhooks": {
                "get": op("Webhooks alerts are posted to, with delivered/pending/given-up counts (admin)", vec![], None, "200"),
                "post": op("Add a webhook (http:// only for now); the answer holds the signing secret, shown once. Each alert is POSTed as JSON with X-Kimochi-Signature: sha256=HMAC-SHA256(secret, X-Kimochi-Timestamp + \".\" + body) and X-Kimochi-Delivery (unique per alert and webhook), retried with backoff until a 2xx (admin)", vec![], Some(body("WebhookInput")), "201"),
            },
            "/api/v1/webhooks/{id}": { "delete": op("Remove a webhook and its pending deliveries (admin)", vec![id_param()], None, "204") },
            "/api/v1/events": { "get": op("Server-sent events of the tenant as they are committed: `contact`, `alert`, `alert_acknowledged`; `lagged` (then the stream ends) when the client fell behind; a heartbeat comment every 15 s (supervisor, admin)", vec![], None, "200") },
            "/api/v1/voc/lost-order-reasons": { "get": op("Lost-order reasons (失注理由): words of outbound lost-order contacts against won ones, ranked by weighted log-odds z with an informative prior, with masked example utterances (analyst, supervisor, admin)", report_params(false), None, "200") },
            "/api/v1/voc/call-reasons": { "get": op("Call reasons (コールリーズン) of inbound contacts per period, and the topics rising in the latest period (analyst, supervisor, admin)", report_params(true), None, "200") },
            "/api/v1/voc/churn-drivers": { "get": op("Churn drivers (離反要因) of the latest scoring run: relative risks with 95% confidence intervals, most risk-raising first (analyst, supervisor, admin)", vec![], None, "200") },
        },
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "A token from `kimochi token create`." },
                "session": { "type": "apiKey", "in": "cookie", "name": "kimochi_session", "description": "After POST /login. State-changing requests must send the session's CSRF token in X-CSRF-Token." }
            },
            "responses": {
                "Error": { "description": "An error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
            },
            "schemas": {
                "Error": { "type": "object", "properties": { "error": { "type": "object", "required": ["code", "message", "request_id"], "properties": {
                    "code": string, "message": string, "field": optional_string, "request_id": string, "details": {} } } } },
                "CustomerInput": { "type": "object", "required": ["name"], "additionalProperties": false, "properties": {
                    "external_id": optional_string, "name": string, "kana": optional_string, "birth_date": { "type": ["string", "null"], "examples": ["1975-04-01"] },
                    "gender": { "enum": ["female", "male", "other", "unknown", null] }, "prefecture": optional_string, "address": optional_string,
                    "phones": { "type": "array", "items": { "type": "string", "examples": ["03-1234-5678", "０９０（１２３４）５６７８"] } },
                    "emails": { "type": "array", "items": string },
                    "consent": { "type": "object", "properties": { "phone": { "type": "boolean" }, "email": { "type": "boolean" }, "dm": { "type": "boolean" } } },
                    "do_not_call": { "type": "boolean" }, "ad_medium": optional_string,
                    "attributes": { "type": "object", "additionalProperties": string } } },
                "OrderInput": { "type": "object", "required": ["lines"], "additionalProperties": false, "properties": {
                    "external_id": optional_string, "ordered_at": optional_string,
                    "channel": { "enum": ["phone", "email", "fax", "web_form", "chat", "sns", "letter", "visit", null] },
                    "ad_medium": optional_string, "is_subscription": { "type": "boolean" },
                    "lines": { "type": "array", "minItems": 1, "items": { "type": "object", "required": ["product_id", "amount"], "properties": {
                        "product_id": { "type": "integer" }, "quantity": { "type": "integer", "minimum": 1 }, "amount": { "type": "integer", "minimum": 0 } } } } } },
                "ContactInput": { "type": "object", "required": ["channel", "direction"], "additionalProperties": false, "properties": {
                    "external_id": optional_string,
                    "channel": { "enum": ["phone", "email", "fax", "web_form", "chat", "sns", "letter", "visit"] },
                    "direction": { "enum": ["inbound", "outbound"] },
                    "started_at": optional_string, "ended_at": optional_string, "reason": optional_string,
                    "outcome": { "enum": ["resolved", "ordered", "lost_order", "no_contact", "busy", "hung_up", "callback", "escalated", null] },
                    "text": { "type": "string", "maxLength": 20000 }, "thread_of": { "type": ["integer", "null"] } } },
                "KimochiInput": { "type": "object", "required": ["kind", "text"], "additionalProperties": false, "properties": {
                    "kind": { "enum": ["expectation", "experience", "gap", "preference", "life_event", "potential", "concern"] },
                    "text": string, "captured_at": optional_string, "contact_id": { "type": ["integer", "null"] }, "product_id": { "type": ["integer", "null"] } } },
                "HandoverInput": { "type": "object", "required": ["kind", "text"], "additionalProperties": false, "properties": {
                    "kind": { "enum": ["handover", "caution"] }, "text": string } },
                "ProductInput": { "type": "object", "required": ["name", "kind", "price"], "additionalProperties": false, "properties": {
                    "external_id": optional_string, "name": string, "kind": { "enum": ["sample", "trial", "main", "subscription", "other"] },
                    "category": optional_string, "price": { "type": "integer", "minimum": 0 } } },
                "CrisisWordInput": { "type": "object", "required": ["phrase", "severity"], "additionalProperties": false, "properties": {
                    "phrase": { "type": "string", "minLength": 1, "maxLength": 100 },
                    "severity": { "enum": ["low", "medium", "high", "critical"] },
                    "note": { "type": "string", "maxLength": 500 } } },
                "WebhookInput": { "type": "object", "required": ["url"], "additionalProperties": false, "properties": {
                    "url": { "type": "string", "examples": ["http://10.0.0.5:8080/kimochi-alerts"] } } },
                "FaqInput": { "type": "object", "required": ["title", "body"], "additionalProperties": false, "properties": {
                    "title": string, "body": string, "category": optional_string, "tags": { "type": "array", "items": string } } },
                "SegmentRule": { "description": "A group {\"all\": [rules]} (AND) or {\"any\": [rules]} (OR), a negation {\"not\": rule}, or a condition {\"field\", \"op\", \"value\", \"days\"?} which, for hearing and behaviour fields, also names its subject: \"question\" (a hearing question id) or \"attribute\" (a soft attribute), \"key\" (a survey question) or \"url\" (text the visited URL contains); fields, their operators and subject keys at GET /api/v1/segments/fields. At most 6 levels and 64 parts.", "type": "object",
                    "examples": [{ "all": [{ "field": "stage", "op": "in", "value": ["subscription"] }, { "not": { "field": "consent_phone", "op": "eq", "value": true } }] }] },
                "SegmentCountInput": { "type": "object", "required": ["rule"], "additionalProperties": false, "properties": {
                    "rule": { "$ref": "#/components/schemas/SegmentRule" } } },
                "SegmentInput": { "type": "object", "required": ["name", "rule"], "additionalProperties": false, "properties": {
                    "name": { "type": "string", "minLength": 1, "maxLength": 100 }, "description": { "type": "string", "maxLength": 1000 },
                    "rule": { "$ref": "#/components/schemas/SegmentRule" } } }
            }
        }
    });
    if let Some(paths) = document["paths"].as_object_mut()
        && let Some(campaigns) = campaign_paths().as_object()
    {
        paths.extend(campaigns.clone());
    }
    document
}

/// Every (method, path template) the document lists, for tests that must cover every route.
pub fn operations() -> Vec<(String, String)> {
    let document = document();
    let mut operations = Vec::new();
    if let Some(paths) = document["paths"].as_object() {
        for (path, item) in paths {
            if let Some(methods) = item.as_object() {
                for method in methods.keys() {
                    operations.push((method.to_uppercase(), path.clone()));
                }
            }
        }
    }
    operations
}

pub async fn openapi_get() -> Response {
    Json(document()).into_response()
}
