//! The target-list builder page: roles, the live count, errors beside the row, saving, the
//! saved list with escaped names, CSRF.

use super::*;

fn count_in(html: &str) -> Option<i64> {
    let start = html.find(r#"<output id="segment-count">"#)? + r#"<output id="segment-count">"#.len();
    html[start..].split('<').next()?.trim().parse().ok()
}

#[tokio::test]
async fn the_target_builder_counts_shows_errors_and_saves() {
    let app = App::new("targets").await;
    let agent = app.person("op01", Role::Agent).await;
    let analyst = app.person("analyst01", Role::Analyst).await;
    app.customer("山田 花子", "ヤマダ ハナコ", "03-1234-5678").await;
    app.customer("佐藤 一郎", "サトウ イチロウ", "090-1111-2222").await;
    let mut no_phone = CustomerProfile::named("鈴木 次郎").unwrap();
    no_phone.consent.email = true;
    app.store.customer_create(app.tenant, &no_phone, OffsetDateTime::now_utc()).await.unwrap();

    assert_eq!(app.get("/analyst/targets", Some(&agent)).await.status, StatusCode::FORBIDDEN);
    let page = app.get("/analyst/targets", Some(&analyst)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains(r#"href="/analyst/targets" aria-current="page""#), "nav link");
    assert!(page.text.contains(r#"<label for="field_0">項目</label>"#));
    assert!(page.text.contains("条件を1つ以上選んでください。"));

    // One row: has a phone → 2; negated → 1; a second row ORed in widens it again.
    let has_phone = "rows=3&mode=all&field_0=has_phone&op_0=eq&value_0=true";
    let reply = app.post_form("/analyst/targets/builder", &analyst, Some(&analyst.csrf), has_phone).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(count_in(&reply.text), Some(2), "{}", reply.text);
    let negated = format!("{has_phone}&not_0=on");
    let reply = app.post_form("/analyst/targets/builder", &analyst, Some(&analyst.csrf), &negated).await;
    assert_eq!(count_in(&reply.text), Some(1), "{}", reply.text);
    let either = "rows=3&mode=any&field_0=has_phone&op_0=eq&value_0=true&field_1=consent_email&op_1=eq&value_1=true";
    let reply = app.post_form("/analyst/targets/builder", &analyst, Some(&analyst.csrf), either).await;
    assert_eq!(count_in(&reply.text), Some(3), "{}", reply.text);
    // A codes field shows its choices as checkboxes.
    let stage = "rows=1&field_0=stage&value_0=subscription";
    let reply = app.post_form("/analyst/targets/builder", &analyst, Some(&analyst.csrf), stage).await;
    assert!(reply.text.contains(r#"name="value_0" value="subscription" checked"#), "{}", reply.text);
    assert_eq!(count_in(&reply.text), Some(0));

    // A contradiction is shown beside the row at fault (the second filled row is row 2 here).
    let contradiction =
        "rows=3&field_0=days_since_last_order&op_0=gte&value_0=90&field_2=days_since_last_order&op_2=lte&value_2=30";
    let reply = app.post_form("/analyst/targets/builder", &analyst, Some(&analyst.csrf), contradiction).await;
    let row_two = reply.text.split(r#"id="row-2""#).nth(1).unwrap().split("</li>").next().unwrap();
    assert!(row_two.contains("矛盾"), "{row_two}");
    assert_eq!(count_in(&reply.text), None);
    // A window is required for call attempts.
    let missing_days = "rows=1&field_0=call_attempts&op_0=gte&value_0=2";
    let reply = app.post_form("/analyst/targets/builder", &analyst, Some(&analyst.csrf), missing_days).await;
    assert!(reply.text.contains("日数（期間）が正しくありません"), "{}", reply.text);

    // Add and remove rows.
    let reply =
        app.post_form("/analyst/targets/builder", &analyst, Some(&analyst.csrf), &format!("{has_phone}&add=1")).await;
    assert!(reply.text.contains(r#"name="rows" value="4""#));
    let reply = app
        .post_form("/analyst/targets/builder", &analyst, Some(&analyst.csrf), &format!("{has_phone}&drop_row=0"))
        .await;
    assert!(reply.text.contains(r#"name="rows" value="2""#) && count_in(&reply.text).is_none());

    // Without the CSRF header nothing happens.
    let reply = app.post_form("/analyst/targets/builder", &analyst, None, has_phone).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    // Save with a hostile name: redirected, listed escaped with its count, exportable.
    let save = format!("{has_phone}&save=1&segment_name={}&segment_description=", encode(HOSTILE));
    let reply = app.post_form("/analyst/targets/builder", &analyst, Some(&analyst.csrf), &save).await;
    assert!(reply.header("hx-redirect").starts_with("/analyst/targets?saved="), "{}", reply.text);
    let again = app.post_form("/analyst/targets/builder", &analyst, Some(&analyst.csrf), &save).await;
    assert!(again.text.contains("同じ名前のセグメントが既にあります。"), "{}", again.text);
    let page = app.get("/analyst/targets?saved=1", Some(&analyst)).await;
    assert!(page.text.contains("保存しました。"));
    assert!(!page.text.contains("<script>alert"), "names are escaped");
    assert!(page.text.contains("alert(&#39;xss&#39;)") || page.text.contains("&#60;script&#62;"), "{}", page.text);
    let segment = app.store.segment_list(app.tenant).await.unwrap().remove(0);
    assert!(page.text.contains(r#"<td class="num">2</td>"#), "{}", page.text);
    assert!(page.text.contains(&format!("/api/v1/segments/{}/export.csv", segment.id.0)));
    // Opened again, the builder holds its rule; saving updates it.
    let opened = app.get(&format!("/analyst/targets?segment={}", segment.id.0), Some(&analyst)).await;
    assert!(opened.text.contains(r#"<option value="has_phone" selected>"#), "{}", opened.text);
    assert_eq!(count_in(&opened.text), Some(2));
    let update = format!("{has_phone}&not_0=on&save=1&segment_id={}&segment_name=no-phone", segment.id.0);
    let reply = app.post_form("/analyst/targets/builder", &analyst, Some(&analyst.csrf), &update).await;
    assert!(!reply.header("hx-redirect").is_empty(), "{}", reply.text);
    let segments = app.store.segment_list(app.tenant).await.unwrap();
    assert_eq!((segments.len(), segments[0].name.as_str()), (1, "no-phone"));
    let csv = app.get(&format!("/api/v1/segments/{}/export.csv", segment.id.0), Some(&analyst)).await;
    assert!(csv.text.contains("鈴木 次郎") && !csv.text.contains("山田"), "{}", csv.text);
    // Delete.
    let path = format!("/analyst/targets/{}/delete", segment.id.0);
    let reply = app.post_form(&path, &analyst, Some(&analyst.csrf), "").await;
    assert_eq!(reply.header("hx-redirect"), "/analyst/targets");
    assert!(app.store.segment_list(app.tenant).await.unwrap().is_empty());
}

/// A hearing row: the builder lists the tenant's questions (and their soft attributes), shows a
/// choice question's options as checkboxes, counts, and a saved rule opens with its question.
/// Behaviour rows take their key or URL as text.
#[tokio::test]
async fn the_target_builder_offers_hearing_questions_and_behaviour() {
    use kimochi_domain::hearing::{
        AnswerKind, AnswerValue, HearingCapture, NewHearingAnswer, NewHearingQuestion, NewHearingSet,
    };
    let app = App::new("targets_hearing").await;
    let analyst = app.person("analyst01", Role::Analyst).await;
    let question = |label: &str, kind: AnswerKind, soft_attribute: &str| NewHearingQuestion {
        id: None,
        label: label.into(),
        kind,
        soft_attribute: soft_attribute.into(),
        hint: String::new(),
        weight: 10,
    };
    let set = NewHearingSet {
        name: "基本".into(),
        description: String::new(),
        default_inbound: true,
        questions: vec![
            question(
                "投資意欲",
                AnswerKind::Choice { options: vec!["高い".into(), "低い".into()] },
                "investment_appetite",
            ),
            question("月の予算", AnswerKind::Number { min: None, max: None, unit: None }, "monthly_budget"),
        ],
    };
    let set = app.store.hearing_set_create(app.tenant, &set, OffsetDateTime::now_utc()).await.unwrap();
    let heard = app.customer("山田 花子", "ヤマダ ハナコ", "03-1234-5678").await;
    app.customer("佐藤 一郎", "サトウ イチロウ", "090-1111-2222").await;
    let contact = NewContact {
        external_id: None,
        customer_id: heard.id,
        channel: Channel::Phone,
        direction: Direction::Inbound,
        started_at: OffsetDateTime::now_utc() - time::Duration::days(1),
        ended_at: None,
        agent_id: None,
        reason: None,
        outcome: None,
        text: "ご相談".into(),
        thread_of: None,
        tags: ContactTags::default(),
    };
    let capture = HearingCapture {
        set_id: set.id,
        answers: vec![NewHearingAnswer {
            question_id: set.questions[0].id,
            asked: true,
            value: Some(AnswerValue::Choice("高い".into())),
        }],
    };
    app.store.contact_create_with_hearing(app.tenant, &contact, &capture).await.unwrap();
    let choice = set.questions[0].id.0;
    let post = |form: String| {
        let (app, analyst) = (&app, &analyst);
        async move { app.post_form("/analyst/targets/builder", analyst, Some(&analyst.csrf), &form).await }
    };

    // Choosing the field lists the questions that fit it; without one the row says what is missing.
    let reply = post("rows=1&field_0=hearing_choice".to_owned()).await;
    assert!(reply.text.contains(r#"<select id="subject_0" name="subject_0">"#), "{}", reply.text);
    assert!(reply.text.contains(&format!(r#"<option value="q:{choice}">基本 / 投資意欲</option>"#)), "{}", reply.text);
    assert!(reply.text.contains(r#"<option value="a:investment_appetite">項目: investment_appetite</option>"#));
    assert!(!reply.text.contains("月の予算"), "a number question does not fit a choice test");
    let row = reply.text.split(r#"id="row-0""#).nth(1).unwrap().split("</li>").next().unwrap();
    assert!(row.contains("対象（質問・項目・キー・URL）の指定が正しくありません"), "{row}");
    assert_eq!(count_in(&reply.text), None);
    // The question's options become checkboxes; the count follows.
    let high = format!("rows=1&field_0=hearing_choice&subject_0=q%3A{choice}&op_0=in&value_0={}", encode("高い"));
    let reply = post(high.clone()).await;
    assert!(reply.text.contains(&format!(r#"<option value="q:{choice}" selected>"#)), "{}", reply.text);
    assert!(reply.text.contains(r#"name="value_0" value="高い" checked"#), "{}", reply.text);
    assert!(reply.text.contains(r#"name="value_0" value="低い""#));
    assert_eq!(count_in(&reply.text), Some(1), "{}", reply.text);
    let status = "rows=1&field_0=hearing_status&subject_0=a%3Ainvestment_appetite&op_0=in&value_0=not_asked";
    assert_eq!(count_in(&post(status.to_owned()).await.text), Some(1));
    // Behaviour: the URL is typed.
    let visits = "rows=1&field_0=web_visits&subject_0=%2Fpricing&op_0=eq&value_0=0&days_0=30";
    let reply = post(visits.to_owned()).await;
    assert!(reply.text.contains(r#"<label for="subject_0">URLに含む文字</label>"#), "{}", reply.text);
    assert!(reply.text.contains(r#"value="/pricing""#));
    assert_eq!(count_in(&reply.text), Some(2));

    // Saved and opened again: the question and the choice are still chosen.
    let reply = post(format!("{high}&save=1&segment_name=appetite&segment_description=")).await;
    assert!(reply.header("hx-redirect").starts_with("/analyst/targets?saved="), "{}", reply.text);
    let segment = app.store.segment_list(app.tenant).await.unwrap().remove(0);
    let opened = app.get(&format!("/analyst/targets?segment={}", segment.id.0), Some(&analyst)).await;
    assert!(opened.text.contains(&format!(r#"<option value="q:{choice}" selected>"#)), "{}", opened.text);
    assert!(opened.text.contains(r#"name="value_0" value="高い" checked"#), "{}", opened.text);
    assert_eq!(count_in(&opened.text), Some(1));
}
