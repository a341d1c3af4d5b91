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
        backfill_segment_facts_after_migration(&writer, applied_before).await?;
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

impl SqliteStore {
    /// A page of scoring rows as one JSON document per query (customers, then their products)
    /// rather than row by row: with a million customers the driver's per-row cost (a hop between
    /// threads for each row), not the database, dominated the run (see crate::scores).
    async fn scoring_page(
        &self,
        tenant: kimochi_domain::TenantId,
        after: i64,
        limit: u32,
    ) -> crate::Result<Vec<kimochi_domain::ScoringRow>> {
        static SQL: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
        let (customers_sql, products_sql) = SQL.get_or_init(|| crate::scores::scoring_sql(&Self::JSON));
        let customers: Option<String> = sqlx::query_scalar(customers_sql)
            .bind(tenant.0)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_one(self.reader())
            .await?;
        let mut scoring = crate::scores::parse_scoring_rows(customers.as_deref().unwrap_or("[]"))?;
        if let (Some(first), Some(last)) = (scoring.first(), scoring.last()) {
            let products: Option<String> = sqlx::query_scalar(products_sql)
                .bind(tenant.0)
                .bind(first.customer_id.0)
                .bind(last.customer_id.0)
                .fetch_one(self.reader())
                .await?;
            crate::scores::attach_products(&mut scoring, products.as_deref().unwrap_or("[]"))?;
        }
        Ok(scoring)
    }

    /// Upserts scores with multi-row statements: one round trip per 500 customers instead of one
    /// each (500 × 20 parameters stays below SQLite's limit of 32,766). A JSON document, as on
    /// PostgreSQL, was slower here: SQLite re-parses an element for every field it extracts
    /// (measured).
    async fn write_score_rows(
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        tenant: kimochi_domain::TenantId,
        scores: &[kimochi_domain::CustomerScore],
    ) -> crate::Result<()> {
        use kimochi_domain::datetime;
        const ROWS_PER_STATEMENT: usize = 500;
        static UPSERT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let upsert = UPSERT.get_or_init(|| {
            let updates: Vec<String> = crate::scores::SCORE_COLUMNS
                .iter()
                .filter(|column| **column != "customer_id")
                .map(|column| format!("{column} = excluded.{column}"))
                .collect();
            format!(" ON CONFLICT (tenant_id, customer_id) DO UPDATE SET {}", updates.join(", "))
        });
        let columns = crate::scores::SCORE_COLUMNS.join(", ");
        for chunk in scores.chunks(ROWS_PER_STATEMENT) {
            let mut query: sqlx::QueryBuilder<'_, sqlx::Sqlite> =
                sqlx::QueryBuilder::new(format!("INSERT INTO customer_scores (tenant_id, {columns}) "));
            query.push_values(chunk, |mut row, score| {
                row.push_bind(tenant.0)
                    .push_bind(score.customer_id.0)
                    .push_bind(datetime::format_date(score.as_of))
                    .push_bind(score.stage.code())
                    .push_bind(score.rfm_cell.map(i64::from))
                    .push_bind(score.recency_days)
                    .push_bind(crate::scores::finite(score.p_alive))
                    .push_bind(crate::scores::finite(score.expected_purchases))
                    .push_bind(crate::scores::finite(score.expected_spend))
                    .push_bind(crate::scores::finite(score.clv))
                    .push_bind(crate::scores::finite(score.churn_probability))
                    .push_bind(score.churn_level.map(|level| level.code()))
                    .push_bind(crate::scores::reasons_json(&score.churn_reasons))
                    .push_bind(score.loyalty.map(|quadrant| quadrant.code()))
                    .push_bind(score.near_loyal.clone())
                    .push_bind(i64::from(score.positive_dormant))
                    .push_bind(score.cluster.map(i64::from))
                    .push_bind(score.cluster_label.clone())
                    .push_bind(crate::scores::alerts_json(&score.repeat_alerts))
                    .push_bind(datetime::to_unix(score.scored_at));
            });
            query.push(upsert.as_str());
            query.build().execute(&mut **tx).await.map_err(|e| crate::StoreError::from_write(e, "customer scores"))?;
        }
        Ok(())
    }
}

store_impl!(SqliteStore, sqlx::Sqlite);
