//! The HTML pages as a browser sees them: a real router over a real SQLite store, driven with a
//! session cookie through `tower::ServiceExt::oneshot`. Checks what people must be able to rely
//! on: login redirects, escaping of hostile text, the Content-Security-Policy, masking per role,
//! CSRF on writes, the screen pop, the heat map and its exports.

// Tests may panic on the unexpected and read the clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use kimochi_domain::*;
use kimochi_store::Store;
use kimochi_web::pages::{CONTENT_SECURITY_POLICY, assets};
use kimochi_web::{AppState, WebConfig, auth, router};
use time::OffsetDateTime;
use tower::ServiceExt;

struct App {
    router: axum::Router,
    store: Arc<dyn Store>,
    dir: std::path::PathBuf,
    tenant: TenantId,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    bytes: Vec<u8>,
    text: String,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }
}

/// A logged-in person: their session cookie and CSRF token.
struct Person {
    cookie: String,
    csrf: String,
}

const HOSTILE: &str = "<script>alert('xss')</script><img src=x onerror=\"alert(1)\"> 届かない😡 #返金";

impl App {
    async fn new(name: &str) -> App {
        let dir = std::env::temp_dir().join(format!("kimochi_pages_{}_{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = kimochi_store::open(&format!("sqlite://{}", dir.join("kimochi.db").display())).await.unwrap();
        let router = router(AppState::new(store.clone(), WebConfig::default()));
        let tenant = store
            .tenant_create(&TenantSlug::parse("acme").unwrap(), "acme", OffsetDateTime::now_utc())
            .await
            .unwrap()
            .id;
        App { router, store, dir, tenant }
    }

    async fn person(&self, login: &str, role: Role) -> Person {
        let user = NewUser {
            login: login.into(),
            display_name: format!("{login} さん"),
            role,
            team_id: None,
            password_hash: "unused".into(),
        };
        let user = self.store.user_create(self.tenant, &user, OffsetDateTime::now_utc()).await.unwrap();
        let session = auth::random_token(32);
        let csrf = auth::random_token(16);
        let expires = OffsetDateTime::now_utc() + time::Duration::hours(1);
        self.store.session_create(&auth::token_hash(&session), self.tenant, user.id, &csrf, expires).await.unwrap();
        Person { cookie: format!("{}={session}", auth::SESSION_COOKIE), csrf }
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes().to_vec();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        Reply { status, headers, bytes, text }
    }

    async fn get(&self, path: &str, person: Option<&Person>) -> Reply {
        let mut request = Request::builder().uri(path);
        if let Some(person) = person {
            request = request.header(header::COOKIE, &person.cookie);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    async fn post_form(&self, path: &str, person: &Person, csrf: Option<&str>, form: &str) -> Reply {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::COOKIE, &person.cookie)
            .header("hx-request", "true")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        self.send(request.body(Body::from(form.to_owned())).unwrap()).await
    }

    async fn customer(&self, name: &str, kana: &str, phone: &str) -> Customer {
        let mut profile = CustomerProfile::named(name).unwrap();
        profile.kana = Some(kana.into());
        profile.phones = vec![PhoneNumber::parse(phone).unwrap()];
        profile.emails = vec![Email::parse("hanako@example.jp").unwrap()];
        profile.consent.phone = false;
        self.store.customer_create(self.tenant, &profile, OffsetDateTime::now_utc()).await.unwrap()
    }
}

fn encode(text: &str) -> String {
    kimochi_web::pages::agent::url_component(text)
}

#[tokio::test]
async fn pages_need_a_session() {
    let app = App::new("session").await;
    for path in ["/", "/agent", "/agent/customers/1", "/agent/pop?phone=0312345678", "/analyst/rfm"] {
        let reply = app.get(path, None).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(reply.header("location"), "/login", "{path}");
    }
    // htmx is told to load the login page instead of swapping it into a fragment.
    let request = Request::builder().uri("/agent/search?q=x").header("hx-request", "true").body(Body::empty()).unwrap();
    let reply = app.send(request).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.header("hx-redirect"), "/login");
}

#[tokio::test]
async fn home_layout_language_and_security_headers() {
    let app = App::new("layout").await;
    let agent = app.person("op01", Role::Agent).await;
    let analyst = app.person("analyst01", Role::Analyst).await;

    let home = app.get("/", Some(&agent)).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text.contains(r#"<html lang="ja">"#));
    assert!(home.text.contains("op01 さん（オペレーター）"), "{}", home.text);
    assert_eq!(home.header("content-security-policy"), CONTENT_SECURITY_POLICY);
    assert_eq!(home.header("x-frame-options"), "DENY");
    // The CSRF token reaches htmx through the body's hx-headers, and the logout form.
    assert!(home.text.contains(&format!("&#34;x-csrf-token&#34;:&#34;{}&#34;", agent.csrf)), "{}", home.text);
    assert!(home.text.contains(&format!(r#"name="csrf" value="{}""#, agent.csrf)));
    // No inline script or style anywhere: everything comes from /static.
    assert!(!home.text.contains("<script>") && !home.text.contains("<style") && !home.text.contains("style="));
    assert!(home.text.contains(&format!(r#"<script src="{}" defer></script>"#, assets::url("htmx.min.js"))));
    // Navigation follows the role: agents have no analyst views.
    assert!(home.text.contains(r#"href="/agent""#) && !home.text.contains(r#"href="/analyst/rfm""#));
    assert!(app.get("/", Some(&analyst)).await.text.contains(r#"href="/analyst/rfm""#));

    // English on request, remembered in a cookie.
    let english = app.get("/agent?lang=en", Some(&agent)).await;
    assert!(english.text.contains(r#"<html lang="en">"#));
    assert!(english.text.contains("Customer search"));
    assert!(english.header("set-cookie").starts_with("kimochi_lang=en;"));
    let cookie = format!("{}; kimochi_lang=en", agent.cookie);
    let request = Request::builder().uri("/agent").header(header::COOKIE, cookie).body(Body::empty()).unwrap();
    assert!(app.send(request).await.text.contains(r#"<html lang="en">"#));
}

#[tokio::test]
async fn static_assets_are_embedded_and_cached_by_version() {
    let app = App::new("assets").await;
    let htmx = app.get(&assets::url("htmx.min.js"), None).await;
    assert_eq!(htmx.status, StatusCode::OK);
    assert!(htmx.header("content-type").starts_with("text/javascript"));
    assert!(htmx.header("cache-control").contains("immutable"));
    assert!(htmx.text.contains("htmx"));
    let css = app.get(&assets::url("app.css"), None).await;
    assert!(css.header("content-type").starts_with("text/css"));
    let stale = app.get("/static/000000000000/app.js", None).await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.header("cache-control"), "no-cache");
    assert_eq!(app.get(&assets::url("secrets.txt"), None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn search_by_kana_and_full_width_phone_with_masking_per_role() {
    let app = App::new("search").await;
    let agent = app.person("op01", Role::Agent).await;
    let analyst = app.person("analyst01", Role::Analyst).await;
    let customer = app.customer("山田 花子", "ヤマダ ハナコ", "03-1234-5678").await;
    app.customer("佐藤 一郎", "サトウ イチロウ", "090-1111-2222").await;

    let by_kana = app.get(&format!("/agent/search?q={}", encode("やまだ")), Some(&agent)).await;
    assert_eq!(by_kana.status, StatusCode::OK);
    assert!(by_kana.text.contains(&format!(r#"<a href="/agent/customers/{}">山田 花子</a>"#, customer.id.0)));
    assert!(!by_kana.text.contains("佐藤"));
    assert!(by_kana.text.contains("03-1234-5678"), "an agent sees the number: {}", by_kana.text);

    let by_phone = app.get(&format!("/agent/search?q={}", encode("０３－１２３４")), Some(&agent)).await;
    assert!(by_phone.text.contains("山田 花子"), "{}", by_phone.text);

    // The full page works without JavaScript, too.
    let page = app.get(&format!("/agent?q={}", encode("ヤマダ")), Some(&agent)).await;
    assert!(page.text.contains("山田 花子") && page.text.contains("<!doctype html>"));

    let masked = app.get(&format!("/agent/search?q={}", encode("ヤマダ")), Some(&analyst)).await;
    assert!(masked.text.contains("***-****-5678"), "{}", masked.text);
    assert!(!masked.text.contains("03-1234-5678") && !masked.text.contains("hanako@"));

    let nothing = app.get(&format!("/agent/search?q={}", encode("スズキ")), Some(&agent)).await;
    assert!(nothing.text.contains("該当するお客様はいません。"));
}

#[tokio::test]
async fn screen_pop_opens_the_karte_lists_or_offers_to_register() {
    let app = App::new("pop").await;
    let agent = app.person("op01", Role::Agent).await;
    let one = app.customer("山田 花子", "ヤマダ ハナコ", "03-1234-5678").await;
    app.customer("鈴木 一", "スズキ ハジメ", "090-1111-2222").await;
    app.customer("鈴木 二", "スズキ ツギ", "090-1111-2222").await;

    let single = app.get(&format!("/agent/pop?phone={}", encode("+81 3-1234-5678")), Some(&agent)).await;
    assert_eq!(single.status, StatusCode::SEE_OTHER);
    assert_eq!(single.header("location"), format!("/agent/customers/{}", one.id.0));
    // A longer number that starts the same is not this caller.
    let prefix_only = app.get("/agent/pop?phone=031234567", Some(&agent)).await;
    assert_eq!(prefix_only.status, StatusCode::OK);

    let several = app.get("/agent/pop?phone=09011112222", Some(&agent)).await;
    assert_eq!(several.status, StatusCode::OK);
    assert!(several.text.contains("鈴木 一") && several.text.contains("鈴木 二"));

    let unknown = app.get("/agent/pop?phone=0120-000-000", Some(&agent)).await;
    assert!(unknown.text.contains("この番号のお客様は登録されていません。"));
    assert!(unknown.text.contains(r#"href="/agent/customers/new?phone=0120-000-000""#), "{}", unknown.text);
    let form = app.get("/agent/customers/new?phone=0120-000-000", Some(&agent)).await;
    assert!(form.text.contains(r#"value="0120-000-000""#));

    let created =
        app.post_form("/agent/customers", &agent, Some(&agent.csrf), "name=%E6%96%B0%E8%A6%8F&phone=0120000000").await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    assert!(created.header("hx-redirect").starts_with("/agent/customers/"));
    let refused = app.post_form("/agent/customers", &agent, Some(&agent.csrf), "name=&phone=").await;
    assert_eq!(refused.header("hx-retarget"), "#customer-errors");
}

#[tokio::test]
async fn karte_escapes_hostile_text_and_shows_everything_on_one_screen() {
    let app = App::new("karte").await;
    let agent = app.person("op01", Role::Agent).await;
    let analyst = app.person("analyst01", Role::Analyst).await;
    let customer = app.customer("山田 <b>花子</b>", "ヤマダ ハナコ", "03-1234-5678").await;
    // Logged through the page, as an operator would (and without building a `NewContact`).
    let form = format!(
        "channel=sns&direction=inbound&reason={}&outcome=escalated&text={}",
        encode("クレーム"),
        encode(HOSTILE)
    );
    let contacts = format!("/agent/customers/{}/contacts", customer.id.0);
    let logged = app.post_form(&contacts, &agent, Some(&agent.csrf), &form).await;
    assert_eq!(logged.status, StatusCode::CREATED, "{}", logged.text);
    let caution = NewHandoverNote {
        customer_id: customer.id,
        kind: HandoverKind::Caution,
        text: "大きな声が苦手な方です".into(),
        author_id: None,
        created_at: OffsetDateTime::now_utc(),
    };
    app.store.handover_note_create(app.tenant, &caution).await.unwrap();

    let path = format!("/agent/customers/{}", customer.id.0);
    let karte = app.get(&path, Some(&agent)).await;
    assert_eq!(karte.status, StatusCode::OK, "{}", karte.text);
    assert_eq!(karte.header("content-security-policy"), CONTENT_SECURITY_POLICY);
    assert!(karte.text.contains("&#60;script&#62;alert(&#39;xss&#39;)&#60;/script&#62;"), "{}", karte.text);
    assert!(karte.text.contains("&#60;img src=x onerror=&#34;alert(1)&#34;&#62;"));
    assert!(!karte.text.contains("<script>alert") && !karte.text.contains("<img src=x"));
    assert!(karte.text.contains("山田 &#60;b&#62;花子&#60;/b&#62;"));
    assert!(
        karte.text.contains(r#"class="banner caution" role="alert""#) && karte.text.contains("大きな声が苦手な方です")
    );
    assert!(karte.text.contains("未スコア"), "no run yet");
    assert!(karte.text.contains("SNS") && karte.text.contains("エスカレーション"));
    assert!(karte.text.contains("03-1234-5678") && karte.text.contains(r#"id="contact-form""#));

    let masked = app.get(&path, Some(&analyst)).await;
    assert!(masked.text.contains("***-****-5678") && !masked.text.contains("03-1234-5678"));
    assert!(masked.text.contains("h***@example.jp"));
    assert!(!masked.text.contains(r#"id="contact-form""#), "analysts may not write");

    assert_eq!(app.get("/agent/customers/999999", Some(&agent)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/agent/customers/abc", Some(&agent)).await.status, StatusCode::NOT_FOUND);
    // Another tenant's customer is not found either.
    let other = app.store.tenant_create(&TenantSlug::parse("other").unwrap(), "other", OffsetDateTime::now_utc()).await;
    let other = other.unwrap().id;
    let foreign = app
        .store
        .customer_create(other, &CustomerProfile::named("他社").unwrap(), OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(
        app.get(&format!("/agent/customers/{}", foreign.id.0), Some(&agent)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn contacts_are_logged_with_csrf_and_come_back_as_history() {
    let app = App::new("contact").await;
    let agent = app.person("op01", Role::Agent).await;
    let analyst = app.person("analyst01", Role::Analyst).await;
    let customer = app.customer("山田 花子", "ヤマダ ハナコ", "03-1234-5678").await;
    let path = format!("/agent/customers/{}/contacts", customer.id.0);
    let form =
        format!("channel=phone&direction=inbound&reason=%E8%BF%94%E5%93%81&outcome=resolved&text={}", encode(HOSTILE));

    let forged = app.post_form(&path, &agent, None, &form).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let wrong = app.post_form(&path, &agent, Some("not-the-token"), &form).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(app.post_form(&path, &analyst, Some(&analyst.csrf), &form).await.status, StatusCode::FORBIDDEN);

    let saved = app.post_form(&path, &agent, Some(&agent.csrf), &form).await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.text);
    assert!(saved.text.starts_with(r#"<section class="thread""#), "a fragment, not a page: {}", saved.text);
    assert!(saved.text.contains("&#60;script&#62;") && !saved.text.contains("<script>"));
    assert!(saved.text.contains("返品") && saved.text.contains("解決"));
    let stored = app.store.contact_list(app.tenant, customer.id, 10).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].text, HOSTILE);
    let karte = app.get(&format!("/agent/customers/{}", customer.id.0), Some(&agent)).await;
    assert!(karte.text.contains(&format!(r#"id="contact-{}""#, stored[0].id.0)));

    // The text engine's tags come back with the entry, as the operator logged it.
    let thanks =
        format!("channel=phone&direction=inbound&text={}", encode("いつも丁寧にありがとう。とても満足しています。"));
    let tagged = app.post_form(&path, &agent, Some(&agent.csrf), &thanks).await;
    assert_eq!(tagged.status, StatusCode::CREATED, "{}", tagged.text);
    assert!(tagged.text.contains(r#"<ul class="tags" aria-label="キモチタグ">"#), "{}", tagged.text);
    assert!(tagged.text.contains(r#"<li class="badge positive">ポジティブ</li>"#), "{}", tagged.text);
    assert!(tagged.text.contains("感謝") && tagged.text.contains("満足"), "{}", tagged.text);

    // Outbound calls need consent (this customer gave none): the message goes to the form.
    let outbound = app.post_form(&path, &agent, Some(&agent.csrf), "channel=phone&direction=outbound&text=").await;
    assert_eq!(outbound.status, StatusCode::OK);
    assert_eq!(outbound.header("hx-retarget"), "#contact-errors");
    assert!(outbound.text.contains("同意"), "{}", outbound.text);
    let bad = app.post_form(&path, &agent, Some(&agent.csrf), "channel=pigeon&direction=inbound").await;
    assert_eq!(bad.header("hx-retarget"), "#contact-errors");
    assert_eq!(app.store.contact_list(app.tenant, customer.id, 10).await.unwrap().len(), 2, "nothing else written");
}

fn score(customer: CustomerId, rfm_cell: u16) -> CustomerScore {
    CustomerScore {
        customer_id: customer,
        as_of: time::macros::date!(2026 - 10 - 31),
        stage: Stage::Repeater,
        rfm_cell: Some(rfm_cell),
        recency_days: Some(20),
        p_alive: Some(0.87),
        expected_purchases: Some(2.0),
        expected_spend: Some(4000.0),
        clv: Some(23_456.4),
        churn_probability: Some(0.42),
        churn_level: Some(ChurnLevel::High),
        churn_reasons: vec![ScoreReason {
            code: "expectation_gap".into(),
            text: "期待とのギャップあり(解約リスク 3.0倍)".into(),
            weight: 3.0,
        }],
        loyalty: Some(LoyaltyQuadrant::Spurious),
        near_loyal: None,
        positive_dormant: false,
        cluster: Some(1),
        cluster_label: Some("定期・不満あり".into()),
        repeat_alerts: Vec::new(),
        scored_at: OffsetDateTime::now_utc(),
    }
}

#[tokio::test]
async fn karte_shows_scores_and_the_heat_map_lists_and_exports_a_cell() {
    let app = App::new("rfm").await;
    let agent = app.person("op01", Role::Agent).await;
    let analyst = app.person("analyst01", Role::Analyst).await;
    let supervisor = app.person("sv01", Role::Supervisor).await;
    let first = app.customer("山田 花子", "ヤマダ ハナコ", "03-1234-5678").await;
    let second = app.customer("=HYPERLINK(\"x\")", "スズキ", "090-1111-2222").await;
    let elsewhere = app.customer("佐藤 一郎", "サトウ", "090-3333-4444").await;
    let scores = [score(first.id, 545), score(second.id, 545), score(elsewhere.id, 111)];
    app.store.scores_write(app.tenant, &scores).await.unwrap();

    let karte = app.get(&format!("/agent/customers/{}", first.id.0), Some(&agent)).await;
    for expected in [
        "リピーター",
        "545",
        "¥23,456",
        "87%",
        "高（42%）",
        "期待とのギャップあり",
        "見せかけのロイヤル",
        "定期・不満あり",
    ] {
        assert!(karte.text.contains(expected), "{expected} missing: {}", karte.text);
    }
    assert!(!karte.text.contains("未スコア"));

    let empty = app.get("/analyst/rfm", Some(&analyst)).await;
    assert!(empty.text.contains("まだスコアがありません"), "{}", empty.text);
    let summary = serde_json::json!({"rfm": {"cells": {"545": 2, "111": 1}}}).to_string();
    let as_of = time::macros::date!(2026 - 10 - 31);
    app.store.score_run_record(app.tenant, as_of, OffsetDateTime::now_utc(), 3, &summary).await.unwrap();

    assert_eq!(app.get("/analyst/rfm", Some(&agent)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/analyst/rfm/cells/545/export.csv", Some(&agent)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/analyst/rfm", Some(&supervisor)).await.status, StatusCode::OK);
    let map = app.get("/analyst/rfm", Some(&analyst)).await;
    assert_eq!(map.status, StatusCode::OK);
    assert_eq!(map.text.matches(r#"class="rfm-cell h"#).count(), 125);
    assert!(
        map.text.contains(r#"<a class="rfm-cell h8" href="/analyst/rfm?cell=545#cell-list-heading""#),
        "{}",
        map.text
    );
    assert!(map.text.contains(r#"aria-label="R5 F4 M5: 2 人""#));
    assert!(map.text.contains(r#"aria-label="R3 F3 M3: 0 人""#));

    let list = app.get("/analyst/rfm/cells/545", Some(&analyst)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.text.contains("山田 花子") && list.text.contains("（2 人）") && !list.text.contains("佐藤"));
    assert!(list.text.contains("***-****-5678") && !list.text.contains("03-1234-5678"));
    assert!(app.get("/analyst/rfm?cell=545", Some(&analyst)).await.text.contains("山田 花子"), "works without htmx");
    assert_eq!(app.get("/analyst/rfm/cells/999", Some(&analyst)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/analyst/rfm/cells/x", Some(&analyst)).await.status, StatusCode::NOT_FOUND);

    let csv = app.get("/analyst/rfm/cells/545/export.csv", Some(&analyst)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.header("content-disposition").contains("rfm-545.csv"));
    assert!(csv.bytes.starts_with(b"\xEF\xBB\xBF"));
    let lines: Vec<&str> = csv.text.trim_start_matches('\u{feff}').trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with("顧客ID,顧客番号,氏名,カナ,電話番号"));
    assert!(lines[1].starts_with(&format!("{},,山田 花子,ヤマダ ハナコ,***-****-5678,", first.id.0)), "{}", lines[1]);
    assert!(lines[1].contains(",545,20,23456,0.8700,0.4200,高,見せかけのロイヤル,"), "{}", lines[1]);
    assert!(lines[2].contains("'=HYPERLINK"), "formulas are defused: {}", lines[2]);
    let clear = app.get("/analyst/rfm/cells/545/export.csv", Some(&supervisor)).await;
    assert!(clear.text.contains("03-1234-5678"), "supervisors see personal data");

    let xlsx = app.get("/analyst/rfm/cells/545/export.xlsx", Some(&analyst)).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.bytes.starts_with(b"PK"), "an xlsx is a zip file");

    let audit = app.store.audit_list(app.tenant, 50).await.unwrap();
    assert!(audit.iter().any(|entry| entry.action == "rfm.cell.export" && entry.detail.contains("2 rows")));
    assert!(audit.iter().any(|entry| entry.action == "karte.read" && entry.customer_id == Some(first.id)));
}

#[tokio::test]
async fn the_supervisor_board_shows_open_alerts_counts_and_acknowledges() {
    let app = App::new("board").await;
    let agent = app.person("op01", Role::Agent).await;
    let analyst = app.person("analyst01", Role::Analyst).await;
    let supervisor = app.person("sv01", Role::Supervisor).await;
    let customer = app.customer("山田 花子", "ヤマダ ハナコ", "03-1234-5678").await;
    // An operator logs a hostile text with a crisis word through the page.
    let hostile = format!("{HOSTILE} 消費者センターに言います");
    let form = format!("channel=sns&direction=inbound&reason=%E8%BF%94%E5%93%81&text={}", encode(&hostile));
    let path = format!("/agent/customers/{}/contacts", customer.id.0);
    assert_eq!(app.post_form(&path, &agent, Some(&agent.csrf), &form).await.status, StatusCode::CREATED);
    for person in [&agent, &analyst] {
        assert_eq!(app.get("/supervisor", Some(person)).await.status, StatusCode::FORBIDDEN);
    }
    assert!(!app.get("/", Some(&agent)).await.text.contains(r#"href="/supervisor""#), "no link for agents");
    let board = app.get("/supervisor", Some(&supervisor)).await;
    assert_eq!(board.status, StatusCode::OK, "{}", board.text);
    assert_eq!(board.header("content-security-policy"), CONTENT_SECURITY_POLICY);
    assert!(board.text.contains(r#"<a href="/supervisor" aria-current="page">スーパーバイザーボード</a>"#));
    assert!(board.text.contains(&assets::url("board.js")), "the board's own script, no inline script");
    // The open alert, its word marked, the hostile text escaped.
    assert!(board.text.contains(r#"<span class="badge critical">緊急</span>"#), "{}", board.text);
    assert!(board.text.contains("<mark>消費者センター</mark>"), "{}", board.text);
    assert!(board.text.contains("onerror=&#34;alert(1)&#34;&#62;"), "{}", board.text);
    assert!(!board.text.contains("<script>alert") && !board.text.contains("<img src=x"));
    // Today's counts: the operator, the channel, the reason.
    assert!(board.text.contains("<td>op01 さん</td><td class=\"num\">1</td>"), "{}", board.text);
    assert!(board.text.contains("<td>SNS</td><td class=\"num\">1</td>"), "{}", board.text);
    assert!(board.text.contains("<td>返品</td><td class=\"num\">1</td>"), "{}", board.text);
    let counts = app.get("/supervisor/counts?lang=en", Some(&supervisor)).await;
    assert!(counts.text.starts_with(r#"<section id="board-counts""#) && counts.text.contains("By operator"));
    // Acknowledge from the board: CSRF needed, agents refused, the entry comes back acknowledged.
    let alert = app
        .store
        .alert_list(app.tenant, &AlertQuery { since: None, unacknowledged_only: true, limit: 5 })
        .await
        .unwrap();
    assert_eq!(alert.len(), 1);
    let ack = format!("/supervisor/alerts/{}/ack", alert[0].id.0);
    assert_eq!(app.post_form(&ack, &supervisor, None, "").await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.post_form(&ack, &agent, Some(&agent.csrf), "").await.status, StatusCode::FORBIDDEN);
    let acked = app.post_form(&ack, &supervisor, Some(&supervisor.csrf), "").await;
    assert_eq!(acked.status, StatusCode::OK, "{}", acked.text);
    assert!(acked.text.starts_with(r#"<li class="board-alert acked""#), "{}", acked.text);
    assert!(acked.text.contains("確認済み"));
    assert_eq!(
        app.post_form("/supervisor/alerts/999999/ack", &supervisor, Some(&supervisor.csrf), "").await.status,
        StatusCode::NOT_FOUND
    );
    let board = app.get("/supervisor", Some(&supervisor)).await;
    assert!(board.text.contains("未確認のアラートはありません。") && !board.text.contains("<mark>"), "{}", board.text);
}

#[tokio::test]
async fn karte_faq_panel_searches_as_the_operator_types() {
    let mut app = App::new("faq_panel").await;
    let agent = app.person("op01", Role::Agent).await;
    let customer = app.customer("山田 花子", "ヤマダ ハナコ", "03-1234-5678").await;
    let now = OffsetDateTime::now_utc();
    let article = NewFaq {
        title: "定期便の解約方法".into(),
        body: "マイページから<b>解約</b>できます。".into(),
        category: None,
        tags: vec![],
    };
    app.store.faq_create(app.tenant, &article, now).await.unwrap();
    let other = app.store.tenant_create(&TenantSlug::parse("other").unwrap(), "other", now).await.unwrap().id;
    let foreign = NewFaq { title: "他社の解約".into(), body: "他社".into(), category: None, tags: vec![] };
    app.store.faq_create(other, &foreign, now).await.unwrap();
    // Articles written to the store directly reach the index through the catch-up.
    let state = AppState::new(app.store.clone(), WebConfig::default());
    let index = state.search.clone().unwrap();
    kimochi_search::sync::catch_up_all(app.store.as_ref(), &index, true).await.unwrap();
    app.router = router(state);

    let karte = app.get(&format!("/agent/customers/{}", customer.id.0), Some(&agent)).await;
    assert!(karte.text.contains(r#"id="faq-q""#) && karte.text.contains(r#"<label for="faq-q">FAQを検索</label>"#));
    assert!(karte.text.contains(r#"hx-get="/agent/faq/search" hx-trigger="input changed delay:200ms, search""#));
    let english = app.get(&format!("/agent/customers/{}?lang=en", customer.id.0), Some(&agent)).await;
    assert!(english.text.contains("Search the FAQ"));

    let results = app.get(&format!("/agent/faq/search?q={}", encode("解約したい")), Some(&agent)).await;
    assert_eq!(results.status, StatusCode::OK, "{}", results.text);
    assert!(results.text.contains("<h3>定期便の<mark>解約</mark>方法</h3>"), "{}", results.text);
    assert!(results.text.contains("&#60;b&#62;<mark>解約</mark>&#60;/b&#62;"), "escaped: {}", results.text);
    assert!(!results.text.contains("他社"), "another tenant's article: {}", results.text);
    let none = app.get(&format!("/agent/faq/search?q={}", encode("存在しない話題")), Some(&agent)).await;
    assert!(none.text.contains("該当するFAQはありません。"), "{}", none.text);
    let empty = app.get("/agent/faq/search?q=", Some(&agent)).await;
    assert_eq!(empty.text.trim(), "");
    let long = app.get(&format!("/agent/faq/search?q={}", "a".repeat(201)), Some(&agent)).await;
    assert!(long.status.is_client_error(), "{}", long.status);
    assert_eq!(app.get("/agent/faq/search?q=a", None).await.status, StatusCode::SEE_OTHER);
}

/// The VOC and segment views: analysts, supervisors and admins only; they say when there is no
/// data instead of drawing an empty chart; the lost-order chart and its escaped examples; the
/// forest plot, funnel and loyalty matrix from the run summary; English labels.
#[tokio::test]
async fn voc_and_segment_views_draw_their_charts() {
    let app = App::new("voc").await;
    let agent = app.person("op01", Role::Agent).await;
    let analyst = app.person("analyst01", Role::Analyst).await;
    let pages =
        ["/analyst/voc/lost-orders", "/analyst/voc/call-reasons", "/analyst/voc/churn-drivers", "/analyst/segments"];
    for page in pages {
        assert_eq!(app.get(page, Some(&agent)).await.status, StatusCode::FORBIDDEN, "{page}");
        let empty = app.get(page, Some(&analyst)).await;
        assert_eq!(empty.status, StatusCode::OK, "{page}");
        assert!(!empty.text.contains("<svg viewBox"), "no chart without data on {page}");
        assert!(
            empty.text.contains(r#"href="/analyst/voc/lost-orders""#),
            "the analyst tabs and navigation link the views"
        );
    }
    assert!(app.get(pages[0], Some(&analyst)).await.text.contains("失注を特徴づける言葉が見つかりませんでした"));
    assert!(app.get(pages[2], Some(&analyst)).await.text.contains("kimochi analyze"));

    let customer = app.customer("山田 花子", "ヤマダ ハナコ", "03-1234-5678").await;
    for day in 1..=20 {
        let mut contact = NewContact {
            external_id: None,
            customer_id: customer.id,
            channel: Channel::Phone,
            direction: Direction::Outbound,
            started_at: kimochi_domain::datetime::parse_datetime("at", &format!("2026-10-{day:02} 10:00")).unwrap(),
            ended_at: None,
            agent_id: None,
            reason: Some("本品のご案内".into()),
            outcome: Some(Outcome::LostOrder),
            text: "「<script>alert(1)</script>価格が高い」とのこと。".into(),
            thread_of: None,
            tags: Default::default(),
        };
        app.store.contact_create(app.tenant, &contact).await.unwrap();
        contact.outcome = Some(Outcome::Ordered);
        contact.text = "効果を実感したので定期便をお申込みとのこと。".into();
        app.store.contact_create(app.tenant, &contact).await.unwrap();
        contact.direction = Direction::Inbound;
        contact.reason = Some("配送".into());
        contact.outcome = None;
        app.store.contact_create(app.tenant, &contact).await.unwrap();
    }
    let summary = serde_json::json!({
        "stages": [{"stage": "subscription", "label": "定期", "customers": 5}, {"stage": "not_purchased", "label": "未購入", "customers": 3}],
        "loyalty": [{"quadrant": "true_loyal", "label": "真のロイヤル顧客", "customers": 2, "near_loyal": 0},
                    {"quadrant": "latent", "label": "潜在的ロイヤル", "customers": 1, "near_loyal": 1},
                    {"quadrant": "spurious", "label": "見せかけのロイヤル", "customers": 4, "near_loyal": 2},
                    {"quadrant": "low", "label": "非ロイヤル", "customers": 1, "near_loyal": 0}],
        "churn": {"subscribers": 10, "churned": 3, "drivers": [
            {"code": "advocate", "label": "推奨意向", "relative_risk": 0.5, "ci_low": 0.3, "ci_high": 0.8, "customers_with": 4},
            {"code": "expectation_gap", "label": "期待とのギャップ", "relative_risk": 3.0, "ci_low": 2.0, "ci_high": 4.5, "customers_with": 2}]}
    });
    let as_of = time::macros::date!(2026 - 10 - 31);
    app.store.score_run_record(app.tenant, as_of, OffsetDateTime::now_utc(), 8, &summary.to_string()).await.unwrap();

    let lost = app.get(pages[0], Some(&analyst)).await;
    assert!(lost.text.contains(r#"id="lost-order-chart""#), "{}", lost.text);
    assert!(lost.text.contains(r#"text-anchor="end">価格</text>"#), "the chart labels its bars: {}", lost.text);
    assert!(
        lost.text.contains("&#60;script&#62;alert") && !lost.text.contains("<script>alert"),
        "examples are escaped"
    );
    assert!(
        lost.text.contains(r#"value="2025-11-01""#) && lost.text.contains(r#"value="2026-10-31""#),
        "the run's year by default"
    );

    let reasons = app.get(&format!("{}?period=week", pages[1]), Some(&analyst)).await;
    assert!(reasons.text.contains(r#"id="call-reason-chart""#) && reasons.text.contains(r#"<rect class="s0""#));
    assert!(reasons.text.contains(r#"<option value="week" selected>"#));
    let bad = app.get(&format!("{}?from=2026-99-01", pages[1]), Some(&analyst)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let churn = app.get(pages[2], Some(&analyst)).await;
    let gap = churn.text.find("期待とのギャップ").unwrap();
    let advocate = churn.text.find("推奨意向").unwrap();
    assert!(gap < advocate, "the most risk-raising driver first");
    assert!(
        churn.text.contains(r#"class="forest-row risk-up""#) && churn.text.contains(r#"class="forest-row risk-down""#)
    );
    assert!(churn.text.contains("3.00 (2.00–4.50)"));
    assert!(
        churn.text.contains(r#"id="topic-drivers""#)
            && churn.text.contains("解約率を有意に高める言葉は見つかりませんでした"),
        "the topic section says honestly that this tenant has no topic drivers: {}",
        churn.text
    );

    let segments = app.get(pages[3], Some(&analyst)).await;
    let prospects = segments.text.find(">未購入</text>").unwrap();
    let subscribers = segments.text.find(">定期</text>").unwrap();
    assert!(prospects < subscribers, "the funnel runs from prospects to subscribers");
    assert_eq!(segments.text.matches(r#"<div class="quadrant q-"#).count(), 4);
    assert!(
        segments.text.contains("コホート別の継続率") && segments.text.contains("含まれていない"),
        "no faked cohorts"
    );

    // A run that kept cohort curves draws them: one polyline per cohort plus all subscribers,
    // and the table reads retention after 3, 6 and 12 renewal decisions where it was reached.
    let mut with_cohorts = summary.clone();
    with_cohorts["cohorts"] = serde_json::json!({
        "method": "kaplan_meier",
        "curves": [
            {"cohort": "2026-01", "subscribers": 40, "cancelled": 10, "survival": [1.0, 0.9, 0.85, 0.8, 0.75], "at_risk": [40, 40, 36, 30, 25]},
            {"cohort": "2026-02", "subscribers": 30, "cancelled": 3, "survival": [1.0, 0.95, 0.9], "at_risk": [30, 30, 22]}],
        "all": {"cohort": "all", "subscribers": 70, "cancelled": 13, "survival": [1.0, 0.92, 0.87, 0.8, 0.75], "at_risk": [70, 70, 58, 30, 25]}
    });
    app.store
        .score_run_record(app.tenant, as_of, OffsetDateTime::now_utc(), 8, &with_cohorts.to_string())
        .await
        .unwrap();
    let drawn = app.get(pages[3], Some(&analyst)).await;
    assert_eq!(drawn.text.matches(r#"<polyline class="cohort-line""#).count(), 2, "{}", drawn.text);
    assert_eq!(drawn.text.matches(r#"<polyline class="cohort-all""#).count(), 1);
    assert!(drawn.text.contains("<title>2026-01</title>") && drawn.text.contains("<title>全体</title>"));
    assert!(
        drawn.text.contains(r#"<th scope="row">2026-01</th><td>40</td><td>10</td>"#)
            && drawn.text.contains("<td>80.0%</td>")
            && !drawn.text.contains("含まれていない"),
        "{}",
        drawn.text
    );

    let english = app.get(&format!("{}?lang=en", pages[2]), Some(&analyst)).await;
    assert!(english.text.contains("Churn drivers") && english.text.contains("Expectation gap"), "{}", english.text);
}

#[tokio::test]
async fn karte_draws_the_expectation_gap_timeline_and_retention_points() {
    let app = App::new("gap").await;
    let agent = app.person("op01", Role::Agent).await;
    let analyst = app.person("analyst01", Role::Analyst).await;
    let customer = app.customer("高橋 恵", "タカハシ メグミ", "090-1111-2222").await;
    let path = format!("/agent/customers/{}", customer.id.0);

    // Before anything is known: no chart, a sentence instead of a score.
    let empty = app.get(&path, Some(&agent)).await;
    assert!(empty.text.contains(r#"id="gap-score""#) && empty.text.contains("まだ判断できる体験がありません"));
    assert!(!empty.text.contains(r#"id="gap-chart""#) && !empty.text.contains(r#"id="retention-points""#));

    let expectation = NewKimochiNote {
        customer_id: customer.id,
        kind: KimochiKind::Expectation,
        text: format!("シミが薄くなると期待 {HOSTILE} 連絡先 03-9876-5432"),
        captured_by: None,
        captured_at: OffsetDateTime::now_utc() - time::Duration::days(60),
        contact_id: None,
        product_id: None,
    };
    app.store.kimochi_note_create(app.tenant, &expectation).await.unwrap();
    let contacts = format!("/agent/customers/{}/contacts", customer.id.0);
    for text in ["効果が全然感じられず、値段も高くて不満です", "もう解約したいです"] {
        let form = format!("channel=phone&direction=inbound&text={}", encode(text));
        let logged = app.post_form(&contacts, &agent, Some(&agent.csrf), &form).await;
        assert_eq!(logged.status, StatusCode::CREATED, "{}", logged.text);
    }

    let karte = app.get(&path, Some(&agent)).await;
    assert_eq!(karte.status, StatusCode::OK, "{}", karte.text);
    let html = &karte.text;
    assert_eq!(karte.header("content-security-policy"), CONTENT_SECURITY_POLICY);
    assert!(html.contains(r#"<figure class="chart gap-chart" id="gap-chart">"#), "{html}");
    assert!(html.contains(r#"role="img" aria-label="期待と体験のタイムライン: 期待 1件"#), "{html}");
    assert!(html.contains(r#"<polygon class="expectation-mark""#));
    assert_eq!(html.matches(r#"<g class="gap-point negative">"#).count(), 2, "{html}");
    // The score: two negative experiences and nothing else.
    assert!(html.contains(r#"<span class="badge gap-high">1.00</span>"#), "{html}");
    assert!(html.contains(r#"<meter min="0" max="1" low="0.3" high="0.6" optimum="0" value="1""#));
    // The text alternative and the retention box.
    assert!(html.contains("<th scope=\"col\">感じ方</th>") && html.contains("<td>ネガティブ</td>"));
    assert!(html.contains(r#"id="retention-points""#) && html.contains("解約のご意向あり"));
    for point in ["使い方のご案内", "プラン・コース変更のご提案", "解約理由を伺い"] {
        assert!(html.contains(point), "{point} missing");
    }
    // Hostile text stays text, in the tooltip, the table and the retention box alike.
    assert!(!html.contains("<script>alert") && !html.contains("<img src=x"));
    assert!(html.contains("&#60;script&#62;alert(&#39;xss&#39;)&#60;/script&#62;"));
    assert!(!html.contains("style=") && !html.contains("<style"));
    assert!(html.contains("03-9876-5432"), "operators see the expectation as said");

    // Analysts see the same chart with the personal data in texts masked.
    let masked = app.get(&path, Some(&analyst)).await;
    assert!(masked.text.contains(r#"id="gap-chart""#));
    // (The karte's older note list shows texts as written; the timeline's own parts mask them.)
    let table = masked.text.split(r#"<details class="gap-table">"#).nth(1).unwrap().split("</details>").next().unwrap();
    assert!(table.contains("連絡先 [電話番号]") && !table.contains("9876-5432"), "{table}");

    // English labels.
    let english = app.get(&format!("{path}?lang=en"), Some(&agent)).await;
    assert!(english.text.contains("Expectation and experiences over time"));
    assert!(english.text.contains("Intends to cancel: retention points"));
    assert!(english.text.contains("Propose a plan or course change"));
}

#[tokio::test]
async fn operators_leave_handover_notes_and_cautions_on_the_karte() {
    let app = App::new("handover").await;
    let agent = app.person("op", Role::Agent).await;
    let analyst = app.person("an", Role::Analyst).await;
    let customer = app.customer("山田 花子", "ヤマダ ハナコ", "090-1234-5678").await;
    let karte = format!("/agent/customers/{}", customer.id.0);
    let path = format!("{karte}/handover-notes");

    let page = app.get(&karte, Some(&agent)).await;
    assert!(page.text.contains(r#"id="handover-form""#), "the karte offers the form");
    assert!(!page.text.contains(r#"id="cautions-heading""#), "no caution yet");

    let empty = app.post_form(&path, &agent, Some(&agent.csrf), "kind=caution&text=++").await;
    assert_eq!(empty.header("hx-retarget"), "#handover-errors");
    assert!(empty.text.contains("error-text"), "{}", empty.text);
    let wrong_kind = app.post_form(&path, &agent, Some(&agent.csrf), "kind=gossip&text=x").await;
    assert_eq!(wrong_kind.header("hx-retarget"), "#handover-errors");
    assert!(app.store.handover_note_list(app.tenant, customer.id, 10).await.unwrap().is_empty(), "nothing stored");

    let note = format!("kind=caution&text={}", encode("夕方以降は電話に出られない<b>"));
    let saved = app.post_form(&path, &agent, Some(&agent.csrf), &note).await;
    assert_eq!(saved.status, StatusCode::NO_CONTENT, "{}", saved.text);
    assert_eq!(saved.header("hx-redirect"), karte);
    let forged = app.post_form(&path, &agent, None, "kind=handover&text=x").await;
    assert_ne!(forged.status, StatusCode::NO_CONTENT, "a write without the CSRF token is refused");

    let page = app.get(&karte, Some(&agent)).await;
    assert!(page.text.contains(r#"id="cautions-heading""#), "the caution banner shows the note");
    assert!(page.text.contains("夕方以降は電話に出られない&#60;b&#62;"), "{}", page.text);

    let refused = app.post_form(&path, &analyst, Some(&analyst.csrf), "kind=handover&text=x").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(app.store.handover_note_list(app.tenant, customer.id, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_login_page_speaks_japanese_by_default_and_english_when_chosen() {
    let app = App::new("login_lang").await;
    let japanese = app.get("/login", None).await;
    assert!(japanese.text.contains(r#"<html lang="ja">"#) && japanese.text.contains(">パスワード</label>"));
    assert!(japanese.text.contains(r#"href="/login?lang=en""#), "a link to English");

    let english = app.get("/login?lang=en", None).await;
    assert!(
        english.text.contains(r#"<html lang="en">"#) && english.text.contains(">Password</label>"),
        "{}",
        english.text
    );
    assert!(english.text.contains(r#"href="/login?lang=ja""#));
    let remembered =
        english.headers.get_all(header::SET_COOKIE).iter().any(|v| v.to_str().unwrap().starts_with("kimochi_lang=en"));
    assert!(remembered, "the choice is remembered for the pages after login");

    let request =
        Request::builder().uri("/login").header(header::COOKIE, "kimochi_lang=en").body(Body::empty()).unwrap();
    let by_cookie = app.send(request).await;
    assert!(by_cookie.text.contains(">Log in</button>"));

    // A failed login answers in the language of the form it came from.
    let request = Request::builder()
        .method(Method::POST)
        .uri("/login?lang=en")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("csrf=&tenant=acme&login=x&password=y"))
        .unwrap();
    let expired = app.send(request).await;
    assert_eq!(expired.status, StatusCode::FORBIDDEN);
    assert!(expired.text.contains("The form expired"), "{}", expired.text);
}

#[tokio::test]
async fn operators_see_kimochi_live_as_they_type_and_add_kimochi_notes() {
    let app = App::new("kimochi_live").await;
    let agent = app.person("op", Role::Agent).await;
    let analyst = app.person("an", Role::Analyst).await;
    let customer = app.customer("山田 花子", "ヤマダ ハナコ", "090-1234-5678").await;

    // The preview reads the text with the text engine and stores nothing.
    let text = encode("期待していたほど効果がなくて、もう解約したいです。<script>x</script>");
    let preview = app.post_form("/agent/kimochi-preview", &agent, Some(&agent.csrf), &format!("text={text}")).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    assert!(preview.text.contains(r#"<li class="badge negative">"#), "{}", preview.text);
    assert!(preview.text.contains("解約意向") && preview.text.contains("ギャップ"), "{}", preview.text);
    assert!(preview.text.contains("「解約したい」"), "the words behind a kind are shown: {}", preview.text);
    assert!(!preview.text.contains("<script>"), "escaped");
    let empty = app.post_form("/agent/kimochi-preview", &agent, Some(&agent.csrf), "text=+").await;
    assert!(!empty.text.contains("badge"), "{}", empty.text);
    let analysts = app.post_form("/agent/kimochi-preview", &analyst, Some(&analyst.csrf), "text=x").await;
    assert_eq!(analysts.status, StatusCode::FORBIDDEN);
    assert!(app.store.contact_list(app.tenant, customer.id, 10).await.unwrap().is_empty());

    let karte = format!("/agent/customers/{}", customer.id.0);
    let page = app.get(&karte, Some(&agent)).await;
    assert!(page.text.contains(r#"hx-post="/agent/kimochi-preview""#) && page.text.contains(r#"id="kimochi-form""#));

    let path = format!("{karte}/kimochi-notes");
    let bad = app.post_form(&path, &agent, Some(&agent.csrf), "kind=mood&text=x").await;
    assert_eq!(bad.header("hx-retarget"), "#kimochi-errors");
    let note = format!("kind=expectation&text={}", encode("テレビで見て、目元の小じわが薄くなればと思って申し込んだ"));
    let saved = app.post_form(&path, &agent, Some(&agent.csrf), &note).await;
    assert_eq!(saved.status, StatusCode::NO_CONTENT, "{}", saved.text);
    let notes = app.store.kimochi_note_list(app.tenant, customer.id, 10).await.unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].kind, KimochiKind::Expectation);
    let page = app.get(&karte, Some(&agent)).await;
    assert!(page.text.contains("目元の小じわが薄くなれば"), "the timeline shows the note");
}
#[path = "pages/hearing.rs"]
mod hearing;
#[path = "pages/targets.rs"]
mod targets;
