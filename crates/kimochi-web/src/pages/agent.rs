//! The operator desktop: customer search with live results, the screen-pop URL a phone system
//! opens with the caller's number, the karte on one screen, and contact logging through htmx.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kimochi_domain::{
    Customer, CustomerId, Direction, HandoverKind, KimochiKind, NewHandoverNote, NewKimochiNote, PhoneNumber,
    ValidationError,
};
use kimochi_store::{CustomerQuery, KarteLimits};
use serde::Deserialize;

use super::i18n::{Lang, Strings};
use super::view::{ContactChoices, ContactView, CustomerRow, KarteView, Layout, ThreadView};
use super::{ForPage, PageError, PageUser, render};
use crate::AppState;
use crate::error::AppError;
use crate::json::{ContactInput, ContactJson, CustomerInput, CustomerSummaryJson, KarteJson};

/// Hits shown for one search: enough to pick a person, few enough to read.
const SEARCH_LIMIT: u32 = 30;
/// The longest search text accepted (as the API).
const MAX_QUERY_CHARS: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "agent/search.html")]
struct SearchPage {
    l: Layout,
    q: String,
    // The results, as the fragment template (included) reads them.
    t: &'static Strings,
    rows: Vec<CustomerRow>,
    searched: bool,
}

#[derive(Template)]
#[template(path = "agent/results.html")]
struct SearchResults {
    t: &'static Strings,
    rows: Vec<CustomerRow>,
    searched: bool,
}

async fn search(state: &AppState, user: &PageUser, text: &str) -> Result<SearchResults, PageError> {
    let t = user.t();
    let text = text.trim();
    if text.is_empty() {
        return Ok(SearchResults { t, rows: Vec::new(), searched: false });
    }
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(user.error(AppError::invalid(ValidationError::new("q", text, "is longer than 200 characters"))));
    }
    let query = CustomerQuery { text: text.to_owned(), limit: SEARCH_LIMIT };
    let hits = state.store.customer_search(user.principal.tenant_id, &query).await.for_page(user)?;
    user.audit(state, "customers.search", None, format!("{} hits", hits.len())).await?;
    let rows = hits.iter().map(|h| CustomerRow::new(&CustomerSummaryJson::new(h, user.role()), t)).collect();
    Ok(SearchResults { t, rows, searched: true })
}

/// `GET /agent`: the search page; with `?q=` it also works without JavaScript.
pub async fn search_page(
    State(state): State<AppState>,
    user: PageUser,
    Query(params): Query<SearchParams>,
) -> Result<Response, PageError> {
    let results = search(&state, &user, &params.q).await?;
    let page = SearchPage {
        l: user.layout(user.t().search_title),
        q: params.q,
        t: results.t,
        rows: results.rows,
        searched: results.searched,
    };
    Ok(render(&page))
}

/// `GET /agent/search?q=`: the results fragment htmx swaps in as the operator types.
pub async fn search_results(
    State(state): State<AppState>,
    user: PageUser,
    Query(params): Query<SearchParams>,
) -> Result<Response, PageError> {
    Ok(render(&search(&state, &user, &params.q).await?))
}

#[derive(Debug, Default, Deserialize)]
pub struct PopParams {
    #[serde(default)]
    phone: String,
}

#[derive(Template)]
#[template(path = "agent/pop.html")]
struct PopPage {
    l: Layout,
    phone: String,
    rows: Vec<CustomerRow>,
    create_href: String,
}

/// `GET /agent/pop?phone=`: the screen pop. One customer with this number opens the karte; several
/// are listed; none offers to register the caller.
pub async fn screen_pop(
    State(state): State<AppState>,
    user: PageUser,
    Query(params): Query<PopParams>,
) -> Result<Response, PageError> {
    let t = user.t();
    let phone = params.phone.trim().to_owned();
    let wanted = PhoneNumber::parse(&phone).ok();
    let mut rows = Vec::new();
    if let Some(wanted) = &wanted {
        let query = CustomerQuery { text: wanted.to_string(), limit: SEARCH_LIMIT };
        let hits = state.store.customer_search(user.principal.tenant_id, &query).await.for_page(&user)?;
        // The search matches prefixes; a caller's number must match whole.
        let exact: Vec<_> = hits.into_iter().filter(|hit| hit.phones.contains(wanted)).collect();
        user.audit(&state, "customers.pop", None, format!("{} hits", exact.len())).await?;
        if let [only] = exact.as_slice() {
            return Ok(Redirect::to(&format!("/agent/customers/{}", only.id.0)).into_response());
        }
        rows = exact.iter().map(|h| CustomerRow::new(&CustomerSummaryJson::new(h, user.role()), t)).collect();
    }
    let create_href = format!("/agent/customers/new?phone={}", url_component(&phone));
    let page = PopPage { l: user.layout(t.pop_title), phone, rows, create_href };
    Ok(render(&page))
}

/// Percent-encodes a query-string value (RFC 3986 unreserved characters pass).
pub fn url_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[derive(Template)]
#[template(path = "agent/new.html")]
struct NewCustomerPage {
    l: Layout,
    phone: String,
}

/// `GET /agent/customers/new?phone=`: registering a caller nobody knows yet.
pub async fn customer_new(user: PageUser, Query(params): Query<PopParams>) -> Result<Response, PageError> {
    if !user.role().may_write_customers() {
        return Err(user.error(AppError::forbidden()));
    }
    Ok(render(&NewCustomerPage { l: user.layout(user.t().new_customer_title), phone: params.phone }))
}

#[derive(Debug, Default, Deserialize)]
pub struct NewCustomerForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kana: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    consent_phone: Option<String>,
    #[serde(default)]
    consent_email: Option<String>,
    #[serde(default)]
    consent_dm: Option<String>,
}

/// `POST /agent/customers` (htmx): registers the customer and opens their karte.
pub async fn customer_create(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<NewCustomerForm>,
) -> Result<Response, PageError> {
    if !user.role().may_write_customers() {
        return Err(user.error(AppError::forbidden()));
    }
    let optional = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
    let input = CustomerInput {
        external_id: None,
        name: form.name,
        kana: optional(&form.kana),
        birth_date: None,
        gender: None,
        prefecture: None,
        address: None,
        phones: optional(&form.phone).into_iter().collect(),
        emails: optional(&form.email).into_iter().collect(),
        consent: crate::json::ConsentInput {
            phone: form.consent_phone.is_some(),
            email: form.consent_email.is_some(),
            dm: form.consent_dm.is_some(),
        },
        do_not_call: false,
        ad_medium: None,
        attributes: Default::default(),
    };
    let profile = match input.into_profile() {
        Ok(profile) => profile,
        Err(error) => return Ok(form_error(user.lang, "#customer-errors", &AppError::invalid(error))),
    };
    let customer = match state.store.customer_create(user.principal.tenant_id, &profile, crate::now()).await {
        Ok(customer) => customer,
        Err(error) => return Ok(form_error(user.lang, "#customer-errors", &AppError::from(error))),
    };
    user.audit(&state, "customer.create", Some(customer.id), String::new()).await?;
    Ok((StatusCode::OK, [("hx-redirect", format!("/agent/customers/{}", customer.id.0))]).into_response())
}

/// A validation message swapped into the form's error area; what was typed stays.
fn form_error(lang: Lang, target: &'static str, error: &AppError) -> Response {
    let message = match lang {
        Lang::Ja => error.message_ja.to_string(),
        Lang::En => error.message_en.to_string(),
    };
    let html = format!(r#"<p class="error-text" role="alert">{}</p>"#, crate::auth::escape_html(&message));
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

#[derive(Template)]
#[template(path = "agent/karte.html")]
struct KartePage {
    l: Layout,
    k: KarteView,
    may_write: bool,
    choices: ContactChoices,
    /// Hearing points (issue 6): the checklist of the contact form and the soft facts.
    h: super::hearing::KarteHearing,
}

/// `GET /agent/customers/{id}`: the karte.
pub async fn karte_page(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    // A malformed id is a missing customer, exactly like the API.
    let id = id.parse::<i64>().map_err(|_| user.error(AppError::not_found("customer")))?;
    let karte =
        state.store.karte(user.principal.tenant_id, CustomerId(id), KarteLimits::default()).await.for_page(&user)?;
    user.audit(&state, "karte.read", Some(CustomerId(id)), String::new()).await?;
    let karte = KarteJson::new(&karte, user.role());
    let view = KarteView::new(&karte, user.lang);
    let title = format!("{} — {}", view.name, user.t().karte_title);
    let page = KartePage {
        l: user.layout(title),
        k: view,
        may_write: user.role().may_write_customers(),
        choices: ContactChoices::new(user.lang),
        h: super::hearing::KarteHearing::load(&state, &user, CustomerId(id)).await?,
    };
    Ok(render(&page))
}

#[derive(Debug, Default, Deserialize)]
pub struct ContactForm {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    text: String,
    /// The hearing checklist (`hearing_set`, `hq-{id}-asked`, `hq-{id}-value`), issue 6.
    #[serde(flatten)]
    hearing: std::collections::HashMap<String, String>,
}

#[derive(Template)]
#[template(path = "agent/thread.html")]
struct ThreadFragment {
    t: &'static Strings,
    thread: ThreadView,
}

/// `POST /agent/customers/{id}/contacts` (htmx, CSRF header): logs a contact and answers with
/// its history entry, which htmx puts on top of the history.
pub async fn contact_create(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<ContactForm>,
) -> Result<Response, PageError> {
    let id = id.parse::<i64>().map_err(|_| user.error(AppError::not_found("customer")))?;
    let customer = state.store.customer_get(user.principal.tenant_id, CustomerId(id)).await.for_page(&user)?;
    if !user.role().may_write_customers() {
        return Err(user.error(AppError::forbidden()));
    }
    let optional = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
    let input = ContactInput {
        external_id: None,
        channel: form.channel,
        direction: form.direction,
        started_at: None,
        ended_at: None,
        reason: optional(&form.reason),
        outcome: optional(&form.outcome),
        text: form.text,
        thread_of: None,
        hearing: None,
    };
    let mut contact = match input.into_new(customer.id, user.principal.user_id, crate::now()) {
        Ok(contact) => contact,
        Err(error) => return Ok(form_error(user.lang, "#contact-errors", &AppError::invalid(error))),
    };
    // The text engine reads every contact as it is recorded, as in the API: its tags are shown
    // in the history at once and feed the customer's kimochi signals.
    contact.tags =
        crate::alerts::contact_tags(&state, user.principal.tenant_id, &contact.text).await.for_page(&user)?;
    // Consent and do-not-call are checked on every outbound contact, as in the API (B5).
    if contact.direction == Direction::Outbound
        && let Err(refusal) = customer.profile.outbound_allowed(contact.channel)
    {
        return Ok(form_error(user.lang, "#contact-errors", &AppError::from(refusal)));
    }
    // The hearing checklist is stored with the contact in one transaction, or neither (issue 6).
    let capture = match super::hearing::capture_from_form(&state, &user, &form.hearing).await {
        Ok(capture) => capture,
        Err(error) => return Ok(form_error(user.lang, "#contact-errors", &error)),
    };
    let stored = match &capture {
        Some(capture) => state
            .store
            .contact_create_with_hearing(user.principal.tenant_id, &contact, capture)
            .await
            .map(|(contact, _)| contact)
            .map_err(crate::hearing::set_error),
        None => state.store.contact_create(user.principal.tenant_id, &contact).await.map_err(AppError::from),
    };
    let contact = match stored {
        Ok(contact) => contact,
        Err(error) => return Ok(form_error(user.lang, "#contact-errors", &error)),
    };
    crate::alerts::contact_recorded(
        &state,
        user.principal.tenant_id,
        &contact,
        &customer.profile.name,
        &user.principal.display_name,
    )
    .await;
    crate::search::contact_written(&state, user.principal.tenant_id, &contact).await;
    let json = ContactJson::from(&contact).for_role(user.principal.role);
    let view = ContactView::new(&json, user.lang);
    let thread = ThreadView {
        id: json.thread_id,
        channels: user.lang.channel(json.channel),
        last_at: view.when.clone(),
        contacts: vec![view],
    };
    let mut html = match (ThreadFragment { t: user.t(), thread }).render() {
        Ok(html) => html,
        Err(error) => {
            tracing::error!(%error, "template failed to render");
            return Err(user.error(AppError::internal()));
        }
    };
    if capture.is_some() {
        html.push_str(&super::hearing::soft_facts_oob(&state, &user, customer.id).await);
    }
    Ok((StatusCode::CREATED, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

/// The karte's handover form: a handover (引き継ぎ) or a caution (注意事項) for the next operator.
/// The kimochi-note form has the same two fields, with a kimochi kind.
#[derive(Debug, Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    text: String,
}

impl NoteForm {
    /// The note's text: bounded, control characters dropped, and not empty.
    fn text(&self) -> Result<String, ValidationError> {
        let text = kimochi_domain::long_text("text", &self.text)?;
        if text.is_empty() {
            return Err(ValidationError::new("text", "", "is empty"));
        }
        Ok(text)
    }
}

/// Which note form of the karte a request came from: where its errors go.
#[derive(Debug, Clone, Copy)]
enum NoteKind {
    Handover,
    Kimochi,
}

impl NoteKind {
    fn errors(self) -> &'static str {
        match self {
            NoteKind::Handover => "#handover-errors",
            NoteKind::Kimochi => "#kimochi-errors",
        }
    }
}

/// The customer a note form writes to, if the person may write.
async fn note_customer(state: &AppState, user: &PageUser, id: &str) -> Result<Customer, PageError> {
    let id = id.parse::<i64>().map_err(|_| user.error(AppError::not_found("customer")))?;
    let customer = state.store.customer_get(user.principal.tenant_id, CustomerId(id)).await.for_page(user)?;
    if !user.role().may_write_customers() {
        return Err(user.error(AppError::forbidden()));
    }
    Ok(customer)
}

/// Answers a note form: a validation or store error inside the form (htmx) or as an error page;
/// success reloads the karte, whose banners and timeline show the note (`HX-Redirect`, or a
/// 303 for any other client).
fn note_answer(
    user: &PageUser,
    kind: NoteKind,
    customer: &Customer,
    outcome: Result<(), AppError>,
) -> Result<Response, PageError> {
    let karte = format!("/agent/customers/{}", customer.id.0);
    match outcome {
        Ok(()) if user.htmx => Ok((StatusCode::NO_CONTENT, [("hx-redirect", karte)]).into_response()),
        Ok(()) => Ok(Redirect::to(&karte).into_response()),
        Err(error) if user.htmx => Ok(form_error(user.lang, kind.errors(), &error)),
        Err(error) => Err(user.error(error)),
    }
}

/// `POST /agent/customers/{id}/handover-notes`: a handover or caution for the next operator.
pub async fn handover_create(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<NoteForm>,
) -> Result<Response, PageError> {
    let customer = note_customer(&state, &user, &id).await?;
    let outcome = async {
        let note = NewHandoverNote {
            customer_id: customer.id,
            kind: HandoverKind::parse(&form.kind)?,
            text: form.text()?,
            author_id: user.principal.user_id,
            created_at: crate::now(),
        };
        state.store.handover_note_create(user.principal.tenant_id, &note).await?;
        Ok(())
    }
    .await;
    note_answer(&user, NoteKind::Handover, &customer, outcome)
}

/// `POST /agent/customers/{id}/kimochi-notes`: a kimochi note (expectation, experience, gap, …)
/// heard in the conversation, for the karte's timeline and the analytics.
pub async fn kimochi_note_create(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<NoteForm>,
) -> Result<Response, PageError> {
    let customer = note_customer(&state, &user, &id).await?;
    let outcome = async {
        let note = NewKimochiNote {
            customer_id: customer.id,
            kind: KimochiKind::parse(&form.kind)?,
            text: form.text()?,
            captured_by: user.principal.user_id,
            captured_at: crate::now(),
            contact_id: None,
            product_id: None,
        };
        state.store.kimochi_note_create(user.principal.tenant_id, &note).await?;
        Ok(())
    }
    .await;
    note_answer(&user, NoteKind::Kimochi, &customer, outcome)
}

/// The live reading of the VOC text as the operator types it: polarity, kimochi kinds with the
/// words behind each, and crisis words.
#[derive(Template)]
#[template(path = "agent/kimochi_preview.html")]
struct KimochiPreview {
    t: &'static Strings,
    polarity: Option<(&'static str, String)>,
    /// Each kind with the phrases that triggered it, in the text's order.
    kinds: Vec<(String, String)>,
    crisis: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct PreviewForm {
    #[serde(default)]
    text: String,
}

/// `POST /agent/kimochi-preview`: what the text engine hears in a VOC text being typed, as a
/// fragment under the contact form (nothing is stored).
pub async fn kimochi_preview(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<PreviewForm>,
) -> Result<Response, PageError> {
    if !user.role().may_write_customers() {
        return Err(user.error(AppError::forbidden()));
    }
    let t = user.t();
    if form.text.trim().is_empty() {
        return Ok(render(&KimochiPreview { t, polarity: None, kinds: Vec::new(), crisis: Vec::new() }));
    }
    let analyzer =
        state.alerts.lexicons.analyzer(state.store.as_ref(), user.principal.tenant_id).await.for_page(&user)?;
    let reading = kimochi_text::analyze_line(&analyzer, &form.text);
    let mut kinds: Vec<(String, String)> = Vec::new();
    for kind in &reading.kimochi {
        let code = kind.code();
        let surfaces: Vec<String> =
            reading.spans.iter().filter(|span| span.tag == code).map(|span| format!("「{}」", span.surface)).collect();
        kinds.push((user.lang.kimochi_tag(code), surfaces.join(" ")));
    }
    let list = state.alerts.crisis.list(state.store.as_ref(), user.principal.tenant_id).await.for_page(&user)?;
    let crisis = kimochi_text::crisis_matches(&list, &form.text).into_iter().map(|m| m.phrase).collect();
    let code = reading.polarity.code();
    Ok(render(&KimochiPreview { t, polarity: Some((code, user.lang.polarity(code))), kinds, crisis }))
}

/// Hits shown in the karte's FAQ panel.
const FAQ_PANEL_LIMIT: usize = 8;

/// One FAQ article in the panel: its title and a snippet, matches marked (askama escapes every
/// fragment), and the whole body to open.
struct FaqPanelHit {
    id: i64,
    title: Vec<kimochi_search::Fragment>,
    snippet: Vec<kimochi_search::Fragment>,
}

#[derive(Template)]
#[template(path = "agent/faq_results.html")]
struct FaqResults {
    t: &'static Strings,
    hits: Vec<FaqPanelHit>,
    searched: bool,
}

/// `GET /agent/faq/search?q=`: the FAQ panel's results fragment, swapped in as the operator types.
pub async fn faq_search(
    State(state): State<AppState>,
    user: PageUser,
    Query(params): Query<SearchParams>,
) -> Result<Response, PageError> {
    let t = user.t();
    let text = crate::search::query_text(&params.q).map_err(|error| user.error(error))?;
    if text.is_empty() {
        return Ok(render(&FaqResults { t, hits: Vec::new(), searched: false }));
    }
    let hits = crate::search::faq_hits(&state, user.principal.tenant_id, text, FAQ_PANEL_LIMIT)
        .await
        .map_err(|error| user.error(error))?;
    let hits = hits
        .into_iter()
        .map(|hit| FaqPanelHit { id: hit.id.0, title: hit.title_snippet.fragments, snippet: hit.snippet.fragments })
        .collect();
    Ok(render(&FaqResults { t, hits, searched: true }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(super::url_component("090-1234 5678"), "090-1234%205678");
        assert_eq!(super::url_component("+81&x=<"), "%2B81%26x%3D%3C");
        assert_eq!(super::url_component("０"), "%EF%BC%90");
    }
}
