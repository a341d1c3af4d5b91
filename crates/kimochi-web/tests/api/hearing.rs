//! Hearing points through the API (issue 6): set CRUD and its roles, answers with a contact
//! (all or nothing), soft facts with masking, the asked-rate report and the prospect list.

use axum::http::{Method, StatusCode};
use kimochi_domain::*;
use serde_json::{Value, json};

use super::{App, customer_body};

/// A set of four questions, one of each kind.
pub(super) fn set_body(name: &str) -> Value {
    json!({
        "name": name,
        "description": "基本の聞き出し",
        "default_inbound": true,
        "questions": [
            {"label": "いちばん気になること", "kind": "choice", "options": ["乾燥", "シミ", "ハリ"], "soft_attribute": "what_matters_most", "hint": "肌の話題から"},
            {"label": "月のスキンケア予算", "kind": "number", "min": 0, "max": 100000, "unit": "円", "soft_attribute": "monthly_budget", "weight": 15},
            {"label": "ご結婚の予定日", "kind": "date", "soft_attribute": "wedding_date", "weight": 20},
            {"label": "ご家族の様子", "kind": "text", "max_chars": 100, "soft_attribute": "life_plan"}
        ]
    })
}

async fn contacts_of(app: &App, token: &str, customer: i64) -> usize {
    let reply = app.call(Method::GET, &format!("/api/v1/customers/{customer}/contacts"), Some(token), None).await;
    reply.body["contacts"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn hearing_sets_answers_reports_and_prospects() {
    let app = App::new("hearing").await;
    let t = app.tenant("acme").await;
    let admin = app.token(t, Role::Admin).await;
    let agent = app.token(t, Role::Agent).await;
    let analyst = app.token(t, Role::Analyst).await;
    let supervisor = app.token(t, Role::Supervisor).await;

    // Only administrators write sets; everyone reads them.
    let refused = app.call(Method::POST, "/api/v1/hearing-sets", Some(&agent), Some(set_body("基本"))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    let mut bad = set_body("壊れた");
    bad["questions"][1]["min"] = json!(10);
    bad["questions"][1]["max"] = json!(1);
    let invalid = app.call(Method::POST, "/api/v1/hearing-sets", Some(&admin), Some(bad)).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", invalid.text);
    assert!(invalid.text.contains("月のスキンケア予算"), "the question is named: {}", invalid.text);
    let mut unknown_kind = set_body("壊れた");
    unknown_kind["questions"][0]["kind"] = json!("yes_no");
    let invalid = app.call(Method::POST, "/api/v1/hearing-sets", Some(&admin), Some(unknown_kind)).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", invalid.text);
    let created = app.call(Method::POST, "/api/v1/hearing-sets", Some(&admin), Some(set_body("基本"))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let set = created.body.clone();
    let set_id = set["id"].as_i64().unwrap();
    let q = |i: usize| set["questions"][i]["id"].as_i64().unwrap();
    assert_eq!(set["questions"][1]["unit"], "円");
    assert_eq!(set["questions"][3]["max_chars"], 100);
    let again = app.call(Method::POST, "/api/v1/hearing-sets", Some(&admin), Some(set_body("基本"))).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert_eq!(again.body["error"]["field"], "name");
    let list = app.call(Method::GET, "/api/v1/hearing-sets", Some(&agent), None).await;
    assert_eq!(list.body["hearing_sets"][0]["id"], set_id, "{}", list.text);

    let customer = app
        .call(
            Method::POST,
            "/api/v1/customers",
            Some(&admin),
            Some(customer_body("H1", "佐藤 愛", "さとう あい", "090-1234-0000")),
        )
        .await;
    let customer_id = customer.body["id"].as_i64().unwrap();
    let contacts_path = format!("/api/v1/customers/{customer_id}/contacts");

    // A bad answer (over the maximum) stores neither the contact nor its answers.
    let bad_contact = json!({"channel": "phone", "direction": "inbound", "text": "ご相談",
    "hearing": {"set_id": set_id, "answers": [
        {"question_id": q(0), "value": "乾燥"},
        {"question_id": q(1), "value": 500000}
    ]}});
    let reply = app.call(Method::POST, &contacts_path, Some(&agent), Some(bad_contact)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text);
    assert!(reply.text.contains("月のスキンケア予算"), "{}", reply.text);
    let not_an_option = json!({"channel": "phone", "direction": "inbound",
        "hearing": {"set_id": set_id, "answers": [{"question_id": q(0), "value": "毛穴"}]}});
    let reply = app.call(Method::POST, &contacts_path, Some(&agent), Some(not_an_option)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text);
    let unknown_set =
        json!({"channel": "phone", "direction": "inbound", "hearing": {"set_id": set_id + 1000, "answers": []}});
    let reply = app.call(Method::POST, &contacts_path, Some(&agent), Some(unknown_set)).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text);
    assert_eq!(reply.body["error"]["field"], "hearing.set_id");
    assert_eq!(contacts_of(&app, &agent, customer_id).await, 0, "nothing was half-written");

    // The checklist: answered, asked without an answer, not asked.
    let wedding = "2027-03-20";
    let good = json!({"channel": "phone", "direction": "inbound", "text": "結婚式に向けて肌を整えたい", "started_at": "2026-11-20 10:00",
    "hearing": {"set_id": set_id, "answers": [
        {"question_id": q(0), "value": "乾燥"},
        {"question_id": q(1), "asked": true, "value": null},
        {"question_id": q(2), "value": wedding},
        {"question_id": q(3), "value": "連絡は 090-5555-6666 の夫経由で"}
    ]}});
    let reply = app.call(Method::POST, &contacts_path, Some(&agent), Some(good)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let hearing = reply.body["hearing"].as_array().unwrap();
    assert_eq!(hearing.len(), 4);
    assert_eq!((hearing[1]["asked"].as_bool(), hearing[1]["answered"].as_bool()), (Some(true), Some(false)));
    assert_eq!(hearing[2]["value"], wedding);
    assert_eq!(contacts_of(&app, &agent, customer_id).await, 1);

    // Soft facts: clear for the agent, free text masked for the analyst.
    let facts = app.call(Method::GET, &format!("/api/v1/customers/{customer_id}/soft-facts"), Some(&agent), None).await;
    assert_eq!(facts.status, StatusCode::OK, "{}", facts.text);
    let keys: Vec<&str> =
        facts.body["soft_facts"].as_array().unwrap().iter().map(|f| f["soft_attribute"].as_str().unwrap()).collect();
    assert_eq!(keys, ["what_matters_most", "wedding_date", "life_plan"]);
    assert!(facts.text.contains("090-5555-6666"));
    let masked =
        app.call(Method::GET, &format!("/api/v1/customers/{customer_id}/soft-facts"), Some(&analyst), None).await;
    assert_eq!(masked.status, StatusCode::OK);
    assert!(!masked.text.contains("090-5555-6666"), "{}", masked.text);
    assert!(masked.text.contains("wedding_date"));

    // Asked rates: not for agents; counted per question for leads.
    let forbidden = app.call(Method::GET, "/api/v1/hearing/asked-rates", Some(&agent), None).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let rates = app
        .call(Method::GET, "/api/v1/hearing/asked-rates?from=2026-11-01&to=2026-11-30", Some(&supervisor), None)
        .await;
    assert_eq!(rates.status, StatusCode::OK, "{}", rates.text);
    let counts: Vec<(i64, i64, i64)> = rates.body["rates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["shown"].as_i64().unwrap(), r["asked"].as_i64().unwrap(), r["answered"].as_i64().unwrap()))
        .collect();
    assert_eq!(counts, [(1, 1, 1), (1, 1, 0), (1, 1, 1), (1, 1, 1)]);
    assert_eq!(rates.body["rates"][1]["answered_rate"], 0.0);
    let earlier =
        app.call(Method::GET, "/api/v1/hearing/asked-rates?from=2026-10-01&to=2026-10-31", Some(&analyst), None).await;
    assert_eq!(earlier.body["rates"], json!([]));
    let backwards =
        app.call(Method::GET, "/api/v1/hearing/asked-rates?from=2026-12-01&to=2026-11-01", Some(&analyst), None).await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The prospect list: the customer with score, reasons and the suggested approach.
    let prospects = app.call(Method::GET, "/api/v1/prospects", Some(&agent), None).await;
    assert_eq!(prospects.status, StatusCode::OK, "{}", prospects.text);
    let first = &prospects.body["prospects"][0];
    assert_eq!(first["customer"]["id"], customer_id);
    assert_eq!(first["customer"]["phones"][0], "090-1234-0000");
    // 10 + 20 + 10 hearing weights at least (the life-event points depend on today's date; the
    // analytics tests pin those down).
    assert!(first["score"].as_u64().unwrap() >= 40, "{}", prospects.text);
    assert!(first["reasons"].as_array().unwrap().iter().any(|r| r["code"] == "hearing"));
    assert!(first["next_approach"]["date"].as_str().is_some());
    let masked = app.call(Method::GET, "/api/v1/prospects", Some(&analyst), None).await;
    assert_eq!(masked.body["prospects"][0]["customer"]["phones"][0], "***-****-0000", "{}", masked.text);
    assert!(!masked.text.contains("090-5555-6666"));

    // A set with answers cannot be deleted; without, it can.
    let delete = app.call(Method::DELETE, &format!("/api/v1/hearing-sets/{set_id}"), Some(&admin), None).await;
    assert_eq!(delete.status, StatusCode::CONFLICT, "{}", delete.text);
    assert_eq!(delete.body["error"]["code"], "hearing.answered");
    let spare = app.call(Method::POST, "/api/v1/hearing-sets", Some(&admin), Some(set_body("予備"))).await;
    let spare_id = spare.body["id"].as_i64().unwrap();
    let mut renamed = set_body("予備(改)");
    renamed["questions"][0]["id"] = spare.body["questions"][0]["id"].clone();
    let updated = app.call(Method::PUT, &format!("/api/v1/hearing-sets/{spare_id}"), Some(&admin), Some(renamed)).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(updated.body["questions"][0]["id"], spare.body["questions"][0]["id"]);
    let delete = app.call(Method::DELETE, &format!("/api/v1/hearing-sets/{spare_id}"), Some(&admin), None).await;
    assert_eq!(delete.status, StatusCode::NO_CONTENT, "{}", delete.text);
}
