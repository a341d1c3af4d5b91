//! Keeping the index in step with the store: a full rebuild of a tenant, and the catch-up that
//! indexes contacts added since the last indexed one (imports and the demo write to the store
//! only; a running server picks their contacts up here). Tokenising is CPU work, so it runs on
//! Tokio's blocking threads.

use std::sync::Arc;

use kimochi_domain::{Contact, TenantId};
use kimochi_store::{Page, Store};

use crate::{Result, SearchError, SearchIndex};

/// Contacts read from the store per page.
const PAGE_SIZE: u32 = 5_000;

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|error| SearchError::Task(error.to_string()))?
}

/// What a rebuild or catch-up indexed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Indexed {
    pub faq: usize,
    /// Contacts read (those without text are read but not indexed).
    pub contacts: usize,
}

/// Puts every FAQ article of a tenant again (they are few), dropping deleted ones.
pub async fn refresh_faq(store: &dyn Store, index: &Arc<SearchIndex>, tenant: TenantId) -> Result<usize> {
    let articles = store.faq_list(tenant).await?;
    let count = articles.len();
    let index = index.clone();
    blocking(move || {
        index.delete_tenant_faq(tenant)?;
        for faq in &articles {
            index.put_faq(tenant, faq)?;
        }
        index.commit()
    })
    .await?;
    Ok(count)
}

async fn put_contacts(index: &Arc<SearchIndex>, tenant: TenantId, contacts: Vec<Contact>) -> Result<()> {
    let index = index.clone();
    blocking(move || index.put_contacts(tenant, &contacts)).await
}

/// Indexes a tenant's contacts with an id above the highest indexed one; commits every
/// `PAGE_SIZE` contacts, so an interrupted catch-up resumes where it stopped.
/// `progress` is called with the contacts read so far.
pub async fn catch_up_contacts(
    store: &dyn Store,
    index: &Arc<SearchIndex>,
    tenant: TenantId,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<usize> {
    let mut after_id = {
        let index = index.clone();
        blocking(move || index.contacts_resume_after(tenant)).await?
    };
    let mut read = 0;
    loop {
        let contacts = store.contact_page(tenant, Page { after_id, limit: PAGE_SIZE }).await?;
        let Some(last) = contacts.last() else { break };
        after_id = last.id.0;
        read += contacts.len();
        let full_page = contacts.len() == PAGE_SIZE as usize;
        put_contacts(index, tenant, contacts).await?;
        let committing = index.clone();
        blocking(move || committing.commit()).await?;
        index.contacts_read_up_to(tenant, kimochi_domain::ContactId(after_id));
        progress(read);
        if !full_page {
            break;
        }
    }
    Ok(read)
}

/// Rebuilds a tenant's part of the index from the store.
pub async fn reindex_tenant(
    store: &dyn Store,
    index: &Arc<SearchIndex>,
    tenant: TenantId,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<Indexed> {
    {
        let index = index.clone();
        blocking(move || {
            index.delete_tenant(tenant)?;
            index.commit()
        })
        .await?;
    }
    let faq = refresh_faq(store, index, tenant).await?;
    let contacts = catch_up_contacts(store, index, tenant, progress).await?;
    Ok(Indexed { faq, contacts })
}

/// The catch-up for every tenant: FAQ refreshed when `with_faq` (at start, in case the index
/// missed an edit while the server was down), new contacts indexed.
pub async fn catch_up_all(store: &dyn Store, index: &Arc<SearchIndex>, with_faq: bool) -> Result<Indexed> {
    let mut total = Indexed::default();
    for tenant in store.tenant_list().await? {
        if with_faq {
            total.faq += refresh_faq(store, index, tenant.id).await?;
        }
        total.contacts += catch_up_contacts(store, index, tenant.id, &mut |_| {}).await?;
    }
    Ok(total)
}
