//! The administration pages (issue 5) as a browser sees them: a real router over a real SQLite
//! store, driven with session cookies. Roles (only administrators), CSRF on every change, field
//! errors inline with nothing written, tenant isolation, the audit log, and the self-protection
//! of the acting administrator.

// Tests may panic on the unexpected and read the clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use kimochi_domain::*;
use kimochi_store::{Store, StoreError};
use kimochi_web::{AppState, WebConfig, auth, router};
use time::OffsetDateTime;
use tower::ServiceExt;

struct App {
    router: axum::Router,
    store: Arc<dyn Store>,
    dir: std::path::PathBuf,
    tenant: TenantId,
    other: TenantId,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    text: String,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }
}

struct Person {
    id: UserId,
    cookie: String,
    csrf: String,
}

impl App {
    async fn new(name: &str) -> App {
        let dir = std::env::temp_dir().join(format!("kimochi_admin_pages_{}_{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = kimochi_store::open(&format!("sqlite://{}", dir.join("kimochi.db").display())).await.unwrap();
        let router = router(AppState::new(store.clone(), WebConfig::default()));
        let now = OffsetDateTime::now_utc();
        let tenant = store.tenant_create(&TenantSlug::parse("acme").unwrap(), "acme", now).await.unwrap().id;
        let other = store.tenant_create(&TenantSlug::parse("beta").unwrap(), "beta", now).await.unwrap().id;
        App { router, store, dir, tenant, other }
    }

    async fn person_in(&self, tenant: TenantId, login: &str, role: Role) -> Person {
        let user = NewUser {
            login: login.into(),
            display_name: format!("{login} さん"),
            role,
            team_id: None,
            password_hash: "unused".into(),
        };
        let user = self.store.user_create(tenant, &user, OffsetDateTime::now_utc()).await.unwrap();
        let session = auth::random_token(32);
        let csrf = auth::random_token(16);
        let expires = OffsetDateTime::now_utc() + time::Duration::hours(1);
        self.store.session_create(&auth::token_hash(&session), tenant, user.id, &csrf, expires).await.unwrap();
        Person { id: user.id, cookie: format!("{}={session}", auth::SESSION_COOKIE), csrf }
    }

    async fn person(&self, login: &str, role: Role) -> Person {
        self.person_in(self.tenant, login, role).await
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes().to_vec();
        Reply { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
    }

    async fn get(&self, path: &str, person: &Person) -> Reply {
        let request = Request::builder().uri(path).header(header::COOKIE, &person.cookie);
        self.send(request.body(Body::empty()).unwrap()).await
    }

    async fn post(&self, path: &str, person: &Person, form: &str) -> Reply {
        self.post_with(path, person, Some(&person.csrf), form).await
    }

    async fn post_with(&self, path: &str, person: &Person, csrf: Option<&str>, form: &str) -> Reply {
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

    async fn account(&self, tenant: TenantId, login: &str) -> Option<kimochi_store::UserAccount> {
        self.store.user_accounts(tenant).await.unwrap().into_iter().find(|a| a.user.login == login)
    }

    async fn actions(&self) -> Vec<String> {
        self.store.audit_list(self.tenant, 100).await.unwrap().into_iter().map(|e| e.action).collect()
    }
}

fn encode(text: &str) -> String {
    kimochi_web::pages::agent::url_component(text)
}

/// A refusal swapped into `target`, containing `needle`.
fn assert_refused(reply: &Reply, target: &str, needle: &str) {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.header("hx-retarget"), target, "{}", reply.text);
    assert!(reply.text.contains(r#"role="alert""#), "{}", reply.text);
    assert!(reply.text.contains(needle), "{needle:?} missing from {}", reply.text);
}

fn assert_saved(reply: &Reply, page: &str) {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.header("hx-redirect"), format!("{page}?done=1"), "{}", reply.text);
}

#[tokio::test]
async fn admin_pages_are_for_administrators_only() {
    let app = App::new("roles").await;
    let admin = app.person("admin", Role::Admin).await;
    for (login, role) in [("op01", Role::Agent), ("sv01", Role::Supervisor), ("an01", Role::Analyst)] {
        let person = app.person(login, role).await;
        for path in ["/admin", "/admin/users", "/admin/crisis-words", "/admin/settings"] {
            assert_eq!(app.get(path, &person).await.status, StatusCode::FORBIDDEN, "{login} {path}");
        }
        let writes = [
            ("/admin/users", "login=x&display_name=x&role=admin&password=longenough"),
            ("/admin/teams", "name=x"),
            ("/admin/crisis-words", "phrase=x&severity=high"),
            ("/admin/settings", "dormant_after_days=1&subscription_active_days=1&repeater_min_main_orders=1"),
        ];
        for (path, form) in writes {
            assert_eq!(app.post(path, &person, form).await.status, StatusCode::FORBIDDEN, "{login} {path}");
        }
        let path = format!("/admin/users/{}", person.id.0);
        assert_eq!(app.post(&path, &person, "role=admin&active=1").await.status, StatusCode::FORBIDDEN);
        // The navigation offers no administration.
        assert!(!app.get("/", &person).await.text.contains(r#"href="/admin/users""#), "{login}");
    }
    assert!(app.account(app.tenant, "x").await.is_none(), "nothing was created");
    assert!(app.store.crisis_word_list(app.tenant).await.unwrap().is_empty());
    assert_eq!(app.store.stage_thresholds(app.tenant).await.unwrap(), StageThresholds::default());
    assert_eq!(app.store.user_get(app.tenant, admin.id).await.unwrap().role, Role::Admin);

    // The administrator sees 管理 in the navigation, and each page in both languages.
    let home = app.get("/", &admin).await;
    assert!(home.text.contains(r#"<a href="/admin/users">管理</a>"#), "{}", home.text);
    let users = app.get("/admin/users", &admin).await;
    assert_eq!(users.status, StatusCode::OK);
    assert!(users.text.contains(r#"<a href="/admin/users" aria-current="page">管理</a>"#));
    assert!(users.text.contains(r#"<label for="new-login">ログインID</label>"#));
    let english = app.get("/admin/settings?lang=en", &admin).await;
    assert!(english.text.contains(r#"<a href="/admin/users" aria-current="page">Admin</a>"#));
    assert!(english.text.contains(r#"<label for="dormant_after_days">Days until dormant</label>"#));
    assert_eq!(app.get("/admin", &admin).await.header("location"), "/admin/users");
}

#[tokio::test]
async fn admin_creates_changes_and_deactivates_users() {
    let app = App::new("users").await;
    let admin = app.person("admin", Role::Admin).await;

    // CSRF: without the session's token nothing is created.
    let form = "login=op02&display_name=%E4%BD%90%E8%97%A4&role=agent&team=&password=correct-horse";
    assert_eq!(app.post_with("/admin/users", &admin, None, form).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.post_with("/admin/users", &admin, Some("forged"), form).await.status, StatusCode::FORBIDDEN);
    assert!(app.account(app.tenant, "op02").await.is_none());

    // Field errors, inline, nothing written.
    let short = app.post("/admin/users", &admin, "login=op02&display_name=x&role=agent&password=short").await;
    assert_refused(&short, "#new-user-errors", "パスワードは8文字以上");
    let nameless = app.post("/admin/users", &admin, "login=&display_name=x&role=agent&password=correct-horse").await;
    assert_refused(&nameless, "#new-user-errors", "ログインIDを入力してください");
    let role = app.post("/admin/users", &admin, "login=op02&display_name=x&role=king&password=correct-horse").await;
    assert_refused(&role, "#new-user-errors", "役割の選択肢が正しくありません");
    let english =
        app.post("/admin/users?lang=en", &admin, "login=op02&display_name=x&role=agent&password=1234567").await;
    assert_refused(&english, "#new-user-errors", "at least 8 characters");
    assert!(app.account(app.tenant, "op02").await.is_none());

    // A team, then a user in it; the password is stored as argon2id and logs in.
    assert_saved(&app.post("/admin/teams", &admin, &format!("name={}", encode("東京センター"))).await, "/admin/users");
    let taken = app.post("/admin/teams", &admin, &format!("name={}", encode("東京センター"))).await;
    assert_refused(&taken, "#new-team-errors", "同じ名前のチームが既にあります");
    let team = app.store.team_list(app.tenant).await.unwrap()[0].clone();
    let created = app.post("/admin/users", &admin, &format!("{form}&team={}", team.id.0).replace("team=&", "")).await;
    assert_saved(&created, "/admin/users");
    let account = app.account(app.tenant, "op02").await.unwrap();
    assert_eq!((account.user.role, account.user.team_id, account.active), (Role::Agent, Some(team.id), true));
    assert_eq!(account.user.display_name, "佐藤");
    let credentials = app.store.user_credentials(app.tenant, "op02").await.unwrap();
    assert!(credentials.password_hash.starts_with("$argon2id$"));
    assert!(auth::verify_password("correct-horse", &credentials.password_hash));
    let again = app.post("/admin/users", &admin, form).await;
    assert_refused(&again, "#new-user-errors", "このログインIDは既に使われています");

    // The list shows login, name, role, team and status, escaped.
    let page = app.get("/admin/users?done=1", &admin).await;
    assert!(page.text.contains(r#"<p class="status-text" role="status">保存しました。</p>"#));
    let row_start = page.text.find(&format!(r#"<tr id="user-{}""#, account.user.id.0)).unwrap();
    let row = &page.text[row_start..row_start + page.text[row_start..].find("</tr>").unwrap()];
    for text in ["op02", "佐藤", "オペレーター", "東京センター", "有効"] {
        assert!(row.contains(text), "{text:?} missing from {row}");
    }

    // Role and team change; deactivation ends the session and the login.
    let path = format!("/admin/users/{}", account.user.id.0);
    assert_saved(&app.post(&path, &admin, "role=supervisor&team=&active=1").await, "/admin/users");
    let changed = app.account(app.tenant, "op02").await.unwrap();
    assert_eq!((changed.user.role, changed.user.team_id), (Role::Supervisor, None));
    let op02 = {
        let session = auth::random_token(32);
        let expires = OffsetDateTime::now_utc() + time::Duration::hours(1);
        app.store.session_create(&auth::token_hash(&session), app.tenant, account.user.id, "c", expires).await.unwrap();
        Person { id: account.user.id, cookie: format!("{}={session}", auth::SESSION_COOKIE), csrf: "c".into() }
    };
    assert_eq!(app.get("/agent", &op02).await.status, StatusCode::OK);
    assert_saved(&app.post(&path, &admin, "role=supervisor&team=").await, "/admin/users");
    assert!(!app.account(app.tenant, "op02").await.unwrap().active);
    assert_eq!(app.get("/agent", &op02).await.header("location"), "/login", "the session ended");
    assert!(matches!(app.store.user_credentials(app.tenant, "op02").await, Err(StoreError::NotFound(_))));
    let bad_team = app.post(&path, &admin, "role=agent&team=99999&active=1").await;
    let row_errors = format!("#user-{}-errors", account.user.id.0);
    assert_refused(&bad_team, &row_errors, "チームの選択肢が正しくありません");
    let bad_role = app.post(&path, &admin, "role=&active=1").await;
    assert_refused(&bad_role, &row_errors, "役割の選択肢が正しくありません");
    assert!(!app.account(app.tenant, "op02").await.unwrap().active, "refusals change nothing");

    // An administrator cannot demote or deactivate themselves.
    let me = format!("/admin/users/{}", admin.id.0);
    let my_errors = format!("#user-{}-errors", admin.id.0);
    assert_refused(&app.post(&me, &admin, "role=agent&active=1").await, &my_errors, "自分自身");
    assert_refused(&app.post(&me, &admin, "role=admin").await, &my_errors, "自分自身");
    let mine = app.account(app.tenant, "admin").await.unwrap();
    assert_eq!((mine.user.role, mine.active), (Role::Admin, true));

    // Another tenant's user reads as not found and stays as it was; ids that are not numbers too.
    let foreign = app.person_in(app.other, "op09", Role::Agent).await;
    let reply = app.post(&format!("/admin/users/{}", foreign.id.0), &admin, "role=admin&active=1").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(app.account(app.other, "op09").await.unwrap().user.role, Role::Agent);
    assert_eq!(app.post("/admin/users/abc", &admin, "role=admin&active=1").await.status, StatusCode::NOT_FOUND);
    assert!(!app.get("/admin/users", &admin).await.text.contains("op09"), "the list is the tenant's own");

    let actions = app.actions().await;
    for action in ["admin.team.create", "admin.user.create", "admin.user.update"] {
        assert!(actions.iter().any(|a| a == action), "{action} missing from {actions:?}");
    }
    assert_eq!(actions.iter().filter(|a| *a == "admin.user.update").count(), 2, "refusals are not audited");
}

#[tokio::test]
async fn admin_adds_and_deletes_ng_words_with_the_api_rules() {
    let app = App::new("words").await;
    let admin = app.person("admin", Role::Admin).await;
    let agent = app.person("op01", Role::Agent).await;
    let empty = app.get("/admin/crisis-words", &admin).await;
    assert!(empty.text.contains("独自のNGワードはまだありません"));

    let form = format!("phrase={}&severity=critical&note={}", encode("ヘンキン"), encode("<b>返金</b>要求"));
    assert_eq!(app.post_with("/admin/crisis-words", &admin, None, &form).await.status, StatusCode::FORBIDDEN);
    assert_saved(&app.post("/admin/crisis-words", &admin, &form).await, "/admin/crisis-words");
    let words = app.store.crisis_word_list(app.tenant).await.unwrap();
    assert_eq!(words.len(), 1);
    assert_eq!((words[0].phrase.as_str(), words[0].severity), ("ヘンキン", CrisisSeverity::Critical));
    let page = app.get("/admin/crisis-words", &admin).await;
    assert!(page.text.contains("ヘンキン") && page.text.contains("緊急"));
    assert!(page.text.contains("&#60;b&#62;返金&#60;/b&#62;要求") && !page.text.contains("<b>返金"), "escaped");

    // The same word in another spelling is the API's 409, shown inline; bad input the API's 422.
    let variant = app.post("/admin/crisis-words", &admin, &format!("phrase={}&severity=low", encode("ﾍﾝｷﾝ"))).await;
    assert_refused(&variant, "#word-errors", "既に登録されています");
    let severity = app.post("/admin/crisis-words", &admin, &format!("phrase={}&severity=huge", encode("訴訟"))).await;
    assert_refused(&severity, "#word-errors", "重要度の入力内容に誤りがあります");
    let blank = app.post("/admin/crisis-words", &admin, "phrase=+&severity=low").await;
    assert_refused(&blank, "#word-errors", "語を入力してください");
    let english =
        app.post("/admin/crisis-words?lang=en", &admin, &format!("phrase={}&severity=x", encode("訴訟"))).await;
    assert_refused(&english, "#word-errors", "Severity is not valid");
    assert_eq!(app.store.crisis_word_list(app.tenant).await.unwrap().len(), 1, "refusals write nothing");

    // The word takes effect at once: a contact logged with it raises an alert.
    let customer = app
        .store
        .customer_create(app.tenant, &CustomerProfile::named("山田 花子").unwrap(), OffsetDateTime::now_utc())
        .await
        .unwrap();
    let contact = format!("channel=phone&direction=inbound&text={}", encode("へんきんしてください"));
    let logged = app.post(&format!("/agent/customers/{}/contacts", customer.id.0), &agent, &contact).await;
    assert_eq!(logged.status, StatusCode::CREATED, "{}", logged.text);
    let query = AlertQuery { since: None, unacknowledged_only: false, limit: 10 };
    let alerts = app.store.alert_list(app.tenant, &query).await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].severity, CrisisSeverity::Critical);

    // Another tenant's word cannot be deleted from here.
    let theirs = NewCrisisWord {
        phrase: "解約".into(),
        key: kimochi_text::crisis::matching_key("解約"),
        severity: CrisisSeverity::Low,
        note: String::new(),
    };
    let theirs = app.store.crisis_word_create(app.other, &theirs, OffsetDateTime::now_utc()).await.unwrap();
    let reply = app.post(&format!("/admin/crisis-words/{}/delete", theirs.id.0), &admin, "").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(app.store.crisis_word_list(app.other).await.unwrap().len(), 1);
    assert!(!app.get("/admin/crisis-words", &admin).await.text.contains("解約"));
    // Operators cannot delete words.
    let ours = &words[0];
    let path = format!("/admin/crisis-words/{}/delete", ours.id.0);
    assert_eq!(app.post(&path, &agent, "").await.status, StatusCode::FORBIDDEN);
    assert_saved(&app.post(&path, &admin, "").await, "/admin/crisis-words");
    assert!(app.store.crisis_word_list(app.tenant).await.unwrap().is_empty());

    let actions = app.actions().await;
    assert!(actions.iter().any(|a| a == "admin.crisis_word.create"), "{actions:?}");
    assert!(actions.iter().any(|a| a == "admin.crisis_word.delete"), "{actions:?}");
}

#[tokio::test]
async fn admin_sets_stage_thresholds_with_validation() {
    let app = App::new("settings").await;
    let admin = app.person("admin", Role::Admin).await;
    let other_admin = app.person_in(app.other, "admin", Role::Admin).await;
    let page = app.get("/admin/settings", &admin).await;
    assert!(page.text.contains(r#"name="dormant_after_days" type="number" min="1" max="3650""#), "{}", page.text);
    assert!(page.text.contains(r#"value="365""#) && page.text.contains(r#"value="45""#));

    let form = |d: &str, s: &str, r: &str| {
        format!("dormant_after_days={d}&subscription_active_days={s}&repeater_min_main_orders={r}")
    };
    assert_eq!(
        app.post_with("/admin/settings", &admin, None, &form("180", "60", "3")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_refused(
        &app.post("/admin/settings", &admin, &form("0", "60", "3")).await,
        "#settings-errors",
        "休眠とみなす日数が範囲外です",
    );
    assert_refused(
        &app.post("/admin/settings", &admin, &form("180", "401", "3")).await,
        "#settings-errors",
        "定期を継続中とみなす日数が範囲外です",
    );
    assert_refused(
        &app.post("/admin/settings", &admin, &form("180", "60", "abc")).await,
        "#settings-errors",
        "は整数で入力してください",
    );
    assert_refused(
        &app.post("/admin/settings", &admin, &form("180", "", "3")).await,
        "#settings-errors",
        "を入力してください",
    );
    assert_refused(&app.post("/admin/settings", &admin, &form("-5", "60", "3")).await, "#settings-errors", "整数");
    let english = app.post("/admin/settings?lang=en", &admin, &form("99999", "60", "3")).await;
    assert_refused(&english, "#settings-errors", "Days until dormant is out of range");
    assert_eq!(app.store.stage_thresholds(app.tenant).await.unwrap(), StageThresholds::default(), "nothing stored");

    // Full-width digits are numbers too.
    assert_saved(&app.post("/admin/settings", &admin, &form(&encode("１８０"), "60", "3")).await, "/admin/settings");
    let stored = StageThresholds { dormant_after_days: 180, subscription_active_days: 60, repeater_min_main_orders: 3 };
    assert_eq!(app.store.stage_thresholds(app.tenant).await.unwrap(), stored);
    let page = app.get("/admin/settings?done=1", &admin).await;
    assert!(page.text.contains(r#"value="180""#) && page.text.contains("保存しました"));
    // Each tenant its own.
    assert_eq!(app.store.stage_thresholds(app.other).await.unwrap(), StageThresholds::default());
    assert!(app.get("/admin/settings", &other_admin).await.text.contains(r#"value="365""#));
    assert!(app.actions().await.iter().any(|a| a == "admin.settings.stage"));
}
