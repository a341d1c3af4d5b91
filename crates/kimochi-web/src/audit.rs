//! The audit log's write path (B5): every read of personal data is recorded before it is
//! answered. Concurrent requests are grouped into one transaction (group commit): each request
//! waits for the commit that holds its row, so nothing is served unaudited, yet a busy center
//! pays one commit per batch instead of one per read — SQLite has a single writer.

use std::sync::Arc;

use kimochi_domain::{AuditEntry, TenantId};
use kimochi_store::Store;
use tokio::sync::{mpsc, oneshot};

use crate::error::AppError;

/// Most rows in one commit.
const MAX_BATCH: usize = 1024;

struct Pending {
    tenant: TenantId,
    entry: AuditEntry,
    committed: oneshot::Sender<bool>,
}

/// A handle to the task that writes audit rows.
#[derive(Debug, Clone)]
pub struct AuditWriter {
    sender: mpsc::Sender<Pending>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending").field("tenant", &self.tenant).field("action", &self.entry.action).finish()
    }
}

impl AuditWriter {
    /// Starts the writer task on the current Tokio runtime.
    pub fn spawn(store: Arc<dyn Store>) -> AuditWriter {
        let (sender, mut receiver) = mpsc::channel::<Pending>(MAX_BATCH * 4);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            // Whatever queued up while the previous commit ran becomes the next batch.
            while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let entries: Vec<(TenantId, AuditEntry)> = batch.iter().map(|p| (p.tenant, p.entry.clone())).collect();
                let committed = match store.audit_append_batch(&entries).await {
                    Ok(()) => true,
                    Err(error) => {
                        tracing::error!(%error, rows = entries.len(), "audit log write failed; the reads are refused");
                        false
                    }
                };
                for pending in batch.drain(..) {
                    let _ = pending.committed.send(committed);
                }
            }
        });
        AuditWriter { sender }
    }

    /// Records one entry and returns once it is committed.
    pub async fn record(&self, tenant: TenantId, entry: AuditEntry) -> Result<(), AppError> {
        let (committed, wait) = oneshot::channel();
        self.sender.send(Pending { tenant, entry, committed }).await.map_err(|_| AppError::internal())?;
        match wait.await {
            Ok(true) => Ok(()),
            _ => Err(AppError::internal()),
        }
    }
}
