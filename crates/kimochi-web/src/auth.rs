//! Who is calling: people log in with a form and get a session cookie (argon2id passwords, CSRF
//! synchronizer tokens on every state-changing request); integrations send a bearer token.
//! Sessions and tokens are stored only as SHA-256 hashes, so a leaked database holds no secret
//! that opens a door.

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{Form, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use kimochi_domain::{Actor, Role, TenantId, UserId};
use kimochi_store::StoreError;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::AppError;
use crate::pages::i18n::Lang;

pub const SESSION_COOKIE: &str = "kimochi_session";
const LOGIN_CSRF_COOKIE: &str = "kimochi_login_csrf";
/// How long a login lasts: one working day plus overtime.
const SESSION_HOURS: i64 = 12;

/// A random URL-safe token of `bytes` random bytes, hex-encoded.
pub fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buffer);
    hex(&buffer)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored form of a session id or API token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// An argon2id hash (PHC string) of a password, with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A new API token (`kmc_…`, shown once) and the hash to store.
pub fn new_api_token() -> (String, String) {
    let token = format!("kmc_{}", random_token(24));
    let hash = token_hash(&token);
    (token, hash)
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant_id: TenantId,
    pub role: Role,
    pub actor: Actor,
    pub user_id: Option<UserId>,
    pub display_name: String,
    /// The session's CSRF token, when the caller came with a session cookie.
    pub csrf_token: Option<String>,
}

impl Principal {
    pub fn require_write(&self) -> Result<(), AppError> {
        if self.role.may_write_customers() { Ok(()) } else { Err(AppError::forbidden()) }
    }

    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.role.may_administer() { Ok(()) } else { Err(AppError::forbidden()) }
    }

    pub fn require_supervisor_or_admin(&self) -> Result<(), AppError> {
        if matches!(self.role, Role::Admin | Role::Supervisor) { Ok(()) } else { Err(AppError::forbidden()) }
    }
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then_some(value)
        })
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token =
                value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).ok_or_else(AppError::unauthorized)?;
            let principal = match state.store.api_token_principal(&token_hash(token.trim())).await {
                Ok(principal) => principal,
                Err(StoreError::NotFound(_)) => return Err(AppError::unauthorized()),
                Err(other) => return Err(other.into()),
            };
            return Ok(Principal {
                tenant_id: principal.tenant_id,
                role: principal.role,
                actor: Actor::Token(principal.token_id),
                user_id: None,
                display_name: format!("token {}", principal.token_id),
                csrf_token: None,
            });
        }
        let session_id = cookie(&parts.headers, SESSION_COOKIE).ok_or_else(AppError::unauthorized)?;
        let session = match state.store.session_get(&token_hash(session_id), crate::now()).await {
            Ok(session) => session,
            Err(StoreError::NotFound(_)) => return Err(AppError::unauthorized()),
            Err(other) => return Err(other.into()),
        };
        // A cookie is sent by the browser whoever made the page: a state-changing request must
        // also prove it came from our page by echoing the session's CSRF token.
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
            if sent != Some(session.csrf_token.as_str()) {
                return Err(AppError::csrf());
            }
        }
        Ok(Principal {
            tenant_id: session.user.tenant_id,
            role: session.user.role,
            actor: Actor::User(session.user.id),
            user_id: Some(session.user.id),
            display_name: session.user.display_name,
            csrf_token: Some(session.csrf_token),
        })
    }
}

/// The login page's words in one language.
struct LoginStrings {
    title: &'static str,
    tenant: &'static str,
    login: &'static str,
    password: &'static str,
    submit: &'static str,
    expired: &'static str,
    locked: &'static str,
    failed: &'static str,
    /// The link to the other language: its `lang` code and its name in itself.
    other: (&'static str, &'static str),
}

fn login_strings(lang: Lang) -> &'static LoginStrings {
    static JA: LoginStrings = LoginStrings {
        title: "ログイン",
        tenant: "テナント",
        login: "ログインID",
        password: "パスワード",
        submit: "ログイン",
        expired: "フォームの有効期限が切れました。もう一度ログインしてください。",
        locked: "ログインの失敗が続いたため、このアカウントは15分間ログインできません。",
        failed: "テナント、ログインID、またはパスワードが違います。",
        other: ("en", "English"),
    };
    static EN: LoginStrings = LoginStrings {
        title: "Log in",
        tenant: "Tenant",
        login: "Login ID",
        password: "Password",
        submit: "Log in",
        expired: "The form expired. Please log in again.",
        locked: "Too many failed logins: this account cannot log in for 15 minutes.",
        failed: "The tenant, login ID or password is wrong.",
        other: ("ja", "日本語"),
    };
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

/// `GET /login`: the login form, with a CSRF token bound to a short-lived cookie, in the language
/// of `?lang=` or the language cookie (Japanese by default).
pub async fn login_form(uri: Uri, headers: HeaderMap) -> Response {
    let csrf = random_token(16);
    let mut response = login_page(crate::pages::lang_of(&uri, &headers), &csrf, None, StatusCode::OK);
    if let Some(cookie) = crate::pages::chosen_lang_cookie(&uri)
        && let Ok(value) = header::HeaderValue::from_str(&cookie)
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn login_page(lang: Lang, csrf: &str, message: Option<&str>, status: StatusCode) -> Response {
    let words = login_strings(lang);
    let message =
        message.map(|m| format!(r#"<p role="alert" class="error">{}</p>"#, escape_html(m))).unwrap_or_default();
    let (other_code, other_name) = words.other;
    let (lang_code, title, tenant, login, password, submit) =
        (lang.code(), words.title, words.tenant, words.login, words.password, words.submit);
    let page = format!(
        r#"<!doctype html>
<html lang="{lang_code}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title} — kimochi</title>
<style>body{{font-family:system-ui,"Hiragino Sans","Noto Sans JP",sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}}
label{{display:block;margin:.8rem 0 .2rem}}input{{width:100%;padding:.5rem;font-size:1rem}}button{{margin-top:1.2rem;padding:.6rem 1.2rem;font-size:1rem}}.error{{color:#b00020}}</style>
</head><body><main><h1>kimochi</h1>{message}
<form method="post" action="/login">
<input type="hidden" name="csrf" value="{csrf}">
<label for="tenant">{tenant}</label><input id="tenant" name="tenant" autocomplete="organization" required>
<label for="login">{login}</label><input id="login" name="login" autocomplete="username" required>
<label for="password">{password}</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">{submit}</button>
</form>
<p><a href="/login?lang={other_code}" lang="{other_code}">{other_name}</a></p></main></body></html>"#
    );
    let cookie = format!("{LOGIN_CSRF_COOKIE}={csrf}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600");
    (status, [(header::SET_COOKIE, cookie)], Html(page)).into_response()
}

pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    csrf: String,
    tenant: String,
    login: String,
    password: String,
}

/// `POST /login`: checks the form's CSRF token against its cookie, then the password.
pub async fn login_submit(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = crate::pages::lang_of(&uri, &headers);
    let words = login_strings(lang);
    if cookie(&headers, LOGIN_CSRF_COOKIE) != Some(form.csrf.as_str()) || form.csrf.is_empty() {
        return login_page(lang, &random_token(16), Some(words.expired), StatusCode::FORBIDDEN);
    }
    let now = crate::now();
    let throttle = &state.login_throttle;
    let locked = || login_page(lang, &random_token(16), Some(words.locked), StatusCode::TOO_MANY_REQUESTS);
    if throttle.is_locked(&form.tenant, &form.login, now) {
        return locked();
    }
    // Unknown tenants and logins count as failures too, so that the answers do not tell which
    // accounts exist.
    let failed = || {
        if throttle.record_failure(&form.tenant, &form.login, now) {
            return locked();
        }
        login_page(lang, &random_token(16), Some(words.failed), StatusCode::UNAUTHORIZED)
    };
    let Ok(tenant) = state.store.tenant_by_slug(form.tenant.trim()).await else {
        return failed();
    };
    let Ok(credentials) = state.store.user_credentials(tenant.id, form.login.trim()).await else {
        return failed();
    };
    // argon2 is deliberately slow: keep it off the async workers.
    let password = form.password.clone();
    let hash = credentials.password_hash.clone();
    let verified = tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false);
    if !verified {
        return failed();
    }
    throttle.record_success(&form.tenant, &form.login);
    let session_id = random_token(32);
    let csrf = random_token(16);
    let expires_at = crate::now() + time::Duration::hours(SESSION_HOURS);
    if let Err(error) =
        state.store.session_create(&token_hash(&session_id), tenant.id, credentials.user.id, &csrf, expires_at).await
    {
        return AppError::from(error).into_response();
    }
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        SESSION_HOURS * 3600
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

/// `POST /logout`: ends the session (the form carries the session's CSRF token).
pub async fn logout(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<LogoutForm>) -> Response {
    if let Some(session_id) = cookie(&headers, SESSION_COOKIE) {
        let hash = token_hash(session_id);
        match state.store.session_get(&hash, crate::now()).await {
            Ok(session) if session.csrf_token == form.csrf => {
                if let Err(error) = state.store.session_delete(&hash).await {
                    return AppError::from(error).into_response();
                }
            }
            Ok(_) => return AppError::csrf().into_response(),
            Err(_) => {}
        }
    }
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    ([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response()
}

/// `GET /`: who is logged in, and where to go. The operator desktop grows from here.
pub async fn home(State(state): State<AppState>, parts: Parts) -> Response {
    let mut parts = parts;
    let principal = match Principal::from_request_parts(&mut parts, &state).await {
        Ok(principal) => principal,
        Err(_) => return Redirect::to("/login").into_response(),
    };
    let csrf = principal.csrf_token.clone().unwrap_or_default();
    let page = format!(
        r#"<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>kimochi</title>
<style>body{{font-family:system-ui,"Hiragino Sans","Noto Sans JP",sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}}</style></head>
<body><main><h1>kimochi</h1><p>{name}（{role}）としてログイン中</p>
<ul><li><a href="/api/openapi.json">API（OpenAPI）</a></li><li><a href="/api/v1/session">セッション情報</a></li></ul>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{csrf}"><button type="submit">ログアウト</button></form>
</main></body></html>"#,
        name = escape_html(&principal.display_name),
        role = principal.role.label_ja(),
    );
    Html(page).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(escape_html(r#"<img src=x onerror="alert(1)">"#), "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    }
}
