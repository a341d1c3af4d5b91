//! Hearing points on the screens (issue 6): the admin form, the karte's checklist and soft facts,
//! a contact logged with its checklist (all or nothing), the asked-rate and prospect pages.

use kimochi_domain::hearing::HearingSetId;

use super::*;

/// Administrator's form fields for a set of a choice, a number and a date question.
fn set_form(name: &str) -> String {
    let fields = [
        ("name", name),
        ("description", "基本"),
        ("default_inbound", "1"),
        ("q-0-label", "いちばん気になること"),
        ("q-0-kind", "choice"),
        ("q-0-soft_attribute", "what_matters_most"),
        ("q-0-options", "乾燥、シミ、ハリ"),
        ("q-0-hint", "肌の話題から"),
        ("q-0-weight", "10"),
        ("q-1-label", "月のスキンケア予算"),
        ("q-1-kind", "number"),
        ("q-1-soft_attribute", "monthly_budget"),
        ("q-1-min", "0"),
        ("q-1-max", "100000"),
        ("q-1-unit", "円"),
        ("q-2-label", "ご結婚の予定日"),
        ("q-2-kind", "date"),
        ("q-2-soft_attribute", "wedding_date"),
        ("q-2-weight", "20"),
    ];
    fields.iter().map(|(key, value)| format!("{key}={}", encode(value))).collect::<Vec<_>>().join("&")
}

#[tokio::test]
async fn hearing_points_from_admin_form_to_karte_reports_and_prospects() {
    let app = App::new("hearing").await;
    let admin = app.person("admin01", Role::Admin).await;
    let agent = app.person("op01", Role::Agent).await;
    let analyst = app.person("analyst01", Role::Analyst).await;
    let supervisor = app.person("sv01", Role::Supervisor).await;

    // The admin page: a refusal names the question, a good set is created.
    assert_eq!(app.get("/admin/hearing-points", Some(&agent)).await.status, StatusCode::FORBIDDEN);
    let bad = set_form("基本セット").replace("q-1-max=100000", "q-1-max=abc");
    let refused = app.post_form("/admin/hearing-points", &admin, Some(&admin.csrf), &bad).await;
    assert_eq!(refused.header("hx-retarget"), "#new-set-errors", "{}", refused.text);
    assert!(refused.text.contains("月のスキンケア予算"), "{}", refused.text);
    let created = app.post_form("/admin/hearing-points", &admin, Some(&admin.csrf), &set_form("基本セット")).await;
    assert_eq!(created.header("hx-redirect"), "/admin/hearing-points?done=1", "{}", created.text);
    let page = app.get("/admin/hearing-points?done=1", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("基本セット") && page.text.contains("乾燥、シミ、ハリ"), "{}", page.text);
    let set = app.store.hearing_set_default_inbound(app.tenant).await.unwrap().unwrap();
    assert_eq!(set.questions.len(), 3);
    let q = |i: usize| set.questions[i].id.0;

    // The karte: the checklist for the operator, none for the analyst; no soft facts yet.
    let customer = app.customer("山田 花子", "ヤマダ ハナコ", "03-1234-5678").await;
    let karte_path = format!("/agent/customers/{}", customer.id.0);
    let karte = app.get(&karte_path, Some(&agent)).await;
    assert!(karte.text.contains(&format!(r#"name="hq-{}-value""#, q(0))), "{}", karte.text);
    assert!(karte.text.contains("肌の話題から"));
    assert!(karte.text.contains(r#"id="soft-facts-empty""#));
    assert!(!app.get(&karte_path, Some(&analyst)).await.text.contains("hearing_set"));

    // A bad answer: the message names the question, nothing is stored.
    let path = format!("/agent/customers/{}/contacts", customer.id.0);
    let bad = format!("channel=phone&direction=inbound&text=x&hearing_set={}&hq-{}-value=500000", set.id.0, q(1));
    let refused = app.post_form(&path, &agent, Some(&agent.csrf), &bad).await;
    assert_eq!(refused.header("hx-retarget"), "#contact-errors");
    assert!(refused.text.contains("月のスキンケア予算"), "{}", refused.text);
    assert!(app.store.contact_list(app.tenant, customer.id, 10).await.unwrap().is_empty());

    // The checklist filled: the history entry and the soft facts, out of band.
    let form = format!(
        "channel=phone&direction=inbound&text={}&hearing_set={}&hq-{}-asked=1&hq-{}-value={}&hq-{}-asked=1&hq-{}-value=&hq-{}-value=2027-03-20",
        encode("結婚式に向けて"),
        set.id.0,
        q(0),
        q(0),
        encode("乾燥"),
        q(1),
        q(1),
        q(2)
    );
    let saved = app.post_form(&path, &agent, Some(&agent.csrf), &form).await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.text);
    assert!(saved.text.starts_with(r#"<section class="thread""#), "{}", saved.text);
    assert!(saved.text.contains(r#"id="soft-facts" hx-swap-oob="true""#), "{}", saved.text);
    assert!(saved.text.contains("乾燥") && saved.text.contains("2027-03-20"), "{}", saved.text);
    let contacts = app.store.contact_list(app.tenant, customer.id, 10).await.unwrap();
    let answers = app.store.hearing_answers_of_contact(app.tenant, contacts[0].id).await.unwrap();
    let lines: Vec<(bool, bool)> = answers.iter().map(|a| (a.asked, a.value.is_some())).collect();
    assert_eq!(lines, [(true, true), (true, false), (true, true)], "a value counts as asked");
    let karte = app.get(&karte_path, Some(&agent)).await;
    assert!(karte.text.contains("ご結婚の予定日") && !karte.text.contains(r#"id="soft-facts-empty""#));
    let english = app.get(&format!("{karte_path}?lang=en"), Some(&agent)).await;
    assert!(english.text.contains("Soft facts") && english.text.contains("Asked: <strong>"), "{}", english.text);

    // The asked-rate report: for leads only.
    assert_eq!(app.get("/supervisor/hearing", Some(&agent)).await.status, StatusCode::FORBIDDEN);
    let report = app.get("/supervisor/hearing", Some(&supervisor)).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    assert!(report.text.contains("op01 さん") && report.text.contains("100%"), "{}", report.text);
    let other_range = app.get("/supervisor/hearing?from=2020-01-01&to=2020-01-31", Some(&analyst)).await;
    assert!(other_range.text.contains("この期間の聞き出し記録はありません"), "{}", other_range.text);

    // The prospect list: the customer, masked for the analyst.
    let prospects = app.get("/agent/prospects", Some(&agent)).await;
    assert_eq!(prospects.status, StatusCode::OK);
    assert!(prospects.text.contains("山田 花子") && prospects.text.contains("03-1234-5678"), "{}", prospects.text);
    let english = app.get("/agent/prospects?lang=en", Some(&agent)).await;
    assert!(english.text.contains("Next approach"), "{}", english.text);
    let masked = app.get("/agent/prospects", Some(&analyst)).await;
    assert!(!masked.text.contains("03-1234-5678") && masked.text.contains("***-****-5678"), "{}", masked.text);

    // Deleting a set with answers is refused inline; the set stays.
    let delete = format!("/admin/hearing-points/{}/delete", set.id.0);
    let refused = app.post_form(&delete, &admin, Some(&admin.csrf), "").await;
    assert_eq!(refused.header("hx-retarget"), format!("#set-{}-errors", set.id.0));
    assert!(app.store.hearing_set_get(app.tenant, HearingSetId(set.id.0)).await.is_ok());
}
