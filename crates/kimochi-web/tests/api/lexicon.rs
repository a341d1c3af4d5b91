//! A tenant's own kimochi lexicon (issue 4): checked line by line before it is stored, used for
//! every contact the tenant records from then on (and the karte's live reading), and never for
//! another tenant.

use axum::http::{Method, StatusCode};
use kimochi_domain::*;
use serde_json::json;

use super::{App, customer_body};

#[tokio::test]
async fn a_tenants_own_lexicon_tags_its_contacts_and_nobody_elses() {
    let app = App::new("lexicon").await;
    let acme = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let admin = app.token(acme, Role::Admin).await;
    let agent = app.token(acme, Role::Agent).await;
    let other_agent = app.token(other, Role::Agent).await;
    let customer = |token: String| {
        let app = &app;
        async move {
            let body = customer_body("C1", "山田 花子", "ヤマダ ハナコ", "090-1111-2222");
            app.call(Method::POST, "/api/v1/customers", Some(&token), Some(body)).await.body["id"].as_i64().unwrap()
        }
    };
    let mine = customer(agent.clone()).await;
    let theirs = customer(other_agent.clone()).await;
    let log = |token: String, id: i64| {
        let app = &app;
        async move {
            let body = json!({"channel": "phone", "direction": "inbound", "text": "今回の対応は神対応でした"});
            let reply =
                app.call(Method::POST, &format!("/api/v1/customers/{id}/contacts"), Some(&token), Some(body)).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
            reply.body
        }
    };
    // The built-in lexicons do not know 「神対応」.
    let before = log(agent.clone(), mine).await;
    assert!(!before["kimochi"].as_array().unwrap().contains(&json!("satisfaction")), "{before}");

    assert_eq!(app.call(Method::GET, "/api/v1/lexicon", Some(&agent), None).await.status, StatusCode::FORBIDDEN);
    let bad = app
        .call(
            Method::PUT,
            "/api/v1/lexicon",
            Some(&admin),
            Some(json!({"lexicon": "神対応\tsatisfaction\nもう無理\tchurn\n"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert_eq!(bad.body["error"]["field"], "lexicon");
    assert!(bad.text.contains("line 2"), "the bad line is named: {}", bad.text);
    let empty = app.call(Method::GET, "/api/v1/lexicon", Some(&admin), None).await;
    assert_eq!(empty.body["lexicon"], "", "nothing was stored");

    let lexicon = "# acme の言い回し\n神対応\tsatisfaction\t2\n";
    let saved = app.call(Method::PUT, "/api/v1/lexicon", Some(&admin), Some(json!({"lexicon": lexicon}))).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text);
    assert_eq!(app.call(Method::GET, "/api/v1/lexicon", Some(&admin), None).await.body["lexicon"], lexicon);

    let after = log(agent.clone(), mine).await;
    assert!(after["kimochi"].as_array().unwrap().contains(&json!("satisfaction")), "{after}");
    assert_eq!(after["polarity"], "positive", "{after}");
    let elsewhere = log(other_agent.clone(), theirs).await;
    assert!(
        !elsewhere["kimochi"].as_array().unwrap().contains(&json!("satisfaction")),
        "not another tenant's: {elsewhere}"
    );
}
