//! The production engine: PostgreSQL. Several kimochi instances may share one database; every
//! key leads with `tenant_id` so the schema can be distributed by tenant.

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};

use crate::migrate;
use crate::shared::store_impl;

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    const ENGINE: &'static str = "postgres";

    /// Connects to `url` (`postgres://…`) and migrates the database.
    pub async fn open(url: &str) -> crate::Result<PostgresStore> {
        let pool =
            PgPoolOptions::new().max_connections(32).acquire_timeout(Duration::from_secs(30)).connect(url).await?;
        migrate::migrator(migrate::POSTGRES).run(&pool).await?;
        Ok(PostgresStore { pool })
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    fn reader(&self) -> &PgPool {
        &self.pool
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
