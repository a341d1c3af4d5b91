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

store_impl!(PostgresStore, sqlx::Postgres);
