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
