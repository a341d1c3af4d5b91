//! Hearing points (issue 6 S2/K5/S3, migration 0010): a tenant's question sets, the answers
//! captured with a contact (in the contact's transaction), the customer's latest soft facts, the
//! asked-rate report and the rows the potential screening reads. Written once for both engines
//! like `admin.rs`: `hearing_sql!` expands to free functions inside each engine's module, and the
//! `Store` methods in `store_impl!` call them.
//!
//! Editing a set keeps the answers attached: questions are matched by id, new ones are added,
//! and a question left out is deleted when nobody answered it, retired (kept for the reports,
//! hidden from the form) otherwise. A set with answers cannot be deleted.

use kimochi_domain::hearing::SoftFact;
use time::OffsetDateTime;

use crate::CustomerSummary;

/// An answer's value in the column of its kind: `value_text` for choice and text,
/// `value_number`, `value_date` as ISO text; all empty when the question was not answered.
pub(crate) fn answer_columns(
    value: Option<&kimochi_domain::hearing::AnswerValue>,
) -> (Option<String>, Option<f64>, Option<String>) {
    use kimochi_domain::hearing::AnswerValue;
    match value {
        Some(AnswerValue::Choice(text) | AnswerValue::Text(text)) => (Some(text.clone()), None, None),
        Some(AnswerValue::Number(number)) => (None, Some(*number), None),
        Some(AnswerValue::Date(date)) => (None, None, Some(kimochi_domain::datetime::format_date(*date))),
        None => (None, None, None),
    }
}

/// Most candidates the prospect list reads in one call.
pub const MAX_PROSPECTS: u32 = 1000;

/// What the potential screening reads of one customer: behaviour aggregates kept current at
/// write time, the latest scores if a run scored them, and the latest soft facts.
#[derive(Debug, Clone, PartialEq)]
pub struct ProspectRow {
    pub customer: CustomerSummary,
    pub first_purchase_at: Option<OffsetDateTime>,
    pub last_purchase_at: Option<OffsetDateTime>,
    /// Distinct purchase days (JST).
    pub purchase_days: i64,
    /// Kimochi notes of kind `potential`.
    pub potential_notes: i64,
    /// Contacts the text engine heard as positive.
    pub positive_contacts: i64,
    pub last_positive_contact_at: Option<OffsetDateTime>,
    pub p_alive: Option<f64>,
    pub clv: Option<f64>,
    pub soft_facts: Vec<SoftFact>,
}

macro_rules! hearing_sql {
    ($db:ty) => {
        use kimochi_domain::hearing as hp;

        const QUESTION_COLUMNS: &str = "q.id, q.set_id, q.position, q.label, q.kind, q.options, q.min_value, \
             q.max_value, q.unit, q.max_chars, q.soft_attribute, q.hint, q.weight";
        const SET_COLUMNS: &str = "id, tenant_id, name, description, default_inbound, created_at, updated_at";

        fn answer_kind_from_row(row: &DbRow) -> Result<hp::AnswerKind> {
            let kind: String = row.try_get("kind")?;
            Ok(match kind.as_str() {
                "choice" => {
                    let options: String = row.try_get("options")?;
                    let options: Vec<String> =
                        serde_json::from_str(&options).or_else(|_| corrupt("hearing options", &options))?;
                    hp::AnswerKind::Choice { options }
                }
                "number" => hp::AnswerKind::Number {
                    min: row.try_get("min_value")?,
                    max: row.try_get("max_value")?,
                    unit: row.try_get("unit")?,
                },
                "text" => {
                    let max_chars: Option<i64> = row.try_get("max_chars")?;
                    let max_chars = max_chars.and_then(|m| u32::try_from(m).ok());
                    hp::AnswerKind::Text { max_chars: max_chars.unwrap_or(hp::MAX_TEXT_ANSWER_CHARS) }
                }
                "date" => hp::AnswerKind::Date,
                other => return corrupt("hearing question kind", other),
            })
        }

        fn question_from_row(row: &DbRow) -> Result<hp::HearingQuestion> {
            let position: i64 = row.try_get("position")?;
            let weight: i64 = row.try_get("weight")?;
            Ok(hp::HearingQuestion {
                id: hp::HearingQuestionId(row.try_get("id")?),
                set_id: hp::HearingSetId(row.try_get("set_id")?),
                position: u32::try_from(position).or_else(|_| corrupt("position", &position.to_string()))?,
                label: row.try_get("label")?,
                kind: answer_kind_from_row(row)?,
                soft_attribute: row.try_get("soft_attribute")?,
                hint: row.try_get("hint")?,
                weight: u32::try_from(weight).or_else(|_| corrupt("weight", &weight.to_string()))?,
            })
        }

        fn set_from_row(row: &DbRow) -> Result<hp::HearingSet> {
            Ok(hp::HearingSet {
                id: hp::HearingSetId(row.try_get("id")?),
                tenant_id: TenantId(row.try_get("tenant_id")?),
                name: row.try_get("name")?,
                description: row.try_get("description")?,
                default_inbound: row.try_get("default_inbound")?,
                questions: Vec::new(),
                created_at: at(row.try_get("created_at")?),
                updated_at: at(row.try_get("updated_at")?),
            })
        }

        /// The value of an answer row, read from the column of its question's kind.
        fn answer_value_from_row(row: &DbRow, kind: &str) -> Result<Option<hp::AnswerValue>> {
            if !row.try_get::<bool, _>("answered")? {
                return Ok(None);
            }
            let text: Option<String> = row.try_get("value_text")?;
            let value = match kind {
                "choice" => text.map(hp::AnswerValue::Choice),
                "text" => text.map(hp::AnswerValue::Text),
                "number" => row.try_get::<Option<f64>, _>("value_number")?.map(hp::AnswerValue::Number),
                "date" => {
                    let date: Option<String> = row.try_get("value_date")?;
                    date.map(|d| kimochi_domain::datetime::parse_date("value_date", &d).or_else(|_| corrupt("value_date", &d)))
                        .transpose()?
                        .map(hp::AnswerValue::Date)
                }
                other => return corrupt("hearing question kind", other),
            };
            match value {
                Some(value) => Ok(Some(value)),
                None => corrupt("hearing answer", "answered without a value"),
            }
        }

        /// Sets of a tenant (one when `only` is given) with their current questions in order.
        async fn fetch_sets(
            conn: &mut <$db as sqlx::Database>::Connection,
            tenant: TenantId,
            only: Option<hp::HearingSetId>,
        ) -> Result<Vec<hp::HearingSet>> {
            let filter = "AND ($2 = 0 OR id = $2)";
            let rows = sqlx::query(&format!(
                "SELECT {SET_COLUMNS} FROM hearing_sets WHERE tenant_id = $1 {filter} ORDER BY name, id"
            ))
            .bind(tenant.0)
            .bind(only.map_or(0, |id| id.0))
            .fetch_all(&mut *conn)
            .await?;
            let mut sets = rows.iter().map(set_from_row).collect::<Result<Vec<_>>>()?;
            let filter = "AND ($2 = 0 OR q.set_id = $2)";
            let rows = sqlx::query(&format!(
                "SELECT {QUESTION_COLUMNS} FROM hearing_questions q
                 WHERE q.tenant_id = $1 AND NOT q.retired {filter} ORDER BY q.set_id, q.position, q.id"
            ))
            .bind(tenant.0)
            .bind(only.map_or(0, |id| id.0))
            .fetch_all(&mut *conn)
            .await?;
            for row in &rows {
                let question = question_from_row(row)?;
                if let Some(set) = sets.iter_mut().find(|s| s.id == question.set_id) {
                    set.questions.push(question);
                }
            }
            Ok(sets)
        }

        async fn fetch_set(
            conn: &mut <$db as sqlx::Database>::Connection,
            tenant: TenantId,
            id: hp::HearingSetId,
        ) -> Result<hp::HearingSet> {
            fetch_sets(conn, tenant, Some(id)).await?.pop().ok_or(StoreError::NotFound("hearing set"))
        }

        /// Writes the kind-specific columns of a question (`$n` … `$n+5`: kind, options, min,
        /// max, unit, max_chars).
        fn kind_columns(kind: &hp::AnswerKind) -> (&'static str, String, Option<f64>, Option<f64>, Option<String>, Option<i64>) {
            match kind {
                hp::AnswerKind::Choice { options } => (
                    "choice",
                    serde_json::to_string(options).unwrap_or_else(|_| "[]".to_owned()),
                    None,
                    None,
                    None,
                    None,
                ),
                hp::AnswerKind::Number { min, max, unit } => ("number", "[]".to_owned(), *min, *max, unit.clone(), None),
                hp::AnswerKind::Text { max_chars } => ("text", "[]".to_owned(), None, None, None, Some(i64::from(*max_chars))),
                hp::AnswerKind::Date => ("date", "[]".to_owned(), None, None, None, None),
            }
        }

        async fn answers_of_question(tx: &mut Tx<'_>, tenant: TenantId, question: i64) -> Result<i64> {
            let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM hearing_answers WHERE tenant_id = $1 AND question_id = $2")
                .bind(tenant.0)
                .bind(question)
                .fetch_one(&mut **tx)
                .await?;
            Ok(count)
        }

        /// Writes the questions of a set: updates those with an id (which must be of this set),
        /// inserts the others, deletes or retires those left out.
        async fn write_questions(tx: &mut Tx<'_>, tenant: TenantId, set: i64, questions: &[hp::NewHearingQuestion]) -> Result<()> {
            let existing: Vec<(i64, String)> = sqlx::query_as(
                "SELECT id, kind FROM hearing_questions WHERE tenant_id = $1 AND set_id = $2 AND NOT retired",
            )
            .bind(tenant.0)
            .bind(set)
            .fetch_all(&mut **tx)
            .await?;
            for (old_id, _) in &existing {
                if questions.iter().any(|q| q.id.map(|id| id.0) == Some(*old_id)) {
                    continue;
                }
                if answers_of_question(tx, tenant, *old_id).await? > 0 {
                    sqlx::query("UPDATE hearing_questions SET retired = TRUE WHERE tenant_id = $1 AND id = $2")
                        .bind(tenant.0).bind(old_id).execute(&mut **tx).await?;
                } else {
                    sqlx::query("DELETE FROM hearing_questions WHERE tenant_id = $1 AND id = $2")
                        .bind(tenant.0).bind(old_id).execute(&mut **tx).await?;
                }
            }
            for (index, question) in questions.iter().enumerate() {
                let (kind, options, min, max, unit, max_chars) = kind_columns(&question.kind);
                let position = index as i64 + 1;
                match question.id {
                    Some(id) => {
                        let Some((_, old_kind)) = existing.iter().find(|(old, _)| *old == id.0) else {
                            return Err(StoreError::UnknownReference { field: "questions.id" });
                        };
                        // Stored answers are typed by their question: a kind cannot change under them.
                        if old_kind != kind && answers_of_question(tx, tenant, id.0).await? > 0 {
                            return Err(StoreError::Invalid(ValidationError::new(
                                "kind",
                                kind,
                                format!("question 「{}」 has answers of kind {old_kind}; add a new question instead", question.label),
                            )));
                        }
                        sqlx::query(
                            "UPDATE hearing_questions SET position = $3, label = $4, kind = $5, options = $6, min_value = $7,
                               max_value = $8, unit = $9, max_chars = $10, soft_attribute = $11, hint = $12, weight = $13
                             WHERE tenant_id = $1 AND id = $2",
                        )
                        .bind(tenant.0)
                        .bind(id.0)
                        .bind(position)
                        .bind(&question.label)
                        .bind(kind)
                        .bind(options)
                        .bind(min)
                        .bind(max)
                        .bind(unit)
                        .bind(max_chars)
                        .bind(&question.soft_attribute)
                        .bind(&question.hint)
                        .bind(i64::from(question.weight))
                        .execute(&mut **tx)
                        .await?;
                    }
                    None => {
                        sqlx::query(
                            "INSERT INTO hearing_questions (tenant_id, set_id, position, label, kind, options, min_value,
                               max_value, unit, max_chars, soft_attribute, hint, weight)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                        )
                        .bind(tenant.0)
                        .bind(set)
                        .bind(position)
                        .bind(&question.label)
                        .bind(kind)
                        .bind(options)
                        .bind(min)
                        .bind(max)
                        .bind(unit)
                        .bind(max_chars)
                        .bind(&question.soft_attribute)
                        .bind(&question.hint)
                        .bind(i64::from(question.weight))
                        .execute(&mut **tx)
                        .await?;
                    }
                }
            }
            Ok(())
        }

        /// One inbound default per tenant: choosing a set as the default clears the others.
        async fn clear_default(tx: &mut Tx<'_>, tenant: TenantId, except: i64) -> Result<()> {
            sqlx::query("UPDATE hearing_sets SET default_inbound = FALSE WHERE tenant_id = $1 AND id <> $2 AND default_inbound")
                .bind(tenant.0)
                .bind(except)
                .execute(&mut **tx)
                .await?;
            Ok(())
        }

        async fn sql_hearing_set_create(
            pool: &sqlx::Pool<$db>,
            tenant: TenantId,
            set: &hp::NewHearingSet,
            now: OffsetDateTime,
        ) -> Result<hp::HearingSet> {
            set.validate().map_err(StoreError::Invalid)?;
            if set.questions.iter().any(|q| q.id.is_some()) {
                return Err(StoreError::UnknownReference { field: "questions.id" });
            }
            let mut tx = pool.begin().await?;
            if set.default_inbound {
                clear_default(&mut tx, tenant, 0).await?;
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO hearing_sets (tenant_id, name, description, default_inbound, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
            )
            .bind(tenant.0)
            .bind(&set.name)
            .bind(&set.description)
            .bind(set.default_inbound)
            .bind(unix(now))
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| StoreError::from_write(e, "hearing set name"))?;
            write_questions(&mut tx, tenant, id, &set.questions).await?;
            let created = fetch_set(&mut *tx, tenant, hp::HearingSetId(id)).await?;
            tx.commit().await?;
            Ok(created)
        }

        async fn sql_hearing_set_update(
            pool: &sqlx::Pool<$db>,
            tenant: TenantId,
            id: hp::HearingSetId,
            set: &hp::NewHearingSet,
            now: OffsetDateTime,
        ) -> Result<hp::HearingSet> {
            set.validate().map_err(StoreError::Invalid)?;
            let mut tx = pool.begin().await?;
            if set.default_inbound {
                clear_default(&mut tx, tenant, id.0).await?;
            }
            let done = sqlx::query(
                "UPDATE hearing_sets SET name = $3, description = $4, default_inbound = $5, updated_at = $6
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant.0)
            .bind(id.0)
            .bind(&set.name)
            .bind(&set.description)
            .bind(set.default_inbound)
            .bind(unix(now))
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::from_write(e, "hearing set name"))?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound("hearing set"));
            }
            write_questions(&mut tx, tenant, id.0, &set.questions).await?;
            let updated = fetch_set(&mut *tx, tenant, id).await?;
            tx.commit().await?;
            Ok(updated)
        }

        async fn sql_hearing_set_delete(pool: &sqlx::Pool<$db>, tenant: TenantId, id: hp::HearingSetId) -> Result<()> {
            let mut tx = pool.begin().await?;
            let answers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM hearing_answers WHERE tenant_id = $1 AND set_id = $2")
                .bind(tenant.0)
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await?;
            if answers > 0 {
                return Err(StoreError::Conflict("hearing set answers".to_owned()));
            }
            let done = sqlx::query("DELETE FROM hearing_sets WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.0)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound("hearing set"));
            }
            tx.commit().await?;
            Ok(())
        }

        async fn sql_hearing_set_get(pool: &sqlx::Pool<$db>, tenant: TenantId, id: hp::HearingSetId) -> Result<hp::HearingSet> {
            let mut conn = pool.acquire().await?;
            fetch_set(&mut *conn, tenant, id).await
        }

        async fn sql_hearing_set_list(pool: &sqlx::Pool<$db>, tenant: TenantId) -> Result<Vec<hp::HearingSet>> {
            let mut conn = pool.acquire().await?;
            fetch_sets(&mut *conn, tenant, None).await
        }

        async fn sql_hearing_set_default_inbound(pool: &sqlx::Pool<$db>, tenant: TenantId) -> Result<Option<hp::HearingSet>> {
            let mut conn = pool.acquire().await?;
            let id: Option<i64> = sqlx::query_scalar("SELECT id FROM hearing_sets WHERE tenant_id = $1 AND default_inbound")
                .bind(tenant.0)
                .fetch_optional(&mut *conn)
                .await?;
            match id {
                Some(id) => Ok(Some(fetch_set(&mut *conn, tenant, hp::HearingSetId(id)).await?)),
                None => Ok(None),
            }
        }

        const ANSWER_COLUMNS: &str = "a.id, a.customer_id, a.contact_id, a.set_id, a.question_id, a.agent_id, a.asked, \
             a.answered, a.value_text, a.value_number, a.value_date, a.answered_at, q.kind";

        fn answer_from_row(row: &DbRow) -> Result<hp::HearingAnswer> {
            let kind: String = row.try_get("kind")?;
            Ok(hp::HearingAnswer {
                id: row.try_get("id")?,
                customer_id: CustomerId(row.try_get("customer_id")?),
                contact_id: ContactId(row.try_get("contact_id")?),
                set_id: hp::HearingSetId(row.try_get("set_id")?),
                question_id: hp::HearingQuestionId(row.try_get("question_id")?),
                agent_id: row.try_get::<Option<i64>, _>("agent_id")?.map(UserId),
                asked: row.try_get("asked")?,
                value: answer_value_from_row(row, &kind)?,
                answered_at: at(row.try_get("answered_at")?),
            })
        }

        async fn fetch_answers_of_contact(
            conn: &mut <$db as sqlx::Database>::Connection,
            tenant: TenantId,
            contact: i64,
        ) -> Result<Vec<hp::HearingAnswer>> {
            let rows = sqlx::query(&format!(
                "SELECT {ANSWER_COLUMNS} FROM hearing_answers a
                 JOIN hearing_questions q ON q.tenant_id = a.tenant_id AND q.id = a.question_id
                 WHERE a.tenant_id = $1 AND a.contact_id = $2 ORDER BY q.position, a.id"
            ))
            .bind(tenant.0)
            .bind(contact)
            .fetch_all(&mut *conn)
            .await?;
            rows.iter().map(answer_from_row).collect()
        }

        /// A contact and its checklist in one transaction: the set is read and the capture
        /// checked against it inside the transaction, so a bad answer stores neither.
        /// Writes a contact's hearing checklist (already checked against its set): one row per
        /// question shown, asked or not, heard when the contact started.
        async fn insert_hearing_answers(
            tx: &mut Tx<'_>,
            tenant: TenantId,
            contact: &NewContact,
            contact_id: i64,
            capture: &hp::HearingCapture,
        ) -> Result<()> {
            for answer in &capture.answers {
                let (text, number, date) = $crate::hearing::answer_columns(answer.value.as_ref());
                sqlx::query(
                    "INSERT INTO hearing_answers (tenant_id, customer_id, contact_id, set_id, question_id, agent_id, asked,
                       answered, value_text, value_number, value_date, answered_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(tenant.0)
                .bind(contact.customer_id.0)
                .bind(contact_id)
                .bind(capture.set_id.0)
                .bind(answer.question_id.0)
                .bind(contact.agent_id.map(|a| a.0))
                .bind(answer.asked)
                .bind(answer.value.is_some())
                .bind(text)
                .bind(number)
                .bind(date)
                .bind(unix(contact.started_at))
                .execute(&mut **tx)
                .await
                .map_err(|e| StoreError::from_write(e, "hearing answer"))?;
            }
            Ok(())
        }

        async fn sql_contact_create_with_hearing(
            pool: &sqlx::Pool<$db>,
            tenant: TenantId,
            contact: &NewContact,
            capture: &hp::HearingCapture,
        ) -> Result<(Contact, Vec<hp::HearingAnswer>)> {
            contact.validate().map_err(StoreError::Invalid)?;
            let mut tx = pool.begin().await?;
            let set = match fetch_set(&mut *tx, tenant, capture.set_id).await {
                Err(StoreError::NotFound(_)) => return Err(StoreError::UnknownReference { field: "hearing.set_id" }),
                other => other?,
            };
            capture.validate(&set).map_err(StoreError::Invalid)?;
            customer_exists(&mut tx, tenant, contact.customer_id).await?;
            if let Some(agent) = contact.agent_id {
                reference_exists(&mut tx, "users", "agent_id", tenant, agent.0).await?;
            }
            let thread = resolve_thread(&mut tx, tenant, contact.customer_id, contact.thread_of).await?;
            let id = insert_contact(&mut tx, tenant, contact, thread).await?;
            insert_hearing_answers(&mut tx, tenant, contact, id, capture).await?;
            recompute_stats(&mut tx, tenant, contact.customer_id.0, contact.customer_id.0).await?;
            let created = fetch_contact(&mut *tx, tenant, id).await?;
            let answers = fetch_answers_of_contact(&mut *tx, tenant, id).await?;
            tx.commit().await?;
            Ok((created, answers))
        }

        async fn sql_hearing_answers_of_contact(pool: &sqlx::Pool<$db>, tenant: TenantId, contact: ContactId) -> Result<Vec<hp::HearingAnswer>> {
            let mut conn = pool.acquire().await?;
            fetch_answers_of_contact(&mut *conn, tenant, contact.0).await
        }

        /// Most answer rows read for one customer's soft facts (the newest).
        const SOFT_FACT_ROWS: i64 = 500;

        /// The latest answered value per soft attribute of each given customer, newest first (in
        /// question order within one contact).
        async fn fetch_soft_facts(
            conn: &mut <$db as sqlx::Database>::Connection,
            tenant: TenantId,
            customers: &[i64],
        ) -> Result<HashMap<i64, Vec<hp::SoftFact>>> {
            let mut facts: HashMap<i64, Vec<hp::SoftFact>> = HashMap::new();
            if customers.is_empty() {
                return Ok(facts);
            }
            let mut query = QueryBuilder::<$db>::new(
                "SELECT a.customer_id, a.question_id, a.contact_id, a.agent_id, a.answered, a.value_text, a.value_number,
                   a.value_date, a.answered_at, q.label, q.kind, q.unit, q.soft_attribute, q.weight
                 FROM hearing_answers a JOIN hearing_questions q ON q.tenant_id = a.tenant_id AND q.id = a.question_id
                 WHERE a.tenant_id = ",
            );
            query.push_bind(tenant.0).push(" AND a.answered AND a.customer_id IN (");
            let mut separated = query.separated(", ");
            for customer in customers {
                separated.push_bind(*customer);
            }
            query
                .push(") ORDER BY a.customer_id, a.answered_at DESC, q.position, a.id DESC LIMIT ")
                .push_bind(SOFT_FACT_ROWS * customers.len() as i64);
            let rows = query.build().fetch_all(&mut *conn).await?;
            for row in &rows {
                let customer: i64 = row.try_get("customer_id")?;
                let soft_attribute: String = row.try_get("soft_attribute")?;
                let list = facts.entry(customer).or_default();
                if list.iter().any(|f| f.soft_attribute == soft_attribute) {
                    continue;
                }
                let kind: String = row.try_get("kind")?;
                let Some(value) = answer_value_from_row(row, &kind)? else { continue };
                let weight: i64 = row.try_get("weight")?;
                list.push(hp::SoftFact {
                    soft_attribute,
                    question_id: hp::HearingQuestionId(row.try_get("question_id")?),
                    label: row.try_get("label")?,
                    value,
                    unit: row.try_get("unit")?,
                    weight: u32::try_from(weight).unwrap_or(0),
                    answered_at: at(row.try_get("answered_at")?),
                    agent_id: row.try_get::<Option<i64>, _>("agent_id")?.map(UserId),
                    contact_id: ContactId(row.try_get("contact_id")?),
                });
            }
            Ok(facts)
        }

        async fn sql_hearing_soft_facts(pool: &sqlx::Pool<$db>, tenant: TenantId, customer: CustomerId) -> Result<Vec<hp::SoftFact>> {
            let mut conn = pool.acquire().await?;
            customer_exists_conn(&mut *conn, tenant, customer).await?;
            Ok(fetch_soft_facts(&mut *conn, tenant, &[customer.0]).await?.remove(&customer.0).unwrap_or_default())
        }

        async fn customer_exists_conn(conn: &mut <$db as sqlx::Database>::Connection, tenant: TenantId, id: CustomerId) -> Result<()> {
            let found = sqlx::query("SELECT 1 FROM customers WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.0)
                .bind(id.0)
                .fetch_optional(&mut *conn)
                .await?;
            found.map(|_| ()).ok_or(StoreError::NotFound("customer"))
        }

        /// Most rows of the asked-rate report (operators × questions).
        const ASKED_RATE_ROWS: i64 = 5000;

        async fn sql_hearing_asked_rates(
            pool: &sqlx::Pool<$db>,
            tenant: TenantId,
            from: OffsetDateTime,
            to: OffsetDateTime,
        ) -> Result<Vec<hp::AskedRate>> {
            let rows = sqlx::query(
                "SELECT a.agent_id, u.display_name, a.set_id, a.question_id, q.label, q.position, COUNT(*) AS shown,
                   SUM(CASE WHEN a.asked THEN 1 ELSE 0 END) AS asked_count,
                   SUM(CASE WHEN a.answered THEN 1 ELSE 0 END) AS answered_count
                 FROM hearing_answers a
                 JOIN hearing_questions q ON q.tenant_id = a.tenant_id AND q.id = a.question_id
                 LEFT JOIN users u ON u.tenant_id = a.tenant_id AND u.id = a.agent_id
                 WHERE a.tenant_id = $1 AND a.answered_at >= $2 AND a.answered_at < $3
                 GROUP BY a.agent_id, u.display_name, a.set_id, a.question_id, q.label, q.position
                 LIMIT $4",
            )
            .bind(tenant.0)
            .bind(unix(from))
            .bind(unix(to))
            .bind(ASKED_RATE_ROWS)
            .fetch_all(pool)
            .await?;
            let mut rates = rows
                .iter()
                .map(|row| {
                    let position: i64 = row.try_get("position")?;
                    Ok(hp::AskedRate {
                        agent_id: row.try_get::<Option<i64>, _>("agent_id")?.map(UserId),
                        agent_name: row.try_get("display_name")?,
                        set_id: hp::HearingSetId(row.try_get("set_id")?),
                        question_id: hp::HearingQuestionId(row.try_get("question_id")?),
                        question_label: row.try_get("label")?,
                        position: u32::try_from(position).unwrap_or(0),
                        shown: row.try_get("shown")?,
                        asked: row.try_get("asked_count")?,
                        answered: row.try_get("answered_count")?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            // Sorted here rather than in SQL: the engines order text (and NULLs) differently.
            rates.sort_by(|a, b| {
                (a.agent_name.as_deref(), a.agent_id, a.set_id, a.position, a.question_id).cmp(&(
                    b.agent_name.as_deref(),
                    b.agent_id,
                    b.set_id,
                    b.position,
                    b.question_id,
                ))
            });
            Ok(rates)
        }

        /// Candidates of the prospect list: customers with answered hearing points (latest first)
        /// and customers with potential kimochi notes, at most `limit` of each.
        async fn sql_prospect_rows(pool: &sqlx::Pool<$db>, tenant: TenantId, limit: u32) -> Result<Vec<crate::hearing::ProspectRow>> {
            let limit = i64::from(limit.clamp(1, crate::hearing::MAX_PROSPECTS));
            let mut conn = pool.acquire().await?;
            let mut ids: Vec<i64> = sqlx::query_scalar(
                "SELECT customer_id FROM hearing_answers WHERE tenant_id = $1 AND answered
                 GROUP BY customer_id ORDER BY MAX(answered_at) DESC, customer_id LIMIT $2",
            )
            .bind(tenant.0)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?;
            let noted: Vec<i64> = sqlx::query_scalar(
                "SELECT customer_id FROM customer_stats WHERE tenant_id = $1 AND potential_notes > 0
                 ORDER BY last_contact_at DESC, customer_id LIMIT $2",
            )
            .bind(tenant.0)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?;
            for id in noted {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut query = QueryBuilder::<$db>::new(format!(
                "SELECT {CUSTOMER_COLUMNS}, s.last_contact_at, s.first_purchase_at, s.last_purchase_at, s.purchase_days,
                   s.potential_notes, s.positive_contacts, sc.p_alive, sc.clv,
                   (SELECT MAX(k.started_at) FROM contacts k
                     WHERE k.tenant_id = c.tenant_id AND k.customer_id = c.id AND k.polarity = 'positive') AS last_positive_at
                 FROM customers c
                 LEFT JOIN customer_stats s ON s.tenant_id = c.tenant_id AND s.customer_id = c.id
                 LEFT JOIN customer_scores sc ON sc.tenant_id = c.tenant_id AND sc.customer_id = c.id
                 WHERE c.tenant_id = "
            ));
            query.push_bind(tenant.0).push(" AND c.id IN (");
            let mut separated = query.separated(", ");
            for id in &ids {
                separated.push_bind(*id);
            }
            query.push(") ORDER BY c.id");
            let rows = query.build().fetch_all(&mut *conn).await?;
            let mut facts = fetch_soft_facts(&mut *conn, tenant, &ids).await?;
            rows.iter()
                .map(|row| {
                    let customer = customer_from_row(row)?;
                    let soft_facts = facts.remove(&customer.id.0).unwrap_or_default();
                    Ok(crate::hearing::ProspectRow {
                        first_purchase_at: optional_at(row.try_get("first_purchase_at")?),
                        last_purchase_at: optional_at(row.try_get("last_purchase_at")?),
                        purchase_days: row.try_get::<Option<i64>, _>("purchase_days")?.unwrap_or(0),
                        potential_notes: row.try_get::<Option<i64>, _>("potential_notes")?.unwrap_or(0),
                        positive_contacts: row.try_get::<Option<i64>, _>("positive_contacts")?.unwrap_or(0),
                        last_positive_contact_at: optional_at(row.try_get("last_positive_at")?),
                        p_alive: row.try_get("p_alive")?,
                        clv: row.try_get("clv")?,
                        soft_facts,
                        customer: CustomerSummary {
                            id: customer.id,
                            external_id: customer.profile.external_id,
                            name: customer.profile.name,
                            kana: customer.profile.kana,
                            phones: customer.profile.phones,
                            emails: customer.profile.emails,
                            prefecture: customer.profile.prefecture,
                            birth_date: customer.profile.birth_date,
                            last_contact_at: optional_at(row.try_get("last_contact_at")?),
                        },
                    })
                })
                .collect()
        }
    };
}
pub(crate) use hearing_sql;
