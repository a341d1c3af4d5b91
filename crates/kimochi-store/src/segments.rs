//! Segments (issue 6, T2, migration 0009): a validated [`SegmentRule`] compiled to one SQL `WHERE`
//! over a tenant's customers (`c`) with their aggregates (`s`, `customer_stats`) and latest scores
//! (`sc`, `customer_scores`), counted and listed in customer id order; and saved segments. Written
//! once for both engines like `admin.rs`: `segments_sql!` expands inside each engine's module.
//!
//! Every value of a rule is bound as a parameter; the SQL text holds only our own fragments. Each
//! condition is wrapped in `COALESCE(…, FALSE)`, so a customer without stats or scores fails a
//! condition instead of making it unknown, and `not` is then the exact complement (an unscored
//! customer is "not churn probability ≥ 0.5"). Time windows are counted back from `as_of`:
//! "days since last order ≥ N" is a last order at least N × 24 h before `as_of`; a customer with
//! no order meets no condition on it. Ages are whole years on `as_of`'s date in Japan time.
//! Calls are contacts on the phone channel; email tracking events are recorded on the email
//! channel, so they never count as calls.

use kimochi_domain::datetime::{JST, format_date};
use kimochi_domain::segment::{Condition, Field, LISTENED_WELL_SECONDS, Op, SegmentRule, SegmentValue, Subject};
use time::OffsetDateTime;

/// One bound value of a compiled rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Bind {
    Integer(i64),
    Number(f64),
    Text(String),
    Bool(bool),
}

/// A rule as SQL: a boolean expression over `c`, `s` and `sc` whose placeholders start at the
/// number given to [`compile`], and the values to bind to them in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CompiledRule {
    pub sql: String,
    pub binds: Vec<Bind>,
    pub uses_stats: bool,
    pub uses_scores: bool,
}

impl CompiledRule {
    /// The `FROM` the rule reads: customers, joined to their stats and scores only when the rule
    /// tests them (a join the rule does not need costs a lookup per customer).
    pub(crate) fn from(&self) -> String {
        let mut from = "FROM customers c".to_owned();
        if self.uses_stats {
            from.push_str(" LEFT JOIN customer_stats s ON s.tenant_id = c.tenant_id AND s.customer_id = c.id");
        }
        if self.uses_scores {
            from.push_str(" LEFT JOIN customer_scores sc ON sc.tenant_id = c.tenant_id AND sc.customer_id = c.id");
        }
        from
    }
}

/// A customer's hearing answers (`a`), walking `hearing_answers_customer`.
const HEARING_ANSWERS_OF: &str = "FROM hearing_answers a WHERE a.tenant_id = c.tenant_id AND a.customer_id = c.id";

struct Compiler {
    sql: String,
    binds: Vec<Bind>,
    next: usize,
    as_of: OffsetDateTime,
    uses_stats: bool,
    uses_scores: bool,
}

/// Compiles `rule` with placeholders from `$first_param` on.
pub(crate) fn compile(rule: &SegmentRule, as_of: OffsetDateTime, first_param: usize) -> CompiledRule {
    let mut compiler = Compiler {
        sql: String::new(),
        binds: Vec::new(),
        next: first_param,
        as_of,
        uses_stats: false,
        uses_scores: false,
    };
    compiler.rule(rule);
    CompiledRule {
        sql: compiler.sql,
        binds: compiler.binds,
        uses_stats: compiler.uses_stats,
        uses_scores: compiler.uses_scores,
    }
}

/// A rough cost of evaluating a rule for one customer: a column test is 1, a correlated
/// subquery over the customer's contacts, notes or products 10. Groups are emitted cheapest
/// first, so that `AND` and `OR` short-circuit before the subqueries (SQLite evaluates the
/// terms in the order written).
fn cost(rule: &SegmentRule) -> u32 {
    match rule {
        SegmentRule::All(rules) | SegmentRule::Any(rules) => rules.iter().map(cost).sum(),
        SegmentRule::Not(inner) => cost(inner),
        SegmentRule::Condition(condition) => match condition.field {
            Field::KimochiTagged
            | Field::KimochiNote
            | Field::BoughtProduct
            | Field::CallAttempts
            | Field::LastCallOutcome
            | Field::ListenedWell => 10,
            Field::UnmetExpectation => 5,
            Field::HearingStatus
            | Field::HearingChoice
            | Field::HearingNumber
            | Field::HearingDaysUntil
            | Field::SurveyAnswer
            | Field::WebVisits
            | Field::EmailEngagement => 10,
            _ => 1,
        },
    }
}

impl Compiler {
    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        let placeholder = format!("${}", self.next);
        self.next += 1;
        placeholder
    }

    fn list(&mut self, value: &SegmentValue) -> String {
        let placeholders: Vec<String> = match value {
            SegmentValue::Texts(texts) => texts.iter().map(|t| self.bind(Bind::Text(t.clone()))).collect(),
            SegmentValue::Integers(ids) => ids.iter().map(|i| self.bind(Bind::Integer(*i))).collect(),
            // Validation gives list fields lists; anything else selects nobody.
            _ => return "(NULL)".to_owned(),
        };
        format!("({})", placeholders.join(", "))
    }

    fn scalar(&mut self, value: &SegmentValue) -> String {
        match value {
            SegmentValue::Bool(b) => self.bind(Bind::Bool(*b)),
            SegmentValue::Integer(i) => self.bind(Bind::Integer(*i)),
            SegmentValue::Number(n) => self.bind(Bind::Number(*n)),
            SegmentValue::Texts(_) | SegmentValue::Integers(_) => "NULL".to_owned(),
        }
    }

    fn rule(&mut self, rule: &SegmentRule) {
        match rule {
            SegmentRule::All(rules) | SegmentRule::Any(rules) => {
                let joiner = if matches!(rule, SegmentRule::All(_)) { " AND " } else { " OR " };
                let mut ordered: Vec<&SegmentRule> = rules.iter().collect();
                ordered.sort_by_key(|rule| cost(rule));
                self.sql.push('(');
                for (i, inner) in ordered.into_iter().enumerate() {
                    if i > 0 {
                        self.sql.push_str(joiner);
                    }
                    self.rule(inner);
                }
                self.sql.push(')');
            }
            SegmentRule::Not(inner) => {
                self.sql.push_str("(NOT ");
                self.rule(inner);
                self.sql.push(')');
            }
            SegmentRule::Condition(condition) => {
                let expression = self.condition(condition);
                self.sql.push_str("COALESCE(");
                self.sql.push_str(&expression);
                self.sql.push_str(", FALSE)");
            }
        }
    }

    /// `expression op value` for a numeric field.
    fn compare(&mut self, expression: &str, op: Op, value: &SegmentValue) -> String {
        let operator = match op {
            Op::Eq => "=",
            Op::Lt => "<",
            Op::Lte => "<=",
            Op::Gt => ">",
            Op::Gte => ">=",
            Op::In => return format!("{expression} IN {}", self.list(value)),
        };
        format!("{expression} {operator} {}", self.scalar(value))
    }

    fn window_start(&mut self, days: Option<i64>) -> Option<String> {
        days.map(|days| self.bind(Bind::Integer(crate::shared::unix(self.as_of) - days * 86_400)))
    }

    fn condition(&mut self, condition: &Condition) -> String {
        let Condition { field, op, value, days, .. } = condition;
        let (op, value, days) = (*op, value, *days);
        match field {
            Field::UnmetExpectation
            | Field::DaysSinceLastOrder
            | Field::OrderCount
            | Field::TotalSpend
            | Field::ConsecutiveNoContact => self.uses_stats = true,
            Field::Stage
            | Field::RfmCell
            | Field::RecencyLevel
            | Field::FrequencyLevel
            | Field::MonetaryLevel
            | Field::Clv
            | Field::ChurnProbability
            | Field::ChurnLevel
            | Field::PAlive
            | Field::Loyalty
            | Field::PositiveDormant
            | Field::RepeatOverdue => self.uses_scores = true,
            _ => {}
        }
        // Correlated subqueries walk the (tenant_id, customer_id, time) indexes of their table.
        const CONTACTS_OF: &str = "FROM contacts k WHERE k.tenant_id = c.tenant_id AND k.customer_id = c.id";
        match field {
            Field::Prefecture => self.compare("c.prefecture", op, value),
            Field::Gender => self.compare("c.gender", op, value),
            Field::AdMedium => self.compare("c.ad_medium", op, value),
            Field::Age => self.age(op, value),
            Field::HasPhone => self.compare("(c.phones <> '')", op, value),
            Field::HasEmail => self.compare("(c.emails <> '')", op, value),
            Field::ConsentPhone => self.compare("c.consent_phone", op, value),
            Field::ConsentEmail => self.compare("c.consent_email", op, value),
            Field::ConsentDm => self.compare("c.consent_dm", op, value),
            Field::DoNotCall => self.compare("c.do_not_call", op, value),
            Field::Stage => self.compare("sc.stage", op, value),
            Field::RfmCell => self.compare("sc.rfm_cell", op, value),
            Field::RecencyLevel => self.compare("(sc.rfm_cell / 100)", op, value),
            Field::FrequencyLevel => self.compare("((sc.rfm_cell / 10) % 10)", op, value),
            Field::MonetaryLevel => self.compare("(sc.rfm_cell % 10)", op, value),
            Field::Clv => self.compare("sc.clv", op, value),
            Field::ChurnProbability => self.compare("sc.churn_probability", op, value),
            Field::ChurnLevel => self.compare("sc.churn_level", op, value),
            Field::PAlive => self.compare("sc.p_alive", op, value),
            Field::Loyalty => self.compare("sc.loyalty", op, value),
            Field::PositiveDormant => self.compare("(sc.positive_dormant <> 0)", op, value),
            Field::RepeatOverdue => self.compare("(sc.repeat_alerts <> '[]')", op, value),
            Field::KimochiTagged => {
                // Tags are stored framed by commas (',gap,advocacy,'); the codes are ours.
                let likes: Vec<String> = match value {
                    SegmentValue::Texts(codes) => codes
                        .iter()
                        .map(|code| format!("k.kimochi LIKE {}", self.bind(Bind::Text(format!("%,{code},%")))))
                        .collect(),
                    _ => vec!["FALSE".to_owned()],
                };
                let from = self.window_start(days).unwrap_or_else(|| "0".to_owned());
                let to = self.bind(Bind::Integer(crate::shared::unix(self.as_of)));
                format!(
                    "EXISTS (SELECT 1 {CONTACTS_OF} AND k.started_at >= {from} AND k.started_at <= {to} AND ({}))",
                    likes.join(" OR ")
                )
            }
            Field::KimochiNote => {
                let kinds = self.list(value);
                let window = match self.window_start(days) {
                    Some(from) => {
                        let to = self.bind(Bind::Integer(crate::shared::unix(self.as_of)));
                        format!(" AND n.captured_at >= {from} AND n.captured_at <= {to}")
                    }
                    None => String::new(),
                };
                format!(
                    "EXISTS (SELECT 1 FROM kimochi_notes n WHERE n.tenant_id = c.tenant_id AND n.customer_id = c.id \
                     AND n.kind IN {kinds}{window})"
                )
            }
            Field::UnmetExpectation => {
                let expression = format!(
                    "(COALESCE(s.expectation_notes, 0) > 0 AND (COALESCE(s.gap_notes, 0) > 0 \
                     OR EXISTS (SELECT 1 {CONTACTS_OF} AND k.kimochi LIKE '%,gap,%')))"
                );
                self.compare(&expression, op, value)
            }
            Field::BoughtProduct => {
                let products = self.list(value);
                format!(
                    "EXISTS (SELECT 1 FROM customer_product_stats ps WHERE ps.tenant_id = c.tenant_id \
                     AND ps.customer_id = c.id AND ps.product_id IN {products})"
                )
            }
            Field::DaysSinceLastOrder => self.days_since_last_order(op, value),
            Field::OrderCount => self.compare("COALESCE(s.order_count, 0)", op, value),
            Field::TotalSpend => self.compare("COALESCE(s.total_amount, 0)", op, value),
            Field::ConsecutiveNoContact => self.compare("COALESCE(s.consecutive_no_contact, 0)", op, value),
            Field::CallAttempts => {
                let from = self.window_start(days).unwrap_or_else(|| "0".to_owned());
                let to = self.bind(Bind::Integer(crate::shared::unix(self.as_of)));
                let expression = format!(
                    "(SELECT COUNT(*) {CONTACTS_OF} AND k.channel = 'phone' AND k.direction = 'outbound' \
                     AND k.started_at >= {from} AND k.started_at <= {to})"
                );
                self.compare(&expression, op, value)
            }
            Field::LastCallOutcome => {
                let to = self.bind(Bind::Integer(crate::shared::unix(self.as_of)));
                let expression = format!(
                    "(SELECT k.outcome {CONTACTS_OF} AND k.channel = 'phone' AND k.started_at <= {to} \
                     ORDER BY k.started_at DESC, k.id DESC LIMIT 1)"
                );
                self.compare(&expression, op, value)
            }
            Field::ListenedWell => {
                let to = self.bind(Bind::Integer(crate::shared::unix(self.as_of)));
                let seconds = self.bind(Bind::Integer(LISTENED_WELL_SECONDS));
                let expression = format!(
                    "(COALESCE((SELECT CASE WHEN k.ended_at - k.started_at >= {seconds} \
                       OR k.kimochi LIKE '%,gratitude,%' OR k.kimochi LIKE '%,satisfaction,%' \
                       OR k.polarity = 'positive' THEN 1 ELSE 0 END \
                     {CONTACTS_OF} AND k.channel = 'phone' \
                       AND (k.outcome IS NULL OR k.outcome NOT IN ('no_contact', 'busy', 'hung_up')) \
                       AND k.started_at <= {to} \
                     ORDER BY k.started_at DESC, k.id DESC LIMIT 1), 0) = 1)"
                );
                self.compare(&expression, op, value)
            }
            Field::HearingStatus => self.hearing_status(condition),
            Field::HearingChoice | Field::HearingNumber | Field::HearingDaysUntil => self.hearing_answer(condition),
            Field::SurveyAnswer | Field::WebVisits | Field::EmailEngagement => self.behaviour(condition),
        }
    }

    /// `AND a.question_id …` narrowing hearing answers (`a`) to the condition's question, or to
    /// the questions of its attribute of the answer kind `kind` (any kind when `None`).
    fn hearing_questions(&mut self, condition: &Condition, kind: Option<&str>) -> String {
        match &condition.subject {
            Some(Subject::Question(id)) => format!("AND a.question_id = {}", self.bind(Bind::Integer(*id))),
            Some(Subject::Attribute(attribute)) => {
                let attribute = self.bind(Bind::Text(attribute.clone()));
                let kind = match kind {
                    Some(kind) => format!(" AND q.kind = {}", self.bind(Bind::Text(kind.to_owned()))),
                    None => String::new(),
                };
                format!(
                    "AND a.question_id IN (SELECT q.id FROM hearing_questions q WHERE q.tenant_id = c.tenant_id \
                     AND q.soft_attribute = {attribute}{kind})"
                )
            }
            // Validation gives hearing fields a question or an attribute.
            _ => "AND FALSE".to_owned(),
        }
    }

    /// answered (some answer), asked_unanswered (asked, never answered) or not_asked, up to `as_of`.
    fn hearing_status(&mut self, condition: &Condition) -> String {
        let to = self.bind(Bind::Integer(crate::shared::unix(self.as_of)));
        let answered_questions = self.hearing_questions(condition, None);
        let asked_questions = self.hearing_questions(condition, None);
        let expression = format!(
            "(CASE WHEN EXISTS (SELECT 1 {HEARING_ANSWERS_OF} AND a.answered AND a.answered_at <= {to} {answered_questions}) \
               THEN 'answered' \
             WHEN EXISTS (SELECT 1 {HEARING_ANSWERS_OF} AND a.asked AND a.answered_at <= {to} {asked_questions}) \
               THEN 'asked_unanswered' ELSE 'not_asked' END)"
        );
        self.compare(&expression, condition.op, &condition.value)
    }

    /// The latest answer (up to `as_of`) compared: a choice, a number, or the days from `as_of`'s
    /// date (JST) to an answered date, compared as ISO dates so the stored text is read as is.
    fn hearing_answer(&mut self, condition: &Condition) -> String {
        let (kind, column) = match condition.field {
            Field::HearingChoice => ("choice", "a.value_text"),
            Field::HearingNumber => ("number", "a.value_number"),
            _ => ("date", "a.value_date"),
        };
        let to = self.bind(Bind::Integer(crate::shared::unix(self.as_of)));
        let questions = self.hearing_questions(condition, Some(kind));
        let latest = format!(
            "(SELECT {column} {HEARING_ANSWERS_OF} AND a.answered AND a.answered_at <= {to} {questions} \
             ORDER BY a.answered_at DESC, a.id DESC LIMIT 1)"
        );
        if condition.field != Field::HearingDaysUntil {
            return self.compare(&latest, condition.op, &condition.value);
        }
        let SegmentValue::Integer(days) = condition.value else { return "FALSE".to_owned() };
        let today = self.as_of.to_offset(JST).date();
        let (operator, days) = match condition.op {
            Op::Eq => ("=", days),
            Op::Gte => (">=", days),
            Op::Gt => (">=", days + 1),
            Op::Lte => ("<=", days),
            Op::Lt => ("<=", days - 1),
            Op::In => return "FALSE".to_owned(),
        };
        let Some(date) = today.checked_add(time::Duration::days(days)) else { return "FALSE".to_owned() };
        let date = self.bind(Bind::Text(format_date(date)));
        format!("{latest} {operator} {date}")
    }

    /// Survey answers, web visits and email engagement in the window `days` back from `as_of`.
    fn behaviour(&mut self, condition: &Condition) -> String {
        let from = self.window_start(condition.days).unwrap_or_else(|| "0".to_owned());
        let to = self.bind(Bind::Integer(crate::shared::unix(self.as_of)));
        const EVENTS_OF: &str = "FROM behavior_events e WHERE e.tenant_id = c.tenant_id AND e.customer_id = c.id";
        match (condition.field, &condition.subject) {
            (Field::SurveyAnswer, Some(Subject::SurveyKey(key))) => {
                let key = self.bind(Bind::Text(key.clone()));
                let test = match condition.op {
                    Op::In => format!("e.value IN {}", self.list(&condition.value)),
                    op => {
                        // Only plain decimals are read as numbers: a cast of other text would
                        // fail on PostgreSQL and read as 0 on SQLite.
                        let digits = "(CASE WHEN SUBSTR(e.value, 1, 1) = '-' THEN SUBSTR(e.value, 2) ELSE e.value END)";
                        let number = format!(
                            "(CASE WHEN {digits} <> '' AND LTRIM({digits}, '0123456789.') = '' \
                               AND {digits} NOT LIKE '%.%.%' AND {digits} NOT LIKE '.%' AND {digits} NOT LIKE '%.' \
                             THEN CAST(e.value AS DOUBLE PRECISION) END)"
                        );
                        self.compare(&number, op, &condition.value)
                    }
                };
                format!(
                    "EXISTS (SELECT 1 {EVENTS_OF} AND e.kind = 'survey' AND e.occurred_at >= {from} \
                     AND e.occurred_at <= {to} AND e.key = {key} AND {test})"
                )
            }
            (Field::WebVisits, Some(Subject::UrlContains(text))) => {
                let escaped: String = text
                    .to_ascii_lowercase()
                    .chars()
                    .flat_map(|ch| match ch {
                        '%' | '_' | '\\' => vec!['\\', ch],
                        other => vec![other],
                    })
                    .collect();
                let pattern = self.bind(Bind::Text(format!("%{escaped}%")));
                let expression = format!(
                    "(SELECT COUNT(*) {EVENTS_OF} AND e.kind = 'web' AND e.occurred_at >= {from} \
                     AND e.occurred_at <= {to} AND LOWER(e.url) LIKE {pattern} ESCAPE '\\')"
                );
                self.compare(&expression, condition.op, &condition.value)
            }
            (Field::EmailEngagement, _) => {
                let outcomes = self.list(&condition.value);
                format!(
                    "EXISTS (SELECT 1 FROM contacts k WHERE k.tenant_id = c.tenant_id AND k.customer_id = c.id \
                     AND k.channel = 'email' AND k.started_at >= {from} AND k.started_at <= {to} AND k.outcome IN {outcomes})"
                )
            }
            _ => "FALSE".to_owned(),
        }
    }

    /// Ages compare birth dates (ISO text, which sorts as dates) with dates computed from `as_of`:
    /// age ≥ N is born on or before as_of − N years; age ≤ N is born after as_of − (N + 1) years.
    fn age(&mut self, op: Op, value: &SegmentValue) -> String {
        let SegmentValue::Integer(years) = *value else { return "FALSE".to_owned() };
        let (at_least, at_most) = match op {
            Op::Eq => (Some(years), Some(years)),
            Op::Gte => (Some(years), None),
            Op::Gt => (Some(years + 1), None),
            Op::Lte => (None, Some(years)),
            Op::Lt => (None, Some(years - 1)),
            Op::In => (None, None),
        };
        let today = self.as_of.to_offset(JST).date();
        let mut parts = Vec::new();
        if let Some(years) = at_least {
            let born_by = self.bind(Bind::Text(format_date(years_before(today, years))));
            parts.push(format!("c.birth_date <= {born_by}"));
        }
        if let Some(years) = at_most {
            if years < 0 {
                return "FALSE".to_owned();
            }
            let born_after = self.bind(Bind::Text(format_date(years_before(today, years + 1))));
            parts.push(format!("c.birth_date > {born_after}"));
        }
        if parts.is_empty() { "FALSE".to_owned() } else { format!("({})", parts.join(" AND ")) }
    }

    /// Whole days between the last order and `as_of`, compared through the order time so the
    /// `customer_stats` column is read as stored: days ≥ N is a last order at or before
    /// as_of − N days; days ≤ N is one after as_of − (N + 1) days.
    fn days_since_last_order(&mut self, op: Op, value: &SegmentValue) -> String {
        let SegmentValue::Integer(days) = *value else { return "FALSE".to_owned() };
        let (at_least, at_most) = match op {
            Op::Eq => (Some(days), Some(days)),
            Op::Gte => (Some(days), None),
            Op::Gt => (Some(days + 1), None),
            Op::Lte => (None, Some(days)),
            Op::Lt => (None, Some(days - 1)),
            Op::In => (None, None),
        };
        let now = crate::shared::unix(self.as_of);
        let mut parts = Vec::new();
        if let Some(days) = at_least {
            let before = self.bind(Bind::Integer(now - days * 86_400));
            parts.push(format!("s.last_order_at <= {before}"));
        }
        if let Some(days) = at_most {
            if days < 0 {
                return "FALSE".to_owned();
            }
            let after = self.bind(Bind::Integer(now - (days + 1) * 86_400));
            parts.push(format!("s.last_order_at > {after}"));
        }
        if parts.is_empty() { "FALSE".to_owned() } else { format!("({})", parts.join(" AND ")) }
    }
}

/// The same day `years` earlier; 29 February becomes 28 February in a common year.
fn years_before(date: time::Date, years: i64) -> time::Date {
    let year = date.year() - i32::try_from(years).unwrap_or(i32::MAX / 2).min(9000);
    date.replace_year(year)
        .or_else(|_| date.replace_day(28).and_then(|d| d.replace_year(year)))
        .unwrap_or(time::Date::MIN)
}

macro_rules! segments_sql {
    ($db:ty) => {
        use kimochi_domain::segment::{NewSegment, Segment, SegmentId, SegmentRule, SegmentRuleError};

        use crate::segments::{Bind, CompiledRule};

        fn bind_rule<'q>(
            mut query: sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>,
            compiled: &CompiledRule,
        ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>> {
            for value in &compiled.binds {
                query = match value {
                    Bind::Integer(i) => query.bind(*i),
                    Bind::Number(n) => query.bind(*n),
                    Bind::Text(t) => query.bind(t.clone()),
                    Bind::Bool(b) => query.bind(*b),
                };
            }
            query
        }

        /// Refuses a rule naming a product that is not the tenant's own (it would select nobody,
        /// and the user means something else), naming the node.
        async fn check_rule_products(pool: &sqlx::Pool<$db>, tenant: TenantId, rule: &SegmentRule) -> Result<()> {
            for product in rule.product_ids() {
                let found = sqlx::query("SELECT 1 FROM products WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant.0)
                    .bind(product)
                    .fetch_optional(pool)
                    .await?;
                if found.is_none() {
                    return Err(StoreError::InvalidRule(SegmentRuleError {
                        path: rule.product_path(product),
                        problem: kimochi_domain::segment::RuleProblem::ForeignProduct,
                        reason: format!("product {product} is not one of this tenant's products"),
                    }));
                }
            }
            check_rule_hearing(pool, tenant, rule).await
        }

        /// Refuses a hearing condition on a question or soft attribute that is not the tenant's
        /// own, or whose value does not fit the question: a choice that is not one of its
        /// options, a number or date test on a question of another kind. Errors name the node.
        async fn check_rule_hearing(pool: &sqlx::Pool<$db>, tenant: TenantId, rule: &SegmentRule) -> Result<()> {
            use kimochi_domain::segment::{Field, RuleProblem, SegmentValue, Subject};
            let refuse = |path: String, problem: RuleProblem, reason: String| {
                StoreError::InvalidRule(SegmentRuleError { path, problem, reason })
            };
            let child = |path: &str, key: &str| if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") };
            for (path, condition) in rule.conditions_with_paths() {
                let (sql, bind_text, bind_id, subject_key) = match &condition.subject {
                    Some(Subject::Question(id)) => {
                        ("SELECT kind, options FROM hearing_questions WHERE tenant_id = $1 AND id = $2 AND $3 = ''", String::new(), *id, "question")
                    }
                    Some(Subject::Attribute(attribute)) => (
                        "SELECT kind, options FROM hearing_questions WHERE tenant_id = $1 AND soft_attribute = $3 AND $2 = 0",
                        attribute.clone(),
                        0,
                        "attribute",
                    ),
                    _ => continue,
                };
                let rows: Vec<(String, String)> =
                    sqlx::query_as(sql).bind(tenant.0).bind(bind_id).bind(bind_text).fetch_all(pool).await?;
                let subject_path = child(&path, subject_key);
                if rows.is_empty() {
                    let what = match &condition.subject {
                        Some(Subject::Question(id)) => format!("question {id} is not one of this tenant's hearing questions"),
                        Some(Subject::Attribute(a)) => format!("no hearing question of this tenant fills the soft attribute {a}"),
                        _ => String::new(),
                    };
                    return Err(refuse(subject_path, RuleProblem::UnknownQuestion, what));
                }
                let wanted = match condition.field {
                    Field::HearingChoice => "choice",
                    Field::HearingNumber => "number",
                    Field::HearingDaysUntil => "date",
                    _ => continue,
                };
                let fitting: Vec<&(String, String)> = rows.iter().filter(|(kind, _)| kind == wanted).collect();
                if fitting.is_empty() {
                    let kinds: Vec<&str> = rows.iter().map(|(kind, _)| kind.as_str()).collect();
                    return Err(refuse(
                        child(&path, "field"),
                        RuleProblem::WrongValue,
                        format!("{} tests {wanted} answers, but the {subject_key} has {} answers", condition.field.code(), kinds.join(", ")),
                    ));
                }
                if let SegmentValue::Texts(choices) = &condition.value {
                    let mut options: Vec<String> = Vec::new();
                    for (_, text) in fitting {
                        let list: Vec<String> = serde_json::from_str(text).or_else(|_| corrupt("hearing options", text))?;
                        options.extend(list);
                    }
                    if let Some((index, choice)) = choices.iter().enumerate().find(|(_, c)| !options.contains(c)) {
                        return Err(refuse(
                            format!("{}[{index}]", child(&path, "value")),
                            RuleProblem::WrongValue,
                            format!("{choice:?} is not one of the options ({})", options.join(", ")),
                        ));
                    }
                }
            }
            Ok(())
        }

        async fn sql_segment_count(
            pool: &sqlx::Pool<$db>,
            tenant: TenantId,
            rule: &SegmentRule,
            as_of: OffsetDateTime,
        ) -> Result<i64> {
            check_rule_products(pool, tenant, rule).await?;
            let compiled = crate::segments::compile(rule, as_of, 2);
            let sql = format!("SELECT COUNT(*) AS n {} WHERE c.tenant_id = $1 AND {}", compiled.from(), compiled.sql);
            let row = bind_rule(sqlx::query(&sql).bind(tenant.0), &compiled).fetch_one(pool).await?;
            Ok(row.try_get::<i64, _>("n")?)
        }

        async fn sql_segment_members(
            pool: &sqlx::Pool<$db>,
            tenant: TenantId,
            rule: &SegmentRule,
            as_of: OffsetDateTime,
            after: Option<CustomerId>,
            limit: u32,
        ) -> Result<Vec<CustomerId>> {
            check_rule_products(pool, tenant, rule).await?;
            let compiled = crate::segments::compile(rule, as_of, 4);
            let sql = format!(
                "SELECT c.id {} WHERE c.tenant_id = $1 AND c.id > $2 AND {} ORDER BY c.id LIMIT $3",
                compiled.from(),
                compiled.sql
            );
            let query = sqlx::query(&sql)
                .bind(tenant.0)
                .bind(after.map_or(0, |id| id.0))
                .bind(i64::from(limit.clamp(1, 10_000)));
            let rows = bind_rule(query, &compiled).fetch_all(pool).await?;
            rows.iter().map(|row| Ok(CustomerId(row.try_get("id")?))).collect()
        }

        async fn sql_segment_member_summaries(
            pool: &sqlx::Pool<$db>,
            tenant: TenantId,
            rule: &SegmentRule,
            as_of: OffsetDateTime,
            after: Option<CustomerId>,
            limit: u32,
        ) -> Result<Vec<CustomerSummary>> {
            check_rule_products(pool, tenant, rule).await?;
            let mut compiled = crate::segments::compile(rule, as_of, 4);
            // The summaries show the last contact time.
            compiled.uses_stats = true;
            let sql = format!(
                "SELECT {CUSTOMER_COLUMNS}, s.last_contact_at {}
                 WHERE c.tenant_id = $1 AND c.id > $2 AND {} ORDER BY c.id LIMIT $3",
                compiled.from(),
                compiled.sql
            );
            let query = sqlx::query(&sql)
                .bind(tenant.0)
                .bind(after.map_or(0, |id| id.0))
                .bind(i64::from(limit.clamp(1, 10_000)));
            let rows = bind_rule(query, &compiled).fetch_all(pool).await?;
            rows.iter()
                .map(|row| {
                    let customer = customer_from_row(row)?;
                    Ok(CustomerSummary {
                        id: customer.id,
                        external_id: customer.profile.external_id,
                        name: customer.profile.name,
                        kana: customer.profile.kana,
                        phones: customer.profile.phones,
                        emails: customer.profile.emails,
                        prefecture: customer.profile.prefecture,
                        birth_date: customer.profile.birth_date,
                        last_contact_at: optional_at(row.try_get("last_contact_at")?),
                    })
                })
                .collect()
        }

        const SEGMENT_COLUMNS: &str = "id, name, description, rule, created_by, created_at, updated_at";

        fn segment_from_row(row: &DbRow) -> Result<Segment> {
            let rule: String = row.try_get("rule")?;
            Ok(Segment {
                id: SegmentId(row.try_get("id")?),
                name: row.try_get("name")?,
                description: row.try_get("description")?,
                rule: SegmentRule::from_json_text(&rule).or_else(|_| corrupt("segment rule", &rule))?,
                created_by: row.try_get::<Option<i64>, _>("created_by")?.map(UserId),
                created_at: at(row.try_get("created_at")?),
                updated_at: at(row.try_get("updated_at")?),
            })
        }

        async fn sql_segment_create(
            pool: &sqlx::Pool<$db>,
            tenant: TenantId,
            segment: &NewSegment,
            created_by: Option<UserId>,
            now: OffsetDateTime,
        ) -> Result<Segment> {
            let segment = segment.validate().map_err(StoreError::Invalid)?;
            check_rule_products(pool, tenant, &segment.rule).await?;
            let row = sqlx::query(&format!(
                "INSERT INTO segments (tenant_id, name, description, rule, created_by, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {SEGMENT_COLUMNS}"
            ))
            .bind(tenant.0)
            .bind(&segment.name)
            .bind(&segment.description)
            .bind(segment.rule.to_json().to_string())
            .bind(created_by.map(|u| u.0))
            .bind(unix(now))
            .fetch_one(pool)
            .await
            .map_err(|e| match StoreError::from_write(e, "segment name") {
                StoreError::UnknownReference { .. } => StoreError::UnknownReference { field: "created_by" },
                other => other,
            })?;
            segment_from_row(&row)
        }

        async fn sql_segment_update(
            pool: &sqlx::Pool<$db>,
            tenant: TenantId,
            id: SegmentId,
            segment: &NewSegment,
            now: OffsetDateTime,
        ) -> Result<Segment> {
            let segment = segment.validate().map_err(StoreError::Invalid)?;
            check_rule_products(pool, tenant, &segment.rule).await?;
            let row = sqlx::query(&format!(
                "UPDATE segments SET name = $3, description = $4, rule = $5, updated_at = $6
                 WHERE tenant_id = $1 AND id = $2 RETURNING {SEGMENT_COLUMNS}"
            ))
            .bind(tenant.0)
            .bind(id.0)
            .bind(&segment.name)
            .bind(&segment.description)
            .bind(segment.rule.to_json().to_string())
            .bind(unix(now))
            .fetch_optional(pool)
            .await
            .map_err(|e| StoreError::from_write(e, "segment name"))?;
            segment_from_row(&row.ok_or(StoreError::NotFound("segment"))?)
        }

        async fn sql_segment_delete(pool: &sqlx::Pool<$db>, tenant: TenantId, id: SegmentId) -> Result<()> {
            let done = sqlx::query("DELETE FROM segments WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.0)
                .bind(id.0)
                .execute(pool)
                .await?;
            if done.rows_affected() == 0 { Err(StoreError::NotFound("segment")) } else { Ok(()) }
        }

        async fn sql_segment_get(pool: &sqlx::Pool<$db>, tenant: TenantId, id: SegmentId) -> Result<Segment> {
            let row = sqlx::query(&format!("SELECT {SEGMENT_COLUMNS} FROM segments WHERE tenant_id = $1 AND id = $2"))
                .bind(tenant.0)
                .bind(id.0)
                .fetch_optional(pool)
                .await?;
            segment_from_row(&row.ok_or(StoreError::NotFound("segment"))?)
        }

        async fn sql_segment_list(pool: &sqlx::Pool<$db>, tenant: TenantId) -> Result<Vec<Segment>> {
            let rows = sqlx::query(&format!(
                "SELECT {SEGMENT_COLUMNS} FROM segments WHERE tenant_id = $1 ORDER BY name, id LIMIT 1000"
            ))
            .bind(tenant.0)
            .fetch_all(pool)
            .await?;
            rows.iter().map(segment_from_row).collect()
        }
    };
}
pub(crate) use segments_sql;

#[cfg(test)]
mod tests {
    use kimochi_domain::segment::SegmentRule;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn values_are_bound_never_written_into_the_sql() {
        let rule = SegmentRule::from_json(&serde_json::json!({"all": [
            {"field": "ad_medium", "op": "in", "value": ["'; DROP TABLE customers; --"]},
            {"not": {"field": "age", "op": "gte", "value": 40}},
            {"field": "call_attempts", "op": "gte", "value": 2, "days": 30},
        ]}))
        .unwrap();
        let as_of = datetime!(2026-12-01 03:00 UTC);
        let compiled = compile(&rule, as_of, 2);
        assert!(!compiled.sql.contains("DROP"), "{}", compiled.sql);
        assert_eq!(compiled.binds[0], Bind::Text("'; DROP TABLE customers; --".into()));
        // Born on or before 1986-12-01 (as_of in JST is 2026-12-01).
        assert_eq!(compiled.binds[1], Bind::Text("1986-12-01".into()));
        assert!(compiled.sql.contains("$2") && compiled.sql.contains(&format!("${}", 1 + compiled.binds.len())));
        assert_eq!(compiled.binds.last(), Some(&Bind::Integer(2)));
        // Only the tables a rule tests are joined.
        assert_eq!(compiled.from(), "FROM customers c");
        let scored = compile(
            &SegmentRule::from_json(&serde_json::json!({"any": [
                {"field": "listened_well", "op": "eq", "value": true},
                {"field": "stage", "op": "in", "value": ["trial"]},
            ]}))
            .unwrap(),
            as_of,
            2,
        );
        assert!(scored.from().contains("customer_scores") && !scored.from().contains("customer_stats"));
        // The cheap column test is emitted before the subquery, so OR can stop early.
        assert!(scored.sql.find("sc.stage").unwrap() < scored.sql.find("SELECT CASE").unwrap(), "{}", scored.sql);
    }

    #[test]
    fn leap_days_step_back_to_the_28th() {
        assert_eq!(years_before(time::macros::date!(2028 - 02 - 29), 1), time::macros::date!(2027 - 02 - 28));
        assert_eq!(years_before(time::macros::date!(2028 - 02 - 29), 4), time::macros::date!(2024 - 02 - 29));
    }
}
