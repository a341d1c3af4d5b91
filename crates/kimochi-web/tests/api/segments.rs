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

/// Conditions on hearing answers and behaviour through the API: the fields say what a condition
/// must name, a checklist recorded with a contact is selectable at once, and a question of
/// another tenant, a test of the wrong kind or a missing subject answer 422 with the node's path.
#[tokio::test]
async fn segments_on_hearing_answers_and_behaviour() {
    let app = App::new("segments_hearing_api").await;
    let a = app.tenant("acme").await;
    let b = app.tenant("beta").await;
    let admin = app.token(a, Role::Admin).await;
    let agent = app.token(a, Role::Agent).await;
    let analyst = app.token(a, Role::Analyst).await;
    let admin_b = app.token(b, Role::Admin).await;

    let fields = app.call(Method::GET, "/api/v1/segments/fields", Some(&analyst), None).await;
    let field =
        |code: &str| fields.body["fields"].as_array().unwrap().iter().find(|f| f["field"] == code).cloned().unwrap();
    assert_eq!(field("hearing_choice")["subject"], json!(["question", "attribute"]));
    assert_eq!(field("survey_answer")["subject"], json!(["key"]));
    assert_eq!(field("web_visits")["days"], "required");
    assert_eq!(field("age")["subject"], json!([]));

    let set =
        app.call(Method::POST, "/api/v1/hearing-sets", Some(&admin), Some(super::hearing::set_body("基本"))).await;
    assert_eq!(set.status, StatusCode::CREATED, "{}", set.text);
    let q = |i: usize| set.body["questions"][i]["id"].as_i64().unwrap();
    let theirs =
        app.call(Method::POST, "/api/v1/hearing-sets", Some(&admin_b), Some(super::hearing::set_body("基本"))).await;
    let their_question = theirs.body["questions"][0]["id"].as_i64().unwrap();
    let heard = customer(&app, &admin, customer_body("H1", "佐藤 愛", "さとう あい", "090-1234-0000")).await;
    customer(&app, &admin, customer_body("H2", "鈴木 舞", "すずき まい", "090-1234-0001")).await;
    let contact = json!({"channel": "phone", "direction": "inbound", "text": "ご相談", "started_at": "2026-11-20 10:00",
    "hearing": {"set_id": set.body["id"], "answers": [
        {"question_id": q(0), "value": "乾燥"},
        {"question_id": q(1), "value": 8000},
        {"question_id": q(2), "asked": false, "value": null}
    ]}});
    let reply =
        app.call(Method::POST, &format!("/api/v1/customers/{heard}/contacts"), Some(&agent), Some(contact)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);

    let count = |rule: Value| {
        let app = &app;
        let analyst = analyst.clone();
        async move { app.call(Method::POST, "/api/v1/segments/count", Some(&analyst), Some(json!({"rule": rule}))).await }
    };
    for (rule, expected) in [
        (json!({"field": "hearing_choice", "op": "in", "value": ["乾燥"], "question": q(0)}), 1),
        (json!({"field": "hearing_choice", "op": "in", "value": ["シミ"], "attribute": "what_matters_most"}), 0),
        (json!({"field": "hearing_number", "op": "gte", "value": 5000.0, "attribute": "monthly_budget"}), 1),
        (json!({"field": "hearing_status", "op": "in", "value": ["not_asked"], "question": q(2)}), 2),
        (json!({"not": {"field": "hearing_status", "op": "in", "value": ["answered"], "question": q(0)}}), 1),
        (json!({"field": "web_visits", "op": "eq", "value": 0, "url": "/pricing", "days": 30}), 2),
        (json!({"field": "email_event", "op": "in", "value": ["opened", "clicked"], "days": 30}), 0),
    ] {
        let reply = count(rule.clone()).await;
        assert_eq!(reply.status, StatusCode::OK, "{rule}: {}", reply.text);
        assert_eq!(reply.body["count"], expected, "{rule}");
        assert_eq!(reply.body["rule"], rule);
    }
    for (rule, path) in [
        (
            json!({"all": [{"field": "hearing_choice", "op": "in", "value": ["乾燥"], "question": their_question}]}),
            "all[0].question",
        ),
        (json!({"field": "hearing_number", "op": "gte", "value": 1, "question": q(0)}), "field"),
        (json!({"field": "hearing_choice", "op": "in", "value": ["毛穴"], "question": q(0)}), "value[0]"),
        (json!({"any": [{"field": "hearing_choice", "op": "in", "value": ["乾燥"]}]}), "any[0]"),
        (json!({"field": "survey_answer", "op": "gte", "value": "nine", "key": "NPS", "days": 90}), "value"),
    ] {
        let reply = count(rule.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{rule}: {}", reply.text);
        assert_eq!(reply.body["error"]["code"], "segment.invalid_rule", "{}", reply.text);
        assert_eq!(reply.body["error"]["field"], path, "{rule}: {}", reply.text);
    }
    // Saving a segment on another tenant's question is refused too.
    let saved = app
        .call(
            Method::POST,
            "/api/v1/segments",
            Some(&analyst),
            Some(json!({"name": "他社", "rule": {"field": "hearing_status", "op": "in", "value": ["answered"], "question": their_question}})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", saved.text);
}
