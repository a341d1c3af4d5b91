//! Outbound care campaigns (issue 6, migration 0011): the member snapshot with its holdout, the
//! step runner's edge (the plan is `kimochi_domain::campaign::advance`), the emails it decides
//! are due (the hand-off to the email outbox), the operators' call list with exclusive leases,
//! each attempt recorded as a contact in the transaction that does its bookkeeping, and the
//! per-member facts the results are computed from. Written once for both engines like
//! `admin.rs`.
//!
//! Consent and do-not-call are read from the customer row at every lease (in the SQL), not
//! from the snapshot: a customer who asks not to be called after the campaign started is not
//! served again.

use kimochi_domain::campaign::{CallOutcome, CampaignId, CampaignMemberId, Group};
use kimochi_domain::{ContactTags, CustomerId, PhoneNumber, UserId};
use time::OffsetDateTime;

/// A member as the members list shows them (the web masks the personal parts per role).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignMember {
    pub id: CampaignMemberId,
    pub customer_id: CustomerId,
    pub name: String,
    pub phones: Vec<PhoneNumber>,
    pub group: Group,
    /// Index of the current step; the number of steps once finished.
    pub step: u32,
    pub call_open: bool,
    pub attempts: u32,
    pub last_attempt_at: Option<OffsetDateTime>,
    pub last_outcome: Option<CallOutcome>,
}

/// What one run of the step runner did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CampaignRunReport {
    pub campaigns: u64,
    /// Members whose step changed.
    pub advanced: u64,
    pub emails_due: u64,
    /// Email steps passed without an email: no consent or no address.
    pub emails_skipped: u64,
    /// Members put on a call list.
    pub calls_opened: u64,
}

/// What one hand-off of due campaign emails to the email outbox did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CampaignEmailsQueued {
    /// Due emails taken from the campaigns.
    pub taken: usize,
    /// Of them, queued in the outbox.
    pub queued: usize,
    /// Customers whose email the outbox refused (no consent or address any more): not sent.
    pub refused: Vec<CustomerId>,
}

/// The member an operator was given on the call list, leased to them until `lease_until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallTask {
    pub member_id: CampaignMemberId,
    pub campaign_id: CampaignId,
    pub campaign_name: String,
    pub customer_id: CustomerId,
    pub attempts: u32,
    pub max_attempts: u32,
    pub lease_until: OffsetDateTime,
}

/// One call attempt as the operator records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallAttempt {
    pub outcome: CallOutcome,
    pub text: String,
    /// What the text engine heard in `text` (set by the edge, like every contact).
    pub tags: ContactTags,
    pub agent: Option<UserId>,
    pub at: OffsetDateTime,
}

/// What recording an attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecorded {
    pub contact: kimochi_domain::Contact,
    /// Whether the attempt ended the member's call step (final outcome or last attempt).
    pub step_done: bool,
    pub attempts: u32,
}

/// What one member did in a results window (the input of `kimochi_analytics::lift`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CampaignMemberFacts {
    pub group: Group,
    pub contacted: bool,
    pub responded: bool,
    pub converted: bool,
    pub subscriber: bool,
    pub retained: bool,
    pub revenue: i64,
}

/// The lease holder key of a user or a token.
pub fn lease_holder(actor: &kimochi_domain::Actor) -> String {
    match actor {
        kimochi_domain::Actor::User(id) => format!("user:{}", id.0),
        kimochi_domain::Actor::Token(id) => format!("token:{}", id.0),
        kimochi_domain::Actor::Cli => "cli".to_owned(),
    }
}

macro_rules! campaign_sql {
    ($db:ty) => {
        use kimochi_domain::campaign::{
            CallOutcome, Campaign, CampaignId, CampaignMemberId, CampaignStep, Group, MemberFacts, MemberProgress,
            NewCampaign,
        };
        use $crate::campaigns::{
            CallAttempt, CallRecorded, CallTask, CampaignMember, CampaignMemberFacts, CampaignRunReport,
        };

        const CAMPAIGN_COLUMNS: &str = "g.id, g.name, g.purpose, g.holdout_fraction, g.seed, g.steps, g.started_at,
            (SELECT COUNT(*) FROM campaign_members m WHERE m.tenant_id = g.tenant_id AND m.campaign_id = g.id) AS members,
            (SELECT COUNT(*) FROM campaign_members m WHERE m.tenant_id = g.tenant_id AND m.campaign_id = g.id
               AND m.in_holdout = $2) AS holdout";

        /// Rows per statement when a snapshot is written or checked.
        const CAMPAIGN_CHUNK: usize = 1000;

        fn campaign_from_row(row: &DbRow) -> Result<Campaign> {
            let steps: String = row.try_get("steps")?;
            let seed: i64 = row.try_get("seed")?;
            Ok(Campaign {
                id: CampaignId(row.try_get("id")?),
                name: row.try_get("name")?,
                purpose: row.try_get("purpose")?,
                holdout_fraction: row.try_get("holdout_fraction")?,
                seed: seed as u64,
                steps: serde_json::from_str(&steps).or_else(|_| corrupt("steps", &steps))?,
                started_at: at(row.try_get("started_at")?),
                members: row.try_get("members")?,
                holdout: row.try_get("holdout")?,
            })
        }

        async fn fetch_campaign(
            conn: &mut <$db as sqlx::Database>::Connection,
            tenant: TenantId,
            id: CampaignId,
        ) -> Result<Campaign> {
            let sql = format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns g WHERE g.tenant_id = $1 AND g.id = $3");
            let row = sqlx::query(&sql).bind(tenant.0).bind(true).bind(id.0).fetch_optional(&mut *conn).await?;
            campaign_from_row(&row.ok_or(StoreError::NotFound("campaign"))?)
        }

        fn count(row: &DbRow, column: &str) -> Result<u32> {
            let value: i64 = row.try_get(column)?;
            u32::try_from(value).or_else(|_| corrupt(column, &value.to_string()))
        }

        async fn sql_campaign_create(
            pool: &sqlx::Pool<$db>,
            tenant: TenantId,
            campaign: &NewCampaign,
            now: OffsetDateTime,
        ) -> Result<Campaign> {
            let campaign = campaign.validate().map_err(StoreError::Invalid)?;
            let groups = kimochi_domain::campaign::assign_groups(&campaign.members, campaign.holdout_fraction, campaign.seed);
            let mut tx = pool.begin().await?;
            // Every member must be a customer of this tenant: name the first that is not.
            for chunk in campaign.members.chunks(CAMPAIGN_CHUNK) {
                let mut query: QueryBuilder<$db> = QueryBuilder::new("SELECT id FROM customers WHERE tenant_id = ");
                query.push_bind(tenant.0).push(" AND id IN (");
                let mut ids = query.separated(", ");
                for id in chunk {
                    ids.push_bind(id.0);
                }
                query.push(")");
                let found: std::collections::HashSet<i64> =
                    query.build_query_scalar::<i64>().fetch_all(&mut *tx).await?.into_iter().collect();
                if let Some(missing) = chunk.iter().find(|id| !found.contains(&id.0)) {
                    return Err(StoreError::Invalid(ValidationError::new(
                        "members",
                        &missing.0.to_string(),
                        "is not a customer of this tenant",
                    )));
                }
            }
            let steps = serde_json::to_string(&campaign.steps).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let row = sqlx::query(
                "INSERT INTO campaigns (tenant_id, name, purpose, holdout_fraction, seed, steps, started_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(tenant.0)
            .bind(&campaign.name)
            .bind(&campaign.purpose)
            .bind(campaign.holdout_fraction)
            .bind(campaign.seed as i64)
            .bind(&steps)
            .bind(unix(now))
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| StoreError::from_write(e, "campaign"))?;
            let id: i64 = row.try_get("id")?;
            for chunk in groups.chunks(CAMPAIGN_CHUNK) {
                let mut query: QueryBuilder<$db> = QueryBuilder::new(
                    "INSERT INTO campaign_members (tenant_id, campaign_id, customer_id, in_holdout, step, step_started_at,
                        call_open, call_max_attempts, call_from_minute, call_to_minute, call_spacing_seconds, attempts) ",
                );
                query.push_values(chunk, |mut row, (customer, group)| {
                    row.push_bind(tenant.0)
                        .push_bind(id)
                        .push_bind(customer.0)
                        .push_bind(*group == Group::Holdout)
                        .push_bind(0_i64)
                        .push_bind(unix(now))
                        .push_bind(false)
                        .push_bind(0_i64)
                        .push_bind(0_i64)
                        .push_bind(0_i64)
                        .push_bind(0_i64)
                        .push_bind(0_i64);
                });
                query.build().execute(&mut *tx).await?;
            }
            let created = fetch_campaign(&mut *tx, tenant, CampaignId(id)).await?;
            tx.commit().await?;
            Ok(created)
        }

        async fn sql_campaign_list(pool: &sqlx::Pool<$db>, tenant: TenantId) -> Result<Vec<Campaign>> {
            let sql = format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns g WHERE g.tenant_id = $1 AND $3 ORDER BY g.id DESC");
            let rows = sqlx::query(&sql).bind(tenant.0).bind(true).bind(true).fetch_all(pool).await?;
            rows.iter().map(campaign_from_row).collect()
        }

        async fn sql_campaign_get(pool: &sqlx::Pool<$db>, tenant: TenantId, id: CampaignId) -> Result<Campaign> {
            let mut conn = pool.acquire().await?;
            fetch_campaign(&mut *conn, tenant, id).await
        }

        async fn sql_campaign_update(
            pool: &sqlx::Pool<$db>,
            tenant: TenantId,
            id: CampaignId,
            name: &str,
            purpose: &str,
        ) -> Result<Campaign> {
            let name = short_text("name", name).map_err(StoreError::Invalid)?;
            let purpose = if purpose.trim().is_empty() {
                String::new()
            } else {
                long_text("purpose", purpose).map_err(StoreError::Invalid)?
            };
            let mut tx = pool.begin().await?;
            let done = sqlx::query("UPDATE campaigns SET name = $3, purpose = $4 WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.0)
                .bind(id.0)
                .bind(&name)
                .bind(&purpose)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound("campaign"));
            }
            let campaign = fetch_campaign(&mut *tx, tenant, id).await?;
            tx.commit().await?;
            Ok(campaign)
        }

        async fn sql_campaign_delete(pool: &sqlx::Pool<$db>, tenant: TenantId, id: CampaignId) -> Result<()> {
            let mut tx = pool.begin().await?;
            for table in ["campaign_attempts", "campaign_emails", "campaign_members"] {
                let sql = format!("DELETE FROM {table} WHERE tenant_id = $1 AND campaign_id = $2");
                sqlx::query(&sql).bind(tenant.0).bind(id.0).execute(&mut *tx).await?;
            }
            let done = sqlx::query("DELETE FROM campaigns WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.0)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound("campaign"));
            }
            tx.commit().await?;
            Ok(())
        }

        async fn sql_campaign_members(
            pool: &sqlx::Pool<$db>,
            tenant: TenantId,
            id: CampaignId,
            after: Option<CampaignMemberId>,
            limit: u32,
        ) -> Result<Vec<CampaignMember>> {
            let mut conn = pool.acquire().await?;
            fetch_campaign(&mut *conn, tenant, id).await?;
            let rows = sqlx::query(
                "SELECT m.id, m.customer_id, c.name, c.phones, m.in_holdout, m.step, m.call_open, m.attempts,
                        m.last_attempt_at, m.last_outcome
                 FROM campaign_members m JOIN customers c ON c.tenant_id = m.tenant_id AND c.id = m.customer_id
                 WHERE m.tenant_id = $1 AND m.campaign_id = $2 AND m.id > $3 ORDER BY m.id LIMIT $4",
            )
            .bind(tenant.0)
            .bind(id.0)
            .bind(after.map_or(0, |a| a.0))
            .bind(i64::from(limit.clamp(1, 1000)))
            .fetch_all(&mut *conn)
            .await?;
            rows.iter()
                .map(|row| {
                    let phones: String = row.try_get("phones")?;
                    let outcome: Option<String> = row.try_get("last_outcome")?;
                    Ok(CampaignMember {
                        id: CampaignMemberId(row.try_get("id")?),
                        customer_id: CustomerId(row.try_get("customer_id")?),
                        name: row.try_get("name")?,
                        phones: split_phones(&phones)?,
                        group: if row.try_get::<bool, _>("in_holdout")? { Group::Holdout } else { Group::Treatment },
                        step: count(row, "step")?,
                        call_open: row.try_get("call_open")?,
                        attempts: count(row, "attempts")?,
                        last_attempt_at: optional_at(row.try_get("last_attempt_at")?),
                        last_outcome: outcome
                            .map(|o| CallOutcome::parse(&o).or_else(|_| corrupt("last_outcome", &o)))
                            .transpose()?,
                    })
                })
                .collect()
        }

        /// Moves every treatment member of every campaign of the tenant as far as `now` allows,
        /// a page of members per transaction.
        async fn sql_campaign_run(pool: &sqlx::Pool<$db>, tenant: TenantId, now: OffsetDateTime) -> Result<CampaignRunReport> {
            let mut report = CampaignRunReport::default();
            let campaigns: Vec<(i64, String)> =
                sqlx::query_as("SELECT id, steps FROM campaigns WHERE tenant_id = $1 ORDER BY id")
                    .bind(tenant.0)
                    .fetch_all(pool)
                    .await?;
            for (campaign_id, steps_json) in campaigns {
                let steps: Vec<CampaignStep> =
                    serde_json::from_str(&steps_json).or_else(|_| corrupt("steps", &steps_json))?;
                let finished = steps.len() as i64;
                report.campaigns += 1;
                let mut after = 0_i64;
                loop {
                    let mut tx = pool.begin().await?;
                    let rows = sqlx::query(
                        "SELECT m.id, m.customer_id, m.step, m.step_started_at, m.last_email_at,
                           c.consent_email, c.emails,
                           CAST(CASE WHEN EXISTS (SELECT 1 FROM contacts k WHERE k.tenant_id = m.tenant_id
                               AND k.customer_id = m.customer_id AND k.channel = 'email'
                               AND k.outcome IN ('opened', 'clicked') AND k.started_at >= m.last_email_at)
                             THEN 1 ELSE 0 END AS BIGINT) AS opened,
                           CAST(CASE WHEN EXISTS (SELECT 1 FROM contacts k WHERE k.tenant_id = m.tenant_id
                               AND k.customer_id = m.customer_id AND k.channel = 'email'
                               AND k.outcome = 'clicked' AND k.started_at >= m.last_email_at)
                             THEN 1 ELSE 0 END AS BIGINT) AS clicked
                         FROM campaign_members m JOIN customers c ON c.tenant_id = m.tenant_id AND c.id = m.customer_id
                         WHERE m.tenant_id = $1 AND m.campaign_id = $2 AND m.in_holdout = $3 AND m.call_open = $3
                           AND m.step < $4 AND m.id > $5 AND (m.wake_at IS NULL OR m.wake_at <= $7)
                         ORDER BY m.id LIMIT $6",
                    )
                    .bind(tenant.0)
                    .bind(campaign_id)
                    .bind(false)
                    .bind(finished)
                    .bind(after)
                    .bind(CAMPAIGN_CHUNK as i64)
                    .bind(unix(now))
                    .fetch_all(&mut *tx)
                    .await?;
                    if rows.is_empty() {
                        break;
                    }
                    for row in &rows {
                        let member: i64 = row.try_get("id")?;
                        after = member;
                        let customer: i64 = row.try_get("customer_id")?;
                        let emails: String = row.try_get("emails")?;
                        let progress = MemberProgress {
                            step: count(row, "step")?,
                            step_started_at: at(row.try_get("step_started_at")?),
                            last_email_at: optional_at(row.try_get("last_email_at")?),
                            call_open: false,
                        };
                        let facts = MemberFacts {
                            email_allowed: row.try_get::<bool, _>("consent_email")? && !emails.is_empty(),
                            opened: row.try_get::<i64, _>("opened")? != 0,
                            clicked: row.try_get::<i64, _>("clicked")? != 0,
                        };
                        let plan = kimochi_domain::campaign::advance(&steps, progress, facts, now);
                        // A member waiting out a wait step is not read again before it ends.
                        let wake_at = match steps.get(plan.progress.step as usize) {
                            Some(CampaignStep::Wait { days }) if !plan.progress.call_open => {
                                Some(unix(plan.progress.step_started_at + time::Duration::days(i64::from(*days))))
                            }
                            _ => None,
                        };
                        if plan.progress == progress {
                            sqlx::query("UPDATE campaign_members SET wake_at = $3 WHERE tenant_id = $1 AND id = $2")
                                .bind(tenant.0)
                                .bind(member)
                                .bind(wake_at)
                                .execute(&mut *tx)
                                .await?;
                            continue;
                        }
                        report.advanced += 1;
                        report.emails_skipped += plan.emails_skipped.len() as u64;
                        for step in &plan.emails {
                            let Some(CampaignStep::Email { subject, body }) = steps.get(*step as usize) else { continue };
                            let done = sqlx::query(
                                "INSERT INTO campaign_emails (tenant_id, campaign_id, customer_id, step, subject, body, due_at)
                                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                                 ON CONFLICT (tenant_id, campaign_id, customer_id, step) DO NOTHING",
                            )
                            .bind(tenant.0)
                            .bind(campaign_id)
                            .bind(customer)
                            .bind(i64::from(*step))
                            .bind(subject)
                            .bind(body)
                            .bind(unix(now))
                            .execute(&mut *tx)
                            .await?;
                            report.emails_due += done.rows_affected();
                        }
                        let rules = match steps.get(plan.progress.step as usize) {
                            Some(CampaignStep::Call { rules, .. }) if plan.progress.call_open => *rules,
                            _ => kimochi_domain::campaign::CallRules::default(),
                        };
                        if plan.progress.call_open {
                            report.calls_opened += 1;
                        }
                        sqlx::query(
                            "UPDATE campaign_members SET step = $3, step_started_at = $4, last_email_at = $5, call_open = $6,
                               call_max_attempts = $7, call_from_minute = $8, call_to_minute = $9, call_spacing_seconds = $10,
                               attempts = 0, last_attempt_at = NULL, lease_holder = NULL, lease_until = NULL, wake_at = $11
                             WHERE tenant_id = $1 AND id = $2",
                        )
                        .bind(tenant.0)
                        .bind(member)
                        .bind(i64::from(plan.progress.step))
                        .bind(unix(plan.progress.step_started_at))
                        .bind(plan.progress.last_email_at.map(unix))
                        .bind(plan.progress.call_open)
                        .bind(i64::from(rules.max_attempts))
                        .bind(i64::from(rules.from_minute))
                        .bind(i64::from(rules.to_minute))
                        .bind(i64::from(rules.spacing_minutes) * 60)
                        .bind(wake_at)
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                }
            }
            Ok(report)
        }

        /// Takes up to `limit` due campaign emails and queues them in the email outbox in ONE
        /// transaction, so an email is never taken without being queued (nor queued twice). A row
        /// the outbox refuses (the customer withdrew email consent or lost their address since
        /// the step came due) is taken and not queued.
        async fn sql_campaign_emails_queue(
            pool: &sqlx::Pool<$db>,
            tenant: TenantId,
            now: OffsetDateTime,
            limit: u32,
        ) -> Result<CampaignEmailsQueued> {
            let mut tx = pool.begin().await?;
            let rows = sqlx::query(
                "UPDATE campaign_emails SET taken_at = $2
                 WHERE tenant_id = $1 AND id IN (SELECT id FROM campaign_emails WHERE tenant_id = $1 AND taken_at IS NULL
                                                 ORDER BY id LIMIT $3)
                   AND taken_at IS NULL
                 RETURNING id, campaign_id, customer_id, step, subject, body",
            )
            .bind(tenant.0)
            .bind(unix(now))
            .bind(i64::from(limit.clamp(1, 1000)))
            .fetch_all(&mut *tx)
            .await?;
            let mut due: Vec<(i64, kimochi_domain::mail::NewEmail)> = rows
                .iter()
                .map(|row| {
                    let body: String = row.try_get("body")?;
                    Ok((
                        row.try_get::<i64, _>("id")?,
                        kimochi_domain::mail::NewEmail {
                            customer_id: CustomerId(row.try_get("customer_id")?),
                            campaign_id: Some(row.try_get("campaign_id")?),
                            campaign_step: Some(row.try_get::<i64, _>("step")?),
                            subject: row.try_get("subject")?,
                            // The open pixel lives in the HTML part: without one, "did not open"
                            // could not be told.
                            body_html: Some(kimochi_domain::mail::html_from_text(&body)),
                            body_text: body,
                        },
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            due.sort_by_key(|(id, _)| *id);
            let taken = due.len();
            let mut emails: Vec<kimochi_domain::mail::NewEmail> = due.into_iter().map(|(_, email)| email).collect();
            let mut refused = Vec::new();
            let queued = loop {
                if emails.is_empty() {
                    break 0;
                }
                match email_enqueue_in(&mut tx, tenant, &emails, now).await? {
                    Ok(ids) => break ids.len(),
                    Err(problems) => {
                        // Refusals are found before anything is written: drop those rows, retry.
                        let lines: std::collections::HashSet<u64> = problems.iter().map(|p| p.line).collect();
                        let before = emails.len();
                        let mut kept = Vec::with_capacity(before);
                        for (index, email) in emails.into_iter().enumerate() {
                            if lines.contains(&(index as u64 + 1)) {
                                refused.push(email.customer_id);
                            } else {
                                kept.push(email);
                            }
                        }
                        emails = kept;
                        if emails.len() == before {
                            break 0;
                        }
                    }
                }
            };
            tx.commit().await?;
            Ok(CampaignEmailsQueued { taken, queued, refused })
        }

        /// The conditions under which a member may be served now: on a call list, treated, under
        /// the attempt limit, spaced, inside the allowed hours, and — read from the customer row
        /// at this moment — with phone consent, not on the do-not-call list, and a number.
        /// `$1` tenant, `$2` true, `$3` false, `$4` now, `$5` minute of the day in Japan.
        const CALLABLE: &str = "m.tenant_id = $1 AND m.call_open = $2 AND m.in_holdout = $3
            AND m.attempts < m.call_max_attempts
            AND (m.last_attempt_at IS NULL OR m.last_attempt_at + m.call_spacing_seconds <= $4)
            AND m.call_from_minute <= $5 AND $5 < m.call_to_minute
            AND c.consent_phone = $2 AND c.do_not_call = $3 AND c.phones <> ''";

        async fn sql_campaign_call_next(
            pool: &sqlx::Pool<$db>,
            tenant: TenantId,
            holder: &str,
            campaign: Option<CampaignId>,
            now: OffsetDateTime,
            lease: time::Duration,
        ) -> Result<Option<CallTask>> {
            let minute = i64::from(kimochi_domain::campaign::jst_minute_of_day(now));
            let until = unix(now + lease);
            let only = if campaign.is_some() { "AND m.campaign_id = $7" } else { "AND $7 = $7" };
            let mut tx = pool.begin().await?;
            // A member this holder already has (a reload) comes back if it may still be served;
            // one that may not (consent withdrawn meanwhile) is released.
            let held = format!(
                "SELECT m.id FROM campaign_members m JOIN customers c ON c.tenant_id = m.tenant_id AND c.id = m.customer_id
                 WHERE {CALLABLE} AND m.lease_holder = $6 AND m.lease_until > $4 {only} ORDER BY m.id LIMIT 1"
            );
            let mut chosen: Option<i64> = sqlx::query_scalar(&held)
                .bind(tenant.0)
                .bind(true)
                .bind(false)
                .bind(unix(now))
                .bind(minute)
                .bind(holder)
                .bind(campaign.map_or(0, |c| c.0))
                .fetch_optional(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE campaign_members SET lease_holder = NULL, lease_until = NULL
                 WHERE tenant_id = $1 AND lease_holder = $2 AND id <> $3",
            )
            .bind(tenant.0)
            .bind(holder)
            .bind(chosen.unwrap_or(0))
            .execute(&mut *tx)
            .await?;
            if chosen.is_none() {
                let candidates = format!(
                    "SELECT m.id FROM campaign_members m JOIN customers c ON c.tenant_id = m.tenant_id AND c.id = m.customer_id
                     WHERE {CALLABLE} AND (m.lease_until IS NULL OR m.lease_until <= $4) AND $6 = $6 {only}
                     ORDER BY m.attempts, COALESCE(m.last_attempt_at, 0), m.id LIMIT 5"
                );
                let ids: Vec<i64> = sqlx::query_scalar(&candidates)
                    .bind(tenant.0)
                    .bind(true)
                    .bind(false)
                    .bind(unix(now))
                    .bind(minute)
                    .bind(holder)
                    .bind(campaign.map_or(0, |c| c.0))
                    .fetch_all(&mut *tx)
                    .await?;
                // The claim re-checks the lease in its WHERE: of two operators racing for one
                // member (PostgreSQL re-evaluates it after the other's commit), one wins.
                for id in ids {
                    let claimed = sqlx::query(
                        "UPDATE campaign_members SET lease_holder = $3, lease_until = $4
                         WHERE tenant_id = $1 AND id = $2 AND (lease_until IS NULL OR lease_until <= $5)",
                    )
                    .bind(tenant.0)
                    .bind(id)
                    .bind(holder)
                    .bind(until)
                    .bind(unix(now))
                    .execute(&mut *tx)
                    .await?;
                    if claimed.rows_affected() == 1 {
                        chosen = Some(id);
                        break;
                    }
                }
            } else {
                sqlx::query("UPDATE campaign_members SET lease_until = $3 WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant.0)
                    .bind(chosen.unwrap_or(0))
                    .bind(until)
                    .execute(&mut *tx)
                    .await?;
            }
            let Some(id) = chosen else {
                tx.commit().await?;
                return Ok(None);
            };
            let row = sqlx::query(
                "SELECT m.id, m.campaign_id, g.name, m.customer_id, m.attempts, m.call_max_attempts, m.lease_until
                 FROM campaign_members m JOIN campaigns g ON g.tenant_id = m.tenant_id AND g.id = m.campaign_id
                 WHERE m.tenant_id = $1 AND m.id = $2",
            )
            .bind(tenant.0)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let task = CallTask {
                member_id: CampaignMemberId(row.try_get("id")?),
                campaign_id: CampaignId(row.try_get("campaign_id")?),
                campaign_name: row.try_get("name")?,
                customer_id: CustomerId(row.try_get("customer_id")?),
                attempts: count(&row, "attempts")?,
                max_attempts: count(&row, "call_max_attempts")?,
                lease_until: at(row.try_get("lease_until")?),
            };
            tx.commit().await?;
            Ok(Some(task))
        }

        async fn sql_campaign_call_release(pool: &sqlx::Pool<$db>, tenant: TenantId, holder: &str) -> Result<()> {
            sqlx::query("UPDATE campaign_members SET lease_holder = NULL, lease_until = NULL WHERE tenant_id = $1 AND lease_holder = $2")
                .bind(tenant.0)
                .bind(holder)
                .execute(pool)
                .await?;
            Ok(())
        }

        async fn sql_campaign_call_record(
            pool: &sqlx::Pool<$db>,
            tenant: TenantId,
            campaign: CampaignId,
            member: CampaignMemberId,
            holder: &str,
            attempt: &CallAttempt,
        ) -> Result<CallRecorded> {
            let mut tx = pool.begin().await?;
            let row = sqlx::query(
                "SELECT m.campaign_id, m.customer_id, m.call_open, m.attempts, m.call_max_attempts, m.call_from_minute,
                        m.call_to_minute, m.call_spacing_seconds, m.lease_holder, g.name
                 FROM campaign_members m JOIN campaigns g ON g.tenant_id = m.tenant_id AND g.id = m.campaign_id
                 WHERE m.tenant_id = $1 AND m.id = $2 AND m.campaign_id = $3",
            )
            .bind(tenant.0)
            .bind(member.0)
            .bind(campaign.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound("call task"))?;
            let lease: Option<String> = row.try_get("lease_holder")?;
            if !row.try_get::<bool, _>("call_open")? || lease.as_deref() != Some(holder) {
                return Err(StoreError::Conflict("call task lease".to_owned()));
            }
            let campaign_id: i64 = row.try_get("campaign_id")?;
            let customer = CustomerId(row.try_get("customer_id")?);
            let rules = kimochi_domain::campaign::CallRules {
                max_attempts: count(&row, "call_max_attempts")?,
                from_minute: count(&row, "call_from_minute")?,
                to_minute: count(&row, "call_to_minute")?,
                spacing_minutes: count(&row, "call_spacing_seconds")? / 60,
            };
            let name: String = row.try_get("name")?;
            let contact = NewContact {
                external_id: None,
                customer_id: customer,
                channel: Channel::Phone,
                direction: Direction::Outbound,
                started_at: attempt.at,
                ended_at: None,
                agent_id: attempt.agent,
                reason: Some(name.chars().take(100).collect()),
                outcome: Some(attempt.outcome.contact_outcome()),
                text: attempt.text.clone(),
                thread_of: None,
                tags: attempt.tags.clone(),
            };
            contact.validate().map_err(StoreError::Invalid)?;
            if let Some(agent) = attempt.agent {
                reference_exists(&mut tx, "users", "agent_id", tenant, agent.0).await?;
            }
            let contact_id = insert_contact(&mut tx, tenant, &contact, None).await?;
            recompute_stats(&mut tx, tenant, customer.0, customer.0).await?;
            let attempts = count(&row, "attempts")? + 1;
            let step_done = kimochi_domain::campaign::attempt_ends_step(&rules, attempts, attempt.outcome);
            sqlx::query(
                "UPDATE campaign_members SET attempts = $3, last_attempt_at = $4, last_outcome = $5,
                   lease_holder = NULL, lease_until = NULL, call_open = $6,
                   step = CASE WHEN $7 THEN step + 1 ELSE step END,
                   step_started_at = CASE WHEN $7 THEN $4 ELSE step_started_at END
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant.0)
            .bind(member.0)
            .bind(i64::from(attempts))
            .bind(unix(attempt.at))
            .bind(attempt.outcome.code())
            .bind(!step_done)
            .bind(step_done)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO campaign_attempts (tenant_id, campaign_id, member_id, contact_id, outcome, at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(tenant.0)
            .bind(campaign_id)
            .bind(member.0)
            .bind(contact_id)
            .bind(attempt.outcome.code())
            .bind(unix(attempt.at))
            .execute(&mut *tx)
            .await?;
            let contact = fetch_contact(&mut *tx, tenant, contact_id).await?;
            tx.commit().await?;
            Ok(CallRecorded { contact, step_done, attempts })
        }

        async fn sql_campaign_results_facts(
            pool: &sqlx::Pool<$db>,
            tenant: TenantId,
            id: CampaignId,
            window: time::Duration,
        ) -> Result<(Campaign, Vec<CampaignMemberFacts>)> {
            let mut conn = pool.acquire().await?;
            let campaign = fetch_campaign(&mut *conn, tenant, id).await?;
            let from = unix(campaign.started_at);
            let to = from.saturating_add(window.whole_seconds());
            let rows = sqlx::query(
                "SELECT m.in_holdout,
                   CAST(CASE WHEN EXISTS (SELECT 1 FROM contacts k WHERE k.tenant_id = m.tenant_id AND k.customer_id = m.customer_id
                       AND k.direction = 'outbound' AND k.started_at >= $3 AND k.started_at < $4
                       AND (k.outcome IS NULL OR k.outcome NOT IN ('no_contact', 'busy', 'bounced'))) THEN 1 ELSE 0 END AS BIGINT) AS contacted,
                   CAST(CASE WHEN EXISTS (SELECT 1 FROM contacts k WHERE k.tenant_id = m.tenant_id AND k.customer_id = m.customer_id
                       AND k.started_at >= $3 AND k.started_at < $4
                       AND ((k.channel = 'email' AND k.outcome IN ('opened', 'clicked'))
                         OR (k.channel = 'phone' AND k.direction = 'outbound'
                             AND k.outcome IN ('resolved', 'ordered', 'callback', 'lost_order')))) THEN 1 ELSE 0 END AS BIGINT) AS responded,
                   CAST(CASE WHEN EXISTS (SELECT 1 FROM orders o WHERE o.tenant_id = m.tenant_id AND o.customer_id = m.customer_id
                       AND o.ordered_at >= $3 AND o.ordered_at < $4) THEN 1 ELSE 0 END AS BIGINT) AS converted,
                   CAST(CASE WHEN EXISTS (SELECT 1 FROM orders o WHERE o.tenant_id = m.tenant_id AND o.customer_id = m.customer_id
                       AND o.is_subscription = $5 AND o.ordered_at < $3) THEN 1 ELSE 0 END AS BIGINT) AS subscriber,
                   CAST(CASE WHEN EXISTS (SELECT 1 FROM orders o WHERE o.tenant_id = m.tenant_id AND o.customer_id = m.customer_id
                       AND o.is_subscription = $5 AND o.ordered_at >= $3 AND o.ordered_at < $4) THEN 1 ELSE 0 END AS BIGINT) AS retained,
                   CAST(COALESCE((SELECT SUM(o.total_amount) FROM orders o WHERE o.tenant_id = m.tenant_id
                       AND o.customer_id = m.customer_id AND o.ordered_at >= $3 AND o.ordered_at < $4), 0) AS BIGINT) AS revenue
                 FROM campaign_members m WHERE m.tenant_id = $1 AND m.campaign_id = $2 ORDER BY m.id",
            )
            .bind(tenant.0)
            .bind(id.0)
            .bind(from)
            .bind(to)
            .bind(true)
            .fetch_all(&mut *conn)
            .await?;
            let flag = |row: &DbRow, column: &str| -> Result<bool> { Ok(row.try_get::<i64, _>(column)? != 0) };
            let facts = rows
                .iter()
                .map(|row| {
                    let subscriber = flag(row, "subscriber")?;
                    Ok(CampaignMemberFacts {
                        group: if row.try_get::<bool, _>("in_holdout")? { Group::Holdout } else { Group::Treatment },
                        contacted: flag(row, "contacted")?,
                        responded: flag(row, "responded")?,
                        converted: flag(row, "converted")?,
                        subscriber,
                        retained: subscriber && flag(row, "retained")?,
                        revenue: row.try_get("revenue")?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((campaign, facts))
        }
    };
}
pub(crate) use campaign_sql;
