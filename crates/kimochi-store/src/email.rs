//! The email outbox (issue 6, F6, migration 0012), written once for both engines like
//! `alerts.rs`: `email_sql!` expands to free functions inside each engine's module, and the
//! `Store` methods in `store_impl!` call them.
//!
//! Enqueue is all-or-nothing: every row is checked (the customer exists in the tenant, has an
//! email address and email consent, subject and body are valid) and one refused row refuses the
//! batch with `ImportRejected`, listing every refused row by its 1-based position (`line`) and
//! field, so a caller can drop those customers and enqueue again. Nothing is half-queued.
//!
//! Sending is at least once with a stable Message-ID: a sender claims due rows with a lease
//! (`email_claim`), and a message becomes `sent` — with its `sent` contact, in one transaction —
//! only after the SMTP server accepted it (`email_finish`). A crash between the server's OK and
//! that commit leaves the row `sending`; when the lease runs out it is sent again with the same
//! Message-ID, which receiving systems use to drop the repeat. Consent is checked again at claim
//! time: a customer who unsubscribed after the enqueue is not mailed (the row ends `failed`).

use kimochi_domain::CustomerId;

/// Which messages a list shows; newest first, at most [`MAX_EMAILS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EmailQuery {
    pub customer_id: Option<CustomerId>,
    pub campaign_id: Option<i64>,
    pub limit: u32,
}

/// Most messages one list returns.
pub const MAX_EMAILS: u32 = 500;

/// 128 random bits from the operating system, hex: a tracking token or a Message-ID's left part.
pub(crate) fn random_hex() -> crate::Result<String> {
    use rand::TryRngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| crate::StoreError::Config(format!("the operating system's random source failed: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A short system text for an email-event contact (the subject or URL cut to 200 characters).
pub(crate) fn event_text(prefix: &str, detail: &str) -> String {
    let detail: String = detail.chars().take(200).collect();
    format!("{prefix}: {detail}")
}

macro_rules! email_sql {
    ($db:ty) => {
        use kimochi_domain::mail::*;

        use crate::email::{EmailQuery, event_text, random_hex};

        const EMAIL_COLUMNS: &str = "id, customer_id, campaign_id, campaign_step, to_address, subject, body_text, body_html, \
             links, message_id, status, attempts, next_attempt_at, last_error, created_at, sent_at, opened_at, clicked_at, unsubscribed_at";

        fn email_from_row(row: &DbRow) -> Result<EmailMessage> {
            let status: String = row.try_get("status")?;
            let links: String = row.try_get("links")?;
            Ok(EmailMessage {
                id: EmailMessageId(row.try_get("id")?),
                customer_id: CustomerId(row.try_get("customer_id")?),
                campaign_id: row.try_get("campaign_id")?,
                campaign_step: row.try_get("campaign_step")?,
                to_address: row.try_get("to_address")?,
                subject: row.try_get("subject")?,
                body_text: row.try_get("body_text")?,
                body_html: row.try_get("body_html")?,
                links: serde_json::from_str(&links).or_else(|_| corrupt("links", &links))?,
                message_id: row.try_get("message_id")?,
                status: vocab("email status", &status, EmailStatus::from_code)?,
                attempts: row.try_get("attempts")?,
                next_attempt_at: optional_at(row.try_get("next_attempt_at")?),
                last_error: row.try_get("last_error")?,
                created_at: at(row.try_get("created_at")?),
                sent_at: optional_at(row.try_get("sent_at")?),
                opened_at: optional_at(row.try_get("opened_at")?),
                clicked_at: optional_at(row.try_get("clicked_at")?),
                unsubscribed_at: optional_at(row.try_get("unsubscribed_at")?),
            })
        }

        /// Records an email event as a contact (channel email, outbound, no text-engine tags)
        /// and refreshes the customer's aggregates, inside the caller's transaction.
        async fn insert_email_event(tx: &mut Tx<'_>, tenant: TenantId, customer: i64, outcome: Outcome, text: String, now: OffsetDateTime) -> Result<()> {
            let contact = NewContact {
                external_id: None,
                customer_id: CustomerId(customer),
                channel: Channel::Email,
                direction: Direction::Outbound,
                started_at: now,
                ended_at: None,
                agent_id: None,
                reason: None,
                outcome: Some(outcome),
                text,
                thread_of: None,
                tags: ContactTags::default(),
            };
            insert_contact(tx, tenant, &contact, None).await?;
            recompute_stats(tx, tenant, customer, customer).await
        }

        async fn sql_email_enqueue(pool: &sqlx::Pool<$db>, tenant: TenantId, emails: &[NewEmail], now: OffsetDateTime) -> Result<Vec<EmailMessageId>> {
            let mut tx = pool.begin().await?;
            match email_enqueue_in(&mut tx, tenant, emails, now).await? {
                Ok(ids) => {
                    tx.commit().await?;
                    Ok(ids)
                }
                Err(problems) => {
                    tx.rollback().await?;
                    Err(StoreError::ImportRejected(problems))
                }
            }
        }

        /// [`sql_email_enqueue`] inside the caller's transaction: the refused rows (`Err`, nothing
        /// written) or the ids of the queued messages.
        async fn email_enqueue_in(
            tx: &mut sqlx::Transaction<'_, $db>,
            tenant: TenantId,
            emails: &[NewEmail],
            now: OffsetDateTime,
        ) -> Result<std::result::Result<Vec<EmailMessageId>, Vec<kimochi_domain::import::RowProblem>>> {
            let mut problems = Vec::new();
            let mut accepted = Vec::new();
            for (index, email) in emails.iter().enumerate() {
                let line = index as u64 + 1;
                let links = match email.validate() {
                    Ok(links) => links,
                    Err(error) => {
                        problems.push(problem(line, error.field, &error.value, &error.reason));
                        continue;
                    }
                };
                let row = sqlx::query("SELECT emails, consent_email FROM customers WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant.0)
                    .bind(email.customer_id.0)
                    .fetch_optional(&mut **tx)
                    .await?;
                let Some(row) = row else {
                    problems.push(problem(line, "customer_id", &email.customer_id.to_string(), "no customer has this id"));
                    continue;
                };
                if !row.try_get::<bool, _>("consent_email")? {
                    problems.push(problem(line, "consent_email", "false", "the customer has not consented to email"));
                    continue;
                }
                let emails: String = row.try_get("emails")?;
                let Some(address) = split_emails(&emails)?.into_iter().next() else {
                    problems.push(problem(line, "email", "", "the customer has no email address"));
                    continue;
                };
                accepted.push((email, links, address));
            }
            if !problems.is_empty() {
                return Ok(Err(problems));
            }
            let mut ids = Vec::with_capacity(accepted.len());
            for (email, links, address) in accepted {
                let token = random_hex()?;
                let message_id = format!("{}.{}@kimochi", random_hex()?, tenant.0);
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO email_messages (tenant_id, customer_id, campaign_id, campaign_step, to_address, subject, body_text,
                        body_html, links, token, message_id, status, next_attempt_at, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'queued', $12, $12) RETURNING id",
                )
                .bind(tenant.0)
                .bind(email.customer_id.0)
                .bind(email.campaign_id)
                .bind(email.campaign_step)
                .bind(address.as_str())
                .bind(email.subject.trim())
                .bind(&email.body_text)
                .bind(&email.body_html)
                .bind(serde_json::to_string(&links).unwrap_or_else(|_| "[]".to_owned()))
                .bind(&token)
                .bind(&message_id)
                .bind(unix(now))
                .fetch_one(&mut **tx)
                .await
                .map_err(|e| StoreError::from_write(e, "email token"))?;
                ids.push(EmailMessageId(id));
            }
            Ok(Ok(ids))
        }

        async fn sql_email_get(pool: &sqlx::Pool<$db>, tenant: TenantId, id: EmailMessageId) -> Result<EmailMessage> {
            let row = sqlx::query(&format!("SELECT {EMAIL_COLUMNS} FROM email_messages WHERE tenant_id = $1 AND id = $2"))
                .bind(tenant.0)
                .bind(id.0)
                .fetch_optional(pool)
                .await?;
            email_from_row(&row.ok_or(StoreError::NotFound("email"))?)
        }

        async fn sql_email_list(pool: &sqlx::Pool<$db>, tenant: TenantId, query: &EmailQuery) -> Result<Vec<EmailMessage>> {
            // The filters are our own text; the values are bound.
            let customer = if query.customer_id.is_some() { "AND customer_id = $3" } else { "AND $3 = $3" };
            let campaign = if query.campaign_id.is_some() { "AND campaign_id = $4" } else { "AND $4 = $4" };
            let sql = format!(
                "SELECT {EMAIL_COLUMNS} FROM email_messages WHERE tenant_id = $1 {customer} {campaign} ORDER BY id DESC LIMIT $2"
            );
            let limit = i64::from(query.limit.clamp(1, crate::email::MAX_EMAILS));
            let rows = sqlx::query(&sql)
                .bind(tenant.0)
                .bind(limit)
                .bind(query.customer_id.map_or(0, |c| c.0))
                .bind(query.campaign_id.unwrap_or(0))
                .fetch_all(pool)
                .await?;
            rows.iter().map(email_from_row).collect()
        }

        async fn sql_email_claim(pool: &sqlx::Pool<$db>, now: OffsetDateTime, lease: time::Duration, limit: u32) -> Result<Vec<OutgoingEmail>> {
            let now_s = unix(now);
            let until = unix(now + lease);
            let mut tx = pool.begin().await?;
            let candidates = sqlx::query(
                "SELECT tenant_id, id FROM email_messages WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $1
                   AND leased_until <= $1 ORDER BY next_attempt_at, id LIMIT $2",
            )
            .bind(now_s)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
            let mut claimed = Vec::new();
            for candidate in candidates {
                let tenant: i64 = candidate.try_get("tenant_id")?;
                let id: i64 = candidate.try_get("id")?;
                // Another sender may have claimed it since the SELECT: the lease is taken only if
                // it is still free, so each attempt has one owner.
                let done = sqlx::query(
                    "UPDATE email_messages SET status = 'sending', leased_until = $3
                     WHERE tenant_id = $1 AND id = $2 AND leased_until <= $4 AND next_attempt_at IS NOT NULL",
                )
                .bind(tenant)
                .bind(id)
                .bind(until)
                .bind(now_s)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    continue;
                }
                let row = sqlx::query(&format!(
                    "SELECT {EMAIL_COLUMNS}, token,
                        (SELECT c.consent_email FROM customers c WHERE c.tenant_id = m.tenant_id AND c.id = m.customer_id) AS consent
                     FROM email_messages m WHERE tenant_id = $1 AND id = $2"
                ))
                .bind(tenant)
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                if !row.try_get::<Option<bool>, _>("consent")?.unwrap_or(false) {
                    // Unsubscribed (or deleted) since the enqueue: never mailed.
                    sqlx::query(
                        "UPDATE email_messages SET status = 'failed', next_attempt_at = NULL, leased_until = 0,
                            last_error = 'email consent withdrawn before sending' WHERE tenant_id = $1 AND id = $2",
                    )
                    .bind(tenant)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    continue;
                }
                claimed.push(OutgoingEmail { tenant_id: TenantId(tenant), token: row.try_get("token")?, message: email_from_row(&row)? });
            }
            tx.commit().await?;
            Ok(claimed)
        }

        async fn sql_email_finish(pool: &sqlx::Pool<$db>, tenant: TenantId, id: EmailMessageId, outcome: &EmailSendOutcome) -> Result<()> {
            let mut tx = pool.begin().await?;
            let row = sqlx::query("SELECT customer_id, subject, status FROM email_messages WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.0)
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound("email"))?;
            let status: String = row.try_get("status")?;
            if status != "sending" {
                // Finished already (a second sender after a lease ran out): nothing to record twice.
                tx.rollback().await?;
                return Ok(());
            }
            let customer: i64 = row.try_get("customer_id")?;
            let subject: String = row.try_get("subject")?;
            match outcome {
                EmailSendOutcome::Sent { at: sent_at } => {
                    sqlx::query(
                        "UPDATE email_messages SET status = 'sent', sent_at = $3, attempts = attempts + 1, next_attempt_at = NULL,
                            leased_until = 0, last_error = NULL WHERE tenant_id = $1 AND id = $2",
                    )
                    .bind(tenant.0)
                    .bind(id.0)
                    .bind(unix(*sent_at))
                    .execute(&mut *tx)
                    .await?;
                    insert_email_event(&mut tx, tenant, customer, Outcome::Sent, event_text("メール送信", &subject), *sent_at).await?;
                }
                EmailSendOutcome::Retry { error, retry_at, .. } => {
                    let status = if retry_at.is_some() { "queued" } else { "failed" };
                    sqlx::query(
                        "UPDATE email_messages SET status = $3, attempts = attempts + 1, next_attempt_at = $4, leased_until = 0,
                            last_error = $5 WHERE tenant_id = $1 AND id = $2",
                    )
                    .bind(tenant.0)
                    .bind(id.0)
                    .bind(status)
                    .bind(retry_at.map(unix))
                    .bind(error.chars().take(500).collect::<String>())
                    .execute(&mut *tx)
                    .await?;
                }
                EmailSendOutcome::Bounced { error, at: bounced_at } => {
                    sqlx::query(
                        "UPDATE email_messages SET status = 'bounced', attempts = attempts + 1, next_attempt_at = NULL,
                            leased_until = 0, last_error = $3 WHERE tenant_id = $1 AND id = $2",
                    )
                    .bind(tenant.0)
                    .bind(id.0)
                    .bind(error.chars().take(500).collect::<String>())
                    .execute(&mut *tx)
                    .await?;
                    insert_email_event(&mut tx, tenant, customer, Outcome::Bounced, event_text("メール不達", error), *bounced_at).await?;
                }
            }
            tx.commit().await?;
            Ok(())
        }

        async fn sql_email_track(pool: &sqlx::Pool<$db>, token: &str, event: TrackEvent, now: OffsetDateTime) -> Result<TrackResult> {
            // A token is 32 hex digits; anything else is not looked up at all.
            if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                return Err(StoreError::NotFound("email"));
            }
            let mut tx = pool.begin().await?;
            let row = sqlx::query(
                "SELECT tenant_id, id, customer_id, subject, links, last_opened_at, unsubscribed_at FROM email_messages WHERE token = $1",
            )
            .bind(token)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("email"))?;
            let tenant = TenantId(row.try_get("tenant_id")?);
            let id: i64 = row.try_get("id")?;
            let customer: i64 = row.try_get("customer_id")?;
            let subject: String = row.try_get("subject")?;
            let mut result = TrackResult { tenant_id: tenant, message_id: EmailMessageId(id), customer_id: CustomerId(customer), recorded: false, redirect_to: None };
            let now_s = unix(now);
            match event {
                TrackEvent::Open => {
                    let last: Option<i64> = row.try_get("last_opened_at")?;
                    if last.is_some_and(|last| now_s - last < OPEN_DEDUPE_SECONDS) {
                        tx.rollback().await?;
                        return Ok(result);
                    }
                    sqlx::query("UPDATE email_messages SET opened_at = COALESCE(opened_at, $3), last_opened_at = $3 WHERE tenant_id = $1 AND id = $2")
                        .bind(tenant.0).bind(id).bind(now_s).execute(&mut *tx).await?;
                    insert_email_event(&mut tx, tenant, customer, Outcome::Opened, event_text("メール開封", &subject), now).await?;
                }
                TrackEvent::Click(n) => {
                    let links: String = row.try_get("links")?;
                    let links: Vec<String> = serde_json::from_str(&links).or_else(|_| corrupt("links", &links))?;
                    let Some(link) = links.get(n as usize) else {
                        tx.rollback().await?;
                        return Err(StoreError::NotFound("link"));
                    };
                    sqlx::query("UPDATE email_messages SET clicked_at = COALESCE(clicked_at, $3) WHERE tenant_id = $1 AND id = $2")
                        .bind(tenant.0).bind(id).bind(now_s).execute(&mut *tx).await?;
                    insert_email_event(&mut tx, tenant, customer, Outcome::Clicked, event_text("メールのリンクをクリック", link), now).await?;
                    result.redirect_to = Some(link.clone());
                }
                TrackEvent::Unsubscribe => {
                    let already: Option<i64> = row.try_get("unsubscribed_at")?;
                    if already.is_some() {
                        tx.rollback().await?;
                        return Ok(result);
                    }
                    sqlx::query("UPDATE email_messages SET unsubscribed_at = $3 WHERE tenant_id = $1 AND id = $2")
                        .bind(tenant.0).bind(id).bind(now_s).execute(&mut *tx).await?;
                    sqlx::query("UPDATE customers SET consent_email = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2")
                        .bind(tenant.0).bind(customer).bind(false).bind(now_s).execute(&mut *tx).await?;
                    insert_email_event(&mut tx, tenant, customer, Outcome::Unsubscribed, event_text("メール配信停止", &subject), now).await?;
                }
            }
            tx.commit().await?;
            result.recorded = true;
            Ok(result)
        }
    };
}

pub(crate) use email_sql;
