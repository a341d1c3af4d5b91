//! The embedded engine: SQLite in WAL mode, one writer connection (SQLite allows one writer at a
//! time; a pool of one serialises writes without `SQLITE_BUSY` retries) and a pool of read-only
//! readers that run in parallel with it.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::migrate;
use crate::shared::store_impl;

#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    const ENGINE: &'static str = "sqlite";
    const JSON: crate::karte::JsonDialect = crate::karte::SQLITE_JSON;

    /// Opens (creating if missing) the database at `url` (`sqlite://path/file.db`) and migrates it.
    pub async fn open(url: &str) -> crate::Result<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable in WAL mode except for the last transactions on power loss, the
            // usual trade for an embedded server; PostgreSQL is the choice when that matters.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        if let Some(parent) = options.get_filename().parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .map_err(|e| crate::StoreError::Config(format!("creating {}: {e}", parent.display())))?;
        }
        let in_memory = url.contains(":memory:");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone().pragma("cache_size", "-262144"))
            .await?;
        let applied_before = applied_migration(&writer).await;
        migrate::migrator(migrate::SQLITE).run(&writer).await?;
        backfill_stats_after_migration(&writer, applied_before).await?;
        let reader = if in_memory {
            // Every connection to `:memory:` is its own database: share the writer.
            writer.clone()
        } else {
            // Two readers per core: measured best for the karte benchmark (BENCHMARKS.md); each
            // sqlx SQLite connection is a thread, and more of them only add context switches.
            let readers = std::thread::available_parallelism().map_or(4, |n| n.get() * 2) as u32;
            SqlitePoolOptions::new()
                .max_connections(readers)
                .min_connections(1)
                // No mmap: with random karte reads over a multi-gigabyte file, page faults and TLB
                // shootdowns cost more than copying pages into SQLite's own cache (measured).
                .connect_with(options.read_only(true).pragma("cache_size", "-65536"))
                .await?
        };
        Ok(SqliteStore { writer, reader })
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// Refreshes the planner's statistics after a bulk load; `analysis_limit` samples each
    /// index instead of reading it whole, so this takes seconds on gigabytes.
    async fn analyze(&self) -> crate::Result<()> {
        let mut connection = self.writer.acquire().await?;
        sqlx::query("PRAGMA analysis_limit = 1000").execute(&mut *connection).await?;
        sqlx::query("ANALYZE").execute(&mut *connection).await?;
        Ok(())
    }

    /// First of a block of fresh ids in `table`, for bulk loads that write ids themselves. Safe
    /// without reserving anything because the single writer connection holds the transaction
    /// until the block is written, so the block's size does not matter here.
    async fn reserve_ids(
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        table: &'static str,
        _count: i64,
    ) -> crate::Result<i64> {
        let sql = format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}");
        let next: i64 = sqlx::query_scalar(&sql).fetch_one(&mut **tx).await?;
        Ok(next)
    }
}

store_impl!(SqliteStore, sqlx::Sqlite);
