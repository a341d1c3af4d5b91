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
        migrate::migrator(migrate::POSTGRES).run(&pool).await?;
        backfill_stats_after_migration(&pool, applied_before).await?;
        backfill_segment_facts_after_migration(&pool, applied_before).await?;
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
        limit: u32,
    ) -> crate::Result<Vec<kimochi_domain::ScoringRow>> {
        let (customers_sql, products_sql) = crate::scores::scoring_copy_sql(tenant, after, limit);
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
    /// format (no parameter binding, no JSON to unpack), then one statement merges them. An
    /// update that keeps the key skips the foreign-key check a fresh insert would pay per row.
    async fn write_score_rows(
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        tenant: kimochi_domain::TenantId,
        scores: &[kimochi_domain::CustomerScore],
    ) -> crate::Result<()> {
        static MERGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let columns = crate::scores::SCORE_COLUMNS.join(", ");
        let merge = MERGE.get_or_init(|| {
            let updates: Vec<String> = crate::scores::SCORE_COLUMNS
                .iter()
                .filter(|column| **column != "customer_id")
                .map(|column| format!("{column} = excluded.{column}"))
                .collect();
            format!(
                "INSERT INTO customer_scores (tenant_id, {columns}) SELECT tenant_id, {columns} FROM score_staging
                 ON CONFLICT (tenant_id, customer_id) DO UPDATE SET {}",
                updates.join(", ")
            )
        });
        sqlx::query(
            "CREATE TEMPORARY TABLE IF NOT EXISTS score_staging
             (LIKE customer_scores INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
        )
        .execute(&mut **tx)
        .await?;
        let mut copy = tx.copy_in_raw(&format!("COPY score_staging (tenant_id, {columns}) FROM STDIN")).await?;
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
        copy.finish().await?;
        sqlx::query(merge).execute(&mut **tx).await.map_err(|e| crate::StoreError::from_write(e, "customer scores"))?;
        Ok(())
    }
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
