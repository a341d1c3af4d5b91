//! Issue 6 end to end, through the real router on SQLite and PostgreSQL: a segment of
//! churn-prone subscribers with an unmet expectation and no answer on the last two calls → a
//! campaign over it with a random holdout → emails to a real SMTP sink → opens and clicks
//! recorded by the tracking routes → a call list for those who did not open, with talk hints →
//! outcomes → results with the lift and its interval.

use axum::http::{Method, StatusCode};
use kimochi_domain::*;
use kimochi_web::email::send_due;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::smtp_sink::{SmtpSink, decoded_parts};
use super::{App, customer_body, postgres_admin};

/// Customers of the planted segment, and others that look like them but miss one condition.
const TARGETS: usize = 20;

async fn customer(app: &App, token: &str, index: usize) -> i64 {
    let body =
        customer_body(&format!("E{index:03}"), &format!("顧客 {index}"), "コキャク", &format!("090-5555-{index:04}"));
    let created = app.call(Method::POST, "/api/v1/customers", Some(token), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    created.body["id"].as_i64().unwrap()
}

async fn post(app: &App, token: &str, path: &str, body: Value) -> Value {
    let reply = app.call(Method::POST, path, Some(token), Some(body)).await;
    assert!(reply.status.is_success(), "{path}: {} {}", reply.status, reply.text);
    reply.body
}

/// A subscriber with three deliveries; `unmet` adds an expectation and a gap note, `unanswered`
/// two unanswered calls after the last answered one.
async fn subscriber(app: &App, token: &str, index: usize, product: i64, unmet: bool, unanswered: bool) -> i64 {
    let id = customer(app, token, index).await;
    for month in ["2026-07-05", "2026-08-05", "2026-09-05"] {
        let order = json!({"ordered_at": format!("{month} 10:00"), "is_subscription": true,
                           "lines": [{"product_id": product, "amount": 3980}]});
        post(app, token, &format!("/api/v1/customers/{id}/orders"), order).await;
    }
    if unmet {
        let notes = format!("/api/v1/customers/{id}/kimochi");
        post(app, token, &notes, json!({"kind": "expectation", "text": "目元の小じわが薄くなればと思って申し込んだ"}))
            .await;
        post(app, token, &notes, json!({"kind": "gap", "text": "思っていたほど効果が感じられない"})).await;
    }
    let contacts = format!("/api/v1/customers/{id}/contacts");
    let call = |when: &str, outcome: &str| json!({"channel": "phone", "direction": "outbound", "started_at": when, "outcome": outcome, "text": "定期便のフォローコール"});
    post(app, token, &contacts, call("2026-09-20 11:00", "resolved")).await;
    if unanswered {
        post(app, token, &contacts, call("2026-10-01 11:00", "no_contact")).await;
        post(app, token, &contacts, call("2026-10-08 15:00", "busy")).await;
    }
    id
}

/// Scores as `kimochi analyze` writes them: subscribers, churn-prone or not.
async fn score(app: &App, tenant: TenantId, customer: i64, churn: ChurnLevel) {
    let score = CustomerScore {
        customer_id: CustomerId(customer),
        as_of: time::macros::date!(2026 - 10 - 31),
        stage: Stage::Subscription,
        rfm_cell: Some(345),
        recency_days: Some(56),
        p_alive: Some(0.9),
        expected_purchases: None,
        expected_spend: None,
        clv: Some(30_000.0),
        churn_probability: Some(if churn == ChurnLevel::High { 0.4 } else { 0.05 }),
        churn_level: Some(churn),
        churn_reasons: Vec::new(),
        loyalty: None,
        near_loyal: None,
        positive_dormant: false,
        cluster: None,
        cluster_label: None,
        repeat_alerts: Vec::new(),
        scored_at: OffsetDateTime::now_utc(),
    };
    app.store.scores_write(tenant, &[score]).await.unwrap();
}

async fn care_campaign_end_to_end(app: App) {
    let sink = SmtpSink::start().await;
    let tenant = app.tenant("acme").await;
    let planner = app.token(tenant, Role::Supervisor).await;
    let operator = app.token(tenant, Role::Agent).await;
    let product = post(
        &app,
        &planner,
        "/api/v1/products",
        json!({"external_id": "SUB-1", "name": "うるおい美容液 定期便", "kind": "subscription", "price": 3980}),
    )
    .await;
    let product = product["id"].as_i64().unwrap();
    post(&app, &planner, "/api/v1/faq", json!({"title": "うるおい美容液 定期便の使い方", "body": "洗顔後に2プッシュ、目元は重ねづけを。", "category": "使い方"})).await;

    let mut targets = Vec::new();
    for index in 0..TARGETS {
        let id = subscriber(&app, &planner, index, product, true, true).await;
        score(&app, tenant, id, ChurnLevel::High).await;
        targets.push(id);
    }
    // Look-alikes, each missing one condition: low risk, expectation met, or answering calls.
    let low_risk = subscriber(&app, &planner, 100, product, true, true).await;
    score(&app, tenant, low_risk, ChurnLevel::Low).await;
    let met = subscriber(&app, &planner, 101, product, false, true).await;
    score(&app, tenant, met, ChurnLevel::High).await;
    let answering = subscriber(&app, &planner, 102, product, true, false).await;
    score(&app, tenant, answering, ChurnLevel::High).await;

    // The segment: churn-prone subscribers with an unmet expectation, no answer on the last two calls.
    let rule = json!({"all": [
        {"field": "stage", "op": "in", "value": ["subscription"]},
        {"field": "churn_level", "op": "in", "value": ["high"]},
        {"field": "unmet_expectation", "op": "eq", "value": true},
        {"field": "consecutive_no_contact", "op": "gte", "value": 2}]});
    let count = post(&app, &planner, "/api/v1/segments/count", json!({"rule": rule})).await;
    assert_eq!(count["count"].as_i64(), Some(TARGETS as i64), "{count}");
    let segment = post(&app, &planner, "/api/v1/segments", json!({"name": "ケア対象", "rule": rule})).await;

    // The campaign over it: a 10 % holdout, an email, then calls to those who did not open.
    let steps = json!([
        {"kind": "email", "subject": "うるおい美容液のお使い方", "body": "いつもありがとうございます。使い方のコツはこちら https://shop.example.jp/howto"},
        {"kind": "wait", "days": 3},
        {"kind": "call", "condition": "not_opened", "from": "00:00", "to": "24:00"}]);
    // Without the wait, "did not open" would be decided the instant the email went out.
    let hasty = json!([steps[0], steps[2]]);
    let refused = app
        .call(
            Method::POST,
            "/api/v1/campaigns",
            Some(&planner),
            Some(json!({"name": "早すぎる架電", "segment_id": segment["id"], "steps": hasty})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
    let campaign = post(&app, &planner, "/api/v1/campaigns",
        json!({"name": "期待ギャップのケアコール", "segment_id": segment["id"], "holdout_percent": 10, "seed": 42, "steps": steps})).await;
    let campaign_id = campaign["id"].as_i64().unwrap();
    let members = app
        .call(Method::GET, &format!("/api/v1/campaigns/{campaign_id}/members?limit=100"), Some(&planner), None)
        .await;
    let members = members.body["members"].as_array().unwrap().clone();
    assert_eq!(members.len(), TARGETS, "the snapshot is the segment");
    let holdout: Vec<i64> =
        members.iter().filter(|m| m["group"] == "holdout").map(|m| m["customer_id"].as_i64().unwrap()).collect();
    assert_eq!(holdout.len(), 2, "round(20 × 10 %)");
    let treatment: Vec<i64> =
        members.iter().filter(|m| m["group"] == "treatment").map(|m| m["customer_id"].as_i64().unwrap()).collect();

    // Creating the campaign ran its first step: the emails are in the outbox; the sink gets them.
    let sent = send_due(app.store.clone(), &sink.config()).await.unwrap();
    assert_eq!(sent.sent as usize, treatment.len(), "{sent:?}");
    let messages = sink.messages();
    assert_eq!(messages.len(), treatment.len(), "one email per treatment member, none to the holdout");
    // The first six readers open the email (pixel), two of them also click the link.
    for (n, raw) in messages.iter().take(6).enumerate() {
        let html = &decoded_parts(raw)[1];
        let pixel = html.split("<img src=\"https://crm.example.jp").nth(1).unwrap().split('"').next().unwrap();
        let opened = app.call(Method::GET, pixel, None, None).await;
        assert_eq!(opened.status, StatusCode::OK);
        if n < 2 {
            let text = &decoded_parts(raw)[0];
            let link = text.split("https://crm.example.jp").nth(1).unwrap().split_whitespace().next().unwrap();
            let clicked = app.call(Method::GET, link, None, None).await;
            assert_eq!(clicked.status, StatusCode::SEE_OTHER);
            assert_eq!(clicked.headers["location"], "https://shop.example.jp/howto");
        }
    }
    let opened_or_clicked = |outcome: &str| outcome == "opened" || outcome == "clicked";
    let mut readers = 0;
    for id in &treatment {
        let history = app.call(Method::GET, &format!("/api/v1/customers/{id}/contacts"), Some(&planner), None).await;
        let outcomes: Vec<&str> =
            history.body["contacts"].as_array().unwrap().iter().filter_map(|c| c["outcome"].as_str()).collect();
        assert!(outcomes.contains(&"sent"), "{outcomes:?}");
        readers += usize::from(outcomes.iter().any(|o| opened_or_clicked(o)));
    }
    assert_eq!(readers, 6, "opens and clicks are contact history");

    // Three days later the runner moves on: those who did not open reach the call list.
    let later = OffsetDateTime::now_utc() + time::Duration::days(3) + time::Duration::minutes(1);
    let early = app.store.campaign_run(tenant, OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(early.calls_opened, 0, "still waiting");
    let report = app.store.campaign_run(tenant, later).await.unwrap();
    assert_eq!(report.calls_opened as usize, treatment.len() - 6, "{report:?}");

    // The operator works the list: one customer at a time, with talk hints from their own data.
    let next = format!("/api/v1/campaigns/{campaign_id}/calls/next");
    let mut called = Vec::new();
    for round in 0..treatment.len() - 6 {
        let task = app.call(Method::POST, &next, Some(&operator), None).await;
        assert_eq!(task.status, StatusCode::OK, "{}", task.text);
        let task = &task.body["task"];
        let customer = task["customer_id"].as_i64().unwrap();
        assert!(treatment.contains(&customer) && !called.contains(&customer), "each treatment member once");
        assert!(task["hints"]["expectation"].as_str().unwrap().contains("小じわ"), "{task}");
        assert!(task["hints"]["faq_tips"].as_array().is_some_and(|tips| !tips.is_empty()), "{task}");
        // Half of them are reached and order again; the rest do not answer.
        let (outcome, text) = if round % 2 == 0 {
            ("ordered", "使い方のコツをご案内し、継続いただけることに。")
        } else {
            ("no_answer", "")
        };
        let path = format!("/api/v1/campaigns/{campaign_id}/calls/{}/outcome", task["task_id"]);
        post(&app, &operator, &path, json!({"outcome": outcome, "text": text})).await;
        if outcome == "ordered" {
            let order = json!({"is_subscription": true, "lines": [{"product_id": product, "amount": 3980}]});
            post(&app, &operator, &format!("/api/v1/customers/{customer}/orders"), order).await;
        }
        called.push(customer);
    }
    let done = app.call(Method::POST, &next, Some(&operator), None).await;
    assert_eq!(
        done.body["task"],
        Value::Null,
        "no one else is due now: those who did not answer wait out the 4-hour spacing"
    );
    for id in &holdout {
        assert!(!called.contains(id), "the holdout is never called");
    }

    // Results: treatment against holdout with the difference and its 95 % interval.
    let results =
        app.call(Method::GET, &format!("/api/v1/campaigns/{campaign_id}/results"), Some(&planner), None).await;
    assert_eq!(results.status, StatusCode::OK, "{}", results.text);
    assert_eq!(results.body["treatment_members"].as_u64(), Some(treatment.len() as u64));
    assert_eq!(results.body["holdout_members"].as_u64(), Some(2));
    let measures = results.body["measures"].as_array().unwrap();
    let conversion = measures.iter().find(|m| m["key"] == "conversion").expect("conversion");
    let treated_rate = conversion["treatment"]["rate"].as_f64().or_else(|| conversion["treatment"]["value"].as_f64());
    assert!(conversion["difference"].as_f64().unwrap() > 0.0, "{conversion}");
    assert!(conversion["low"].as_f64().unwrap() < conversion["difference"].as_f64().unwrap(), "{conversion}");
    assert!(conversion["high"].as_f64().unwrap() > conversion["difference"].as_f64().unwrap(), "{conversion}");
    assert!(treated_rate.is_some_and(|rate| rate > 0.0), "{conversion}");
    let csv =
        app.call(Method::GET, &format!("/api/v1/campaigns/{campaign_id}/results.csv"), Some(&planner), None).await;
    assert_eq!(csv.status, StatusCode::OK);
}

#[tokio::test]
async fn care_campaign_end_to_end_on_sqlite() {
    care_campaign_end_to_end(App::new("care_e2e").await).await;
}

#[tokio::test]
async fn care_campaign_end_to_end_on_postgres() {
    let (app, database) = App::postgres("care_e2e").await;
    let outcome = tokio::spawn(care_campaign_end_to_end(app)).await;
    let mut admin = postgres_admin().await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).execute(&mut admin).await.unwrap();
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}
