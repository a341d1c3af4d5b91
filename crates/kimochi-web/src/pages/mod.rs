//! The web application people work in: server-rendered HTML (askama templates under
//! `templates/`) with htmx for partial updates. Japanese by default, English on request
//! (`?lang=en`, then remembered in a cookie).
//!
//! Invariants: every page needs a session (without one it redirects to `/login`); personal data
//! is masked per role by the same `json.rs` conversions the API uses; user-supplied text is only
//! ever escaped by askama, never marked safe; every page is sent with a Content-Security-Policy
//! that allows scripts and styles from our own static files only, so a hostile VOC text stays
//! inert even if escaping were ever missed; reads of personal data are audited before answering.

pub mod admin;
pub mod agent;
pub mod analyst;
pub mod assets;
pub mod campaigns;
pub mod gap;
pub mod hearing;
pub mod i18n;
pub mod supervisor;
pub mod targets;
pub mod view;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kimochi_domain::{AuditEntry, CustomerId, Role};

use crate::AppState;
use crate::auth::{Principal, cookie};
use crate::error::AppError;
use i18n::{Lang, Strings};

/// The cookie that remembers the chosen language.
pub const LANG_COOKIE: &str = "kimochi_lang";

/// What pages may load: our own scripts, styles and images, nothing inline, no frames, forms
/// posting only to us.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The page routes; `crate::router` merges them beside the API.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/agent", get(agent::search_page))
        .route("/agent/search", get(agent::search_results))
        .route("/agent/pop", get(agent::screen_pop))
        .route("/agent/customers", post(agent::customer_create))
        .route("/agent/customers/new", get(agent::customer_new))
        .route("/agent/customers/{id}", get(agent::karte_page))
        .route("/agent/customers/{id}/contacts", post(agent::contact_create))
        .route("/agent/customers/{id}/handover-notes", post(agent::handover_create))
        .route("/agent/customers/{id}/kimochi-notes", post(agent::kimochi_note_create))
        .route("/agent/kimochi-preview", post(agent::kimochi_preview))
        .route("/agent/faq/search", get(agent::faq_search))
        .route("/analyst/rfm", get(analyst::rfm_page))
        .route("/analyst/rfm/cells/{cell}", get(analyst::rfm_cell_list))
        .route("/analyst/rfm/cells/{cell}/export.csv", get(analyst::rfm_cell_export_csv))
        .route("/analyst/rfm/cells/{cell}/export.xlsx", get(analyst::rfm_cell_export_xlsx))
        .route("/supervisor", get(supervisor::board_page))
        .route("/supervisor/counts", get(supervisor::board_counts))
        .route("/supervisor/alerts/{id}/ack", post(supervisor::alert_ack))
        .route("/analyst/voc/lost-orders", get(analyst::lost_orders_page))
        .route("/analyst/voc/call-reasons", get(analyst::call_reasons_page))
        .route("/analyst/voc/churn-drivers", get(analyst::churn_drivers_page))
        .route("/analyst/segments", get(analyst::segments_page))
        // Target lists (issue 6): the segment builder.
        .route("/analyst/targets", get(targets::targets_page))
        .route("/analyst/targets/builder", post(targets::targets_builder))
        .route("/analyst/targets/{id}/delete", post(targets::targets_delete))
        .route("/admin", get(admin::index))
        .route("/admin/users", get(admin::users_page).post(admin::user_create))
        .route("/admin/users/{id}", post(admin::user_update))
        .route("/admin/teams", post(admin::team_create))
        .route("/admin/crisis-words", get(admin::crisis_words_page).post(admin::crisis_word_create))
        .route("/admin/crisis-words/{id}/delete", post(admin::crisis_word_delete))
        .route("/admin/settings", get(admin::settings_page).post(admin::settings_save))
        // --- campaigns (issue 6) ---
        .route("/agent/calls", get(campaigns::calls_page))
        .route("/agent/calls/{campaign}/{task}/outcome", post(campaigns::call_outcome))
        .route("/analyst/campaigns", get(campaigns::campaigns_page).post(campaigns::campaign_create))
        .route("/analyst/campaigns/{id}", get(campaigns::campaign_page))
        // Hearing points and potential screening (issue 6): `hearing.rs`.
        .route("/agent/prospects", get(hearing::prospects_page))
        .route("/supervisor/hearing", get(hearing::asked_rates_page))
        .route("/admin/hearing-points", get(hearing::admin_page).post(hearing::admin_create))
        .route("/admin/hearing-points/{id}", post(hearing::admin_update))
        .route("/admin/hearing-points/{id}/delete", post(hearing::admin_delete))
        .route("/static/{version}/{name}", get(assets::asset_get))
        .route("/favicon.ico", get(assets::favicon_get))
        .layer(axum::middleware::from_fn(page_headers))
}

/// Adds the security headers to every page and remembers a language chosen with `?lang=`.
async fn page_headers(request: Request, next: Next) -> Response {
    let chosen = request.uri().query().and_then(query_lang);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let is_html = headers.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if is_html {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if let Some(lang) = chosen
        && let Ok(value) =
            HeaderValue::from_str(&format!("{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000", lang.code()))
    {
        headers.append(header::SET_COOKIE, value);
    }
    response
}

fn query_lang(query: &str) -> Option<Lang> {
    query.split('&').find_map(|pair| pair.strip_prefix("lang=")).and_then(Lang::parse)
}

/// The language of a request: `?lang=` first, then the cookie, else Japanese.
pub fn request_lang(parts: &Parts) -> Lang {
    lang_of(&parts.uri, &parts.headers)
}

/// [`request_lang`] from a URI and headers (the login page, outside the pages' router).
pub fn lang_of(uri: &axum::http::Uri, headers: &axum::http::HeaderMap) -> Lang {
    uri.query().and_then(query_lang).or_else(|| cookie(headers, LANG_COOKIE).and_then(Lang::parse)).unwrap_or(Lang::Ja)
}

/// The cookie that remembers a language chosen with `?lang=` on `uri`, if one was.
pub fn chosen_lang_cookie(uri: &axum::http::Uri) -> Option<String> {
    let lang = uri.query().and_then(query_lang)?;
    Some(format!("{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000", lang.code()))
}

/// A logged-in person asking for a page.
#[derive(Debug, Clone)]
pub struct PageUser {
    pub principal: Principal,
    pub lang: Lang,
    /// The path and query of the request, for the navigation and the language switch.
    pub path: String,
    pub query: String,
    /// Whether htmx sent the request (it wants a fragment, and redirects by header).
    pub htmx: bool,
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = request_lang(parts);
        let htmx = parts.headers.contains_key("hx-request");
        match Principal::from_request_parts(parts, state).await {
            Ok(principal) => Ok(PageUser {
                principal,
                lang,
                path: parts.uri.path().to_owned(),
                query: parts.uri.query().unwrap_or("").to_owned(),
                htmx,
            }),
            Err(error) if error.status == StatusCode::UNAUTHORIZED => Err(to_login(htmx)),
            Err(error) => Err(PageError { lang, error }.into_response()),
        }
    }
}

/// Sends someone without a session to the login form; htmx follows `HX-Redirect` with a full
/// page load instead of swapping the login form into a fragment.
fn to_login(htmx: bool) -> Response {
    if htmx {
        (StatusCode::UNAUTHORIZED, [("hx-redirect", "/login")]).into_response()
    } else {
        Redirect::to("/login").into_response()
    }
}

impl PageUser {
    pub fn role(&self) -> Role {
        self.principal.role
    }

    pub fn t(&self) -> &'static Strings {
        self.lang.strings()
    }

    /// The layout of a full page titled `title`.
    pub fn layout(&self, title: impl Into<String>) -> view::Layout {
        view::Layout::new(self, title.into())
    }

    /// Analyst views: analysts, supervisors and administrators.
    pub fn require_analytics(&self) -> Result<(), PageError> {
        match self.role() {
            Role::Analyst | Role::Supervisor | Role::Admin => Ok(()),
            Role::Agent => Err(self.error(AppError::forbidden())),
        }
    }

    pub fn error(&self, error: AppError) -> PageError {
        PageError { lang: self.lang, error }
    }

    /// Records a read or export of personal data (B5) before it is answered.
    pub async fn audit(
        &self,
        state: &AppState,
        action: &str,
        customer: Option<CustomerId>,
        detail: String,
    ) -> Result<(), PageError> {
        let entry = AuditEntry {
            at: crate::now(),
            actor: self.principal.actor,
            action: action.to_owned(),
            customer_id: customer,
            detail,
        };
        state.audit.record(self.principal.tenant_id, entry).await.map_err(|error| self.error(error))
    }
}

/// An error shown as a page (or, to htmx, as a fragment) in the reader's language.
#[derive(Debug)]
pub struct PageError {
    pub lang: Lang,
    pub error: AppError,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    l: view::Layout,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let t = self.lang.strings();
        let status = self.error.status;
        let message = match status {
            StatusCode::NOT_FOUND => t.not_found.to_owned(),
            StatusCode::FORBIDDEN if self.error.code == "auth.forbidden" => t.forbidden.to_owned(),
            status if status.is_server_error() => t.internal_error.to_owned(),
            _ => match self.lang {
                Lang::Ja => self.error.message_ja.to_string(),
                Lang::En => self.error.message_en.to_string(),
            },
        };
        if status.is_server_error() {
            tracing::error!(code = self.error.code, "page failed");
        }
        let page = ErrorPage { l: view::Layout::anonymous(self.lang, t.error_title.to_owned()), message };
        (status, render(&page)).into_response()
    }
}

/// Turns any error the handlers meet into a page in the reader's language.
pub trait ForPage<T> {
    fn for_page(self, user: &PageUser) -> Result<T, PageError>;
}

impl<T, E: Into<AppError>> ForPage<T> for Result<T, E> {
    fn for_page(self, user: &PageUser) -> Result<T, PageError> {
        self.map_err(|error| user.error(error.into()))
    }
}

/// Renders a template; a template that fails to render is a bug, logged and shown as a 500.
pub fn render<T: Template>(template: &T) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, Html("<!doctype html><title>error</title><p>internal error</p>"))
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    l: view::Layout,
}

/// `GET /`: who is logged in and the screens of their role (the navigation, as cards).
async fn home(user: PageUser) -> Response {
    let title = user.t().home_title;
    render(&HomePage { l: user.layout(title) })
}
