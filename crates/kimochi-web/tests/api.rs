//! The HTTP API as a client sees it: a real router over a real SQLite store in a temp file,
//! driven through `tower::ServiceExt::oneshot`.

// Tests may panic on the unexpected and read the clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use kimochi_domain::*;
use kimochi_store::Store;
use kimochi_web::{AppState, WebConfig, auth, openapi, router};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tower::ServiceExt;

struct App {
    router: axum::Router,
    store: Arc<dyn Store>,
    dir: std::path::PathBuf,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
    text: String,
}

/// The PostgreSQL server the tests use; each test creates its own database and drops it.
fn postgres_admin_url() -> String {
    std::env::var("KIMOCHI_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

async fn postgres_admin() -> sqlx::PgConnection {
    use sqlx::Connection;
    let url = postgres_admin_url();
    sqlx::PgConnection::connect(&url)
        .await
        .unwrap_or_else(|error| panic!("PostgreSQL is required for this test and is not reachable at {url}: {error}"))
}

impl App {
    /// The application over a fresh PostgreSQL database; returns the database's name to drop.
    async fn postgres(name: &str) -> (App, String) {
        let database = format!("kimochi_test_web_{}_{name}", std::process::id());
        let mut admin = postgres_admin().await;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).execute(&mut admin).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {database}")).execute(&mut admin).await.unwrap();
        let (base, _) = postgres_admin_url().rsplit_once('/').map(|(b, d)| (b.to_owned(), d.to_owned())).unwrap();
        let store = kimochi_store::open(&format!("{base}/{database}")).await.unwrap();
        let router = router(AppState::new(store.clone(), WebConfig::default()));
        (App { router, store, dir: std::env::temp_dir().join(&database) }, database)
    }

    async fn new(name: &str) -> App {
        App::with_config(name, WebConfig::default()).await
    }

    async fn with_config(name: &str, config: WebConfig) -> App {
        let dir = std::env::temp_dir().join(format!("kimochi_web_{}_{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = kimochi_store::open(&format!("sqlite://{}", dir.join("kimochi.db").display())).await.unwrap();
        let router = router(AppState::new(store.clone(), config));
        App { router, store, dir }
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, headers, body, text }
    }

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
        self.send(request).await
    }

    async fn tenant(&self, slug: &str) -> TenantId {
        self.store.tenant_create(&TenantSlug::parse(slug).unwrap(), slug, OffsetDateTime::now_utc()).await.unwrap().id
    }

    async fn token(&self, tenant: TenantId, role: Role) -> String {
        let (token, hash) = auth::new_api_token();
        self.store.api_token_create(tenant, role, "test", &hash, OffsetDateTime::now_utc()).await.unwrap();
        token
    }
}

fn customer_body(external_id: &str, name: &str, kana: &str, phone: &str) -> Value {
    json!({
        "external_id": external_id, "name": name, "kana": kana, "phones": [phone], "emails": [format!("{external_id}@example.jp")],
        "birth_date": "1975-04-01", "gender": "female", "prefecture": "東京", "address": "東京都港区1-2-3",
        "consent": { "phone": true, "email": true, "dm": false }, "ad_medium": "TV通販", "attributes": { "肌タイプ": "乾燥肌" }
    })
}

/// Creates, through the API, one record of every kind in a tenant, and returns their ids.
async fn seed(app: &App, token: &str) -> Value {
    let customer = app
        .call(
            Method::POST,
            "/api/v1/customers",
            Some(token),
            Some(customer_body("C001", "山田 花子", "やまだ はなこ", "０３（１２３４）５６７８")),
        )
        .await;
    assert_eq!(customer.status, StatusCode::CREATED, "{}", customer.text);
    let customer_id = customer.body["id"].as_i64().unwrap();
    let product = app
        .call(
            Method::POST,
            "/api/v1/products",
            Some(token),
            Some(json!({"external_id": "P1", "name": "うるおい美容液", "kind": "subscription", "price": 4980})),
        )
        .await;
    assert_eq!(product.status, StatusCode::CREATED, "{}", product.text);
    let product_id = product.body["id"].as_i64().unwrap();
    let order = app.call(Method::POST, &format!("/api/v1/customers/{customer_id}/orders"), Some(token), Some(json!({"ordered_at": "2026-10-01 10:00", "is_subscription": true, "lines": [{"product_id": product_id, "amount": 4980}]}))).await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.text);
    let contact = app.call(Method::POST, &format!("/api/v1/customers/{customer_id}/contacts"), Some(token), Some(json!({"channel": "sns", "direction": "inbound", "text": "最近肌の調子がいいです", "started_at": "2026-10-02 09:00"}))).await;
    assert_eq!(contact.status, StatusCode::CREATED, "{}", contact.text);
    let kimochi = app
        .call(
            Method::POST,
            &format!("/api/v1/customers/{customer_id}/kimochi"),
            Some(token),
            Some(json!({"kind": "expectation", "text": "乾燥小じわが気になりテレビを見て購入"})),
        )
        .await;
    assert_eq!(kimochi.status, StatusCode::CREATED, "{}", kimochi.text);
    let handover = app
        .call(
            Method::POST,
            &format!("/api/v1/customers/{customer_id}/handover-notes"),
            Some(token),
            Some(json!({"kind": "caution", "text": "17時以降に架電希望"})),
        )
        .await;
    assert_eq!(handover.status, StatusCode::CREATED, "{}", handover.text);
    let faq = app
        .call(
            Method::POST,
            "/api/v1/faq",
            Some(token),
            Some(json!({"title": "定期便の解約", "body": "お電話で承ります。"})),
        )
        .await;
    assert_eq!(faq.status, StatusCode::CREATED, "{}", faq.text);
    let word = app
        .call(
            Method::POST,
            "/api/v1/crisis-words",
            Some(token),
            Some(json!({"phrase": "返金しろ", "severity": "high"})),
        )
        .await;
    assert_eq!(word.status, StatusCode::CREATED, "{}", word.text);
    // Another customer's contact raises an alert (so the first customer's history stays as it is).
    let other = app
        .call(
            Method::POST,
            "/api/v1/customers",
            Some(token),
            Some(customer_body("C002", "鈴木 次郎", "すずき じろう", "06-1111-2222")),
        )
        .await;
    let other_id = other.body["id"].as_i64().unwrap();
    let angry = app
        .call(
            Method::POST,
            &format!("/api/v1/customers/{other_id}/contacts"),
            Some(token),
            Some(json!({"channel": "phone", "direction": "inbound", "text": "早く返金しろ"})),
        )
        .await;
    assert_eq!(angry.body["crisis_words"], 1, "{}", angry.text);
    let alerts = app.call(Method::GET, "/api/v1/alerts", Some(token), None).await;
    assert_eq!(alerts.body["alerts"].as_array().map(Vec::len), Some(1), "{}", alerts.text);
    let webhook =
        app.call(Method::POST, "/api/v1/webhooks", Some(token), Some(json!({"url": "http://127.0.0.1:9/seed"}))).await;
    assert_eq!(webhook.status, StatusCode::CREATED, "{}", webhook.text);
    let campaign_body = json!({"name": "ケア", "customer_ids": [customer_id], "steps": [{"kind": "wait", "days": 3}]});
    let campaign = app.call(Method::POST, "/api/v1/campaigns", Some(token), Some(campaign_body)).await;
    assert_eq!(campaign.status, StatusCode::CREATED, "{}", campaign.text);
    let segment = app
        .call(
            Method::POST,
            "/api/v1/segments",
            Some(token),
            Some(json!({"name": "定期顧客", "rule": {"field": "stage", "op": "in", "value": ["subscription"]}})),
        )
        .await;
    assert_eq!(segment.status, StatusCode::CREATED, "{}", segment.text);
    let hearing_set =
        app.call(Method::POST, "/api/v1/hearing-sets", Some(token), Some(hearing::set_body("基本"))).await;
    assert_eq!(hearing_set.status, StatusCode::CREATED, "{}", hearing_set.text);
    json!({
        "customer": customer_id, "product": product_id, "order": order.body["id"], "contact": contact.body["id"],
        "faq": faq.body["id"], "name": "山田 花子", "crisis_word": word.body["id"], "alert": alerts.body["alerts"][0]["id"],
        "webhook": webhook.body["id"], "campaign": campaign.body["id"], "segment": segment.body["id"], "hearing_set": hearing_set.body["id"],
    })
}

/// A valid body for an operation, so that a 404 is about the id and not about the body.
fn body_for(method: &str, path: &str, ids: &Value) -> Option<Value> {
    match (method, path) {
        ("POST", "/api/v1/customers") | ("PUT", "/api/v1/customers/{id}") => {
            Some(customer_body("C900", "佐藤 一郎", "サトウ イチロウ", "090-9999-8888"))
        }
        ("POST", "/api/v1/customers/{id}/orders") => {
            Some(json!({"lines": [{"product_id": ids["product"], "amount": 100}]}))
        }
        ("POST", "/api/v1/customers/{id}/contacts") => {
            Some(json!({"channel": "phone", "direction": "inbound", "text": "問い合わせ"}))
        }
        ("POST", "/api/v1/customers/{id}/kimochi") => Some(json!({"kind": "gap", "text": "期待と違う"})),
        ("POST", "/api/v1/customers/{id}/handover-notes") => Some(json!({"kind": "handover", "text": "折り返し待ち"})),
        ("POST", "/api/v1/products") => Some(json!({"name": "x", "kind": "main", "price": 1})),
        ("POST", "/api/v1/faq") | ("PUT", "/api/v1/faq/{id}") => Some(json!({"title": "t", "body": "b"})),
        ("POST", "/api/v1/crisis-words") | ("PUT", "/api/v1/crisis-words/{id}") => {
            Some(json!({"phrase": "別の語", "severity": "low"}))
        }
        ("POST", "/api/v1/webhooks") => Some(json!({"url": "http://127.0.0.1:9/other"})),
        ("POST", "/api/v1/customers/{id}/emails") => Some(json!({"subject": "ご案内", "body": "本文"})),
        ("PUT", "/api/v1/campaigns/{id}") => Some(json!({"name": "x"})),
        ("POST", "/api/v1/campaigns/{id}/calls/{task}/outcome") => Some(json!({"outcome": "reached"})),
        ("POST", "/api/v1/segments") | ("PUT", "/api/v1/segments/{id}") => {
            Some(json!({"name": "別の名前", "rule": {"field": "has_phone", "op": "eq", "value": true}}))
        }
        ("POST", "/api/v1/segments/count") => Some(json!({"rule": {"field": "has_phone", "op": "eq", "value": true}})),
        ("POST", "/api/v1/hearing-sets") | ("PUT", "/api/v1/hearing-sets/{id}") => Some(hearing::set_body("別セット")),
        _ => None,
    }
}

/// Which of the other tenant's ids goes into `{id}` for a path.
fn id_for(path: &str, ids: &Value) -> i64 {
    let key = if path.starts_with("/api/v1/customers") {
        "customer"
    } else if path.starts_with("/api/v1/orders") {
        "order"
    } else if path.starts_with("/api/v1/contacts") {
        "contact"
    } else if path.starts_with("/api/v1/products") {
        "product"
    } else if path.starts_with("/api/v1/faq") {
        "faq"
    } else if path.starts_with("/api/v1/crisis-words") {
        "crisis_word"
    } else if path.starts_with("/api/v1/alerts") {
        "alert"
    } else if path.starts_with("/api/v1/webhooks") {
        "webhook"
    } else if path.starts_with("/api/v1/campaigns") {
        "campaign"
    } else if path.starts_with("/api/v1/segments") {
        "segment"
    } else if path.starts_with("/api/v1/hearing-sets") {
        "hearing_set"
    } else {
        panic!("no id kind for {path}")
    };
    ids[key].as_i64().unwrap()
}

#[tokio::test]
async fn every_route_answers_another_tenants_ids_with_404() {
    walk_every_route_as_another_tenant(App::new("cross_tenant").await).await;
}

#[tokio::test]
async fn every_route_answers_another_tenants_ids_with_404_on_postgres() {
    let (app, database) = App::postgres("cross_tenant").await;
    // In its own task, so that a failed assertion still lets us drop the database.
    let outcome = tokio::spawn(walk_every_route_as_another_tenant(app)).await;
    let mut admin = postgres_admin().await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).execute(&mut admin).await.unwrap();
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

async fn walk_every_route_as_another_tenant(app: App) {
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;
    let a_token = app.token(a, Role::Admin).await;
    let b_token = app.token(b, Role::Admin).await;
    let ids = seed(&app, &a_token).await;
    let operations = openapi::operations();
    assert!(operations.len() >= 25, "the OpenAPI document lists every operation: {operations:?}");
    let mut walked = 0;
    for (method, path) in &operations {
        if !path.contains("{id}") {
            continue;
        }
        let uri = path.replace("{id}", &id_for(path, &ids).to_string()).replace("{task}", "1");
        let reply = app.call(method.parse().unwrap(), &uri, Some(&b_token), body_for(method, path, &ids)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {uri} as another tenant: {}", reply.text);
        assert!(reply.body["error"]["code"].as_str().unwrap().ends_with("not_found"), "{method} {uri}: {}", reply.text);
        walked += 1;
    }
    assert!(walked >= 18, "walked {walked} routes with ids");
    // Routes without ids only ever show the caller's own tenant.
    let search = app.call(Method::GET, "/api/v1/customers?q=やまだ", Some(&b_token), None).await;
    assert_eq!(search.body["customers"], json!([]));
    let search = app.call(Method::GET, "/api/v1/customers?q=0312345678", Some(&b_token), None).await;
    assert_eq!(search.body["customers"], json!([]));
    for list in [
        "/api/v1/products",
        "/api/v1/faq",
        "/api/v1/users",
        "/api/v1/crisis-words",
        "/api/v1/alerts",
        "/api/v1/webhooks",
        "/api/v1/hearing-sets",
    ] {
        let reply = app.call(Method::GET, list, Some(&b_token), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{list}");
        let items = reply.body.as_object().unwrap().values().next().unwrap();
        assert_eq!(items, &json!([]), "{list} as tenant b: {}", reply.text);
    }
    // Tenant a's data is intact after all those attempts.
    let karte =
        app.call(Method::GET, &format!("/api/v1/customers/{}/karte", ids["customer"]), Some(&a_token), None).await;
    assert_eq!(karte.status, StatusCode::OK);
    assert_eq!(karte.body["customer"]["name"], "山田 花子");
    assert_eq!(karte.body["stats"]["order_count"], 1);
    assert_eq!(karte.body["kimochi_timeline"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn every_api_route_requires_authentication() {
    let app = App::new("unauthenticated").await;
    for (method, path) in openapi::operations() {
        let uri = path.replace("{id}", "1").replace("{task}", "1");
        let reply = app.call(method.parse().unwrap(), &uri, None, None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {uri}: {}", reply.text);
        assert_eq!(reply.body["error"]["code"], "auth.required");
        let reply = app.call(method.parse().unwrap(), &uri, Some("kmc_forged"), None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {uri} with a forged token");
    }
}

#[tokio::test]
async fn karte_search_and_audit() {
    let app = App::new("karte").await;
    let t = app.tenant("acme").await;
    let token = app.token(t, Role::Agent).await;
    let admin = app.token(t, Role::Admin).await;
    let ids = seed(&app, &admin).await;
    for q in ["やまだ", "ヤマダ ハナコ", "03-1234-5678", "０３１２３４５６７８", "C001@example.jp", "C001"]
    {
        let reply = app.call(Method::GET, &format!("/api/v1/customers?q={}", urlencode(q)), Some(&token), None).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body["customers"][0]["id"], ids["customer"], "search {q:?}: {}", reply.text);
    }
    let karte =
        app.call(Method::GET, &format!("/api/v1/customers/{}/karte", ids["customer"]), Some(&token), None).await;
    assert_eq!(karte.status, StatusCode::OK, "{}", karte.text);
    let body = &karte.body;
    assert_eq!(body["customer"]["phones"], json!(["03-1234-5678"]));
    assert_eq!(body["customer"]["kana"], "ヤマダ ハナコ");
    assert_eq!(body["customer"]["prefecture"], "東京都");
    assert_eq!(body["cautions"][0]["text"], "17時以降に架電希望");
    assert_eq!(body["purchases"][0]["product_name"], "うるおい美容液");
    assert_eq!(body["purchases"][0]["total_amount"], 4980);
    assert_eq!(body["threads"][0]["channels"], json!(["sns"]));
    assert_eq!(body["stats"]["last_contact_at"], "2026-10-02T09:00:00+09:00");
    // A phone reply to the SNS post joins its thread.
    let reply = app
        .call(Method::POST, &format!("/api/v1/customers/{}/contacts", ids["customer"]), Some(&token), Some(json!({"channel": "phone", "direction": "outbound", "thread_of": ids["contact"], "outcome": "resolved", "text": "お電話で回答"})))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.body["thread_id"], ids["contact"]);
    let karte =
        app.call(Method::GET, &format!("/api/v1/customers/{}/karte", ids["customer"]), Some(&token), None).await;
    assert_eq!(karte.body["threads"].as_array().unwrap().len(), 1);
    assert_eq!(karte.body["threads"][0]["channels"], json!(["phone", "sns"]));
    // Every read of personal data is in the audit log.
    let audit = app.call(Method::GET, "/api/v1/audit", Some(&admin), None).await;
    let actions: Vec<&str> =
        audit.body["audit"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "karte.read").count(), 2, "{actions:?}");
    assert_eq!(actions.iter().filter(|a| **a == "customers.search").count(), 6);
    // Only admins read the audit log.
    assert_eq!(app.call(Method::GET, "/api/v1/audit", Some(&token), None).await.status, StatusCode::FORBIDDEN);
}

#[path = "api/alerts.rs"]
mod alerts;

#[path = "api/campaigns.rs"]
mod campaigns;
#[path = "api/care_campaign.rs"]
mod care_campaign;
#[path = "api/email.rs"]
mod email;
#[path = "api/hearing.rs"]
mod hearing;
#[path = "api/lexicon.rs"]
mod lexicon;
#[path = "api/segments.rs"]
mod segments;
#[path = "support/smtp_sink.rs"]
mod smtp_sink;

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'.' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn analysts_see_masked_personal_data_and_cannot_write() {
    let app = App::new("analyst").await;
    let t = app.tenant("acme").await;
    let admin = app.token(t, Role::Admin).await;
    let analyst = app.token(t, Role::Analyst).await;
    let ids = seed(&app, &admin).await;
    let customer = app.call(Method::GET, &format!("/api/v1/customers/{}", ids["customer"]), Some(&analyst), None).await;
    assert_eq!(customer.body["phones"], json!(["***-****-5678"]));
    assert_eq!(customer.body["emails"], json!(["C***@example.jp"]));
    assert_eq!(customer.body["birth_date"], "1975-**-**");
    assert_eq!(customer.body["address"], "***");
    assert_eq!(customer.body["masked"], true);
    assert!(!customer.text.contains("1234-5678") && !customer.text.contains("港区"), "{}", customer.text);
    let karte =
        app.call(Method::GET, &format!("/api/v1/customers/{}/karte", ids["customer"]), Some(&analyst), None).await;
    assert_eq!(karte.body["customer"]["phones"], json!(["***-****-5678"]));
    let search = app.call(Method::GET, "/api/v1/customers?q=03-1234-5678", Some(&analyst), None).await;
    assert_eq!(search.body["customers"][0]["phones"], json!(["***-****-5678"]));
    let write = app
        .call(
            Method::POST,
            &format!("/api/v1/customers/{}/kimochi", ids["customer"]),
            Some(&analyst),
            Some(json!({"kind": "gap", "text": "x"})),
        )
        .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN);
    assert_eq!(write.body["error"]["code"], "auth.forbidden");
}

#[tokio::test]
async fn consent_and_do_not_call_are_enforced() {
    let app = App::new("consent").await;
    let t = app.tenant("acme").await;
    let token = app.token(t, Role::Agent).await;
    let mut body = customer_body("C1", "鈴木 一郎", "スズキ イチロウ", "090-1111-2222");
    body["do_not_call"] = json!(true);
    body["consent"] = json!({"phone": true, "email": false, "dm": false});
    let customer = app.call(Method::POST, "/api/v1/customers", Some(&token), Some(body)).await;
    let id = customer.body["id"].as_i64().unwrap();
    let call = app
        .call(
            Method::POST,
            &format!("/api/v1/customers/{id}/contacts"),
            Some(&token),
            Some(json!({"channel": "phone", "direction": "outbound", "text": "ご案内"})),
        )
        .await;
    assert_eq!(call.status, StatusCode::CONFLICT, "{}", call.text);
    assert_eq!(call.body["error"]["code"], "consent.do_not_call");
    let mail = app
        .call(
            Method::POST,
            &format!("/api/v1/customers/{id}/contacts"),
            Some(&token),
            Some(json!({"channel": "email", "direction": "outbound", "text": "ご案内"})),
        )
        .await;
    assert_eq!(mail.body["error"]["code"], "consent.missing");
    // The customer may still call in.
    let inbound = app
        .call(
            Method::POST,
            &format!("/api/v1/customers/{id}/contacts"),
            Some(&token),
            Some(json!({"channel": "phone", "direction": "inbound", "text": "問い合わせ"})),
        )
        .await;
    assert_eq!(inbound.status, StatusCode::CREATED);
    assert_eq!(inbound.body["polarity"], "neutral", "{}", inbound.text);
    // Every recorded contact is read by the text engine; its tags come back with it and count
    // into the customer's kimochi signals.
    let voice = app
        .call(
            Method::POST,
            &format!("/api/v1/customers/{id}/contacts"),
            Some(&token),
            Some(json!({"channel": "phone", "direction": "inbound",
                        "text": "とても気に入っていて、友達にも勧めました。ただ最悪なのは配送が遅いことです。"})),
        )
        .await;
    assert_eq!(voice.status, StatusCode::CREATED, "{}", voice.text);
    let kimochi: Vec<&str> = voice.body["kimochi"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
    assert!(kimochi.contains(&"advocacy"), "{}", voice.text);
    assert_eq!(voice.body["crisis_words"], 1, "「最悪」 is a built-in crisis word: {}", voice.text);
    let listed = app.call(Method::GET, &format!("/api/v1/customers/{id}/contacts"), Some(&token), None).await;
    assert_eq!(listed.body["contacts"].as_array().unwrap().len(), 2, "refused contacts are not written");
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_writes_nothing() {
    let app = App::new("bad_input").await;
    let t = app.tenant("acme").await;
    let token = app.token(t, Role::Admin).await;
    let check = |status: StatusCode, code: &'static str, field: Option<&'static str>| {
        move |reply: Reply| {
            assert_eq!(reply.status, status, "{}", reply.text);
            assert_eq!(reply.body["error"]["code"], code, "{}", reply.text);
            if let Some(field) = field {
                assert_eq!(reply.body["error"]["field"], field, "{}", reply.text);
            }
            assert!(reply.body["error"]["request_id"].as_str().is_some_and(|id| !id.is_empty()));
            assert!(reply.headers.contains_key("x-request-id"));
        }
    };
    let raw = |body: &str| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/v1/customers")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    check(StatusCode::BAD_REQUEST, "request.invalid_json", None)(app.send(raw("{\"name\": ")).await);
    check(StatusCode::UNPROCESSABLE_ENTITY, "request.invalid_body", None)(app.send(raw("{\"name\": 5}")).await);
    check(StatusCode::UNPROCESSABLE_ENTITY, "request.invalid_body", None)(
        app.send(raw("{\"name\": \"x\", \"evil\": true}")).await,
    );
    let mut bad = customer_body("C1", "山田", "ヤマダ", "03-1234-5678");
    bad["phones"] = json!(["03-1234-5678 内線"]);
    check(StatusCode::UNPROCESSABLE_ENTITY, "validation.invalid", Some("phone"))(
        app.call(Method::POST, "/api/v1/customers", Some(&token), Some(bad)).await,
    );
    let mut bad = customer_body("C1", "山田", "ヤマダ", "03-1234-5678");
    bad["birth_date"] = json!("20224-01-01");
    check(StatusCode::UNPROCESSABLE_ENTITY, "validation.invalid", Some("birth_date"))(
        app.call(Method::POST, "/api/v1/customers", Some(&token), Some(bad)).await,
    );
    let mut bad = customer_body("C1", "山田", "ヤマダ", "03-1234-5678");
    bad["gender"] = json!("robot");
    check(StatusCode::UNPROCESSABLE_ENTITY, "validation.invalid", Some("gender"))(
        app.call(Method::POST, "/api/v1/customers", Some(&token), Some(bad)).await,
    );
    let huge = json!({"name": "x".repeat(kimochi_web::MAX_BODY_BYTES + 10)});
    check(StatusCode::PAYLOAD_TOO_LARGE, "request.too_large", None)(
        app.call(Method::POST, "/api/v1/customers", Some(&token), Some(huge)).await,
    );
    let customer = app
        .call(
            Method::POST,
            "/api/v1/customers",
            Some(&token),
            Some(customer_body("C1", "山田", "ヤマダ", "03-1234-5678")),
        )
        .await;
    let id = customer.body["id"].as_i64().unwrap();
    check(StatusCode::CONFLICT, "conflict", None)(
        app.call(
            Method::POST,
            "/api/v1/customers",
            Some(&token),
            Some(customer_body("C1", "別人", "ベツジン", "03-1234-0000")),
        )
        .await,
    );
    let order = |lines: Value| json!({"lines": lines});
    check(StatusCode::UNPROCESSABLE_ENTITY, "validation.invalid", Some("amount"))(
        app.call(
            Method::POST,
            &format!("/api/v1/customers/{id}/orders"),
            Some(&token),
            Some(order(json!([{"product_id": 1, "amount": 1_000_000_000_000i64}]))),
        )
        .await,
    );
    check(StatusCode::UNPROCESSABLE_ENTITY, "validation.invalid", Some("lines"))(
        app.call(Method::POST, &format!("/api/v1/customers/{id}/orders"), Some(&token), Some(order(json!([])))).await,
    );
    check(StatusCode::UNPROCESSABLE_ENTITY, "reference.unknown", None)(
        app.call(
            Method::POST,
            &format!("/api/v1/customers/{id}/orders"),
            Some(&token),
            Some(order(json!([{"product_id": 424242, "amount": 100}]))),
        )
        .await,
    );
    check(StatusCode::UNPROCESSABLE_ENTITY, "validation.invalid", Some("outcome"))(
        app.call(
            Method::POST,
            &format!("/api/v1/customers/{id}/contacts"),
            Some(&token),
            Some(json!({"channel": "phone", "direction": "inbound", "outcome": "maybe"})),
        )
        .await,
    );
    check(StatusCode::NOT_FOUND, "not_found", None)(
        app.call(Method::GET, "/api/v1/customers/abc", Some(&token), None).await,
    );
    check(StatusCode::NOT_FOUND, "route.not_found", None)(
        app.call(Method::GET, "/api/v1/nothing", Some(&token), None).await,
    );
    check(StatusCode::METHOD_NOT_ALLOWED, "route.method_not_allowed", None)(
        app.call(Method::PATCH, "/api/v1/customers", Some(&token), None).await,
    );
    // Messages follow Accept-Language; codes do not.
    let request = Request::builder()
        .uri("/api/v1/customers/999999")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9")
        .body(Body::empty())
        .unwrap();
    let reply = app.send(request).await;
    assert_eq!(reply.body["error"]["message"], "customer not found");
    let reply = app.call(Method::GET, "/api/v1/customers/999999", Some(&token), None).await;
    assert_eq!(reply.body["error"]["message"], "見つかりません。");
    // Nothing of the above was written, and the server still serves.
    assert_eq!(app.store.tenant_counts(t).await.unwrap().customers, 1);
    assert_eq!(app.store.tenant_counts(t).await.unwrap().orders, 0);
    assert_eq!(app.call(Method::GET, "/healthz", None, None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn people_log_in_with_a_form_and_csrf_protects_their_writes() {
    let app = App::new("login").await;
    let t = app.tenant("acme").await;
    let hash = auth::hash_password("kimochi-pass").unwrap();
    app.store
        .user_create(
            t,
            &NewUser {
                login: "op01".into(),
                display_name: "佐藤 美咲".into(),
                role: Role::Agent,
                team_id: None,
                password_hash: hash,
            },
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();

    let form = app.send(Request::builder().uri("/login").body(Body::empty()).unwrap()).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.text.contains("<form method=\"post\" action=\"/login\">"));
    let csrf_cookie = form.headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    let csrf = csrf_cookie.split_once('=').unwrap().1.to_owned();
    let login = |password: &str, csrf_field: &str| {
        Request::builder()
            .method(Method::POST)
            .uri("/login")
            .header(header::COOKIE, &csrf_cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf={csrf_field}&tenant=acme&login=op01&password={password}")))
            .unwrap()
    };
    assert_eq!(app.send(login("wrong", &csrf)).await.status, StatusCode::UNAUTHORIZED);
    // One wrong password is forgiven by a right one: a success clears the failures.
    assert_eq!(app.send(login("kimochi-pass", "forged")).await.status, StatusCode::FORBIDDEN);
    let ok = app.send(login("kimochi-pass", &csrf)).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let session_cookie = ok.headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    assert!(ok.headers[header::SET_COOKIE].to_str().unwrap().contains("HttpOnly"));

    let with_session = |method: Method, uri: &str, csrf: Option<&str>, body: Option<Value>| {
        let mut request = Request::builder().method(method).uri(uri).header(header::COOKIE, &session_cookie);
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        match body {
            Some(body) => {
                request.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())).unwrap()
            }
            None => request.body(Body::empty()).unwrap(),
        }
    };
    let session = app.send(with_session(Method::GET, "/api/v1/session", None, None)).await;
    assert_eq!(session.status, StatusCode::OK, "{}", session.text);
    assert_eq!(session.body["role"], "agent");
    let session_csrf = session.body["csrf_token"].as_str().unwrap().to_owned();
    let home = app.send(with_session(Method::GET, "/", None, None)).await;
    assert!(home.text.contains("佐藤 美咲"), "{}", home.text);

    let body = customer_body("C1", "山田", "ヤマダ", "03-1234-5678");
    let refused = app.send(with_session(Method::POST, "/api/v1/customers", None, Some(body.clone()))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.body["error"]["code"], "auth.csrf");
    let created = app.send(with_session(Method::POST, "/api/v1/customers", Some(&session_csrf), Some(body))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);

    let logout = Request::builder()
        .method(Method::POST)
        .uri("/logout")
        .header(header::COOKIE, &session_cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={session_csrf}")))
        .unwrap();
    assert_eq!(app.send(logout).await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.send(with_session(Method::GET, "/api/v1/session", None, None)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn health_openapi_and_metrics() {
    let app = App::new("meta").await;
    let health = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.body, json!({"status": "ok", "engine": "sqlite"}));
    let document = app.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(document.body["openapi"], "3.1.0");
    assert!(document.body["paths"]["/api/v1/customers/{id}/karte"]["get"].is_object());
    let metrics = app.call(Method::GET, "/metrics", None, None).await;
    assert!(
        metrics.text.contains("kimochi_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1"),
        "{}",
        metrics.text
    );
    assert!(metrics.text.contains("kimochi_http_request_duration_seconds_bucket{le="), "{}", metrics.text);
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_account() {
    let app = App::new("throttle").await;
    let t = app.tenant("acme").await;
    let hash = auth::hash_password("kimochi-pass").unwrap();
    app.store
        .user_create(
            t,
            &NewUser {
                login: "op01".into(),
                display_name: "佐藤".into(),
                role: Role::Agent,
                team_id: None,
                password_hash: hash,
            },
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    let login = |password: &str| {
        Request::builder()
            .method(Method::POST)
            .uri("/login")
            .header(header::COOKIE, "kimochi_login_csrf=c0ffee")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf=c0ffee&tenant=acme&login=op01&password={password}")))
            .unwrap()
    };
    for attempt in 1..=4 {
        assert_eq!(app.send(login("guess")).await.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    assert_eq!(app.send(login("guess")).await.status, StatusCode::TOO_MANY_REQUESTS);
    let locked = app.send(login("kimochi-pass")).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits out the lockout");
    assert!(locked.text.contains("15分間"));
    assert!(
        !locked.headers.get_all(header::SET_COOKIE).iter().any(|c| c.to_str().unwrap().starts_with("kimochi_session="))
    );
}

/// `GET /api/v1/search/{faq,voc}?…` with the query text URL-encoded.
fn search_uri(kind: &str, q: &str, rest: &str) -> String {
    format!("/api/v1/search/{kind}?q={}{rest}", urlencode(q))
}

#[tokio::test]
async fn faq_search_follows_crud_and_stays_in_its_tenant() {
    let app = App::new("faq_search").await;
    let a = app.tenant("acme").await;
    let b = app.tenant("beta").await;
    let (a_admin, b_admin) = (app.token(a, Role::Admin).await, app.token(b, Role::Admin).await);
    let a_agent = app.token(a, Role::Agent).await;
    let created = app
        .call(Method::POST, "/api/v1/faq", Some(&a_admin), Some(json!({"title": "定期便の解約方法", "body": "マイページの「定期便の変更」から<b>解約</b>できます。", "tags": ["定期"]})))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.body["id"].as_i64().unwrap();
    app.call(
        Method::POST,
        "/api/v1/faq",
        Some(&b_admin),
        Some(json!({"title": "B社の解約", "body": "お電話で承ります"})),
    )
    .await;

    let reply = app.call(Method::GET, &search_uri("faq", "解約", ""), Some(&a_agent), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let hits = reply.body["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "tenant a sees only its own article: {}", reply.text);
    assert_eq!(hits[0]["id"], id);
    assert_eq!(hits[0]["title_snippet"]["html"], "定期便の<mark>解約</mark>方法");
    let body_html = hits[0]["snippet"]["html"].as_str().unwrap();
    assert!(body_html.contains("&lt;b&gt;<mark>解約</mark>&lt;/b&gt;"), "escaped, matches marked: {body_html}");
    // Base forms and bigrams: 「解約したい」 finds 「解約」, half-width katakana finds the page name.
    for q in ["解約したい", "ﾏｲﾍﾟｰｼﾞ", "定期便 変更"] {
        let reply = app.call(Method::GET, &search_uri("faq", q, ""), Some(&a_agent), None).await;
        assert_eq!(reply.body["hits"][0]["id"], id, "{q}: {}", reply.text);
    }
    // Tenant b never sees tenant a's article.
    let reply = app.call(Method::GET, &search_uri("faq", "定期便", ""), Some(&b_admin), None).await;
    assert_eq!(reply.body["hits"], json!([]), "{}", reply.text);

    // Updates and deletes are searchable at once.
    let updated = app
        .call(
            Method::PUT,
            &format!("/api/v1/faq/{id}"),
            Some(&a_admin),
            Some(json!({"title": "お届け日の変更", "body": "次回お届け日はマイページで変更できます"})),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    let reply = app.call(Method::GET, &search_uri("faq", "解約", ""), Some(&a_agent), None).await;
    assert_eq!(reply.body["hits"], json!([]));
    let reply = app.call(Method::GET, &search_uri("faq", "お届け日", ""), Some(&a_agent), None).await;
    assert_eq!(reply.body["hits"][0]["id"], id);
    assert_eq!(
        app.call(Method::DELETE, &format!("/api/v1/faq/{id}"), Some(&a_admin), None).await.status,
        StatusCode::NO_CONTENT
    );
    let reply = app.call(Method::GET, &search_uri("faq", "お届け日", ""), Some(&a_agent), None).await;
    assert_eq!(reply.body["hits"], json!([]));
}

#[tokio::test]
async fn voc_search_filters_masks_for_analysts_and_is_audited() {
    let app = App::new("voc_search").await;
    let a = app.tenant("acme").await;
    let b = app.tenant("beta").await;
    let admin = app.token(a, Role::Admin).await;
    let agent = app.token(a, Role::Agent).await;
    let analyst = app.token(a, Role::Analyst).await;
    let other = app.token(b, Role::Admin).await;
    let ids = seed(&app, &admin).await;
    let customer = ids["customer"].as_i64().unwrap();
    let text = "<script>alert(1)</script>ローションが合わないので解約したいです。090-1234-5678に折り返してください";
    let contact = app
        .call(
            Method::POST,
            &format!("/api/v1/customers/{customer}/contacts"),
            Some(&agent),
            Some(json!({"channel": "email", "direction": "inbound", "started_at": "2026-10-05 10:00", "text": text})),
        )
        .await;
    assert_eq!(contact.status, StatusCode::CREATED, "{}", contact.text);
    let contact_id = contact.body["id"].as_i64().unwrap();
    let kind = contact.body["kimochi"][0].as_str().expect("the text engine tags this text").to_owned();

    let reply = app.call(Method::GET, &search_uri("voc", "ローション 解約", ""), Some(&agent), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let hit = &reply.body["hits"][0];
    assert_eq!(hit["contact_id"], contact_id, "{}", reply.text);
    assert_eq!(hit["customer_id"], customer);
    assert_eq!(hit["channel"], "email");
    assert_eq!(hit["masked"], false);
    let html = hit["snippet"]["html"].as_str().unwrap();
    assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"), "{html}");
    assert!(html.contains("<mark>ローション</mark>") && html.contains("090-1234-5678"), "{html}");
    // Analysts see the text with personal data masked.
    let reply = app.call(Method::GET, &search_uri("voc", "ローション", ""), Some(&analyst), None).await;
    let hit = &reply.body["hits"][0];
    assert_eq!(hit["masked"], true);
    assert!(!hit["snippet"]["text"].as_str().unwrap().contains("1234-5678"), "{}", reply.text);
    // Another tenant finds nothing.
    let reply = app.call(Method::GET, &search_uri("voc", "ローション", ""), Some(&other), None).await;
    assert_eq!(reply.body["hits"], json!([]));

    // Filters: period (JST days, both ends included), channel, kimochi kind.
    let found = |reply: &Reply| reply.body["hits"].as_array().map_or(0, Vec::len);
    for (rest, expected) in [
        ("&from=2026-10-05&to=2026-10-05", 1),
        ("&from=2026-10-06", 0),
        ("&to=2026-10-04", 0),
        ("&channel=email", 1),
        ("&channel=phone,sns", 0),
        ("&channel=phone,email", 1),
        (&format!("&kimochi={kind}") as &str, 1),
        ("&kimochi=gratitude", if kind == "gratitude" { 1 } else { 0 }),
    ] {
        let reply = app.call(Method::GET, &search_uri("voc", "ローション", rest), Some(&agent), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{rest}: {}", reply.text);
        assert_eq!(found(&reply), expected, "{rest}: {}", reply.text);
    }

    // Bad parameters get a clear error; hostile text is just searched.
    for (uri, field) in [
        (search_uri("voc", &"あ".repeat(201), ""), "q"),
        (search_uri("voc", "a", "&limit=0"), "limit"),
        (search_uri("voc", "a", "&limit=51"), "limit"),
        (search_uri("voc", "a", "&channel=telepathy"), "channel"),
        (search_uri("voc", "a", "&kimochi=joy"), "kimochi"),
        (search_uri("voc", "a", "&from=someday"), "from"),
        (search_uri("faq", &"あ".repeat(201), ""), "q"),
    ] {
        let reply = app.call(Method::GET, &uri, Some(&agent), None).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}: {}", reply.text);
        assert_eq!(reply.body["error"]["field"], field, "{uri}: {}", reply.text);
    }
    let reply = app.call(Method::GET, "/api/v1/search/voc?q=a&bogus=1", Some(&agent), None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    for q in ["title:(( AND \"", "*", "\\", "<img src=x onerror=alert(1)>", ""] {
        let reply = app.call(Method::GET, &search_uri("voc", q, ""), Some(&agent), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{q}: {}", reply.text);
        let reply = app.call(Method::GET, &search_uri("faq", q, ""), Some(&agent), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{q}: {}", reply.text);
    }

    // VOC searches are in the audit log.
    let audit = app.call(Method::GET, "/api/v1/audit?limit=500", Some(&admin), None).await;
    let searches = audit.body["audit"].as_array().unwrap().iter().filter(|e| e["action"] == "voc.search").count();
    assert!(searches >= 10, "{}", audit.text);

    // Deleting the customer removes their texts from the index.
    let deleted = app.call(Method::DELETE, &format!("/api/v1/customers/{customer}"), Some(&admin), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    let reply = app.call(Method::GET, &search_uri("voc", "ローション", ""), Some(&agent), None).await;
    assert_eq!(reply.body["hits"], json!([]));
}

/// Adds a contact through the store, with a chosen time (the API stamps new contacts now).
async fn voc_contact(
    app: &App,
    (tenant, customer): (TenantId, CustomerId),
    at: &str,
    direction: Direction,
    outcome: Option<Outcome>,
    reason: Option<&str>,
    text: &str,
) {
    let contact = NewContact {
        external_id: None,
        customer_id: customer,
        channel: Channel::Phone,
        direction,
        started_at: kimochi_domain::datetime::parse_datetime("at", at).unwrap(),
        ended_at: None,
        agent_id: None,
        reason: reason.map(str::to_owned),
        outcome,
        text: text.to_owned(),
        thread_of: None,
        tags: Default::default(),
    };
    app.store.contact_create(tenant, &contact).await.unwrap();
}

/// The three VOC reports: analysts, supervisors and admins read them, agents get 403; a planted
/// lost-order word, an emerging topic and the run's churn drivers come out; another tenant sees
/// none of it; bad dates are answered with the field at fault.
#[tokio::test]
async fn voc_reports_by_role_tenant_and_range() {
    let app = App::new("voc").await;
    let acme = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let customer = app
        .store
        .customer_create(acme, &CustomerProfile::named("山田 花子").unwrap(), OffsetDateTime::now_utc())
        .await
        .unwrap()
        .id;
    for day in 1..=28 {
        let at = |hour: u32| format!("2026-02-{day:02} {hour:02}:00");
        let (lost, won) = if day % 2 == 0 {
            (
                "お値段が高いので今回は見送りたいとのこと。090-1234-5678 まで連絡希望。",
                "効果を実感したので定期便を申し込みたいとのこと。",
            )
        } else {
            ("家族に反対されたとのこと。", "肌の調子が良いので本品を注文したいとのこと。")
        };
        voc_contact(
            &app,
            (acme, customer),
            &at(10),
            Direction::Outbound,
            Some(Outcome::LostOrder),
            Some("本品のご案内"),
            lost,
        )
        .await;
        voc_contact(
            &app,
            (acme, customer),
            &at(11),
            Direction::Outbound,
            Some(Outcome::Ordered),
            Some("本品のご案内"),
            won,
        )
        .await;
        for hour in [12, 13] {
            voc_contact(
                &app,
                (acme, customer),
                &at(hour),
                Direction::Inbound,
                Some(Outcome::Resolved),
                Some("お届け日変更"),
                "次回のお届け日を変更したい。",
            )
            .await;
        }
    }
    // March: the parcels arrive broken.
    for day in 1..=20 {
        for hour in [9, 10] {
            let at = format!("2026-03-{day:02} {hour:02}:00");
            voc_contact(
                &app,
                (acme, customer),
                &at,
                Direction::Inbound,
                Some(Outcome::Escalated),
                Some("配送"),
                "箱が破損して届いた。",
            )
            .await;
            voc_contact(
                &app,
                (acme, customer),
                &at,
                Direction::Inbound,
                Some(Outcome::Resolved),
                Some("お届け日変更"),
                "次回のお届け日を変更したい。",
            )
            .await;
        }
    }
    let summary = json!({"churn": {"subscribers": 100, "churned": 20, "drivers": [
        {"code": "advocate", "label": "推奨意向", "relative_risk": 0.5, "ci_low": 0.4, "ci_high": 0.62, "p_value": 0.001, "customers_with": 30, "churned_with": 3},
        {"code": "expectation_gap", "label": "期待とのギャップ", "relative_risk": 2.9, "ci_low": 2.1, "ci_high": 4.0, "p_value": 0.0001, "customers_with": 20, "churned_with": 9}
    ]}});
    let as_of = kimochi_domain::datetime::parse_date("as_of", "2026-03-31").unwrap();
    app.store.score_run_record(acme, as_of, OffsetDateTime::now_utc(), 1, &summary.to_string()).await.unwrap();

    let analyst = app.token(acme, Role::Analyst).await;
    let agent = app.token(acme, Role::Agent).await;
    let stranger = app.token(other, Role::Admin).await;
    let paths = ["/api/v1/voc/lost-order-reasons", "/api/v1/voc/call-reasons", "/api/v1/voc/churn-drivers"];
    for path in paths {
        let reply = app.call(Method::GET, path, Some(&agent), None).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}: {}", reply.text);
        for role in [Role::Supervisor, Role::Admin] {
            let token = app.token(acme, role).await;
            assert_eq!(
                app.call(Method::GET, path, Some(&token), None).await.status,
                StatusCode::OK,
                "{path} as {role:?}"
            );
        }
    }

    // Without dates: the twelve months up to the latest run's day.
    let lost = app.call(Method::GET, paths[0], Some(&analyst), None).await;
    assert_eq!(lost.status, StatusCode::OK, "{}", lost.text);
    assert_eq!(lost.body["range"], json!({"from": "2025-04-01", "to": "2026-03-31"}));
    assert_eq!((lost.body["lost_contacts"].as_u64(), lost.body["won_contacts"].as_u64()), (Some(28), Some(28)));
    let terms: Vec<&str> = lost.body["terms"].as_array().unwrap().iter().map(|t| t["term"].as_str().unwrap()).collect();
    assert!(terms.iter().take(6).any(|t| t.contains("値段")) && terms.contains(&"反対"), "{terms:?}");
    assert!(
        !terms.iter().any(|t| t.contains("効果") || t.contains("注文")),
        "won words are not lost-order reasons: {terms:?}"
    );
    let price = lost.body["terms"].as_array().unwrap().iter().find(|t| t["term"] == "値段").unwrap();
    assert_eq!((price["lost"].as_u64(), price["won"].as_u64()), (Some(14), Some(0)));
    let examples = price["examples"].as_array().unwrap();
    assert_eq!(examples.len(), 3);
    assert!(
        examples.iter().all(|e| e.as_str().unwrap().contains("[電話番号]") && !e.as_str().unwrap().contains("1234"))
    );

    // A report is served again for ten minutes; another range is computed afresh.
    voc_contact(
        &app,
        (acme, customer),
        "2026-03-30 10:00",
        Direction::Outbound,
        Some(Outcome::LostOrder),
        None,
        "家族に反対されたとのこと。",
    )
    .await;
    let again = app.call(Method::GET, paths[0], Some(&analyst), None).await;
    assert_eq!(again.body["lost_contacts"], 28, "cached");
    let fresh = app.call(Method::GET, &format!("{}?from=2025-04-02", paths[0]), Some(&analyst), None).await;
    assert_eq!(fresh.body["lost_contacts"], 29);

    // February alone: no March contact is counted.
    let reasons = app
        .call(Method::GET, "/api/v1/voc/call-reasons?from=2026-02-01&to=2026-02-28&period=week", Some(&analyst), None)
        .await;
    assert_eq!(reasons.status, StatusCode::OK, "{}", reasons.text);
    assert_eq!(reasons.body["table"]["unit"], "week");
    assert_eq!(reasons.body["table"]["reasons"][0]["reason"], "お届け日変更");
    assert_eq!(reasons.body["table"]["reasons"][0]["total"], 56);
    assert_eq!(reasons.body["table"]["periods"][0], "2026-01-26", "weeks start on Monday");
    // By month up to March: the broken parcels emerge, the steady topic does not.
    let reasons =
        app.call(Method::GET, "/api/v1/voc/call-reasons?from=2026-01-01&to=2026-03-31", Some(&analyst), None).await;
    let table = &reasons.body["table"];
    assert_eq!(table["periods"], json!(["2026-02-01", "2026-03-01"]));
    let delivery = table["reasons"].as_array().unwrap().iter().find(|r| r["reason"] == "配送").unwrap();
    assert_eq!(delivery["counts"], json!([0, 40]));
    let emerging = &reasons.body["emerging"];
    assert_eq!(
        (
            emerging["latest_from"].as_str(),
            emerging["latest_contacts"].as_u64(),
            emerging["baseline_contacts"].as_u64()
        ),
        (Some("2026-03-01"), Some(80), Some(56))
    );
    let topics: Vec<&str> =
        emerging["topics"].as_array().unwrap().iter().map(|t| t["term"].as_str().unwrap()).collect();
    assert!(topics.contains(&"破損"), "{topics:?}");
    assert!(!topics.iter().any(|t| t.contains("お届け") || t.contains("変更")), "{topics:?}");

    let churn = app.call(Method::GET, paths[2], Some(&analyst), None).await;
    assert_eq!(churn.body["run"]["as_of"], "2026-03-31");
    assert_eq!(churn.body["drivers"][0]["code"], "expectation_gap", "most risk-raising first");
    assert_eq!(churn.body["drivers"][1]["ci_high"], 0.62);

    // Another tenant sees nothing of acme's.
    let lost =
        app.call(Method::GET, &format!("{}?from=2026-01-01&to=2026-03-31", paths[0]), Some(&stranger), None).await;
    assert_eq!((lost.body["lost_contacts"].as_u64(), lost.body["terms"].as_array().unwrap().len()), (Some(0), 0));
    let reasons =
        app.call(Method::GET, &format!("{}?from=2026-01-01&to=2026-03-31", paths[1]), Some(&stranger), None).await;
    assert_eq!(reasons.body["table"]["reasons"], json!([]));
    let churn = app.call(Method::GET, paths[2], Some(&stranger), None).await;
    assert_eq!((churn.body["run"].clone(), churn.body["drivers"].clone()), (Value::Null, json!([])));

    // Bad ranges name the field.
    for (query, field) in [
        ("from=2026-04-01&to=2026-03-01", "from"),
        ("to=2026-02-30", "to"),
        ("period=year", "period"),
        ("from=1999-01-01&to=2026-01-01", "from"),
    ] {
        let reply = app.call(Method::GET, &format!("{}?{query}", paths[1]), Some(&analyst), None).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {}", reply.text);
        assert_eq!(reply.body["error"]["field"], field, "{query}");
    }
}

#[path = "api/timeline.rs"]
mod timeline;
