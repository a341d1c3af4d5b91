//! Behavioural data intake (issue 6, T1, migration 0012), written once for both engines like
//! `alerts.rs`. One import is one transaction: every row's customer is looked up (by external
//! id, or by email or phone through the same lookup tables as the search, normalised the same
//! way); a row whose customer is not found, or is ambiguous, is a bad row. Survey answers and
//! web visits go to `behavior_events`; email opens and clicks become email-event contacts
//! (channel email, outbound) with an external id derived from the row, so importing a file
//! twice adds nothing the second time (`dedupe_key` does the same for events).

use sha2::{Digest, Sha256};

/// Hex SHA-256 of the parts, separated so that ("ab", "c") and ("a", "bc") differ.
pub(crate) fn content_key(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

macro_rules! behavior_sql {
    ($db:ty) => {
        use kimochi_domain::behavior::*;

        use crate::behavior::content_key;

        /// The customer a row names: `Ok(None)` when none matches, a reason when several do.
        async fn customer_by_key(tx: &mut Tx<'_>, tenant: TenantId, key: &CustomerKey) -> Result<Result<Option<i64>, String>> {
            let (sql, value) = match key {
                CustomerKey::ExternalId(id) => ("SELECT id FROM customers WHERE tenant_id = $1 AND external_id = $2 LIMIT 2", id.as_str().to_owned()),
                CustomerKey::Email(email) => ("SELECT customer_id AS id FROM customer_emails WHERE tenant_id = $1 AND email = $2 LIMIT 2", email.as_str().to_lowercase()),
                CustomerKey::Phone(phone) => ("SELECT customer_id AS id FROM customer_phones WHERE tenant_id = $1 AND phone = $2 LIMIT 2", phone.digits().to_owned()),
            };
            let ids: Vec<i64> = sqlx::query_scalar(sql).bind(tenant.0).bind(value).fetch_all(&mut **tx).await?;
            Ok(match ids.as_slice() {
                [] => Ok(None),
                [id] => Ok(Some(*id)),
                _ => Err("matches more than one customer; use customer_external_id".to_owned()),
            })
        }

        async fn sql_import_events(pool: &sqlx::Pool<$db>, tenant: TenantId, rows: &[Line<EventImport>], options: ImportOptions) -> Result<ImportReport> {
            let mut tx = pool.begin().await?;
            let mut report = ImportReport::default();
            let mut touched: Vec<i64> = Vec::new();
            for Line { line, record } in rows {
                let line = *line;
                let customer = match customer_by_key(&mut tx, tenant, &record.customer).await? {
                    Ok(Some(customer)) => customer,
                    Ok(None) => {
                        report.problems.push(problem(line, record.customer.column(), &record.customer.value(), "no customer has this value"));
                        continue;
                    }
                    Err(reason) => {
                        report.problems.push(problem(line, record.customer.column(), &record.customer.value(), &reason));
                        continue;
                    }
                };
                let at = unix(record.occurred_at);
                let at_text = at.to_string();
                let customer_text = customer.to_string();
                match &record.detail {
                    EventDetail::Email { event, url, campaign } => {
                        let key = content_key(&[&customer_text, &at_text, event.code(), url.as_deref().unwrap_or(""), campaign.as_deref().unwrap_or("")]);
                        let external_id = ExternalId::parse(&format!("mail-import-{}", &key[..40])).map_err(StoreError::Invalid)?;
                        let exists = sqlx::query("SELECT 1 FROM contacts WHERE tenant_id = $1 AND external_id = $2")
                            .bind(tenant.0).bind(external_id.as_str()).fetch_optional(&mut *tx).await?;
                        if exists.is_some() {
                            continue;
                        }
                        let label = campaign.as_deref().map(|c| format!("（{c}）")).unwrap_or_default();
                        let text = match (event, url) {
                            (Outcome::Clicked, Some(url)) => crate::email::event_text(&format!("メールのリンクをクリック{label}"), url),
                            (Outcome::Clicked, None) => format!("メールのリンクをクリック{label}"),
                            _ => format!("メール開封{label}"),
                        };
                        let contact = NewContact {
                            external_id: Some(external_id),
                            customer_id: CustomerId(customer),
                            channel: Channel::Email,
                            direction: Direction::Outbound,
                            started_at: record.occurred_at,
                            ended_at: None,
                            agent_id: None,
                            reason: None,
                            outcome: Some(*event),
                            text,
                            thread_of: None,
                            tags: ContactTags::default(),
                        };
                        insert_contact(&mut tx, tenant, &contact, None).await?;
                        touched.push(customer);
                    }
                    EventDetail::Survey { survey, question, answer } => {
                        let attributes = attributes_json(&StoreMap::from([("survey".to_owned(), survey.clone())]));
                        let key = content_key(&["survey", &customer_text, &at_text, survey, question, answer]);
                        let done = sqlx::query(
                            "INSERT INTO behavior_events (tenant_id, customer_id, kind, occurred_at, key, value, url, attributes, dedupe_key)
                             VALUES ($1, $2, 'survey', $3, $4, $5, NULL, $6, $7) ON CONFLICT (tenant_id, dedupe_key) DO NOTHING",
                        )
                        .bind(tenant.0).bind(customer).bind(at).bind(question).bind(answer).bind(attributes).bind(key)
                        .execute(&mut *tx).await?;
                        if done.rows_affected() == 0 {
                            continue;
                        }
                    }
                    EventDetail::Web { url, referrer } => {
                        let mut attributes = StoreMap::new();
                        if let Some(referrer) = referrer {
                            attributes.insert("referrer".to_owned(), referrer.clone());
                        }
                        let key = content_key(&["web", &customer_text, &at_text, url, referrer.as_deref().unwrap_or("")]);
                        let done = sqlx::query(
                            "INSERT INTO behavior_events (tenant_id, customer_id, kind, occurred_at, key, value, url, attributes, dedupe_key)
                             VALUES ($1, $2, 'web', $3, '', '', $4, $5, $6) ON CONFLICT (tenant_id, dedupe_key) DO NOTHING",
                        )
                        .bind(tenant.0).bind(customer).bind(at).bind(url).bind(attributes_json(&attributes)).bind(key)
                        .execute(&mut *tx).await?;
                        if done.rows_affected() == 0 {
                            continue;
                        }
                    }
                }
                report.inserted += 1;
            }
            touched.sort_unstable();
            touched.dedup();
            for customer in touched {
                recompute_stats(&mut tx, tenant, customer, customer).await?;
            }
            report.skipped = report.problems.iter().map(|p| p.line).collect::<std::collections::BTreeSet<_>>().len() as u64;
            finish_import(tx, options, report).await
        }

        async fn sql_behavior_event_list(pool: &sqlx::Pool<$db>, tenant: TenantId, customer: CustomerId, limit: u32) -> Result<Vec<BehaviorEvent>> {
            let rows = sqlx::query(
                "SELECT customer_id, kind, occurred_at, key, value, url, attributes FROM behavior_events
                 WHERE tenant_id = $1 AND customer_id = $2 ORDER BY occurred_at DESC, id DESC LIMIT $3",
            )
            .bind(tenant.0)
            .bind(customer.0)
            .bind(i64::from(limit.clamp(1, 500)))
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|row| {
                    let kind: String = row.try_get("kind")?;
                    let attributes: String = row.try_get("attributes")?;
                    Ok(BehaviorEvent {
                        customer_id: CustomerId(row.try_get("customer_id")?),
                        kind: vocab("event kind", &kind, EventKind::from_code)?,
                        occurred_at: at(row.try_get("occurred_at")?),
                        key: row.try_get("key")?,
                        value: row.try_get("value")?,
                        url: row.try_get("url")?,
                        attributes: parse_attributes(&attributes)?,
                    })
                })
                .collect()
        }
    };
}

pub(crate) use behavior_sql;
