//! Crisis words, alerts, webhooks and the supervisor board's counts (migration 0003), written
//! once for both engines like `shared.rs`: `alert_sql!` expands to free functions inside each
//! engine's module, and the `Store` methods in `store_impl!` call them.
//!
//! An alert is inserted by `insert_contact_alert` inside the transaction that inserts its
//! contact, with one outbox row per webhook of the tenant, so neither can be lost or doubled:
//! the contact and its alert commit together or not at all, and `UNIQUE (tenant_id, contact_id)`
//! refuses a second alert for a contact.

use kimochi_domain::{CrisisMatch, CrisisSeverity};

use crate::shared::corrupt;
use crate::{Result, StoreError};

pub(crate) const ALERT_COLUMNS: &str = "a.id, a.contact_id, a.customer_id, a.severity, a.matches, a.created_at, \
     a.acknowledged_by, a.acknowledged_at, c.name AS customer_name, k.channel AS contact_channel, k.text AS contact_text";

/// `alerts a` with the customer and contact the alert shows.
pub(crate) const ALERT_FROM: &str = "alerts a JOIN customers c ON c.tenant_id = a.tenant_id AND c.id = a.customer_id \
     JOIN contacts k ON k.tenant_id = a.tenant_id AND k.id = a.contact_id";

/// Most alerts one list returns.
pub const MAX_ALERTS: u32 = 500;

/// Stored form of the matches: `[{"phrase","severity","start","end"}]`.
pub(crate) fn matches_json(matches: &[CrisisMatch]) -> String {
    let items: Vec<serde_json::Value> = matches
        .iter()
        .map(|m| {
            serde_json::json!({ "phrase": m.phrase, "severity": m.severity.code(), "start": m.start, "end": m.end })
        })
        .collect();
    serde_json::Value::Array(items).to_string()
}

pub(crate) fn parse_matches(text: &str) -> Result<Vec<CrisisMatch>> {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(text) else {
        return corrupt("alert matches", text);
    };
    items
        .iter()
        .map(|item| {
            let phrase = item["phrase"].as_str();
            let severity = item["severity"].as_str().and_then(CrisisSeverity::from_code);
            let start = item["start"].as_u64().and_then(|n| u32::try_from(n).ok());
            let end = item["end"].as_u64().and_then(|n| u32::try_from(n).ok());
            match (phrase, severity, start, end) {
                (Some(phrase), Some(severity), Some(start), Some(end)) => {
                    Ok(CrisisMatch { phrase: phrase.to_owned(), severity, start, end })
                }
                _ => corrupt("alert match", &item.to_string()),
            }
        })
        .collect()
}

pub(crate) fn severity(code: &str) -> Result<CrisisSeverity> {
    CrisisSeverity::from_code(code).ok_or_else(|| StoreError::Corrupt(format!("severity {code:?}")))
}

macro_rules! alert_sql {
    ($db:ty) => {
        use crate::alerts::{ALERT_COLUMNS, ALERT_FROM, matches_json, parse_matches};

        fn alert_from_row(row: &DbRow) -> Result<Alert> {
            let severity: String = row.try_get("severity")?;
            let matches: String = row.try_get("matches")?;
            let channel: String = row.try_get("contact_channel")?;
            Ok(Alert {
                customer_name: row.try_get("customer_name")?,
                channel: vocab("channel", &channel, Channel::from_code)?,
                text: row.try_get("contact_text")?,
                id: AlertId(row.try_get("id")?),
                contact_id: ContactId(row.try_get("contact_id")?),
                customer_id: CustomerId(row.try_get("customer_id")?),
                severity: crate::alerts::severity(&severity)?,
                matches: parse_matches(&matches)?,
                created_at: at(row.try_get("created_at")?),
                acknowledged_by: row.try_get::<Option<i64>, _>("acknowledged_by")?.map(UserId),
                acknowledged_at: optional_at(row.try_get("acknowledged_at")?),
            })
        }

        fn crisis_word_from_row(row: &DbRow) -> Result<CrisisWord> {
            let severity: String = row.try_get("severity")?;
            Ok(CrisisWord {
                id: CrisisWordId(row.try_get("id")?),
                phrase: row.try_get("phrase")?,
                severity: crate::alerts::severity(&severity)?,
                note: row.try_get("note")?,
                created_at: at(row.try_get("created_at")?),
            })
        }

        /// The alert of a contact just inserted in `tx`, and its outbox rows, when the text
        /// engine found crisis words in it.
        async fn insert_contact_alert(tx: &mut Tx<'_>, tenant: TenantId, contact_id: i64, contact: &NewContact) -> Result<()> {
            let Some(severity) = max_severity(&contact.tags.crisis) else { return Ok(()) };
            let alert_id: i64 = sqlx::query_scalar(
                "INSERT INTO alerts (tenant_id, contact_id, customer_id, severity, matches) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(tenant.0)
            .bind(contact_id)
            .bind(contact.customer_id.0)
            .bind(severity.code())
            .bind(matches_json(&contact.tags.crisis))
            .fetch_one(&mut **tx)
            .await
            .map_err(|e| StoreError::from_write(e, "alert of this contact"))?;
            sqlx::query(
                "INSERT INTO webhook_deliveries (tenant_id, webhook_id, alert_id) SELECT tenant_id, id, $2 FROM webhooks WHERE tenant_id = $1",
            )
            .bind(tenant.0)
            .bind(alert_id)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        /// The alerts of a bulk-loaded block of contacts (ids `first..`), with their outbox rows.
        async fn insert_bulk_alerts(tx: &mut Tx<'_>, tenant: TenantId, rows: &[(i64, i64, &[CrisisMatch])]) -> Result<()> {
            if rows.is_empty() {
                return Ok(());
            }
            for block in rows.chunks(2_000) {
                let mut builder: QueryBuilder<'_, $db> =
                    QueryBuilder::new("INSERT INTO alerts (tenant_id, contact_id, customer_id, severity, matches) ");
                builder.push_values(block, |mut values, (contact_id, customer_id, matches)| {
                    values
                        .push_bind(tenant.0)
                        .push_bind(*contact_id)
                        .push_bind(*customer_id)
                        .push_bind(max_severity(matches).map_or("low", |s| s.code()))
                        .push_bind(matches_json(matches));
                });
                builder.build().execute(&mut **tx).await.map_err(|e| StoreError::from_write(e, "alert of this contact"))?;
            }
            let first = rows.iter().map(|r| r.0).min().unwrap_or(0);
            let last = rows.iter().map(|r| r.0).max().unwrap_or(0);
            sqlx::query(
                "INSERT INTO webhook_deliveries (tenant_id, webhook_id, alert_id)
                 SELECT a.tenant_id, w.id, a.id FROM alerts a JOIN webhooks w ON w.tenant_id = a.tenant_id
                 WHERE a.tenant_id = $1 AND a.contact_id >= $2 AND a.contact_id <= $3",
            )
            .bind(tenant.0)
            .bind(first)
            .bind(last)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        async fn fetch_alert(executor: impl sqlx::Executor<'_, Database = $db>, tenant: TenantId, filter: &str, value: i64) -> Result<Option<Alert>> {
            // `filter` is one of our own constants, never input.
            let sql = format!("SELECT {ALERT_COLUMNS} FROM {ALERT_FROM} WHERE a.tenant_id = $1 AND {filter} = $2");
            let row = sqlx::query(&sql).bind(tenant.0).bind(value).fetch_optional(executor).await?;
            row.as_ref().map(alert_from_row).transpose()
        }

        async fn sql_crisis_word_create(pool: &sqlx::Pool<$db>, tenant: TenantId, word: &NewCrisisWord, now: OffsetDateTime) -> Result<CrisisWord> {
            word.validate().map_err(StoreError::Invalid)?;
            let row = sqlx::query(
                "INSERT INTO crisis_words (tenant_id, phrase, phrase_key, severity, note, created_at) VALUES ($1, $2, $3, $4, $5, $6)
                 RETURNING id, phrase, severity, note, created_at",
            )
            .bind(tenant.0)
            .bind(word.phrase.trim())
            .bind(&word.key)
            .bind(word.severity.code())
            .bind(&word.note)
            .bind(unix(now))
            .fetch_one(pool)
            .await
            .map_err(|e| StoreError::from_write(e, "phrase"))?;
            crisis_word_from_row(&row)
        }

        async fn sql_crisis_word_update(pool: &sqlx::Pool<$db>, tenant: TenantId, id: CrisisWordId, word: &NewCrisisWord) -> Result<CrisisWord> {
            word.validate().map_err(StoreError::Invalid)?;
            let row = sqlx::query(
                "UPDATE crisis_words SET phrase = $3, phrase_key = $4, severity = $5, note = $6 WHERE tenant_id = $1 AND id = $2
                 RETURNING id, phrase, severity, note, created_at",
            )
            .bind(tenant.0)
            .bind(id.0)
            .bind(word.phrase.trim())
            .bind(&word.key)
            .bind(word.severity.code())
            .bind(&word.note)
            .fetch_optional(pool)
            .await
            .map_err(|e| StoreError::from_write(e, "phrase"))?;
            crisis_word_from_row(&row.ok_or(StoreError::NotFound("crisis word"))?)
        }

        async fn sql_crisis_word_delete(pool: &sqlx::Pool<$db>, tenant: TenantId, id: CrisisWordId) -> Result<()> {
            let done = sqlx::query("DELETE FROM crisis_words WHERE tenant_id = $1 AND id = $2").bind(tenant.0).bind(id.0).execute(pool).await?;
            if done.rows_affected() == 0 { Err(StoreError::NotFound("crisis word")) } else { Ok(()) }
        }

        async fn sql_crisis_word_get(pool: &sqlx::Pool<$db>, tenant: TenantId, id: CrisisWordId) -> Result<CrisisWord> {
            let row = sqlx::query("SELECT id, phrase, severity, note, created_at FROM crisis_words WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.0)
                .bind(id.0)
                .fetch_optional(pool)
                .await?;
            crisis_word_from_row(&row.ok_or(StoreError::NotFound("crisis word"))?)
        }

        async fn sql_crisis_word_list(pool: &sqlx::Pool<$db>, tenant: TenantId) -> Result<Vec<CrisisWord>> {
            let rows = sqlx::query("SELECT id, phrase, severity, note, created_at FROM crisis_words WHERE tenant_id = $1 ORDER BY id")
                .bind(tenant.0)
                .fetch_all(pool)
                .await?;
            rows.iter().map(crisis_word_from_row).collect()
        }

        async fn sql_alert_list(pool: &sqlx::Pool<$db>, tenant: TenantId, query: &AlertQuery) -> Result<Vec<Alert>> {
            let unacknowledged = if query.unacknowledged_only { "AND a.acknowledged_at IS NULL" } else { "" };
            let sql = format!(
                "SELECT {ALERT_COLUMNS} FROM {ALERT_FROM} WHERE a.tenant_id = $1 AND a.created_at >= $2 {unacknowledged}
                 ORDER BY a.id DESC LIMIT $3"
            );
            let since = query.since.map_or(i64::MIN, unix);
            let limit = i64::from(query.limit.clamp(1, crate::alerts::MAX_ALERTS));
            let rows = sqlx::query(&sql).bind(tenant.0).bind(since).bind(limit).fetch_all(pool).await?;
            rows.iter().map(alert_from_row).collect()
        }

        async fn sql_alert_acknowledge(pool: &sqlx::Pool<$db>, tenant: TenantId, id: AlertId, by: Option<UserId>, now: OffsetDateTime) -> Result<Alert> {
            let mut tx = pool.begin().await?;
            if let Some(user) = by {
                reference_exists(&mut tx, "users", "acknowledged_by", tenant, user.0).await?;
            }
            // The first acknowledgement stands; acknowledging again changes nothing.
            sqlx::query(
                "UPDATE alerts SET acknowledged_by = $3, acknowledged_at = $4 WHERE tenant_id = $1 AND id = $2 AND acknowledged_at IS NULL",
            )
            .bind(tenant.0)
            .bind(id.0)
            .bind(by.map(|u| u.0))
            .bind(unix(now))
            .execute(&mut *tx)
            .await?;
            let alert = fetch_alert(&mut *tx, tenant, "a.id", id.0).await?.ok_or(StoreError::NotFound("alert"))?;
            tx.commit().await?;
            Ok(alert)
        }

        async fn sql_webhook_create(pool: &sqlx::Pool<$db>, tenant: TenantId, url: &str, secret: &str, now: OffsetDateTime) -> Result<Webhook> {
            let id: i64 = sqlx::query_scalar("INSERT INTO webhooks (tenant_id, url, secret, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(tenant.0)
                .bind(url)
                .bind(secret)
                .bind(unix(now))
                .fetch_one(pool)
                .await
                .map_err(|e| StoreError::from_write(e, "url"))?;
            Ok(Webhook { id: WebhookId(id), url: url.to_owned(), created_at: at(unix(now)) })
        }

        async fn sql_webhook_list(pool: &sqlx::Pool<$db>, tenant: TenantId) -> Result<Vec<(Webhook, WebhookCounts)>> {
            let rows = sqlx::query(
                "SELECT w.id, w.url, w.created_at,
                        (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.tenant_id = w.tenant_id AND d.webhook_id = w.id AND d.delivered_at IS NOT NULL) AS delivered,
                        (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.tenant_id = w.tenant_id AND d.webhook_id = w.id AND d.delivered_at IS NULL AND d.next_attempt_at IS NOT NULL) AS pending,
                        (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.tenant_id = w.tenant_id AND d.webhook_id = w.id AND d.delivered_at IS NULL AND d.next_attempt_at IS NULL) AS given_up
                 FROM webhooks w WHERE w.tenant_id = $1 ORDER BY w.id",
            )
            .bind(tenant.0)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|row| {
                    Ok((
                        Webhook { id: WebhookId(row.try_get("id")?), url: row.try_get("url")?, created_at: at(row.try_get("created_at")?) },
                        WebhookCounts { delivered: row.try_get("delivered")?, pending: row.try_get("pending")?, given_up: row.try_get("given_up")? },
                    ))
                })
                .collect()
        }

        async fn sql_webhook_delete(pool: &sqlx::Pool<$db>, tenant: TenantId, id: WebhookId) -> Result<()> {
            let done = sqlx::query("DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2").bind(tenant.0).bind(id.0).execute(pool).await?;
            if done.rows_affected() == 0 { Err(StoreError::NotFound("webhook")) } else { Ok(()) }
        }

        async fn sql_webhook_deliveries_claim(pool: &sqlx::Pool<$db>, now: OffsetDateTime, lease: time::Duration, limit: u32) -> Result<Vec<WebhookDelivery>> {
            let now_s = unix(now);
            let until = unix(now + lease);
            let mut tx = pool.begin().await?;
            let candidates: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM webhook_deliveries WHERE delivered_at IS NULL AND next_attempt_at IS NOT NULL
                   AND next_attempt_at <= $1 AND leased_until <= $1 ORDER BY next_attempt_at, id LIMIT $2",
            )
            .bind(now_s)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
            let mut claimed = Vec::new();
            for id in candidates {
                // Another instance may have claimed it since the SELECT: the lease is taken only
                // if it is still free, so each attempt has one owner.
                let done = sqlx::query("UPDATE webhook_deliveries SET leased_until = $2 WHERE id = $1 AND leased_until <= $3 AND delivered_at IS NULL")
                    .bind(id)
                    .bind(until)
                    .bind(now_s)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    continue;
                }
                let row = sqlx::query(&format!(
                    "SELECT d.id AS delivery_id, d.tenant_id, d.webhook_id, d.attempts, w.url, w.secret, {ALERT_COLUMNS}
                     FROM webhook_deliveries d
                     JOIN webhooks w ON w.tenant_id = d.tenant_id AND w.id = d.webhook_id
                     JOIN alerts a ON a.tenant_id = d.tenant_id AND a.id = d.alert_id
                     JOIN customers c ON c.tenant_id = a.tenant_id AND c.id = a.customer_id
                     JOIN contacts k ON k.tenant_id = a.tenant_id AND k.id = a.contact_id
                     WHERE d.id = $1"
                ))
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                claimed.push(WebhookDelivery {
                    id: WebhookDeliveryId(row.try_get("delivery_id")?),
                    tenant_id: TenantId(row.try_get("tenant_id")?),
                    webhook_id: WebhookId(row.try_get("webhook_id")?),
                    url: row.try_get("url")?,
                    secret: row.try_get("secret")?,
                    attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
                    alert: alert_from_row(&row)?,
                });
            }
            tx.commit().await?;
            Ok(claimed)
        }

        async fn sql_webhook_delivery_finish(pool: &sqlx::Pool<$db>, id: WebhookDeliveryId, outcome: &DeliveryOutcome) -> Result<()> {
            match outcome {
                DeliveryOutcome::Delivered { at: delivered_at } => {
                    sqlx::query("UPDATE webhook_deliveries SET delivered_at = $2, attempts = attempts + 1, leased_until = 0, last_error = NULL WHERE id = $1")
                        .bind(id.0)
                        .bind(unix(*delivered_at))
                        .execute(pool)
                        .await?;
                }
                DeliveryOutcome::Failed { error, retry_at } => {
                    sqlx::query("UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $2, leased_until = 0, last_error = $3 WHERE id = $1")
                        .bind(id.0)
                        .bind(retry_at.map(unix))
                        .bind(error)
                        .execute(pool)
                        .await?;
                }
            }
            Ok(())
        }

        async fn sql_board_counts(pool: &sqlx::Pool<$db>, tenant: TenantId, from: OffsetDateTime, to: OffsetDateTime) -> Result<BoardCounts> {
            let (from, to) = (unix(from), unix(to));
            let mut counts = BoardCounts::default();
            let rows = sqlx::query(
                "SELECT u.display_name AS name, COUNT(*) AS n FROM contacts k
                 LEFT JOIN users u ON u.tenant_id = k.tenant_id AND u.id = k.agent_id
                 WHERE k.tenant_id = $1 AND k.started_at >= $2 AND k.started_at < $3
                 GROUP BY k.agent_id, u.display_name ORDER BY n DESC, name LIMIT 50",
            )
            .bind(tenant.0).bind(from).bind(to).fetch_all(pool).await?;
            for row in rows {
                counts.by_operator.push((row.try_get("name")?, row.try_get("n")?));
            }
            let rows = sqlx::query(
                "SELECT channel, COUNT(*) AS n FROM contacts WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3
                 GROUP BY channel ORDER BY n DESC, channel",
            )
            .bind(tenant.0).bind(from).bind(to).fetch_all(pool).await?;
            for row in rows {
                let channel: String = row.try_get("channel")?;
                counts.by_channel.push((vocab("channel", &channel, Channel::from_code)?, row.try_get("n")?));
            }
            let rows = sqlx::query(
                "SELECT reason, COUNT(*) AS n FROM contacts WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3
                 GROUP BY reason ORDER BY n DESC, reason LIMIT 20",
            )
            .bind(tenant.0).bind(from).bind(to).fetch_all(pool).await?;
            for row in rows {
                counts.by_reason.push((row.try_get("reason")?, row.try_get("n")?));
            }
            counts.contacts = counts.by_channel.iter().map(|(_, n)| n).sum();
            let row = sqlx::query(
                "SELECT COUNT(*) AS alerts, COALESCE(SUM(CASE WHEN acknowledged_at IS NULL THEN 1 ELSE 0 END), 0) AS open
                 FROM alerts WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3",
            )
            .bind(tenant.0).bind(from).bind(to).fetch_one(pool).await?;
            counts.alerts = row.try_get("alerts")?;
            counts.unacknowledged_alerts = row.try_get::<i64, _>("open")?;
            Ok(counts)
        }
    };
}

pub(crate) use alert_sql;
