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
        let had_segment_facts = migration_applied(&writer, 14).await;
        let had_segment_row = migration_applied(&writer, 17).await;
        migrate::migrator(migrate::SQLITE).run(&writer).await?;
        backfill_stats_after_migration(&writer, applied_before).await?;
        backfill_segment_facts_after_migration(&writer, applied_before, had_segment_facts, had_segment_row).await?;
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
        up_to: i64,
        limit: u32,
    ) -> crate::Result<Vec<kimochi_domain::ScoringRow>> {
        static SQL: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();
        let (customers_sql, products_sql) = SQL.get_or_init(|| crate::scores::scoring_sql(&Self::JSON));
        let customers: Option<String> = sqlx::query_scalar(customers_sql)
            .bind(tenant.0)
            .bind(after)
            .bind(i64::from(limit))
            .bind(up_to)
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
        // The statement text of a full chunk is built once and its prepared statement reused
        // from the connection's cache; only the last, shorter chunk of a call builds its own.
        fn upsert_sql(rows: usize) -> String {
            let updates: Vec<String> = crate::scores::SCORE_COLUMNS
                .iter()
                .filter(|column| **column != "customer_id")
                .map(|column| format!("{column} = excluded.{column}"))
                .collect();
            let placeholders = format!("({})", vec!["?"; crate::scores::SCORE_COLUMNS.len() + 1].join(", "));
            format!(
                "INSERT INTO customer_scores (tenant_id, {}) VALUES {} ON CONFLICT (tenant_id, customer_id) DO UPDATE SET {}",
                crate::scores::SCORE_COLUMNS.join(", "),
                vec![placeholders; rows].join(", "),
                updates.join(", ")
            )
        }
        static FULL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        for chunk in scores.chunks(ROWS_PER_STATEMENT) {
            let partial: String;
            let sql = if chunk.len() == ROWS_PER_STATEMENT {
                FULL.get_or_init(|| upsert_sql(ROWS_PER_STATEMENT)).as_str()
            } else {
                partial = upsert_sql(chunk.len());
                partial.as_str()
            };
            let mut query = sqlx::query(sql);
            for score in chunk {
                query = query
                    .bind(tenant.0)
                    .bind(score.customer_id.0)
                    .bind(datetime::format_date(score.as_of))
                    .bind(score.stage.code())
                    .bind(score.rfm_cell.map(i64::from))
                    .bind(score.recency_days)
                    .bind(crate::scores::finite(score.p_alive))
                    .bind(crate::scores::finite(score.expected_purchases))
                    .bind(crate::scores::finite(score.expected_spend))
                    .bind(crate::scores::finite(score.clv))
                    .bind(crate::scores::finite(score.churn_probability))
                    .bind(score.churn_level.map(|level| level.code()))
                    .bind(crate::scores::reasons_json(&score.churn_reasons))
                    .bind(score.loyalty.map(|quadrant| quadrant.code()))
                    .bind(score.near_loyal.clone())
                    .bind(i64::from(score.positive_dormant))
                    .bind(score.cluster.map(i64::from))
                    .bind(score.cluster_label.clone())
                    .bind(crate::scores::alerts_json(&score.repeat_alerts))
                    .bind(datetime::to_unix(score.scored_at));
            }
            query.execute(&mut **tx).await.map_err(|e| crate::StoreError::from_write(e, "customer scores"))?;
        }
        Ok(())
    }
}

impl SqliteStore {
    /// Nothing to prepare: SQLite replaces by upserting each batch (a delete and insert of 1M
    /// rows took 2.5 times the CPU of the upsert, measured with the `sqlite3` shell) and deleting
    /// the rows between the ids it writes.
    async fn replace_scores_start(
        _tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        _tenant: kimochi_domain::TenantId,
    ) -> crate::Result<()> {
        Ok(())
    }

    /// Upserts a batch (increasing ids, all above `after`) and deletes the scores of customers
    /// with ids between them: none when the ids are consecutive, as they mostly are.
    async fn replace_score_rows(
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        tenant: kimochi_domain::TenantId,
        after: i64,
        scores: &[kimochi_domain::CustomerScore],
    ) -> crate::Result<()> {
        let mut previous = after;
        for score in scores {
            let id = score.customer_id.0;
            if previous.checked_add(1).is_some_and(|next| next < id) {
                sqlx::query(
                    "DELETE FROM customer_scores WHERE tenant_id = $1 AND customer_id > $2 AND customer_id < $3",
                )
                .bind(tenant.0)
                .bind(previous)
                .bind(id)
                .execute(&mut **tx)
                .await?;
            }
            previous = id;
        }
        Self::write_score_rows(tx, tenant, scores).await
    }

    /// Deletes the scores above the last id written.
    async fn replace_scores_finish(
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        tenant: kimochi_domain::TenantId,
        last: i64,
    ) -> crate::Result<()> {
        sqlx::query("DELETE FROM customer_scores WHERE tenant_id = $1 AND customer_id > $2")
            .bind(tenant.0)
            .bind(last)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Nothing to do: the foreign key's cascade deletes a customer's scores, and SQLite's single
    /// writer serialises the deletion with a scoring run's replacement.
    async fn lock_scores_for_customer_delete(_tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>) -> crate::Result<()> {
        Ok(())
    }
}

store_impl!(SqliteStore, sqlx::Sqlite);
