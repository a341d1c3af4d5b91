//! Administration (issue 5), for administrators only: users with their roles, teams and active
//! flag; the tenant's own NG words (crisis words, through the API's rules in `alerts.rs`); the
//! tenant's stage thresholds, which `kimochi analyze` applies.
//!
//! Forms post through htmx (so the session's CSRF token goes with them). A change answers with
//! `HX-Redirect` back to its page, which then shows it; a refusal answers with a message swapped
//! into the form's error area, naming the field, and what was typed stays. Every change is
//! written to the audit log. An administrator cannot deactivate or demote themselves, so a
//! tenant never loses its last way in by accident.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kimochi_domain::{CrisisSeverity, CrisisWordId, NewUser, Role, StageThresholds, TeamId, UserId};
use kimochi_store::{StoreError, UserChange};
use serde::Deserialize;

use super::i18n::{AdminStrings, Lang};
use super::view::Layout;
use super::{ForPage, PageError, PageUser, render};
use crate::AppState;
use crate::alerts::{CrisisWordInput, conflict_with_field};
use crate::error::AppError;

/// The shortest password accepted, as `kimochi user create`.
const MIN_PASSWORD_CHARS: usize = 8;

/// Pages and forms here are for administrators; anyone else gets 403.
pub(super) fn require_admin(user: &PageUser) -> Result<(), PageError> {
    if user.role().may_administer() { Ok(()) } else { Err(user.error(AppError::forbidden())) }
}

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    #[serde(default)]
    pub(super) done: Option<String>,
}

/// An option of a select.
#[derive(Debug, Clone)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One tab of the administration pages.
#[derive(Debug, Clone)]
pub struct Tab {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

pub(super) fn tabs(a: &'static AdminStrings, current: &str) -> Vec<Tab> {
    [
        ("/admin/users", a.tab_users),
        ("/admin/crisis-words", a.tab_crisis_words),
        ("/admin/settings", a.tab_settings),
        ("/admin/hearing-points", a.tab_hearing),
    ]
    .into_iter()
    .map(|(href, label)| Tab { href, label, current: href == current })
    .collect()
}

/// A refusal swapped into the form's error area (`target`); what was typed stays.
pub(super) fn refuse(target: &str, message: &str) -> Response {
    let html = format!(r#"<p class="error-text" role="alert">{}</p>"#, crate::auth::escape_html(message));
    (
        StatusCode::OK,
        [
            ("hx-retarget", target),
            ("hx-reswap", "innerHTML"),
            (header::CONTENT_TYPE.as_str(), "text/html; charset=utf-8"),
        ],
        html,
    )
        .into_response()
}

/// After a change: htmx loads the page again, which shows it and says it was saved.
pub(super) fn saved(path: &str) -> Response {
    (StatusCode::OK, [("hx-redirect", format!("{path}?done=1"))]).into_response()
}

/// A field's label and what is wrong with it, both in the reader's language.
fn field_message(label: &str, suffix: &str) -> String {
    format!("{label}{suffix}")
}

/// The message of an error from the store or the shared rules, in the reader's language.
fn app_message(lang: Lang, error: &AppError) -> String {
    match lang {
        Lang::Ja => error.message_ja.to_string(),
        Lang::En => error.message_en.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Users and teams.

pub struct UserRow {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub role: String,
    pub team: String,
    pub active: bool,
    pub is_self: bool,
    pub roles: Vec<Opt>,
    pub teams: Vec<Opt>,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    l: Layout,
    a: &'static AdminStrings,
    tabs: Vec<Tab>,
    done: bool,
    users: Vec<UserRow>,
    team_names: Vec<String>,
    roles: Vec<Opt>,
    teams: Vec<Opt>,
}

fn role_options(lang: Lang, selected: Option<Role>) -> Vec<Opt> {
    Role::ALL
        .iter()
        .map(|role| Opt { value: role.code().to_owned(), label: lang.role(*role), selected: Some(*role) == selected })
        .collect()
}

fn team_options(a: &AdminStrings, teams: &[kimochi_domain::Team], selected: Option<TeamId>) -> Vec<Opt> {
    let none = Opt { value: String::new(), label: a.no_team.to_owned(), selected: selected.is_none() };
    std::iter::once(none)
        .chain(teams.iter().map(|team| Opt {
            value: team.id.0.to_string(),
            label: team.name.clone(),
            selected: Some(team.id) == selected,
        }))
        .collect()
}

/// `GET /admin`: the first administration page.
pub async fn index(user: PageUser) -> Result<Response, PageError> {
    require_admin(&user)?;
    Ok(Redirect::to("/admin/users").into_response())
}

/// `GET /admin/users`: every user of the tenant with a form to change them, and the forms to add
/// a user or a team.
pub async fn users_page(
    State(state): State<AppState>,
    user: PageUser,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let a = user.lang.admin();
    let tenant = user.principal.tenant_id;
    let accounts = state.store.user_accounts(tenant).await.for_page(&user)?;
    let teams = state.store.team_list(tenant).await.for_page(&user)?;
    let team_name = |id: Option<TeamId>| {
        id.and_then(|id| teams.iter().find(|t| t.id == id)).map_or_else(|| a.no_team.to_owned(), |t| t.name.clone())
    };
    let users = accounts
        .iter()
        .map(|account| UserRow {
            id: account.user.id.0,
            login: account.user.login.clone(),
            name: account.user.display_name.clone(),
            role: user.lang.role(account.user.role),
            team: team_name(account.user.team_id),
            active: account.active,
            is_self: user.principal.user_id == Some(account.user.id),
            roles: role_options(user.lang, Some(account.user.role)),
            teams: team_options(a, &teams, account.user.team_id),
        })
        .collect();
    let page = UsersPage {
        l: user.layout(a.users_title),
        a,
        tabs: tabs(a, "/admin/users"),
        done: done.done.is_some(),
        users,
        team_names: teams.iter().map(|t| t.name.clone()).collect(),
        roles: role_options(user.lang, Some(Role::Agent)),
        teams: team_options(a, &teams, None),
    };
    Ok(render(&page))
}

#[derive(Debug, Default, Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    password: String,
}

/// A team chosen in a select: empty for none, else one of the tenant's team ids.
fn parse_team(text: &str) -> Result<Option<TeamId>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>().map(|id| Some(TeamId(id))).map_err(|_| ())
}

/// What the store says about a user write, as a message naming the field.
fn user_write_message(a: &AdminStrings, error: StoreError) -> Result<String, AppError> {
    Ok(match error {
        StoreError::Conflict(_) => a.err_login_taken.to_owned(),
        StoreError::UnknownReference { .. } => field_message(a.team, a.err_unknown_choice),
        StoreError::Invalid(invalid) => {
            let label = match invalid.field {
                "login" => a.login,
                "display_name" => a.display_name,
                _ => invalid.field,
            };
            format!("{}{}（{}）", label, a.err_invalid, invalid.reason)
        }
        other => return Err(other.into()),
    })
}

/// `POST /admin/users`: adds a user with an argon2id-hashed password, as `kimochi user create`.
pub async fn user_create(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<NewUserForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let a = user.lang.admin();
    const ERRORS: &str = "#new-user-errors";
    let login = form.login.trim().to_owned();
    let display_name = form.display_name.trim().to_owned();
    if login.is_empty() {
        return Ok(refuse(ERRORS, &field_message(a.login, a.err_required)));
    }
    if display_name.is_empty() {
        return Ok(refuse(ERRORS, &field_message(a.display_name, a.err_required)));
    }
    let Some(role) = Role::from_code(form.role.trim()) else {
        return Ok(refuse(ERRORS, &field_message(a.role, a.err_unknown_choice)));
    };
    let Ok(team_id) = parse_team(&form.team) else {
        return Ok(refuse(ERRORS, &field_message(a.team, a.err_unknown_choice)));
    };
    if form.password.chars().count() < MIN_PASSWORD_CHARS {
        return Ok(refuse(ERRORS, a.err_password_short));
    }
    // argon2 is deliberately slow: keep it off the async workers.
    let password = form.password;
    let password_hash = tokio::task::spawn_blocking(move || crate::auth::hash_password(&password))
        .await
        .map_err(|_| user.error(AppError::internal()))?
        .map_err(|_| user.error(AppError::internal()))?;
    let new = NewUser { login, display_name, role, team_id, password_hash };
    let created = match state.store.user_create(user.principal.tenant_id, &new, crate::now()).await {
        Ok(created) => created,
        Err(error) => {
            let message = user_write_message(a, error).map_err(|e| user.error(e))?;
            return Ok(refuse(ERRORS, &message));
        }
    };
    let detail =
        format!("user {} ({}) login {} role {}", created.id.0, created.display_name, created.login, role.code());
    user.audit(&state, "admin.user.create", None, detail).await?;
    Ok(saved("/admin/users"))
}

#[derive(Debug, Default, Deserialize)]
pub struct UserChangeForm {
    #[serde(default)]
    role: String,
    #[serde(default)]
    team: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    active: Option<String>,
}

/// `POST /admin/users/{id}`: changes a user's role, team and active flag.
pub async fn user_update(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<UserChangeForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let a = user.lang.admin();
    let tenant = user.principal.tenant_id;
    // A malformed id, or one of another tenant, is a missing user.
    let id = UserId(id.parse::<i64>().map_err(|_| user.error(AppError::not_found("user")))?);
    let before = state.store.user_get(tenant, id).await.for_page(&user)?;
    // The message goes next to the row's form, where the administrator is.
    let target = format!("#user-{}-errors", id.0);
    let target = target.as_str();
    let Some(role) = Role::from_code(form.role.trim()) else {
        return Ok(refuse(target, &format!("{}: {}", before.login, field_message(a.role, a.err_unknown_choice))));
    };
    let Ok(team_id) = parse_team(&form.team) else {
        return Ok(refuse(target, &format!("{}: {}", before.login, field_message(a.team, a.err_unknown_choice))));
    };
    let active = form.active.is_some();
    if user.principal.user_id == Some(id) && (!active || role != Role::Admin) {
        return Ok(refuse(target, a.err_self_demote));
    }
    let change = UserChange { role, team_id, active };
    let after = match state.store.user_update(tenant, id, &change, crate::now()).await {
        Ok(after) => after,
        Err(error) => {
            let message = user_write_message(a, error).map_err(|e| user.error(e))?;
            return Ok(refuse(target, &format!("{}: {message}", before.login)));
        }
    };
    let detail = format!(
        "user {} login {} role {}→{} team {:?}→{:?} active {}",
        id.0,
        before.login,
        before.role.code(),
        after.user.role.code(),
        before.team_id.map(|t| t.0),
        after.user.team_id.map(|t| t.0),
        after.active
    );
    user.audit(&state, "admin.user.update", None, detail).await?;
    Ok(saved("/admin/users"))
}

#[derive(Debug, Default, Deserialize)]
pub struct TeamForm {
    #[serde(default)]
    name: String,
}

/// `POST /admin/teams`: adds a team.
pub async fn team_create(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<TeamForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let a = user.lang.admin();
    const ERRORS: &str = "#new-team-errors";
    let name = form.name.trim();
    if name.is_empty() {
        return Ok(refuse(ERRORS, &field_message(a.team_name, a.err_required)));
    }
    let team = match state.store.team_create(user.principal.tenant_id, name).await {
        Ok(team) => team,
        Err(StoreError::Conflict(_)) => return Ok(refuse(ERRORS, a.err_team_taken)),
        Err(StoreError::Invalid(invalid)) => {
            return Ok(refuse(ERRORS, &format!("{}{}（{}）", a.team_name, a.err_invalid, invalid.reason)));
        }
        Err(other) => return Err(user.error(other.into())),
    };
    user.audit(&state, "admin.team.create", None, format!("team {} {}", team.id.0, team.name)).await?;
    Ok(saved("/admin/users"))
}

// ---------------------------------------------------------------------------------------------
// NG words (crisis words).

pub struct WordRow {
    pub id: i64,
    pub phrase: String,
    pub severity: String,
    pub severity_code: &'static str,
    pub note: String,
    pub created_at: String,
}

#[derive(Template)]
#[template(path = "admin/crisis_words.html")]
struct CrisisWordsPage {
    l: Layout,
    a: &'static AdminStrings,
    tabs: Vec<Tab>,
    done: bool,
    words: Vec<WordRow>,
    severities: Vec<Opt>,
}

fn severity_label(lang: Lang, severity: CrisisSeverity) -> String {
    match lang {
        Lang::Ja => severity.label_ja().to_owned(),
        Lang::En => match severity {
            CrisisSeverity::Low => "Low",
            CrisisSeverity::Medium => "Medium",
            CrisisSeverity::High => "High",
            CrisisSeverity::Critical => "Critical",
        }
        .to_owned(),
    }
}

/// `GET /admin/crisis-words`: the tenant's own NG words and the form to add one.
pub async fn crisis_words_page(
    State(state): State<AppState>,
    user: PageUser,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let a = user.lang.admin();
    let words = state.store.crisis_word_list(user.principal.tenant_id).await.for_page(&user)?;
    let words = words
        .iter()
        .map(|word| WordRow {
            id: word.id.0,
            phrase: word.phrase.clone(),
            severity: severity_label(user.lang, word.severity),
            severity_code: word.severity.code(),
            note: word.note.clone(),
            created_at: super::view::short_time(&kimochi_domain::datetime::format_jst(word.created_at)),
        })
        .collect();
    let severities = CrisisSeverity::ALL
        .iter()
        .map(|s| Opt {
            value: s.code().to_owned(),
            label: severity_label(user.lang, *s),
            selected: *s == CrisisSeverity::High,
        })
        .collect();
    let page = CrisisWordsPage {
        l: user.layout(a.crisis_title),
        a,
        tabs: tabs(a, "/admin/crisis-words"),
        done: done.done.is_some(),
        words,
        severities,
    };
    Ok(render(&page))
}

#[derive(Debug, Default, Deserialize)]
pub struct CrisisWordForm {
    #[serde(default)]
    phrase: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    note: String,
}

/// `POST /admin/crisis-words`: adds an NG word through the API's rules (`alerts.rs`); a word
/// taken (409) or refused (422) is told inline.
pub async fn crisis_word_create(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<CrisisWordForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let (lang, a) = (user.lang, user.lang.admin());
    const ERRORS: &str = "#word-errors";
    if form.phrase.trim().is_empty() {
        return Ok(refuse(ERRORS, &field_message(a.phrase, a.err_required)));
    }
    let input = CrisisWordInput { phrase: form.phrase, severity: form.severity, note: form.note };
    let word = match input.into_new() {
        Ok(word) => word,
        Err(error) => return Ok(refuse(ERRORS, &word_message(lang, a, &error))),
    };
    let tenant = user.principal.tenant_id;
    let created = match state.store.crisis_word_create(tenant, &word, crate::now()).await.map_err(conflict_with_field) {
        Ok(created) => created,
        Err(error) if error.status.is_client_error() => return Ok(refuse(ERRORS, &word_message(lang, a, &error))),
        Err(error) => return Err(user.error(error)),
    };
    state.alerts.crisis.invalidate(tenant);
    let detail = format!("crisis word {} {:?} {}", created.id.0, created.phrase, created.severity.code());
    user.audit(&state, "admin.crisis_word.create", None, detail).await?;
    Ok(saved("/admin/crisis-words"))
}

/// A refusal of the shared crisis-word rules, naming the field in the reader's language.
fn word_message(lang: Lang, a: &AdminStrings, error: &AppError) -> String {
    if error.status == StatusCode::UNPROCESSABLE_ENTITY {
        let label = match error.field.as_deref() {
            Some("phrase") => a.phrase,
            Some("severity") => a.severity,
            Some("note") => a.note,
            Some(other) => other,
            None => "",
        };
        let reason = error.message_en.split_once(": ").map_or(&*error.message_en, |(_, reason)| reason);
        return match lang {
            Lang::Ja => format!("{label}{}（{reason}）", a.err_invalid),
            Lang::En => format!("{label}{}: {reason}", a.err_invalid),
        };
    }
    app_message(lang, error)
}

/// `POST /admin/crisis-words/{id}/delete`: removes an NG word.
pub async fn crisis_word_delete(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let tenant = user.principal.tenant_id;
    let id = CrisisWordId(id.parse::<i64>().map_err(|_| user.error(AppError::not_found("crisis word")))?);
    let word = state.store.crisis_word_get(tenant, id).await.for_page(&user)?;
    state.store.crisis_word_delete(tenant, id).await.for_page(&user)?;
    state.alerts.crisis.invalidate(tenant);
    let detail = format!("crisis word {} {:?}", id.0, word.phrase);
    user.audit(&state, "admin.crisis_word.delete", None, detail).await?;
    Ok(saved("/admin/crisis-words"))
}

// ---------------------------------------------------------------------------------------------
// Tenant settings: stage thresholds.

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    l: Layout,
    a: &'static AdminStrings,
    tabs: Vec<Tab>,
    done: bool,
    dormant_after_days: u32,
    subscription_active_days: u32,
    repeater_min_main_orders: u32,
    max_dormant: u32,
    max_subscription: u32,
    max_repeater: u32,
}

/// `GET /admin/settings`: the tenant's stage thresholds.
pub async fn settings_page(
    State(state): State<AppState>,
    user: PageUser,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let a = user.lang.admin();
    let thresholds = state.store.stage_thresholds(user.principal.tenant_id).await.for_page(&user)?;
    let page = SettingsPage {
        l: user.layout(a.settings_title),
        a,
        tabs: tabs(a, "/admin/settings"),
        done: done.done.is_some(),
        dormant_after_days: thresholds.dormant_after_days,
        subscription_active_days: thresholds.subscription_active_days,
        repeater_min_main_orders: thresholds.repeater_min_main_orders,
        max_dormant: kimochi_domain::settings::MAX_DORMANT_DAYS,
        max_subscription: kimochi_domain::settings::MAX_SUBSCRIPTION_DAYS,
        max_repeater: kimochi_domain::settings::MAX_REPEATER_ORDERS,
    };
    Ok(render(&page))
}

#[derive(Debug, Default, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    dormant_after_days: String,
    #[serde(default)]
    subscription_active_days: String,
    #[serde(default)]
    repeater_min_main_orders: String,
}

/// `POST /admin/settings`: validates and stores the stage thresholds.
pub async fn settings_save(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<SettingsForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let a = user.lang.admin();
    const ERRORS: &str = "#settings-errors";
    // The first field at fault, as a message naming it.
    let number = |label: &str, text: &str| -> Result<u32, String> {
        let text = kimochi_domain::normalize::normalize_text(text.trim());
        if text.is_empty() {
            return Err(field_message(label, a.err_required));
        }
        text.parse::<u32>().map_err(|_| field_message(label, a.err_not_a_number))
    };
    let parsed = (|| {
        Ok::<_, String>(StageThresholds {
            dormant_after_days: number(a.dormant_after_days, &form.dormant_after_days)?,
            subscription_active_days: number(a.subscription_active_days, &form.subscription_active_days)?,
            repeater_min_main_orders: number(a.repeater_min_main_orders, &form.repeater_min_main_orders)?,
        })
    })();
    let thresholds = match parsed {
        Ok(thresholds) => thresholds,
        Err(message) => return Ok(refuse(ERRORS, &message)),
    };
    if let Err(invalid) = thresholds.validate() {
        let (label, hint) = match invalid.field {
            "dormant_after_days" => (a.dormant_after_days, a.dormant_hint),
            "subscription_active_days" => (a.subscription_active_days, a.subscription_hint),
            _ => (a.repeater_min_main_orders, a.repeater_hint),
        };
        return Ok(refuse(ERRORS, &format!("{label}{}（{hint}）", a.err_out_of_range)));
    }
    state.store.stage_thresholds_set(user.principal.tenant_id, &thresholds, crate::now()).await.for_page(&user)?;
    let detail = format!(
        "stage thresholds dormant {} subscription {} repeater {}",
        thresholds.dormant_after_days, thresholds.subscription_active_days, thresholds.repeater_min_main_orders
    );
    user.audit(&state, "admin.settings.stage", None, detail).await?;
    Ok(saved("/admin/settings"))
}
