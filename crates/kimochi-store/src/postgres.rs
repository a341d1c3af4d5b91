//! The production engine: PostgreSQL. Several kimochi instances may share one database; every
//! key leads with `tenant_id` so the schema can be distributed by tenant.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::migrate;
use crate::shared::store_impl;

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    const ENGINE: &'static str = "postgres";
    const JSON: crate::karte::JsonDialect = crate::karte::POSTGRES_JSON;

    /// Connects to `url` (`postgres://…`) and migrates the database.
    pub async fn open(url: &str) -> crate::Result<PostgresStore> {
        // JIT compilation pays off for long analytical queries, not for the millisecond lookups
        // of a contact center: with it on, a karte read took 280 ms instead of about 1 ms
        // whenever the planner's estimate crossed jit_above_cost (measured on the 1M benchmark).
        let options = PgConnectOptions::from_str(url)?.options([("jit", "off")]);
        let pool = PgPoolOptions::new()
            .max_connections(32)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        let applied_before = applied_migration(&pool).await;
        let had_segment_facts = migration_applied(&pool, 14).await;
        let had_segment_row = migration_applied(&pool, 17).await;
        migrate::migrator(migrate::POSTGRES).run(&pool).await?;
        backfill_stats_after_migration(&pool, applied_before).await?;
        backfill_segment_facts_after_migration(&pool, applied_before, had_segment_facts, had_segment_row).await?;
        Ok(PostgresStore { pool })
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    /// Refreshes the planner's statistics after a bulk load.
    async fn analyze(&self) -> crate::Result<()> {
        sqlx::query("ANALYZE").execute(&self.pool).await?;
        Ok(())
    }

    /// First of `count` fresh ids in `table`, for bulk loads that write ids themselves. The
    /// EXCLUSIVE lock keeps concurrent inserts (which take ids from the same identity sequence)
    /// out until the transaction ends, so the block cannot be handed out twice.
    async fn reserve_ids(
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        table: &'static str,
        count: i64,
    ) -> crate::Result<i64> {
        sqlx::query(&format!("LOCK TABLE {table} IN EXCLUSIVE MODE")).execute(&mut **tx).await?;
        let first: i64 = sqlx::query_scalar(&format!("SELECT nextval(pg_get_serial_sequence('{table}', 'id'))"))
            .fetch_one(&mut **tx)
            .await?;
        sqlx::query(&format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), $1)"))
            .bind(first + count - 1)
            .execute(&mut **tx)
            .await?;
        Ok(first)
    }
}

impl PostgresStore {
    /// A page of scoring rows through `COPY (…) TO STDOUT` in the text format: the server
    /// streams plain rows, where building a JSON document per page had been most of its work.
    async fn scoring_page(
        &self,
        tenant: kimochi_domain::TenantId,
        after: i64,
        up_to: i64,
        limit: u32,
    ) -> crate::Result<Vec<kimochi_domain::ScoringRow>> {
        let (customers_sql, products_sql) = crate::scores::scoring_copy_sql(tenant, after, up_to, limit);
        let mut connection = self.reader().acquire().await?;
        let data = copy_out(&mut connection, &customers_sql).await?;
        let mut rows = crate::scores::parse_scoring_copy(&data)?;
        if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
            let sql = products_sql
                .replace("{first}", &first.customer_id.0.to_string())
                .replace("{last}", &last.customer_id.0.to_string());
            let data = copy_out(&mut connection, &sql).await?;
            crate::scores::attach_products_copy(&mut rows, &data)?;
        }
        Ok(rows)
    }

    /// Upserts scores through COPY: the rows stream into a temporary table in PostgreSQL's text
    /// format (no parameter binding, no JSON to unpack), then one statement merges them, only
    /// rows of the tenant's customers (the table has no foreign key: see migration 0015).
    async fn write_score_rows(
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        tenant: kimochi_domain::TenantId,
        scores: &[kimochi_domain::CustomerScore],
    ) -> crate::Result<()> {
        static MERGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let merge = MERGE.get_or_init(|| {
            let columns = crate::scores::SCORE_COLUMNS.join(", ");
            let updates: Vec<String> = crate::scores::SCORE_COLUMNS
                .iter()
                .filter(|column| **column != "customer_id")
                .map(|column| format!("{column} = excluded.{column}"))
                .collect();
            let staged: Vec<String> = crate::scores::SCORE_COLUMNS.iter().map(|column| format!("s.{column}")).collect();
            format!(
                "INSERT INTO customer_scores (tenant_id, {columns}) SELECT s.tenant_id, {} FROM score_staging s
                 JOIN customers c ON c.tenant_id = s.tenant_id AND c.id = s.customer_id
                 ON CONFLICT (tenant_id, customer_id) DO UPDATE SET {}",
                staged.join(", "),
                updates.join(", ")
            )
        });
        sqlx::query(
            "CREATE TEMPORARY TABLE IF NOT EXISTS score_staging
             (LIKE customer_scores INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
        )
        .execute(&mut **tx)
        .await?;
        copy_scores(tx, "score_staging", tenant, scores).await?;
        let merged = sqlx::query(merge)
            .execute(&mut **tx)
            .await
            .map_err(|e| crate::StoreError::from_write(e, "customer scores"))?;
        if merged.rows_affected() < scores.len() as u64 {
            // What the foreign key said before migration 0015.
            return Err(crate::StoreError::UnknownReference { field: "customer_id" });
        }
        Ok(())
    }

    /// Deletes the tenant's scores; the batches are then copied straight into the table. Both
    /// inside the one transaction, so readers keep seeing the old rows until it commits. This
    /// replaced an upsert of every row from a staging table (12–15 s server time for 1M rows
    /// against about half of that, measured on this machine, BENCHMARKS.md).
    async fn replace_scores_start(
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        tenant: kimochi_domain::TenantId,
    ) -> crate::Result<()> {
        sqlx::query("DELETE FROM customer_scores WHERE tenant_id = $1").bind(tenant.0).execute(&mut **tx).await?;
        Ok(())
    }

    async fn replace_score_rows(
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        tenant: kimochi_domain::TenantId,
        _after: i64,
        scores: &[kimochi_domain::CustomerScore],
    ) -> crate::Result<()> {
        copy_scores(tx, "customer_scores", tenant, scores).await
    }

    /// Drops the scores of ids that are not the tenant's customers (deleted while the run scored
    /// them, or never theirs): one anti-join instead of the per-row check of a foreign key.
    /// A customer deletion that commits after this statement waits for the replacement first
    /// (see `lock_scores_for_customer_delete`) and then deletes the new row itself.
    async fn replace_scores_finish(
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        tenant: kimochi_domain::TenantId,
        _last: i64,
    ) -> crate::Result<()> {
        sqlx::query(
            "DELETE FROM customer_scores s WHERE s.tenant_id = $1
             AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.tenant_id = s.tenant_id AND c.id = s.customer_id)",
        )
        .bind(tenant.0)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// A customer deletion waits for a running score replacement to commit (SHARE conflicts with
    /// the replacement's ROW EXCLUSIVE), so the scores it deletes include the new ones: without a
    /// foreign key nothing else would remove them.
    async fn lock_scores_for_customer_delete(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> crate::Result<()> {
        sqlx::query("LOCK TABLE customer_scores IN SHARE MODE").execute(&mut **tx).await?;
        Ok(())
    }
}

/// Streams scores into `table` with `COPY … FROM STDIN` in the text format (no parameter
/// binding, no JSON to unpack).
async fn copy_scores(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    table: &str,
    tenant: kimochi_domain::TenantId,
    scores: &[kimochi_domain::CustomerScore],
) -> crate::Result<()> {
    let columns = crate::scores::SCORE_COLUMNS.join(", ");
    let mut copy = tx.copy_in_raw(&format!("COPY {table} (tenant_id, {columns}) FROM STDIN")).await?;
    let mut buffer = String::with_capacity(1 << 20);
    for chunk in scores.chunks(4_096) {
        buffer.clear();
        for score in chunk {
            crate::scores::copy_text_row(&mut buffer, tenant, score);
        }
        if let Err(error) = copy.send(buffer.as_bytes()).await {
            // The COPY must be ended before the transaction can be used (or dropped) again.
            let _ = copy.abort("kimochi could not send the scores").await;
            return Err(error.into());
        }
    }
    copy.finish().await.map_err(|e| crate::StoreError::from_write(e, "customer scores"))?;
    Ok(())
}

/// The whole output of a `COPY … TO STDOUT`.
async fn copy_out(connection: &mut sqlx::PgConnection, sql: &str) -> crate::Result<Vec<u8>> {
    use futures_util::StreamExt as _;
    let mut stream = connection.copy_out_raw(sql).await?;
    let mut data = Vec::new();
    while let Some(chunk) = stream.next().await {
        data.extend_from_slice(&chunk?);
    }
    Ok(data)
}

store_impl!(PostgresStore, sqlx::Postgres);
