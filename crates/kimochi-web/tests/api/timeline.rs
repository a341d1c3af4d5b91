//! The expectation-gap timeline through the API: tenant isolation, the retention block with churn
//! intent, masking for analysts, and the same document in the karte.

use axum::http::{Method, StatusCode};
use kimochi_domain::*;
use serde_json::{Value, json};

use super::{App, customer_body};

async fn post(app: &App, token: &str, path: &str, body: Value) -> Value {
    let reply = app.call(Method::POST, path, Some(token), Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{path}: {}", reply.text);
    reply.body
}

/// A customer who bought expecting fewer spots, liked it at first, then found it too dear.
async fn planted(app: &App, token: &str) -> i64 {
    let customer =
        post(app, token, "/api/v1/customers", customer_body("T1", "高橋 恵", "たかはし めぐみ", "090-1111-2222")).await;
    let id = customer["id"].as_i64().unwrap();
    let product =
        post(app, token, "/api/v1/products", json!({"name": "美白美容液", "kind": "subscription", "price": 5980}))
            .await;
    post(app, token, &format!("/api/v1/customers/{id}/orders"), json!({"ordered_at": "2026-06-01 10:00", "is_subscription": true, "lines": [{"product_id": product["id"], "amount": 5980}]})).await;
    post(
        app,
        token,
        &format!("/api/v1/customers/{id}/kimochi"),
        json!({"kind": "expectation", "text": "シミが薄くなると期待して購入", "captured_at": "2026-06-01 10:05"}),
    )
    .await;
    let contacts = [
        ("2026-07-01 10:00", "とても満足しています、ありがとう"),
        ("2026-09-01 10:00", "効果が全然感じられず、値段も高くて不満です。折り返しは03-9876-5432へ"),
        ("2026-10-01 10:00", "もう解約したいです"),
    ];
    for (at, text) in contacts {
        post(
            app,
            token,
            &format!("/api/v1/customers/{id}/contacts"),
            json!({"channel": "phone", "direction": "inbound", "text": text, "started_at": at}),
        )
        .await;
    }
    id
}

#[tokio::test]
async fn kimochi_timeline_links_expectation_experiences_gap_and_retention() {
    let app = App::new("kimochi_timeline").await;
    let a = app.tenant("tenant-a").await;
    let b = app.tenant("tenant-b").await;
    let admin = app.token(a, Role::Admin).await;
    let operator = app.token(a, Role::Agent).await;
    let analyst = app.token(a, Role::Analyst).await;
    let other = app.token(b, Role::Admin).await;
    let id = planted(&app, &admin).await;
    let path = format!("/api/v1/customers/{id}/kimochi-timeline");

    let reply = app.call(Method::GET, &path, Some(&operator), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let t = &reply.body;
    assert_eq!(t["expectation"]["text"], "シミが薄くなると期待して購入");
    assert_eq!(t["expectation"]["source"], "note");
    let valences: Vec<&str> = t["events"].as_array().unwrap().iter().map(|e| e["valence"].as_str().unwrap()).collect();
    assert_eq!(valences, vec!["positive", "negative", "negative"], "{}", reply.text);
    assert_eq!(t["events"][1]["kinds"], json!(["dissatisfaction"]));
    assert!(t["events"][1]["text"].as_str().unwrap().contains("03-9876-5432"), "operators see the text as said");
    let score = t["gap_score"].as_f64().unwrap();
    assert!(score > 0.6 && score <= 1.0, "two recent negatives after one older positive: {score}");
    assert_eq!(t["gap_history"].as_array().unwrap().len(), 3);
    assert_eq!(t["gap_history"][0]["score"], 0.0);
    assert_eq!(t["churn_intent"], true);
    let retention = &t["retention"];
    assert_eq!(retention["expectation"]["text"], "シミが薄くなると期待して購入");
    assert_eq!(retention["gap_history"], t["gap_history"]);
    let points: Vec<&str> =
        retention["points"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    assert_eq!(points, vec!["usage_guidance", "plan_change", "remind_value", "hear_reason"]);
    assert!(retention["points"][1]["label_ja"].as_str().unwrap().contains("プラン"));

    // The karte carries the same document.
    let karte = app.call(Method::GET, &format!("/api/v1/customers/{id}/karte"), Some(&operator), None).await;
    assert_eq!(karte.body["expectation_gap"]["gap_score"], t["gap_score"]);
    assert_eq!(karte.body["expectation_gap"]["retention"]["points"], retention["points"]);

    // Analysts read it with personal data in the texts masked.
    let masked = app.call(Method::GET, &path, Some(&analyst), None).await;
    assert_eq!(masked.status, StatusCode::OK, "{}", masked.text);
    assert_eq!(masked.body["masked"], true);
    let text = masked.body["events"][1]["text"].as_str().unwrap();
    assert!(!text.contains("9876") && text.contains("値段"), "{text}");
    assert_eq!(masked.body["gap_score"], t["gap_score"]);
    // …and so do the karte's contact history and the contact list: the number said in the call
    // is personal data like the profile's phone numbers.
    let karte = app.call(Method::GET, &format!("/api/v1/customers/{id}/karte"), Some(&analyst), None).await;
    assert!(!karte.text.contains("9876") && karte.text.contains("値段"), "{}", karte.text);
    let listed = app.call(Method::GET, &format!("/api/v1/customers/{id}/contacts"), Some(&analyst), None).await;
    assert!(!listed.text.contains("9876") && listed.text.contains("値段"), "{}", listed.text);
    let listed = app.call(Method::GET, &format!("/api/v1/customers/{id}/contacts"), Some(&operator), None).await;
    assert!(listed.text.contains("03-9876-5432"), "operators read what was said");

    // Another tenant's token reads the id as not found.
    let foreign = app.call(Method::GET, &path, Some(&other), None).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.text);

    // A later contact without churn intent removes the retention block; no experiences, no score.
    post(&app, &operator, &format!("/api/v1/customers/{id}/contacts"), json!({"channel": "phone", "direction": "inbound", "text": "説明を聞いて続けることにしました。ありがとう", "started_at": "2026-10-02 10:00"})).await;
    let calmer = app.call(Method::GET, &path, Some(&operator), None).await;
    assert_eq!(calmer.body["churn_intent"], false);
    assert_eq!(calmer.body["retention"], Value::Null);
    let fresh =
        post(&app, &operator, "/api/v1/customers", customer_body("T2", "新規 太郎", "しんき たろう", "090-3333-4444"))
            .await;
    let empty = app
        .call(Method::GET, &format!("/api/v1/customers/{}/kimochi-timeline", fresh["id"]), Some(&operator), None)
        .await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.body["gap_score"], Value::Null);
    assert_eq!(empty.body["expectation"], Value::Null);
    assert_eq!(empty.body["events"], json!([]));
}

#[tokio::test]
async fn kimochi_timeline_reads_past_the_kartes_window() {
    let app = App::new("kimochi_timeline_window").await;
    let a = app.tenant("tenant-a").await;
    let token = app.token(a, Role::Admin).await;
    let customer =
        post(&app, &token, "/api/v1/customers", customer_body("W1", "長谷川 久", "はせがわ ひさし", "090-5555-6666"))
            .await;
    let id = customer["id"].as_i64().unwrap();
    let contacts = format!("/api/v1/customers/{id}/contacts");
    // The expectation was said in the first call; sixty calls follow (the karte keeps 50).
    post(&app, &token, &contacts, json!({"channel": "phone", "direction": "inbound", "text": "シミが薄くなると期待して購入しました", "started_at": "2026-01-05 10:00"})).await;
    for day in 0..60 {
        let at = format!("2026-{:02}-{:02} 10:00", 3 + day / 28, 1 + day % 28);
        post(
            &app,
            &token,
            &contacts,
            json!({"channel": "phone", "direction": "inbound", "text": "お届け日の確認です", "started_at": at}),
        )
        .await;
    }
    let reply = app.call(Method::GET, &format!("/api/v1/customers/{id}/kimochi-timeline"), Some(&token), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["expectation"]["text"], "シミが薄くなると期待して購入しました");
    assert_eq!(reply.body["expectation"]["source"], "contact");
    assert_eq!(reply.body["events"].as_array().unwrap().len(), 60);
    // The karte's own copy sees only its window of 50 contacts.
    let karte = app.call(Method::GET, &format!("/api/v1/customers/{id}/karte"), Some(&token), None).await;
    assert_eq!(karte.body["expectation_gap"]["expectation"], Value::Null);
}
