//! Administration (issue 5, migration 0008): users with their active flag, role and team
//! changes, deactivation, and each tenant's stage thresholds. Written once for both engines
//! like `alerts.rs`: `admin_sql!` expands to free functions inside each engine's module, and the
//! `Store` methods in `store_impl!` call them.
//!
//! A deactivated user keeps their row (the audit log and the contacts they logged point at it)
//! but can no longer log in, and their sessions are deleted in the transaction that deactivates
//! them.

use kimochi_domain::{Role, TeamId, User};

/// A user as the administration pages list them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAccount {
    pub user: User,
    pub active: bool,
}

/// What an administrator may change of a user: role, team, and whether they may log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserChange {
    pub role: Role,
    pub team_id: Option<TeamId>,
    pub active: bool,
}

macro_rules! admin_sql {
    ($db:ty) => {
        const ACCOUNT_COLUMNS: &str = "id, tenant_id, login, display_name, role, team_id, deactivated_at";

        fn account_from_row(row: &DbRow) -> Result<UserAccount> {
            Ok(UserAccount {
                user: user_from_row(row)?,
                active: row.try_get::<Option<i64>, _>("deactivated_at")?.is_none(),
            })
        }

        async fn sql_user_accounts(pool: &sqlx::Pool<$db>, tenant: TenantId) -> Result<Vec<UserAccount>> {
            let rows = sqlx::query(&format!("SELECT {ACCOUNT_COLUMNS} FROM users WHERE tenant_id = $1 ORDER BY login"))
                .bind(tenant.0)
                .fetch_all(pool)
                .await?;
            rows.iter().map(account_from_row).collect()
        }

        async fn sql_user_update(
            pool: &sqlx::Pool<$db>,
            tenant: TenantId,
            id: UserId,
            change: &UserChange,
            now: OffsetDateTime,
        ) -> Result<UserAccount> {
            let mut tx = pool.begin().await?;
            if let Some(team) = change.team_id {
                reference_exists(&mut tx, "teams", "team_id", tenant, team.0).await?;
            }
            // A user deactivated earlier keeps the time they were first deactivated.
            let row = sqlx::query(&format!(
                "UPDATE users SET role = $3, team_id = $4,
                   deactivated_at = CASE WHEN $5 THEN NULL ELSE COALESCE(deactivated_at, $6) END
                 WHERE tenant_id = $1 AND id = $2 RETURNING {ACCOUNT_COLUMNS}"
            ))
            .bind(tenant.0)
            .bind(id.0)
            .bind(change.role.code())
            .bind(change.team_id.map(|t| t.0))
            .bind(change.active)
            .bind(unix(now))
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| StoreError::from_write(e, "user"))?;
            let account = account_from_row(&row.ok_or(StoreError::NotFound("user"))?)?;
            if !account.active {
                sqlx::query("DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2")
                    .bind(tenant.0)
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(account)
        }

        async fn sql_stage_thresholds(pool: &sqlx::Pool<$db>, tenant: TenantId) -> Result<StageThresholds> {
            let row = sqlx::query(
                "SELECT dormant_after_days, subscription_active_days, repeater_min_main_orders
                 FROM tenant_stage_settings WHERE tenant_id = $1",
            )
            .bind(tenant.0)
            .fetch_optional(pool)
            .await?;
            let Some(row) = row else { return Ok(StageThresholds::default()) };
            let number = |column: &str| -> Result<u32> {
                let value: i64 = row.try_get(column)?;
                u32::try_from(value).or_else(|_| corrupt(column, &value.to_string()))
            };
            Ok(StageThresholds {
                dormant_after_days: number("dormant_after_days")?,
                subscription_active_days: number("subscription_active_days")?,
                repeater_min_main_orders: number("repeater_min_main_orders")?,
            })
        }

        async fn sql_stage_thresholds_set(
            pool: &sqlx::Pool<$db>,
            tenant: TenantId,
            thresholds: &StageThresholds,
            now: OffsetDateTime,
        ) -> Result<()> {
            thresholds.validate().map_err(StoreError::Invalid)?;
            sqlx::query(
                "INSERT INTO tenant_stage_settings
                   (tenant_id, dormant_after_days, subscription_active_days, repeater_min_main_orders, updated_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (tenant_id) DO UPDATE SET dormant_after_days = excluded.dormant_after_days,
                   subscription_active_days = excluded.subscription_active_days,
                   repeater_min_main_orders = excluded.repeater_min_main_orders, updated_at = excluded.updated_at",
            )
            .bind(tenant.0)
            .bind(i64::from(thresholds.dormant_after_days))
            .bind(i64::from(thresholds.subscription_active_days))
            .bind(i64::from(thresholds.repeater_min_main_orders))
            .bind(unix(now))
            .execute(pool)
            .await
            .map_err(|e| StoreError::from_write(e, "stage thresholds"))?;
            Ok(())
        }

        async fn sql_tenant_lexicon(pool: &sqlx::Pool<$db>, tenant: TenantId) -> Result<Option<String>> {
            Ok(sqlx::query_scalar("SELECT source FROM tenant_lexicons WHERE tenant_id = $1")
                .bind(tenant.0)
                .fetch_optional(pool)
                .await?)
        }

        async fn sql_tenant_lexicon_set(
            pool: &sqlx::Pool<$db>,
            tenant: TenantId,
            source: &str,
            now: OffsetDateTime,
        ) -> Result<()> {
            sqlx::query(
                "INSERT INTO tenant_lexicons (tenant_id, source, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (tenant_id) DO UPDATE SET source = excluded.source, updated_at = excluded.updated_at",
            )
            .bind(tenant.0)
            .bind(source)
            .bind(unix(now))
            .execute(pool)
            .await
            .map_err(|e| StoreError::from_write(e, "tenant lexicon"))?;
            Ok(())
        }
    };
}
pub(crate) use admin_sql;
