//! Outbound care campaigns through the API: creation with a reproducible holdout, members masked
//! per role, the call list with talk hints and outcomes, results with lift and CSV, tenants.

use axum::http::{Method, StatusCode};
use kimochi_domain::campaign::{Group, assign_groups};
use kimochi_domain::*;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::App;

/// `n` customers with phone consent, created in the store directly; ids in order.
async fn customers(app: &App, tenant: TenantId, prefix: &str, n: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..n {
        let mut profile = CustomerProfile::named(&format!("顧客{prefix}{i}")).unwrap();
        profile.external_id = Some(ExternalId::parse(&format!("{prefix}{i:04}")).unwrap());
        profile.phones = vec![PhoneNumber::parse(&format!("090-{:04}-{i:04}", 1000 + prefix.len())).unwrap()];
        profile.consent.phone = true;
        ids.push(app.store.customer_create(tenant, &profile, OffsetDateTime::now_utc()).await.unwrap().id.0);
    }
    ids
}

fn call_only(ids: &[i64], seed: u64) -> Value {
    json!({
        "name": "解約予兆フォロー",
        "purpose": "期待とのギャップがある定期顧客へ",
        "customer_ids": ids,
        "holdout_percent": 10,
        "seed": seed,
        // Every hour of the day, no spacing: the test runs at any time.
        "steps": [{"kind": "call", "condition": "everyone", "from": "00:00", "to": "24:00", "spacing_minutes": 0}]
    })
}

#[tokio::test]
async fn campaigns_create_members_and_refusals() {
    let app = App::new("campaigns_create").await;
    let a = app.tenant("acme").await;
    let b = app.tenant("beta").await;
    let analyst = app.token(a, Role::Analyst).await;
    let agent = app.token(a, Role::Agent).await;
    let supervisor = app.token(a, Role::Supervisor).await;
    let b_admin = app.token(b, Role::Admin).await;
    let ids = customers(&app, a, "A", 30).await;

    // Agents do not plan campaigns.
    let refused = app.call(Method::POST, "/api/v1/campaigns", Some(&agent), Some(call_only(&ids, 7))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // Zero members: a clear error naming the field.
    let empty = app.call(Method::POST, "/api/v1/campaigns", Some(&analyst), Some(call_only(&[], 7))).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", empty.text);
    assert_eq!(empty.body["error"]["field"], "members");
    // Bad steps and percentages say where.
    let mut bad = call_only(&ids, 7);
    bad["steps"][0]["from"] = json!("25:00");
    let reply = app.call(Method::POST, "/api/v1/campaigns", Some(&analyst), Some(bad)).await;
    assert_eq!((reply.status, reply.body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("from")));
    let mut bad = call_only(&ids, 7);
    bad["holdout_percent"] = json!(80);
    let reply = app.call(Method::POST, "/api/v1/campaigns", Some(&analyst), Some(bad)).await;
    assert_eq!(reply.body["error"]["field"], "holdout_percent");
    let mut bad = call_only(&ids, 7);
    bad["steps"] = json!([{"kind": "fax"}]);
    assert_eq!(app.call(Method::POST, "/api/v1/campaigns", Some(&analyst), Some(bad)).await.status.as_u16() / 100, 4);
    // Another tenant's customer is refused by id.
    let foreign = customers(&app, b, "B", 1).await;
    let mut with_foreign = ids.clone();
    with_foreign.push(foreign[0]);
    let reply = app.call(Method::POST, "/api/v1/campaigns", Some(&analyst), Some(call_only(&with_foreign, 7))).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["error"]["field"], "members");

    let created = app.call(Method::POST, "/api/v1/campaigns", Some(&analyst), Some(call_only(&ids, 42))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!((created.body["members"].as_i64(), created.body["holdout"].as_i64()), (Some(30), Some(3)));
    assert_eq!(created.body["seed"], "42");
    assert_eq!(created.body["steps"][0]["kind"], "call");
    let id = created.body["id"].as_i64().unwrap();

    // Members: the groups are the seed's; analysts see no names or numbers.
    let members =
        app.call(Method::GET, &format!("/api/v1/campaigns/{id}/members?limit=1000"), Some(&analyst), None).await;
    assert_eq!(members.status, StatusCode::OK, "{}", members.text);
    let list = members.body["members"].as_array().unwrap();
    let expected = assign_groups(&ids.iter().map(|i| CustomerId(*i)).collect::<Vec<_>>(), 0.1, 42);
    let got: Vec<(i64, &str)> =
        list.iter().map(|m| (m["customer_id"].as_i64().unwrap(), m["group"].as_str().unwrap())).collect();
    let want: Vec<(i64, &str)> = expected.iter().map(|(c, g)| (c.0, g.code())).collect();
    assert_eq!(got, want);
    assert!(list.iter().all(|m| m["name"].is_null()), "analysts see no names");
    assert!(list.iter().all(|m| m["phones"][0].as_str().unwrap().contains('*')), "{}", members.text);
    assert!(list.iter().filter(|m| m["group"] == "holdout").all(|m| m["state"] == "holdout"));
    let clear =
        app.call(Method::GET, &format!("/api/v1/campaigns/{id}/members?limit=5"), Some(&supervisor), None).await;
    assert!(clear.body["members"][0]["name"].as_str().unwrap().starts_with("顧客A"));
    assert!(clear.body["next_after"].is_i64());

    // Another tenant: 404 on every campaign route.
    for (method, path) in [
        (Method::GET, format!("/api/v1/campaigns/{id}")),
        (Method::GET, format!("/api/v1/campaigns/{id}/members")),
        (Method::GET, format!("/api/v1/campaigns/{id}/results")),
        (Method::GET, format!("/api/v1/campaigns/{id}/results.csv")),
        (Method::POST, format!("/api/v1/campaigns/{id}/calls/next")),
        (Method::DELETE, format!("/api/v1/campaigns/{id}")),
    ] {
        let reply = app.call(method.clone(), &path, Some(&b_admin), None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {path}: {}", reply.text);
    }
    let reply = app
        .call(
            Method::POST,
            &format!("/api/v1/campaigns/{id}/calls/1/outcome"),
            Some(&b_admin),
            Some(json!({"outcome": "reached"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let listed = app.call(Method::GET, "/api/v1/campaigns", Some(&b_admin), None).await;
    assert_eq!(listed.body["campaigns"], json!([]));

    // Rename, then delete (supervisors and admins only).
    let renamed = app
        .call(Method::PUT, &format!("/api/v1/campaigns/{id}"), Some(&analyst), Some(json!({"name": "冬のケア"})))
        .await;
    assert_eq!(renamed.body["name"], "冬のケア");
    assert_eq!(
        app.call(Method::DELETE, &format!("/api/v1/campaigns/{id}"), Some(&analyst), None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.call(Method::DELETE, &format!("/api/v1/campaigns/{id}"), Some(&supervisor), None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.call(Method::GET, &format!("/api/v1/campaigns/{id}"), Some(&analyst), None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn call_list_serves_hints_records_outcomes_and_honours_dnc() {
    let app = App::new("campaigns_calls").await;
    let a = app.tenant("acme").await;
    let analyst = app.token(a, Role::Analyst).await;
    let agent = app.token(a, Role::Agent).await;
    let other_agent = app.token(a, Role::Agent).await;
    let ids = customers(&app, a, "C", 3).await;
    // The first customer's own data: an expectation, a product bought twice, a FAQ about it.
    let product = app
        .store
        .product_create(
            a,
            &NewProduct {
                external_id: None,
                name: "うるおい美容液".into(),
                kind: ProductKind::Subscription,
                category: None,
                price: 4980,
            },
        )
        .await
        .unwrap();
    for days_ago in [70, 40] {
        app.store
            .order_create(
                a,
                &NewOrder {
                    external_id: None,
                    customer_id: CustomerId(ids[0]),
                    ordered_at: OffsetDateTime::now_utc() - time::Duration::days(days_ago),
                    channel: None,
                    ad_medium: None,
                    is_subscription: true,
                    lines: vec![NewOrderLine { product_id: product.id, quantity: 1, amount: 4980 }],
                },
            )
            .await
            .unwrap();
    }
    app.store
        .kimochi_note_create(
            a,
            &NewKimochiNote {
                customer_id: CustomerId(ids[0]),
                kind: KimochiKind::Expectation,
                text: "乾燥小じわが目立たなくなることを期待".into(),
                captured_by: None,
                captured_at: OffsetDateTime::now_utc() - time::Duration::days(70),
                contact_id: None,
                product_id: None,
            },
        )
        .await
        .unwrap();
    let faq = app
        .call(
            Method::POST,
            "/api/v1/faq",
            Some(&app.token(a, Role::Admin).await),
            Some(json!({"title": "うるおい美容液の効果的な使い方", "body": "洗顔後すぐ、手のひらで温めてから押さえるようになじませます。"})),
        )
        .await;
    assert_eq!(faq.status, StatusCode::CREATED, "{}", faq.text);
    // Only the first customer is in this campaign (no holdout).
    let mut body = call_only(&ids[..1], 1);
    body["holdout_percent"] = json!(0);
    body["steps"][0]["max_attempts"] = json!(2);
    let created = app.call(Method::POST, "/api/v1/campaigns", Some(&analyst), Some(body)).await;
    let id = created.body["id"].as_i64().unwrap();
    // Creating a campaign starts its steps at once: the member is on the call list already, and
    // running the steps again changes nothing.
    assert_eq!(app.store.campaign_run(a, OffsetDateTime::now_utc()).await.unwrap().advanced, 0);
    // Analysts do not call.
    let reply = app.call(Method::POST, &format!("/api/v1/campaigns/{id}/calls/next"), Some(&analyst), None).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    let next = app.call(Method::POST, &format!("/api/v1/campaigns/{id}/calls/next"), Some(&agent), None).await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.text);
    let task = &next.body["task"];
    assert_eq!(task["customer_id"].as_i64(), Some(ids[0]));
    assert!(!task["phones"][0].as_str().unwrap().contains('*'), "operators see the number: {}", next.text);
    let hints = &task["hints"];
    assert_eq!(hints["expectation"], "乾燥小じわが目立たなくなることを期待", "{hints}");
    assert_eq!(hints["last_heard"]["source"], "note");
    assert_eq!(hints["products"][0]["name"], "うるおい美容液");
    assert_eq!(hints["products"][0]["cycle_days"], 30);
    assert_eq!(hints["products"][0]["overdue"], true, "bought 40 days ago on a 30-day cycle");
    assert_eq!(hints["faq_tips"][0]["title"], "うるおい美容液の効果的な使い方", "{hints}");
    // Another operator gets nobody: the only member is leased.
    let other = app.call(Method::POST, &format!("/api/v1/campaigns/{id}/calls/next"), Some(&other_agent), None).await;
    assert_eq!(other.body["task"], Value::Null);
    let task_id = task["task_id"].as_i64().unwrap();
    // The other operator cannot record on it; a bad outcome names the field.
    let path = format!("/api/v1/campaigns/{id}/calls/{task_id}/outcome");
    let stolen = app.call(Method::POST, &path, Some(&other_agent), Some(json!({"outcome": "reached"}))).await;
    assert_eq!((stolen.status, stolen.body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("campaign.lease")));
    let bad = app.call(Method::POST, &path, Some(&agent), Some(json!({"outcome": "maybe"}))).await;
    assert_eq!((bad.status, bad.body["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("outcome")));

    let recorded = app
        .call(
            Method::POST,
            &path,
            Some(&agent),
            Some(json!({"outcome": "callback", "text": "夕方にかけ直してほしいとのこと。使い方に不安がある"})),
        )
        .await;
    assert_eq!(recorded.status, StatusCode::OK, "{}", recorded.text);
    assert_eq!((recorded.body["attempts"].as_i64(), recorded.body["step_done"].as_bool()), (Some(1), Some(false)));
    assert_eq!(recorded.body["contact"]["channel"], "phone");
    assert_eq!(recorded.body["contact"]["direction"], "outbound");
    assert_eq!(recorded.body["contact"]["outcome"], "callback");
    assert!(
        recorded.body["contact"]["kimochi"].as_array().unwrap().iter().any(|k| k == "anxiety"),
        "{}",
        recorded.text
    );
    // Recorded once: the lease is gone.
    let again = app.call(Method::POST, &path, Some(&agent), Some(json!({"outcome": "callback"}))).await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    // The customer asks not to be called: never served again.
    let mut profile = app.store.customer_get(a, CustomerId(ids[0])).await.unwrap().profile;
    profile.do_not_call = true;
    app.store.customer_update(a, CustomerId(ids[0]), &profile, OffsetDateTime::now_utc()).await.unwrap();
    let next = app.call(Method::POST, &format!("/api/v1/campaigns/{id}/calls/next"), Some(&agent), None).await;
    assert_eq!(next.body["task"], Value::Null, "{}", next.text);
}

#[tokio::test]
async fn results_show_a_planted_lift_with_an_interval_above_zero() {
    let app = App::new("campaigns_results").await;
    let a = app.tenant("acme").await;
    let analyst = app.token(a, Role::Analyst).await;
    let ids = customers(&app, a, "R", 200).await;
    let product = app
        .store
        .product_create(
            a,
            &NewProduct {
                external_id: None,
                name: "美容液".into(),
                kind: ProductKind::Main,
                category: None,
                price: 5000,
            },
        )
        .await
        .unwrap();
    let created = app.call(Method::POST, "/api/v1/campaigns", Some(&analyst), Some(call_only(&ids, 2026))).await;
    let id = created.body["id"].as_i64().unwrap();
    let groups = assign_groups(&ids.iter().map(|i| CustomerId(*i)).collect::<Vec<_>>(), 0.1, 2026);
    // Planted: 60 % of the treated order after the start, 5 % of the held out (1 of 20).
    let after_start = OffsetDateTime::now_utc() + time::Duration::hours(1);
    let (mut treated, mut held) = (0, 0);
    for (customer, group) in &groups {
        let orders = match group {
            Group::Treatment => {
                treated += 1;
                treated % 10 < 6
            }
            Group::Holdout => {
                held += 1;
                held == 1
            }
        };
        if orders {
            app.store
                .order_create(
                    a,
                    &NewOrder {
                        external_id: None,
                        customer_id: *customer,
                        ordered_at: after_start,
                        channel: None,
                        ad_medium: None,
                        is_subscription: false,
                        lines: vec![NewOrderLine { product_id: product.id, quantity: 1, amount: 5000 }],
                    },
                )
                .await
                .unwrap();
        }
    }
    let results = app.call(Method::GET, &format!("/api/v1/campaigns/{id}/results"), Some(&analyst), None).await;
    assert_eq!(results.status, StatusCode::OK, "{}", results.text);
    assert_eq!(
        (results.body["treatment_members"].as_u64(), results.body["holdout_members"].as_u64()),
        (Some(180), Some(20))
    );
    assert_eq!(results.body["window_days"], 90);
    let conversion = results.body["measures"].as_array().unwrap().iter().find(|m| m["key"] == "conversion").unwrap();
    assert_eq!(conversion["treatment"]["value"], 0.6);
    assert_eq!(conversion["holdout"]["value"], 0.05);
    assert_eq!(conversion["method"], "newcombe_hybrid_score_95");
    assert!(conversion["low"].as_f64().unwrap() > 0.0, "{conversion}");
    assert!(conversion["high"].as_f64().unwrap() < 0.7);
    let revenue =
        results.body["measures"].as_array().unwrap().iter().find(|m| m["key"] == "revenue_per_member").unwrap();
    assert_eq!(revenue["difference"], 2750.0);
    assert!(revenue["low"].as_f64().unwrap() > 0.0, "{revenue}");
    // A window that ends before the orders sees none; a bad window is refused.
    let bad =
        app.call(Method::GET, &format!("/api/v1/campaigns/{id}/results?window_days=0"), Some(&analyst), None).await;
    assert_eq!(bad.body["error"]["field"], "window_days");
    // CSV export: BOM, header, one row per measure.
    let csv = app.call(Method::GET, &format!("/api/v1/campaigns/{id}/results.csv"), Some(&analyst), None).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.text.starts_with('\u{feff}'));
    let lines: Vec<&str> = csv.text.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 6, "{}", csv.text);
    assert!(lines[0].contains("treatment_value") && lines[0].contains("low_95"));
    assert!(lines.iter().any(|l| l.starts_with("conversion,購入率,proportion,180,0.6,20,0.05,0.55,")), "{}", csv.text);
}

#[tokio::test]
async fn a_campaigns_hearing_points_come_with_each_call_and_are_answered_with_the_outcome() {
    let app = App::new("campaigns_hearing").await;
    let a = app.tenant("acme").await;
    let b = app.tenant("other").await;
    let admin = app.token(a, Role::Admin).await;
    let planner = app.token(a, Role::Supervisor).await;
    let agent = app.token(a, Role::Agent).await;
    let set_body = json!({"name": "ケアコールの聞き出し", "questions": [
        {"label": "効果を感じ始めた時期", "kind": "choice", "options": ["まだ", "1か月", "3か月"], "soft_attribute": "felt_effect"},
        {"label": "続けたい理由", "kind": "text", "soft_attribute": "reason_to_stay"}]});
    let set = app.call(Method::POST, "/api/v1/hearing-sets", Some(&admin), Some(set_body.clone())).await;
    assert_eq!(set.status, StatusCode::CREATED, "{}", set.text);
    let set_id = set.body["id"].as_i64().unwrap();
    let questions: Vec<i64> =
        set.body["questions"].as_array().unwrap().iter().map(|q| q["id"].as_i64().unwrap()).collect();
    let foreign_admin = app.token(b, Role::Admin).await;
    let foreign = app.call(Method::POST, "/api/v1/hearing-sets", Some(&foreign_admin), Some(set_body)).await;
    let foreign_id = foreign.body["id"].as_i64().unwrap();

    let ids = customers(&app, a, "H", 2).await;
    let mut body = call_only(&ids, 3);
    body["holdout_percent"] = json!(0);
    body["hearing_set_id"] = json!(foreign_id);
    let refused = app.call(Method::POST, "/api/v1/campaigns", Some(&planner), Some(body.clone())).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "another tenant's set: {}", refused.text);
    body["hearing_set_id"] = json!(set_id);
    let created = app.call(Method::POST, "/api/v1/campaigns", Some(&planner), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["hearing_set_id"].as_i64(), Some(set_id));
    let campaign = created.body["id"].as_i64().unwrap();

    let next = app.call(Method::POST, &format!("/api/v1/campaigns/{campaign}/calls/next"), Some(&agent), None).await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.text);
    assert_eq!(next.body["hearing"]["id"].as_i64(), Some(set_id), "the set comes with the call: {}", next.text);
    assert_eq!(next.body["hearing"]["questions"].as_array().unwrap().len(), 2);
    let task = next.body["task"]["task_id"].as_i64().unwrap();
    let customer = next.body["task"]["customer_id"].as_i64().unwrap();
    let outcome = format!("/api/v1/campaigns/{campaign}/calls/{task}/outcome");

    // A choice that is not an option: refused, and the attempt is not recorded either.
    let bad = json!({"outcome": "reached", "text": "お話しできた", "hearing": {"set_id": set_id, "answers": [
        {"question_id": questions[0], "value": "半年"}]}});
    let refused = app.call(Method::POST, &outcome, Some(&agent), Some(bad)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
    let history = app.call(Method::GET, &format!("/api/v1/customers/{customer}/contacts"), Some(&planner), None).await;
    assert_eq!(history.body["contacts"].as_array().unwrap().len(), 0, "nothing half-written");

    let good = json!({"outcome": "reached", "text": "効果はまだとのこと。使い方をご案内。", "hearing": {"set_id": set_id, "answers": [
        {"question_id": questions[0], "value": "まだ"},
        {"question_id": questions[1], "asked": false}]}});
    let recorded = app.call(Method::POST, &outcome, Some(&agent), Some(good)).await;
    assert_eq!(recorded.status, StatusCode::OK, "{}", recorded.text);
    let facts = app.call(Method::GET, &format!("/api/v1/customers/{customer}/soft-facts"), Some(&planner), None).await;
    assert!(facts.text.contains("felt_effect") && facts.text.contains("まだ"), "{}", facts.text);
    // The asked-rate report counts the call's checklist like any contact's.
    let rates = app.call(Method::GET, "/api/v1/hearing/asked-rates", Some(&planner), None).await;
    assert_eq!(rates.status, StatusCode::OK, "{}", rates.text);
    assert!(rates.text.contains("効果を感じ始めた時期"), "{}", rates.text);
}
