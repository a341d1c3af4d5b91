//! Issue 6's acceptance on the demo business, on SQLite and PostgreSQL: `kimochi demo` (the
//! README's command: load and score) → a segment of churn-prone subscribers with an unmet
//! expectation and no answer on the last two calls → a campaign over it with a random holdout →
//! emails to a real SMTP sink → opens and clicks through the tracking routes → a call list for
//! those who did not open, with talk hints from each customer's own data → outcomes → results
//! with the lift and its interval. The HTTP side is the real router, in process.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use kimochi_domain::{Role, TenantId};
use kimochi_store::Store;
use kimochi_web::email::send_due;
use kimochi_web::{AppState, WebConfig, auth, router};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tower::ServiceExt;

use super::Workspace;
use super::smtp_sink::{SmtpSink, decoded_parts};

/// Enough customers for a segment of a dozen or more: subscribers whose expectation went unmet
/// mostly cancel (the demo plants 3× the hazard), and few of those left stop answering.
const CUSTOMERS: &str = "20000";

struct Api {
    router: axum::Router,
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

impl Api {
    async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => {
                request.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())).unwrap()
            }
            None => request.body(Body::empty()).unwrap(),
        };
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
        Reply { status, headers, body }
    }

    async fn get(&self, path: &str, token: &str) -> Value {
        let reply = self.call(Method::GET, path, Some(token), None).await;
        assert_eq!(reply.status, StatusCode::OK, "GET {path}: {}", reply.body);
        reply.body
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> Value {
        let reply = self.call(Method::POST, path, Some(token), Some(body)).await;
        assert!(reply.status.is_success(), "POST {path}: {} {}", reply.status, reply.body);
        reply.body
    }
}

async fn token(store: &Arc<dyn Store>, tenant: TenantId, role: Role) -> String {
    let (token, hash) = auth::new_api_token();
    store.api_token_create(tenant, role, "e2e", &hash, OffsetDateTime::now_utc()).await.unwrap();
    token
}

/// What the API shows of one segment member, checked against the rule by reading the raw facts.
async fn assert_is_a_care_target(api: &Api, token: &str, customer: i64) {
    let karte = api.get(&format!("/api/v1/customers/{customer}/karte"), token).await;
    let scores = &karte["scores"];
    assert_eq!(scores["stage"]["code"], "subscription", "{customer}: {scores}");
    assert!(matches!(scores["churn_level"]["code"].as_str(), Some("medium" | "high")), "{customer}: {scores}");
    let notes = api.get(&format!("/api/v1/customers/{customer}/kimochi"), token).await;
    let kinds: BTreeSet<&str> = notes["kimochi"]
        .as_array()
        .unwrap_or_else(|| panic!("{notes}"))
        .iter()
        .filter_map(|n| n["kind"].as_str())
        .collect();
    assert!(kinds.contains("expectation"), "{customer} has an expectation: {kinds:?}");
    let contacts = api.get(&format!("/api/v1/customers/{customer}/contacts?limit=200"), token).await;
    let mut history: Vec<(String, i64, String)> = contacts["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !matches!(c["outcome"].as_str(), Some("sent" | "opened" | "clicked" | "unsubscribed" | "bounced")))
        .map(|c| {
            let outcome = c["outcome"].as_str().unwrap_or("").to_owned();
            (c["started_at"].as_str().unwrap().to_owned(), c["id"].as_i64().unwrap(), outcome)
        })
        .collect();
    history.sort();
    let last_two: Vec<&str> = history.iter().rev().take(2).map(|(_, _, outcome)| outcome.as_str()).collect();
    assert!(
        last_two.len() == 2 && last_two.iter().all(|o| matches!(*o, "no_contact" | "busy")),
        "{customer}: the last two contacts reached nobody: {last_two:?}"
    );
}

async fn care_campaign_on_the_demo(db: String) {
    let store = kimochi_store::open(&db).await.unwrap();
    let tenant = store.tenant_by_slug("demo").await.unwrap().id;
    let planner = token(&store, tenant, Role::Supervisor).await;
    let operator = token(&store, tenant, Role::Agent).await;
    let api = Api { router: router(AppState::new(store.clone(), WebConfig::default())) };
    let sink = SmtpSink::start().await;

    // The segment of the acceptance, counted live and saved. Churn-prone is a risk of 中 or 高
    // (at least 15 % of leaving within 90 days, the default levels).
    let rule = json!({"all": [
        {"field": "stage", "op": "in", "value": ["subscription"]},
        {"field": "churn_level", "op": "in", "value": ["medium", "high"]},
        {"field": "unmet_expectation", "op": "eq", "value": true},
        {"field": "consecutive_no_contact", "op": "gte", "value": 2}]});
    let count = api.post("/api/v1/segments/count", &planner, json!({"rule": rule})).await["count"].as_u64().unwrap();
    assert!(count >= 10, "the demo plants churn-prone subscribers with unmet expectations who stop answering: {count}");
    let segment =
        api.post("/api/v1/segments", &planner, json!({"name": "期待未充足・2回不在の解約予備軍", "rule": rule})).await;
    let segment_id = segment["id"].as_i64().unwrap();
    let listed = api.get(&format!("/api/v1/segments/{segment_id}/members?limit=1000"), &planner).await;
    let listed: Vec<i64> = listed["customers"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert_eq!(listed.len() as u64, count, "the list is the count");
    for customer in &listed {
        assert_is_a_care_target(&api, &planner, *customer).await;
    }

    // The campaign: a 10 % holdout, an email, three days, then calls to those who did not open.
    let steps = json!([
        {"kind": "email", "subject": "いつもありがとうございます", "body": "お使い方のコツをまとめました https://shop.example.jp/howto"},
        {"kind": "wait", "days": 3},
        {"kind": "call", "condition": "not_opened", "from": "00:00", "to": "24:00"}]);
    let campaign = api
        .post(
            "/api/v1/campaigns",
            &planner,
            json!({"name": "期待ギャップのケアコール", "segment_id": segment_id, "holdout_percent": 10, "seed": 7, "steps": steps}),
        )
        .await;
    let campaign_id = campaign["id"].as_i64().unwrap();
    let members = api.get(&format!("/api/v1/campaigns/{campaign_id}/members?limit=1000"), &planner).await;
    let members = members["members"].as_array().unwrap();
    let group_of: HashMap<i64, String> =
        members.iter().map(|m| (m["customer_id"].as_i64().unwrap(), m["group"].as_str().unwrap().to_owned())).collect();
    let mut snapshot: Vec<i64> = group_of.keys().copied().collect();
    snapshot.sort_unstable();
    assert_eq!(snapshot, listed, "the campaign's snapshot is the segment");
    let holdout: Vec<i64> = snapshot.iter().copied().filter(|id| group_of[id] == "holdout").collect();
    let treatment: Vec<i64> = snapshot.iter().copied().filter(|id| group_of[id] == "treatment").collect();
    assert_eq!(holdout.len(), (count as f64 * 0.1).round() as usize, "a 10 % holdout");

    // The first step queued the emails of treated members who may be emailed; the sink gets them.
    let sent = send_due(store.clone(), &sink.config()).await.unwrap();
    let messages = sink.messages();
    assert!(!messages.is_empty(), "some care targets consent to email");
    assert_eq!(messages.len(), sent.sent as usize, "{sent:?}");
    let outbox = store
        .email_list(
            tenant,
            &kimochi_store::EmailQuery { customer_id: None, campaign_id: Some(campaign_id), limit: 500 },
        )
        .await
        .unwrap();
    assert_eq!(outbox.len(), messages.len());
    for email in &outbox {
        assert_eq!(group_of[&email.customer_id.0], "treatment", "never an email to the holdout");
        let customer = api.get(&format!("/api/v1/customers/{}", email.customer_id.0), &planner).await;
        assert_eq!(customer["consent"]["email"], true, "only with email consent");
    }

    // Half of the readers open the email; the first of them also clicks the link.
    let openers = messages.len().div_ceil(2);
    for (n, raw) in messages.iter().take(openers).enumerate() {
        let parts = decoded_parts(raw);
        let pixel = parts[1].split("<img src=\"https://crm.example.jp").nth(1).unwrap().split('"').next().unwrap();
        assert_eq!(api.call(Method::GET, pixel, None, None).await.status, StatusCode::OK);
        if n == 0 {
            let link = parts[0].split("https://crm.example.jp").nth(1).unwrap().split_whitespace().next().unwrap();
            let clicked = api.call(Method::GET, link, None, None).await;
            assert_eq!(clicked.status, StatusCode::SEE_OTHER);
            assert_eq!(clicked.headers["location"], "https://shop.example.jp/howto");
        }
    }
    let mut opened = BTreeSet::new();
    for email in &outbox {
        let history = api.get(&format!("/api/v1/customers/{}/contacts?limit=200", email.customer_id.0), &planner).await;
        let outcomes: Vec<&str> =
            history["contacts"].as_array().unwrap().iter().filter_map(|c| c["outcome"].as_str()).collect();
        assert!(outcomes.contains(&"sent"), "{outcomes:?}");
        if outcomes.iter().any(|o| *o == "opened" || *o == "clicked") {
            opened.insert(email.customer_id.0);
        }
    }
    assert_eq!(opened.len(), openers, "opens and clicks are contact history");

    // Three days later the runner puts those who did not open on the call list.
    let later = OffsetDateTime::now_utc() + time::Duration::days(3) + time::Duration::minutes(1);
    let report = store.campaign_run(tenant, later).await.unwrap();
    assert_eq!(report.calls_opened as usize, treatment.len() - opened.len(), "{report:?}");

    // The operator works the list one customer at a time; consent and do-not-call are checked
    // when each is served, and the hints come from the customer's own notes.
    let next = format!("/api/v1/campaigns/{campaign_id}/calls/next");
    let mut called = Vec::new();
    loop {
        let task = api.post(&next, &operator, json!(null)).await;
        let task = &task["task"];
        if task.is_null() {
            break;
        }
        let customer = task["customer_id"].as_i64().unwrap();
        assert_eq!(group_of[&customer], "treatment", "the holdout is never called");
        assert!(!opened.contains(&customer) && !called.contains(&customer), "each non-opener once: {customer}");
        let profile = api.get(&format!("/api/v1/customers/{customer}"), &planner).await;
        assert!(profile["consent"]["phone"] == true && profile["do_not_call"] == false, "{profile}");
        // The expectation in the customer's own words: from a kimochi note or a contact's text.
        let notes = api.get(&format!("/api/v1/customers/{customer}/kimochi"), &planner).await;
        let contacts = api.get(&format!("/api/v1/customers/{customer}/contacts?limit=200"), &planner).await;
        let expectation = task["hints"]["expectation"].as_str().unwrap_or_else(|| panic!("{task}"));
        let own_words = notes["kimochi"].as_array().unwrap().iter().chain(contacts["contacts"].as_array().unwrap());
        assert!(
            own_words.filter_map(|record| record["text"].as_str()).any(|text| text.contains(expectation)),
            "the hint is the customer's own expectation: {expectation}"
        );
        let (outcome, text) = if called.len() % 2 == 0 {
            ("ordered", "使い方のコツをご案内し、継続いただけることに。")
        } else {
            ("no_answer", "")
        };
        let path = format!("/api/v1/campaigns/{campaign_id}/calls/{}/outcome", task["task_id"]);
        api.post(&path, &operator, json!({"outcome": outcome, "text": text})).await;
        if outcome == "ordered" {
            let product = profile_product(&api, &planner, customer).await;
            let order = json!({"is_subscription": true, "lines": [{"product_id": product, "amount": 3980}]});
            api.post(&format!("/api/v1/customers/{customer}/orders"), &operator, order).await;
        }
        called.push(customer);
    }
    assert!(!called.is_empty(), "someone on the list may be called");

    // Results: treatment against holdout with the difference and its 95 % interval.
    let results = api.get(&format!("/api/v1/campaigns/{campaign_id}/results"), &planner).await;
    assert_eq!(results["treatment_members"].as_u64(), Some(treatment.len() as u64));
    assert_eq!(results["holdout_members"].as_u64(), Some(holdout.len() as u64));
    let conversion =
        results["measures"].as_array().unwrap().iter().find(|m| m["key"] == "conversion").expect("conversion").clone();
    let difference = conversion["difference"].as_f64().unwrap();
    assert!(difference > 0.0, "{conversion}");
    assert!(conversion["low"].as_f64().unwrap() < difference && difference < conversion["high"].as_f64().unwrap());
    let csv =
        api.call(Method::GET, &format!("/api/v1/campaigns/{campaign_id}/results.csv"), Some(&planner), None).await;
    assert_eq!(csv.status, StatusCode::OK);
}

/// The subscription product the customer bought last (the one the care call is about).
async fn profile_product(api: &Api, token: &str, customer: i64) -> i64 {
    let orders = api.get(&format!("/api/v1/customers/{customer}/orders"), token).await;
    let orders = orders["orders"].as_array().unwrap_or_else(|| panic!("{orders}"));
    orders
        .iter()
        .flat_map(|o| o["lines"].as_array().unwrap().iter())
        .find_map(|line| line["product_id"].as_i64())
        .expect("a subscriber has ordered")
}

fn load_demo(ws: &Workspace, db: &str) {
    let out = ws.ok(&["--db", db, "demo", "--customers", CUSTOMERS, "--seed", "7"]);
    assert!(out.contains(&format!("scored {CUSTOMERS} customers")), "{out}");
}

#[test]
fn care_campaign_on_the_demo_data_on_sqlite() {
    let ws = Workspace::new("care_demo");
    let db = ws.db();
    load_demo(&ws, &db);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(care_campaign_on_the_demo(db));
}

#[test]
fn care_campaign_on_the_demo_data_on_postgres() {
    let ws = Workspace::new("care_demo_pg");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let admin = std::env::var("KIMOCHI_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let database = format!("kimochi_test_cli_{}_care_demo", std::process::id());
    let (base, _) = admin.rsplit_once('/').unwrap();
    let db = format!("{base}/{database}");
    let drop = format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)");
    runtime.block_on(async {
        use sqlx::Connection;
        let mut connection = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|error| {
            panic!("PostgreSQL is required for this test and is not reachable at {admin}: {error}")
        });
        sqlx::query(&drop).execute(&mut connection).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {database}")).execute(&mut connection).await.unwrap();
    });
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        load_demo(&ws, &db);
        runtime.block_on(care_campaign_on_the_demo(db.clone()));
    }));
    runtime.block_on(async {
        use sqlx::Connection;
        let mut connection = sqlx::PgConnection::connect(&admin).await.unwrap();
        sqlx::query(&drop).execute(&mut connection).await.unwrap();
    });
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
