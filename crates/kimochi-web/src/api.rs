//! Handlers of the JSON API under `/api/v1`. Each one: authenticate (the `Principal`
//! extractor), check the role, convert the request into domain input, call the store with the
//! caller's tenant, audit reads of personal data, convert the answer.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kimochi_domain::hearing::HearingSetId;
use kimochi_domain::*;
use kimochi_store::{CustomerQuery, KarteLimits};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::AppState;
use crate::auth::Principal;
use crate::error::AppError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::json::*;

type ApiResult = Result<Response, AppError>;

fn now() -> OffsetDateTime {
    crate::now()
}

fn ok<T: serde::Serialize>(value: T) -> ApiResult {
    Ok(Json(value).into_response())
}

fn created<T: serde::Serialize>(value: T) -> ApiResult {
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

/// Records a read or export of personal data (B5). Failing to audit fails the request: a read
/// that cannot be audited is not served.
pub(crate) async fn audit(
    state: &AppState,
    principal: &Principal,
    action: &str,
    customer: Option<CustomerId>,
    detail: String,
) -> Result<(), AppError> {
    let entry =
        AuditEntry { at: now(), actor: principal.actor, action: action.to_owned(), customer_id: customer, detail };
    state.audit.record(principal.tenant_id, entry).await
}

#[derive(Debug, Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    limit: Option<u32>,
}

pub async fn session_get(principal: Principal) -> ApiResult {
    ok(serde_json::json!({
        "tenant_id": principal.tenant_id.0,
        "role": principal.role.code(),
        "user_id": principal.user_id.map(|u| u.0),
        "display_name": principal.display_name,
        "csrf_token": principal.csrf_token,
    }))
}

pub async fn customer_search(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> ApiResult {
    if params.q.chars().count() > 200 {
        return Err(AppError::invalid(ValidationError::new("q", &params.q, "is longer than 200 characters")));
    }
    let query = CustomerQuery { text: params.q.clone(), limit: params.limit.unwrap_or(20).clamp(1, 200) };
    let hits = state.store.customer_search(principal.tenant_id, &query).await?;
    audit(&state, &principal, "customers.search", None, format!("{} hits", hits.len())).await?;
    ok(
        serde_json::json!({ "customers": hits.iter().map(|h| CustomerSummaryJson::new(h, principal.role)).collect::<Vec<_>>() }),
    )
}

pub async fn customer_create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<CustomerInput>,
) -> ApiResult {
    principal.require_write()?;
    let profile = input.into_profile()?;
    let customer = state.store.customer_create(principal.tenant_id, &profile, now()).await?;
    audit(&state, &principal, "customer.create", Some(customer.id), String::new()).await?;
    created(CustomerJson::new(&customer, principal.role))
}

pub async fn customer_get(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    let customer = state.store.customer_get(principal.tenant_id, CustomerId(id)).await?;
    audit(&state, &principal, "customer.read", Some(customer.id), String::new()).await?;
    ok(CustomerJson::new(&customer, principal.role))
}

pub async fn customer_update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<CustomerInput>,
) -> ApiResult {
    principal.require_write()?;
    // Existence first, so that another tenant's id answers 404 whatever the body holds.
    state.store.customer_get(principal.tenant_id, CustomerId(id)).await?;
    let profile = input.into_profile()?;
    let customer = state.store.customer_update(principal.tenant_id, CustomerId(id), &profile, now()).await?;
    audit(&state, &principal, "customer.update", Some(customer.id), String::new()).await?;
    ok(CustomerJson::new(&customer, principal.role))
}

pub async fn customer_delete(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult {
    state.store.customer_get(principal.tenant_id, CustomerId(id)).await?;
    principal.require_supervisor_or_admin()?;
    state.store.customer_delete(principal.tenant_id, CustomerId(id)).await?;
    crate::search::customer_deleted(&state, principal.tenant_id, CustomerId(id)).await;
    audit(&state, &principal, "customer.delete", Some(CustomerId(id)), String::new()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn karte_get(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    let karte = state.store.karte(principal.tenant_id, CustomerId(id), KarteLimits::default()).await?;
    audit(&state, &principal, "karte.read", Some(CustomerId(id)), String::new()).await?;
    ok(KarteJson::new(&karte, principal.role))
}

#[derive(Debug, Deserialize)]
pub struct ListParams {
    limit: Option<u32>,
}

impl ListParams {
    fn limit(&self) -> u32 {
        self.limit.unwrap_or(50).clamp(1, 500)
    }
}

pub async fn customer_orders_list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult {
    state.store.customer_get(principal.tenant_id, CustomerId(id)).await?;
    let orders = state.store.order_list(principal.tenant_id, CustomerId(id), params.limit()).await?;
    ok(serde_json::json!({ "orders": orders.iter().map(OrderJson::from).collect::<Vec<_>>() }))
}

pub async fn customer_orders_create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<OrderInput>,
) -> ApiResult {
    state.store.customer_get(principal.tenant_id, CustomerId(id)).await?;
    principal.require_write()?;
    let order = input.into_new(CustomerId(id), now())?;
    let order = state.store.order_create(principal.tenant_id, &order).await?;
    created(OrderJson::from(&order))
}

pub async fn order_get(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    let order = state.store.order_get(principal.tenant_id, OrderId(id)).await?;
    ok(OrderJson::from(&order))
}

pub async fn customer_contacts_list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult {
    state.store.customer_get(principal.tenant_id, CustomerId(id)).await?;
    let contacts = state.store.contact_list(principal.tenant_id, CustomerId(id), params.limit()).await?;
    audit(&state, &principal, "contacts.read", Some(CustomerId(id)), String::new()).await?;
    ok(
        serde_json::json!({ "contacts": contacts.iter().map(|c| ContactJson::from(c).for_role(principal.role)).collect::<Vec<_>>() }),
    )
}

pub async fn customer_contacts_create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ContactInput>,
) -> ApiResult {
    let customer = state.store.customer_get(principal.tenant_id, CustomerId(id)).await?;
    principal.require_write()?;
    let mut input = input;
    let hearing = input.hearing.take();
    let mut contact = input.into_new(customer.id, principal.user_id, now())?;
    // The text engine reads every contact as it is recorded: its tags feed the karte and the
    // customer's kimochi signals.
    contact.tags = crate::alerts::contact_tags(&state, principal.tenant_id, &contact.text).await?;
    // Consent and do-not-call are checked on every outbound contact, whoever records it (B5).
    if contact.direction == Direction::Outbound {
        customer.profile.outbound_allowed(contact.channel)?;
    }
    // With a hearing checklist, the contact and its answers are one transaction (issue 6).
    let (contact, answers) = match hearing {
        Some(hearing) => {
            let set = match state.store.hearing_set_get(principal.tenant_id, HearingSetId(hearing.set_id)).await {
                Err(kimochi_store::StoreError::NotFound(_)) => {
                    return Err(kimochi_store::StoreError::UnknownReference { field: "hearing.set_id" }.into());
                }
                other => other?,
            };
            let capture = hearing.into_capture(&set).map_err(crate::hearing::hearing_invalid)?;
            let (contact, answers) = state
                .store
                .contact_create_with_hearing(principal.tenant_id, &contact, &capture)
                .await
                .map_err(crate::hearing::set_error)?;
            (contact, Some(answers))
        }
        None => (state.store.contact_create(principal.tenant_id, &contact).await?, None),
    };
    crate::alerts::contact_recorded(
        &state,
        principal.tenant_id,
        &contact,
        &customer.profile.name,
        &principal.display_name,
    )
    .await;
    crate::search::contact_written(&state, principal.tenant_id, &contact).await;
    let json = ContactJson::from(&contact).for_role(principal.role);
    match answers {
        Some(answers) => {
            let mut body = serde_json::to_value(json).map_err(|_| AppError::internal())?;
            body["hearing"] = serde_json::json!(
                answers.iter().map(|a| crate::hearing::HearingAnswerJson::new(a, principal.role)).collect::<Vec<_>>()
            );
            created(body)
        }
        None => created(json),
    }
}

pub async fn contact_get(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    let contact = state.store.contact_get(principal.tenant_id, ContactId(id)).await?;
    audit(&state, &principal, "contact.read", Some(contact.customer_id), String::new()).await?;
    ok(ContactJson::from(&contact).for_role(principal.role))
}

pub async fn customer_kimochi_list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult {
    state.store.customer_get(principal.tenant_id, CustomerId(id)).await?;
    let notes = state.store.kimochi_note_list(principal.tenant_id, CustomerId(id), params.limit()).await?;
    ok(
        serde_json::json!({ "kimochi": notes.iter().map(|n| KimochiJson::from(n).for_role(principal.role)).collect::<Vec<_>>() }),
    )
}

pub async fn customer_kimochi_create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<KimochiInput>,
) -> ApiResult {
    state.store.customer_get(principal.tenant_id, CustomerId(id)).await?;
    principal.require_write()?;
    let note = input.into_new(CustomerId(id), principal.user_id, now())?;
    let note = state.store.kimochi_note_create(principal.tenant_id, &note).await?;
    created(KimochiJson::from(&note).for_role(principal.role))
}

pub async fn customer_handover_list(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult {
    state.store.customer_get(principal.tenant_id, CustomerId(id)).await?;
    let notes = state.store.handover_note_list(principal.tenant_id, CustomerId(id), params.limit()).await?;
    ok(
        serde_json::json!({ "handover_notes": notes.iter().map(|n| HandoverJson::from(n).for_role(principal.role)).collect::<Vec<_>>() }),
    )
}

pub async fn customer_handover_create(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<HandoverInput>,
) -> ApiResult {
    state.store.customer_get(principal.tenant_id, CustomerId(id)).await?;
    principal.require_write()?;
    let note = NewHandoverNote {
        customer_id: CustomerId(id),
        kind: HandoverKind::parse(&input.kind)?,
        text: long_text("text", &input.text)?,
        author_id: principal.user_id,
        created_at: now(),
    };
    let note = state.store.handover_note_create(principal.tenant_id, &note).await?;
    created(HandoverJson::from(&note).for_role(principal.role))
}

pub async fn product_list(State(state): State<AppState>, principal: Principal) -> ApiResult {
    let products = state.store.product_list(principal.tenant_id).await?;
    ok(serde_json::json!({ "products": products.iter().map(ProductJson::from).collect::<Vec<_>>() }))
}

pub async fn product_create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<ProductInput>,
) -> ApiResult {
    principal.require_supervisor_or_admin()?;
    let product = state.store.product_create(principal.tenant_id, &input.into_new()?).await?;
    created(ProductJson::from(&product))
}

pub async fn product_get(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    let product = state.store.product_get(principal.tenant_id, ProductId(id)).await?;
    ok(ProductJson::from(&product))
}

pub async fn faq_list(State(state): State<AppState>, principal: Principal) -> ApiResult {
    let articles = state.store.faq_list(principal.tenant_id).await?;
    ok(serde_json::json!({ "faq": articles.iter().map(FaqJson::from).collect::<Vec<_>>() }))
}

pub async fn faq_create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<FaqInput>,
) -> ApiResult {
    principal.require_supervisor_or_admin()?;
    let faq = state.store.faq_create(principal.tenant_id, &input.into_new()?, now()).await?;
    crate::search::faq_written(&state, principal.tenant_id, &faq).await;
    created(FaqJson::from(&faq))
}

pub async fn faq_get(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    let faq = state.store.faq_get(principal.tenant_id, FaqId(id)).await?;
    ok(FaqJson::from(&faq))
}

pub async fn faq_update(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<FaqInput>,
) -> ApiResult {
    state.store.faq_get(principal.tenant_id, FaqId(id)).await?;
    principal.require_supervisor_or_admin()?;
    let faq = state.store.faq_update(principal.tenant_id, FaqId(id), &input.into_new()?, now()).await?;
    crate::search::faq_written(&state, principal.tenant_id, &faq).await;
    ok(FaqJson::from(&faq))
}

pub async fn faq_delete(State(state): State<AppState>, principal: Principal, ApiPath(id): ApiPath<i64>) -> ApiResult {
    state.store.faq_get(principal.tenant_id, FaqId(id)).await?;
    principal.require_supervisor_or_admin()?;
    state.store.faq_delete(principal.tenant_id, FaqId(id)).await?;
    crate::search::faq_deleted(&state, principal.tenant_id, FaqId(id)).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn user_list(State(state): State<AppState>, principal: Principal) -> ApiResult {
    principal.require_supervisor_or_admin()?;
    let users = state.store.user_list(principal.tenant_id).await?;
    ok(serde_json::json!({ "users": users.iter().map(UserJson::from).collect::<Vec<_>>() }))
}

pub async fn audit_list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult {
    principal.require_admin()?;
    let entries = state.store.audit_list(principal.tenant_id, params.limit()).await?;
    ok(serde_json::json!({ "audit": entries.iter().map(AuditJson::from).collect::<Vec<_>>() }))
}
