//! Segments through the API: the live count, validation errors with the bad node's path, saved
//! segments, members masked per role, and the CSV and xlsx exports.

use axum::http::{Method, StatusCode, header};
use kimochi_domain::*;
use serde_json::{Value, json};

use super::{App, customer_body};

async fn customer(app: &App, token: &str, body: Value) -> i64 {
    let reply = app.call(Method::POST, "/api/v1/customers", Some(token), Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.body["id"].as_i64().unwrap()
}

async fn unanswered_call(app: &App, token: &str, customer: i64, at: &str) {
    let reply = app
        .call(
            Method::POST,
            &format!("/api/v1/customers/{customer}/contacts"),
            Some(token),
            Some(json!({"channel": "phone", "direction": "outbound", "outcome": "no_contact", "text": "不在", "started_at": at})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
}

#[tokio::test]
async fn segments_count_save_list_members_and_export() {
    let app = App::new("segments_api").await;
    let a = app.tenant("acme").await;
    let b = app.tenant("beta").await;
    let supervisor = app.token(a, Role::Supervisor).await;
    let analyst = app.token(a, Role::Analyst).await;
    let agent = app.token(a, Role::Agent).await;
    let analyst_b = app.token(b, Role::Analyst).await;
    let hanako = customer(&app, &supervisor, customer_body("C001", "山田 花子", "やまだ はなこ", "03-1234-5678")).await;
    let mut no_consent = customer_body("C002", "佐藤 一郎", "さとう いちろう", "090-1111-2222");
    no_consent["consent"]["phone"] = json!(false);
    customer(&app, &supervisor, no_consent).await;
    unanswered_call(&app, &supervisor, hanako, "2026-11-20 10:00").await;
    unanswered_call(&app, &supervisor, hanako, "2026-11-25 10:00").await;

    // The live count: analysts may build and count; operators may not.
    let unanswered = json!({"all": [
        {"field": "consent_phone", "op": "eq", "value": true},
        {"field": "consecutive_no_contact", "op": "gte", "value": 2},
    ]});
    let count = |token: &str, rule: Value| {
        let token = token.to_owned();
        let app = &app;
        async move { app.call(Method::POST, "/api/v1/segments/count", Some(&token), Some(json!({"rule": rule}))).await }
    };
    let reply = count(&analyst, unanswered.clone()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["count"], 1);
    assert_eq!(reply.body["rule"], unanswered);
    let reply = count(&analyst, json!({"not": {"field": "consent_phone", "op": "eq", "value": true}})).await;
    assert_eq!(reply.body["count"], 1, "{}", reply.text);
    assert_eq!(count(&agent, unanswered.clone()).await.status, StatusCode::FORBIDDEN);
    // The other tenant counts its own customers only.
    assert_eq!(count(&analyst_b, unanswered.clone()).await.body["count"], 0);

    // Bad rules name the bad node; nothing is counted or saved.
    for (rule, path) in [
        (json!({"all": []}), "all"),
        (
            json!({"all": [{"field": "age", "op": "gte", "value": 20}, {"field": "nope", "op": "eq", "value": 1}]}),
            "all[1].field",
        ),
        (json!({"any": [{"field": "stage", "op": "gte", "value": 1}]}), "any[0].op"),
        (json!({"all": [{"field": "stage", "op": "in", "value": ["trial", "vip"]}]}), "all[0].value[1]"),
        (
            json!({"all": [
                {"field": "days_since_last_order", "op": "gte", "value": 90},
                {"field": "days_since_last_order", "op": "lte", "value": 30},
            ]}),
            "all[1]",
        ),
        (json!({"all": [{"field": "stage", "op": "in", "value": []}]}), "all[0].value"),
        (json!({"field": "bought_product", "op": "in", "value": [999_999]}), "value"),
    ] {
        let reply = count(&analyst, rule.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{rule}: {}", reply.text);
        assert_eq!(reply.body["error"]["code"], "segment.invalid_rule", "{rule}");
        assert_eq!(reply.body["error"]["field"], path, "{rule}: {}", reply.text);
    }

    // Save, refuse a second one with the same name, list, read, change.
    let body = json!({"name": "不通2回以上", "description": "架電同意あり", "rule": unanswered});
    let saved = app.call(Method::POST, "/api/v1/segments", Some(&analyst), Some(body.clone())).await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.text);
    let id = saved.body["id"].as_i64().unwrap();
    let again = app.call(Method::POST, "/api/v1/segments", Some(&supervisor), Some(body.clone())).await;
    assert_eq!((again.status, again.body["error"]["field"].as_str()), (StatusCode::CONFLICT, Some("name")));
    let listed = app.call(Method::GET, "/api/v1/segments", Some(&analyst), None).await;
    assert_eq!(listed.body["segments"][0]["name"], "不通2回以上");
    let got = app.call(Method::GET, &format!("/api/v1/segments/{id}"), Some(&analyst), None).await;
    assert_eq!(got.body["rule"], body["rule"]);
    assert_eq!(
        app.call(Method::GET, &format!("/api/v1/segments/{id}"), Some(&analyst_b), None).await.status,
        StatusCode::NOT_FOUND
    );
    let bad = app
        .call(
            Method::PUT,
            &format!("/api/v1/segments/{id}"),
            Some(&analyst),
            Some(json!({"name": "x", "rule": {"any": []}})),
        )
        .await;
    assert_eq!((bad.status, bad.body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("any")));
    assert_eq!(
        app.call(Method::GET, &format!("/api/v1/segments/{id}"), Some(&analyst), None).await.body["name"],
        "不通2回以上"
    );

    // Members: masked for analysts, in clear for supervisors.
    let members = app.call(Method::GET, &format!("/api/v1/segments/{id}/members"), Some(&analyst), None).await;
    assert_eq!(members.status, StatusCode::OK, "{}", members.text);
    assert_eq!(members.body["customers"].as_array().unwrap().len(), 1);
    let masked = members.body["customers"][0]["phones"][0].as_str().unwrap();
    assert_ne!(masked, "03-1234-5678");
    assert!(!members.text.contains("1234-5678"), "{}", members.text);
    let clear = app.call(Method::GET, &format!("/api/v1/segments/{id}/members"), Some(&supervisor), None).await;
    assert_eq!(clear.body["customers"][0]["phones"][0], "03-1234-5678");
    assert_eq!(clear.body["next_after"], Value::Null);

    // Exports: the analyst's CSV carries the masked phone; the xlsx is a zip.
    let csv = app.call(Method::GET, &format!("/api/v1/segments/{id}/export.csv"), Some(&analyst), None).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers[header::CONTENT_DISPOSITION].to_str().unwrap().contains("segment-"));
    let lines: Vec<&str> = csv.text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 2, "{}", csv.text);
    assert!(lines[0].starts_with("顧客ID,顧客番号,氏名"), "{}", lines[0]);
    assert!(lines[1].contains("C001") && lines[1].contains(masked) && !lines[1].contains("1234-5678"), "{}", lines[1]);
    let xlsx = app.call(Method::GET, &format!("/api/v1/segments/{id}/export.xlsx"), Some(&supervisor), None).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.headers[header::CONTENT_TYPE].to_str().unwrap().contains("spreadsheetml"));
    let audit = app.call(Method::GET, "/api/v1/audit", Some(&app.token(a, Role::Admin).await), None).await;
    assert!(audit.text.contains("segment.export"), "{}", audit.text);

    // Delete.
    let deleted = app.call(Method::DELETE, &format!("/api/v1/segments/{id}"), Some(&analyst), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.call(Method::GET, &format!("/api/v1/segments/{id}"), Some(&analyst), None).await.status,
        StatusCode::NOT_FOUND
    );
}
