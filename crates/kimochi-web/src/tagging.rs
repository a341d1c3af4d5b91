//! The text engine as the web edge uses it: one process-wide tagger that reads every contact
//! recorded through the API or the pages, each tenant's own lexicon on top of the built-in ones
//! (`LexiconCache`), and `GET/PUT /api/v1/lexicon`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use kimochi_domain::{Role, TenantId, ValidationError};
use kimochi_store::Store;
use kimochi_text::{Analyzer, ContactTagger, Lexicon};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Principal;
use crate::error::AppError;
use crate::extract::ApiJson;

/// The shared tagger; the first call indexes the dictionary (a fraction of a second), so
/// `listen` calls it once before accepting requests.
pub fn tagger() -> Result<&'static ContactTagger, AppError> {
    ContactTagger::shared().map_err(|error| {
        tracing::error!(%error, "the text engine could not start");
        AppError::internal()
    })
}

/// Largest tenant lexicon accepted, in bytes (thousands of phrases).
pub const MAX_LEXICON_BYTES: usize = 200_000;

/// How long a tenant's analyzer is trusted without asking the database again (another instance
/// may have changed the lexicon); changes through this process rebuild it at once.
const LEXICON_CACHE_SECONDS: i64 = 60;

/// Each tenant's analyzer: the built-in lexicons plus the tenant's own (`/api/v1/lexicon`). A
/// tenant without one shares the process-wide analyzer.
#[derive(Default)]
pub struct LexiconCache {
    entries: std::sync::Mutex<LexiconEntries>,
}

impl std::fmt::Debug for LexiconCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LexiconCache").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct LexiconEntries {
    analyzers: std::collections::HashMap<TenantId, (Option<Arc<Analyzer<'static>>>, time::OffsetDateTime)>,
    /// Bumped by every change: an analyzer built before a change is not cached after it.
    generations: std::collections::HashMap<TenantId, u64>,
}

/// The analyzer a tenant's texts are read with.
#[derive(Clone)]
pub enum TenantAnalyzer {
    Builtin(&'static Analyzer<'static>),
    Own(Arc<Analyzer<'static>>),
}

impl std::ops::Deref for TenantAnalyzer {
    type Target = Analyzer<'static>;
    fn deref(&self) -> &Analyzer<'static> {
        match self {
            TenantAnalyzer::Builtin(analyzer) => analyzer,
            TenantAnalyzer::Own(analyzer) => analyzer,
        }
    }
}

impl LexiconCache {
    /// The tenant's analyzer, built on first use and after a change of its lexicon.
    pub async fn analyzer(&self, store: &dyn Store, tenant: TenantId) -> Result<TenantAnalyzer, AppError> {
        let builtin = tagger()?.analyzer();
        let now = crate::now();
        let generation = {
            let entries = self.lock();
            if let Some((own, loaded_at)) = entries.analyzers.get(&tenant)
                && now - *loaded_at < time::Duration::seconds(LEXICON_CACHE_SECONDS)
            {
                return Ok(own.clone().map_or(TenantAnalyzer::Builtin(builtin), TenantAnalyzer::Own));
            }
            entries.generations.get(&tenant).copied().unwrap_or(0)
        };
        let own = match store.tenant_lexicon(tenant).await? {
            Some(source) if !source.trim().is_empty() => {
                let analyzer = tokio::task::spawn_blocking(move || Analyzer::with_tenant_lexicon("lexicon", &source))
                    .await
                    .map_err(|_| AppError::internal())?
                    .map_err(|error| {
                        // It was checked before it was stored: only a newer built-in lexicon can refuse it.
                        tracing::error!(%error, tenant = tenant.0, "the tenant's lexicon no longer parses; using the built-in one");
                        error
                    })
                    .ok();
                analyzer.map(Arc::new)
            }
            _ => None,
        };
        let mut entries = self.lock();
        if entries.generations.get(&tenant).copied().unwrap_or(0) == generation {
            entries.analyzers.insert(tenant, (own.clone(), now));
        }
        Ok(own.map_or(TenantAnalyzer::Builtin(builtin), TenantAnalyzer::Own))
    }

    /// Forgets a tenant's analyzer after its lexicon changed.
    pub fn invalidate(&self, tenant: TenantId) {
        let mut entries = self.lock();
        entries.analyzers.remove(&tenant);
        *entries.generations.entry(tenant).or_insert(0) += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LexiconEntries> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `PUT /api/v1/lexicon` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LexiconInput {
    pub lexicon: String,
}

/// `GET /api/v1/lexicon`: the tenant's own lexicon (empty when it has none), for admins.
pub async fn lexicon_get(State(state): State<AppState>, principal: Principal) -> Result<Response, AppError> {
    if principal.role != Role::Admin {
        return Err(AppError::forbidden());
    }
    let source = state.store.tenant_lexicon(principal.tenant_id).await?.unwrap_or_default();
    Ok(Json(serde_json::json!({ "lexicon": source })).into_response())
}

/// `PUT /api/v1/lexicon`: replaces the tenant's own lexicon — lines of `phrase<TAB>tag[<TAB>weight]`
/// like the built-in ones — after checking every line; contacts recorded from now on are read with
/// it. A bad line is answered 422 naming the line, and nothing changes.
pub async fn lexicon_put(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(input): ApiJson<LexiconInput>,
) -> Result<Response, AppError> {
    if principal.role != Role::Admin {
        return Err(AppError::forbidden());
    }
    if input.lexicon.len() > MAX_LEXICON_BYTES {
        let size = input.lexicon.len().to_string();
        return Err(AppError::invalid(ValidationError::new("lexicon", &size, "is larger than 200,000 bytes")));
    }
    if let Err(error) = Lexicon::parse("lexicon", &input.lexicon) {
        // The parser names the line (`lexicon lexicon line 3: unknown tag …`): say it in both
        // languages, not only which field was wrong.
        let mut refused = AppError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "lexicon.invalid",
            format!("キモチ辞書に誤りがあります: {error}"),
            format!("the lexicon has an error: {error}"),
        );
        refused.field = Some("lexicon".into());
        return Err(refused);
    }
    state.store.tenant_lexicon_set(principal.tenant_id, &input.lexicon, crate::now()).await?;
    state.alerts.lexicons.invalidate(principal.tenant_id);
    Ok(Json(serde_json::json!({ "lexicon": input.lexicon })).into_response())
}
