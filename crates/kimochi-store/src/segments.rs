//! Segments (issue 6, T2, migrations 0009 and 0014): a validated [`SegmentRule`] compiled to SQL
//! over a tenant's customers (`c`), counted and listed in customer id order; and saved segments.
//! Written once for both engines like `admin.rs`: `segments_sql!` expands inside each engine's
//! module.
//!
//! Conditions on scores (`sc`, `customer_scores`), aggregates (`s`, `customer_stats`) and the
//! contact-history facts kept at write time (the call facts and profile flags of the segment row
//! `customer_stats`, migrations 0014 and 0017; `customer_tag_facts`) become
//! sets of customer ids read through indexes ([`Part`]); a count starts from the smallest set the
//! rule requires ([`CompiledRule::count_sql`]). A customer with a call or tag after `as_of` is
//! replayed from their contacts, so counts back in time stay exact.
//!
//! Every value of a rule is bound as a parameter; the SQL text holds only our own fragments. A
//! customer without stats or scores is in no set, and a row condition is wrapped in
//! `COALESCE(…, FALSE)`, so such a customer fails a condition instead of making it unknown, and
//! `not` is then the exact complement (an unscored customer is "not churn probability ≥ 0.5").
//! Time windows are counted back from `as_of`:
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
    /// The rule as a conjunction, for [`CompiledRule::count_sql`].
    conjuncts: Vec<Part>,
}

/// A compiled node: a set of the tenant's customer ids (a `SELECT … AS customer_id` that lists
/// each customer at most once, read through an index on the facts), its complement, a condition
/// on the customer row `c` (and `s`, `sc` when joined), or a profile flag, which the segment row
/// (`customer_stats`, migration 0017) also holds and which is tested there when the rule reads
/// that row anyway.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    Set(Set),
    NotSet(Set),
    Pred(String),
    And(Vec<Part>),
    Flag(Flag),
}

/// A consent or do-not-call flag of the profile required to be `wanted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Flag {
    column: &'static str,
    wanted: bool,
}

impl Flag {
    fn on(self, alias: &str) -> String {
        format!("{alias}.{} = {}", self.column, if self.wanted { "TRUE" } else { "FALSE" })
    }

    /// Whether few customers are expected to have it (do-not-call; a consent refused), so that
    /// the set of them may drive a count.
    fn rare(self) -> bool {
        (self.column == "do_not_call") == self.wanted
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Set {
    /// A set over one table's rows (`customer_stats s` or `customer_scores sc`) by a condition,
    /// which sibling conditions on the same table join instead of making a set each.
    simple: Option<Simple>,
    /// The `SELECT` for any other set.
    sql: String,
    /// How many customers the set is guessed to hold, as a rank (1 fewest): the count starts
    /// from the smallest.
    rank: u32,
}

#[derive(Debug, Clone, PartialEq)]
struct Simple {
    table: Table,
    /// Conditions on the row joined by `AND` (empty: none).
    condition: String,
    /// Conditions on the last call (stats only): as stored, for a customer whose last call is
    /// at or before `as_of`, and replayed from the contacts for one called after it. A
    /// customer's stored call facts all describe the same last call, so the stored ones of a
    /// conjunction are tested together, and so are the replayed ones.
    call: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Stats,
    Scores,
}

impl Set {
    fn simple(table: Table, condition: String, rank: u32) -> Part {
        Part::Set(Set { simple: Some(Simple { table, condition, call: Vec::new() }), sql: String::new(), rank })
    }

    /// A set on the last call's facts in the segment row: `stored` for a customer last called
    /// at or before `as_of`, `replayed` for one called after it.
    fn call(stored: String, replayed: String, rank: u32) -> Set {
        Set {
            simple: Some(Simple { table: Table::Stats, condition: String::new(), call: vec![(stored, replayed)] }),
            sql: String::new(),
            rank,
        }
    }

    fn other(sql: String, rank: u32) -> Part {
        Part::Set(Set { simple: None, sql, rank })
    }

    fn sql(&self) -> String {
        let Some(simple) = &self.simple else { return self.sql.clone() };
        let (alias, table) = match simple.table {
            Table::Stats => ("s", "customer_stats s"),
            Table::Scores => ("sc", "customer_scores sc"),
        };
        let head = format!("SELECT {alias}.customer_id AS customer_id FROM {table} WHERE {alias}.tenant_id = $1");
        let condition = if simple.condition.is_empty() { String::new() } else { format!(" AND {}", simple.condition) };
        if simple.call.is_empty() {
            return format!("{head}{condition}");
        }
        let stored: Vec<&str> = simple.call.iter().map(|(stored, _)| stored.as_str()).collect();
        let replayed: Vec<&str> = simple.call.iter().map(|(_, replayed)| replayed.as_str()).collect();
        format!(
            "{head}{condition} AND {} UNION ALL {head}{condition} AND {}",
            stored.join(" AND "),
            replayed.join(" AND ")
        )
    }
}

impl Part {
    /// The node as a condition on `c`.
    fn predicate(&self) -> String {
        match self {
            Part::Set(set) => format!("c.id IN ({})", set.sql()),
            Part::NotSet(set) => format!("c.id NOT IN ({})", set.sql()),
            Part::Pred(sql) => sql.clone(),
            Part::Flag(flag) => flag.on("c"),
            Part::And(parts) if parts.is_empty() => "(1 = 1)".to_owned(),
            Part::And(parts) => format!("({})", parts.iter().map(Part::predicate).collect::<Vec<_>>().join(" AND ")),
        }
    }
}

fn and(left: &mut String, right: &str) {
    if right.is_empty() {
        return;
    }
    if !left.is_empty() {
        left.push_str(" AND ");
    }
    left.push_str(right);
}

/// Conditions on one table in a conjunction become one set; nested conjunctions are flattened.
/// Profile flags are tested in the segment row when the conjunction reads it anyway; otherwise
/// a rare flag (do-not-call) is a set of its own or excluded as one, and a common one (a
/// consent given) is tested on the customer row.
fn conjunction(parts: Vec<Part>) -> Vec<Part> {
    let mut flat = Vec::new();
    let mut flags = Vec::new();
    let mut simple: Vec<(Simple, u32)> = Vec::new();
    let mut stack: Vec<Part> = parts.into_iter().rev().collect();
    while let Some(part) = stack.pop() {
        match part {
            Part::And(inner) => stack.extend(inner.into_iter().rev()),
            Part::Set(Set { simple: Some(part), rank, .. }) => {
                match simple.iter_mut().find(|(merged, _)| merged.table == part.table) {
                    Some((merged, r)) => {
                        and(&mut merged.condition, &part.condition);
                        merged.call.extend(part.call);
                        *r = (*r).min(rank);
                    }
                    None => simple.push((part, rank)),
                }
            }
            Part::Flag(flag) => flags.push(flag),
            other => flat.push(other),
        }
    }
    let mut rows = Vec::new();
    if !flags.is_empty() {
        let stats = simple.iter().position(|(merged, _)| merged.table == Table::Stats);
        let stats = match stats {
            Some(i) => Some(i),
            None => flags.iter().position(|flag| flag.rare()).map(|i| {
                let flag = flags.remove(i);
                simple.push((Simple { table: Table::Stats, condition: flag.on("s"), call: Vec::new() }, 2));
                simple.len() - 1
            }),
        };
        for flag in flags {
            match stats {
                Some(i) => and(&mut simple[i].0.condition, &flag.on("s")),
                None if flag.column == "do_not_call" => rows.push(Part::NotSet(Set {
                    simple: Some(Simple {
                        table: Table::Stats,
                        condition: Flag { wanted: !flag.wanted, ..flag }.on("s"),
                        call: Vec::new(),
                    }),
                    sql: String::new(),
                    rank: 2,
                })),
                None => rows.push(Part::Pred(flag.on("c"))),
            }
        }
    }
    let mut merged: Vec<Part> = simple
        .into_iter()
        .map(|(simple, rank)| Part::Set(Set { simple: Some(simple), sql: String::new(), rank }))
        .collect();
    // Sets first (they drive the count), then the row conditions in the order given, the flags'
    // column tests before the rest.
    merged.extend(rows);
    merged.extend(flat);
    merged
}

/// A disjunction of sets is their union (conditions on one table joined by OR); with any row
/// condition in it, a condition on `c`.
fn disjunction(parts: Vec<Part>) -> Part {
    if parts.iter().all(|part| matches!(part, Part::Set(_) | Part::Flag(_))) && !parts.is_empty() {
        let mut simple: Vec<(Table, Vec<String>, u32)> = Vec::new();
        let mut others: Vec<Set> = Vec::new();
        for part in parts {
            let set = match part {
                Part::Set(set) => set,
                Part::Flag(flag) => {
                    let rank = if flag.rare() { 2 } else { 9 };
                    Set {
                        simple: Some(Simple { table: Table::Stats, condition: flag.on("s"), call: Vec::new() }),
                        sql: String::new(),
                        rank,
                    }
                }
                _ => unreachable!(),
            };
            match set.simple {
                Some(Simple { table, condition, call }) if call.is_empty() => {
                    match simple.iter_mut().find(|(t, _, _)| *t == table) {
                        Some((_, conditions, rank)) => {
                            conditions.push(condition);
                            *rank = (*rank).max(set.rank);
                        }
                        None => simple.push((table, vec![condition], set.rank)),
                    }
                }
                _ => others.push(set),
            }
        }
        let mut sets: Vec<Set> = simple
            .into_iter()
            .map(|(table, conditions, rank)| {
                let condition = if conditions.len() == 1 {
                    conditions.into_iter().next().unwrap_or_default()
                } else {
                    format!("({})", conditions.join(" OR "))
                };
                Set { simple: Some(Simple { table, condition, call: Vec::new() }), sql: String::new(), rank }
            })
            .collect();
        sets.extend(others);
        if sets.len() == 1 {
            return Part::Set(sets.remove(0));
        }
        let rank = sets.iter().map(|set| set.rank).max().unwrap_or(1);
        let sql = sets
            .iter()
            .enumerate()
            .map(|(i, set)| format!("SELECT u{i}.customer_id AS customer_id FROM ({}) u{i}", set.sql()))
            .collect::<Vec<_>>()
            .join(" UNION ");
        return Set::other(sql, rank);
    }
    if parts.is_empty() {
        return Part::Pred("(1 = 0)".to_owned());
    }
    Part::Pred(format!("({})", parts.iter().map(Part::predicate).collect::<Vec<_>>().join(" OR ")))
}

impl CompiledRule {
    /// `SELECT COUNT(*) AS n …` of the customers the rule selects. It starts from the smallest
    /// (by rank) of the sets the rule requires, read through the facts' indexes, and tests the
    /// rest on those customers only; the customer rows are read only when a condition needs
    /// them. A rule with no such set counts over the tenant's customers.
    pub(crate) fn count_sql(&self) -> String {
        let driver = self
            .conjuncts
            .iter()
            .enumerate()
            .filter_map(|(i, part)| match part {
                Part::Set(set) => Some((set.rank, i)),
                _ => None,
            })
            .min();
        let Some((_, driver)) = driver else {
            return format!("SELECT COUNT(*) AS n {} WHERE c.tenant_id = $1 AND {}", self.from(), self.sql);
        };
        let Part::Set(set) = &self.conjuncts[driver] else { unreachable!() };
        let rest: Vec<&Part> =
            self.conjuncts.iter().enumerate().filter(|(i, _)| *i != driver).map(|(_, p)| p).collect();
        if rest.iter().all(|part| matches!(part, Part::Set(_) | Part::NotSet(_))) {
            let mut sql = format!("SELECT COUNT(*) AS n FROM ({}) x", set.sql());
            for (i, part) in rest.iter().enumerate() {
                let (not, other) = match part {
                    Part::Set(other) => ("", other),
                    Part::NotSet(other) => ("NOT ", other),
                    _ => unreachable!(),
                };
                sql.push_str(if i == 0 { " WHERE " } else { " AND " });
                sql.push_str(&format!("x.customer_id {not}IN ({})", other.sql()));
            }
            return sql;
        }
        let joins = self.from().replacen("FROM customers c", "", 1);
        let tests: Vec<String> = rest.iter().map(|part| part.predicate()).collect();
        format!(
            "SELECT COUNT(*) AS n FROM ({}) x CROSS JOIN customers c{joins} \
             WHERE c.id = x.customer_id AND c.tenant_id = $1 AND {}",
            set.sql(),
            tests.join(" AND ")
        )
    }

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
    binds: Vec<Bind>,
    next: usize,
    as_of: OffsetDateTime,
    uses_stats: bool,
    uses_scores: bool,
}

/// Compiles `rule` with placeholders from `$first_param` on.
pub(crate) fn compile(rule: &SegmentRule, as_of: OffsetDateTime, first_param: usize) -> CompiledRule {
    let mut compiler = Compiler { binds: Vec::new(), next: first_param, as_of, uses_stats: false, uses_scores: false };
    let part = compiler.part(rule);
    let conjuncts = match part {
        Part::And(parts) => parts,
        other => conjunction(vec![other]),
    };
    let sql = Part::And(conjuncts.clone()).predicate();
    CompiledRule {
        sql,
        binds: compiler.binds,
        uses_stats: compiler.uses_stats,
        uses_scores: compiler.uses_scores,
        conjuncts,
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

    fn part(&mut self, rule: &SegmentRule) -> Part {
        match rule {
            SegmentRule::All(rules) | SegmentRule::Any(rules) => {
                let mut ordered: Vec<&SegmentRule> = rules.iter().collect();
                ordered.sort_by_key(|rule| cost(rule));
                let parts: Vec<Part> = ordered.into_iter().map(|inner| self.part(inner)).collect();
                if matches!(rule, SegmentRule::All(_)) { Part::And(conjunction(parts)) } else { disjunction(parts) }
            }
            SegmentRule::Not(inner) => match self.part(inner) {
                Part::Set(set) => Part::NotSet(set),
                Part::NotSet(set) => Part::Set(set),
                Part::Flag(flag) => Part::Flag(Flag { wanted: !flag.wanted, ..flag }),
                other => Part::Pred(format!("(NOT {})", other.predicate())),
            },
            SegmentRule::Condition(condition) => match self.set(condition) {
                Some(part) => part,
                None => {
                    let expression = self.condition(condition);
                    Part::Pred(format!("COALESCE({expression}, FALSE)"))
                }
            },
        }
    }

    /// A condition on the contact-history facts, stats or scores as the set of customers that
    /// meet it; `None` for those tested on each customer row. Facts stored up to the newest
    /// contact answer for an `as_of` at or after it; a customer with a call or tag after `as_of`
    /// (a count back in time) is tested on their contacts as before.
    fn set(&mut self, condition: &Condition) -> Option<Part> {
        let Condition { field, op, value, days, .. } = condition;
        let (op, value, days) = (*op, value, *days);
        const CONTACTS_OF_S: &str = "FROM contacts k WHERE k.tenant_id = s.tenant_id AND k.customer_id = s.customer_id";
        match field {
            Field::ConsentPhone | Field::ConsentEmail | Field::ConsentDm | Field::DoNotCall => {
                let (Op::Eq, SegmentValue::Bool(wanted)) = (op, value) else { return None };
                let column = match field {
                    Field::ConsentPhone => "consent_phone",
                    Field::ConsentEmail => "consent_email",
                    Field::ConsentDm => "consent_dm",
                    _ => "do_not_call",
                };
                Some(Part::Flag(Flag { column, wanted: *wanted }))
            }
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
            | Field::RepeatOverdue => {
                let rank = match field {
                    Field::ChurnLevel | Field::Stage | Field::RfmCell => 2,
                    _ => 5,
                };
                let joined = (self.uses_stats, self.uses_scores);
                let expression = self.condition(condition);
                (self.uses_stats, self.uses_scores) = joined;
                Some(Set::simple(Table::Scores, expression, rank))
            }
            Field::PositiveDormant => {
                let SegmentValue::Bool(wanted) = value else { return None };
                Some(Set::simple(Table::Scores, format!("sc.positive_dormant = {}", i64::from(*wanted)), 2))
            }
            Field::ConsecutiveNoContact | Field::OrderCount | Field::TotalSpend => {
                // Every customer has a stats row (written with the customer); a comparison that
                // zero meets is still tested on the row, as it always was.
                if holds_for_zero(op, value) {
                    return None;
                }
                let (column, rank) = match field {
                    Field::ConsecutiveNoContact => ("s.consecutive_no_contact", 1),
                    Field::OrderCount => ("s.order_count", 5),
                    _ => ("s.total_amount", 5),
                };
                let expression = self.compare(column, op, value);
                Some(Set::simple(Table::Stats, expression, rank))
            }
            Field::DaysSinceLastOrder => {
                let expression = self.days_since_last_order(op, value);
                Some(Set::simple(Table::Stats, expression, 4))
            }
            Field::UnmetExpectation => {
                let SegmentValue::Bool(wanted) = value else { return None };
                let set = Set {
                    simple: Some(Simple {
                        table: Table::Stats,
                        condition: "(s.expectation_notes > 0 AND (s.gap_notes > 0 OR s.customer_id IN \
                         (SELECT t.customer_id FROM customer_tag_facts t WHERE t.tenant_id = $1 AND t.tag = 'gap')))"
                            .to_owned(),
                        call: Vec::new(),
                    }),
                    sql: String::new(),
                    rank: 5,
                };
                Some(if *wanted { Part::Set(set) } else { Part::NotSet(set) })
            }
            Field::LastCallOutcome => {
                let to = self.bind(Bind::Integer(crate::shared::unix(self.as_of)));
                let stored = self.compare("s.last_call_outcome", op, value);
                let replayed = self.compare(
                    &format!(
                        "(SELECT k.outcome {CONTACTS_OF_S} AND k.channel = 'phone' AND k.started_at <= {to} \
                         ORDER BY k.started_at DESC, k.id DESC LIMIT 1)"
                    ),
                    op,
                    value,
                );
                Some(Part::Set(Set::call(
                    format!("s.last_call_at <= {to} AND {stored}"),
                    format!("s.last_call_at > {to} AND {replayed}"),
                    2,
                )))
            }
            Field::ListenedWell => {
                let SegmentValue::Bool(wanted) = value else { return None };
                let to = self.bind(Bind::Integer(crate::shared::unix(self.as_of)));
                let seconds = self.bind(Bind::Integer(LISTENED_WELL_SECONDS));
                let set = Set::call(
                    format!("s.listened_well = 1 AND s.last_call_at <= {to}"),
                    format!(
                        "s.last_call_at > {to} AND COALESCE((SELECT CASE \
                           WHEN k.ended_at - k.started_at >= {seconds} \
                             OR k.kimochi LIKE '%,gratitude,%' OR k.kimochi LIKE '%,satisfaction,%' \
                             OR k.polarity = 'positive' THEN 1 ELSE 0 END \
                           {CONTACTS_OF_S} AND k.channel = 'phone' \
                             AND (k.outcome IS NULL OR k.outcome NOT IN ('no_contact', 'busy', 'hung_up')) \
                             AND k.started_at <= {to} \
                           ORDER BY k.started_at DESC, k.id DESC LIMIT 1), 0) = 1"
                    ),
                    4,
                );
                Some(if *wanted { Part::Set(set) } else { Part::NotSet(set) })
            }
            Field::CallAttempts => {
                // The customers with at least one call in the window, by their number of calls;
                // when zero calls meet the comparison, the rule is everyone but those who fail it.
                let zero = holds_for_zero(op, value);
                let from = self.window_start(days).unwrap_or_else(|| "0".to_owned());
                let to = self.bind(Bind::Integer(crate::shared::unix(self.as_of)));
                let test = self.compare("COUNT(*)", op, value);
                let having = if zero { format!("NOT ({test})") } else { test };
                let set = Set {
                    simple: None,
                    sql: format!(
                        "SELECT k.customer_id AS customer_id FROM contacts k WHERE k.tenant_id = $1 \
                         AND k.channel = 'phone' AND k.direction = 'outbound' \
                         AND k.started_at >= {from} AND k.started_at <= {to} \
                         GROUP BY k.customer_id HAVING {having}"
                    ),
                    rank: 3,
                };
                Some(if zero { Part::NotSet(set) } else { Part::Set(set) })
            }
            Field::KimochiTagged => {
                let SegmentValue::Texts(_) = value else { return None };
                let from = self.window_start(days).unwrap_or_else(|| "0".to_owned());
                let to = self.bind(Bind::Integer(crate::shared::unix(self.as_of)));
                let tags = self.list(value);
                let tags_again = self.list(value);
                Some(Set::other(
                    format!(
                        "SELECT t.customer_id AS customer_id FROM customer_tag_facts t \
                         WHERE t.tenant_id = $1 AND t.tag IN {tags} AND t.last_at >= {from} AND t.last_at <= {to} \
                         UNION SELECT t.customer_id AS customer_id FROM customer_tag_facts t \
                         WHERE t.tenant_id = $1 AND t.tag IN {tags_again} AND t.last_at > {to} \
                         AND EXISTS (SELECT 1 FROM contacts k WHERE k.tenant_id = t.tenant_id \
                           AND k.customer_id = t.customer_id AND k.started_at >= {from} AND k.started_at <= {to} \
                           AND k.kimochi LIKE '%,' || t.tag || ',%')"
                    ),
                    2,
                ))
            }
            _ => None,
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

/// Whether zero meets `op value` (a count or sum of a customer with no rows meets it).
fn holds_for_zero(op: Op, value: &SegmentValue) -> bool {
    let zero_cmp = match value {
        SegmentValue::Integer(i) => 0.cmp(i),
        SegmentValue::Number(n) => match 0.0_f64.partial_cmp(n) {
            Some(ordering) => ordering,
            None => return true,
        },
        _ => return true,
    };
    match op {
        Op::Eq => zero_cmp.is_eq(),
        Op::Lt => zero_cmp.is_lt(),
        Op::Lte => zero_cmp.is_le(),
        Op::Gt => zero_cmp.is_gt(),
        Op::Gte => zero_cmp.is_ge(),
        Op::In => true,
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
            let sql = compiled.count_sql();
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
        // Both are sets of customers read from their facts' indexes, so nothing is joined, and
        // their union is what the count starts from.
        assert_eq!(scored.from(), "FROM customers c");
        assert!(
            scored.count_sql().starts_with("SELECT COUNT(*) AS n FROM (SELECT u0.customer_id"),
            "{}",
            scored.count_sql()
        );
        assert!(scored.sql.find("sc.stage").unwrap() < scored.sql.find("SELECT CASE").unwrap(), "{}", scored.sql);
    }

    #[test]
    fn conditions_on_one_table_become_one_set_and_the_smallest_set_drives_the_count() {
        let rule = SegmentRule::from_json(&serde_json::json!({"all": [
            {"field": "consent_phone", "op": "eq", "value": true},
            {"field": "stage", "op": "in", "value": ["subscription"]},
            {"field": "churn_level", "op": "in", "value": ["high"]},
            {"field": "unmet_expectation", "op": "eq", "value": true},
            {"field": "consecutive_no_contact", "op": "gte", "value": 2},
        ]}))
        .unwrap();
        let compiled = compile(&rule, datetime!(2026-12-01 03:00 UTC), 2);
        assert_eq!(compiled.sql.matches("FROM customer_scores sc").count(), 1, "{}", compiled.sql);
        assert_eq!(compiled.sql.matches("FROM customer_stats s").count(), 1, "{}", compiled.sql);
        let count = compiled.count_sql();
        // The stats set (with the no-contact streak) drives, and consent is tested in the same
        // segment row: the customer row is not read at all.
        assert!(count.starts_with("SELECT COUNT(*) AS n FROM (SELECT s.customer_id"), "{count}");
        assert!(count.contains("s.consent_phone = TRUE") && !count.contains("customers c"), "{count}");
        // Without the segment row in the rule, a consent is tested on the customer row, and
        // "not do-not-call" excludes the (few) do-not-call customers as a set.
        let flags = compile(
            &SegmentRule::from_json(&serde_json::json!({"all": [
                {"field": "stage", "op": "in", "value": ["subscription"]},
                {"field": "consent_email", "op": "eq", "value": true},
                {"not": {"field": "do_not_call", "op": "eq", "value": true}},
            ]}))
            .unwrap(),
            datetime!(2026-12-01 03:00 UTC),
            2,
        );
        let count = flags.count_sql();
        assert!(count.contains("c.consent_email = TRUE"), "{count}");
        assert!(count.contains("NOT IN (SELECT s.customer_id AS customer_id FROM customer_stats s WHERE s.tenant_id = $1 AND s.do_not_call = TRUE)"), "{count}");
        // Listened well and days since the last order are one scan of the segment row's index.
        let win_back = compile(
            &SegmentRule::from_json(&serde_json::json!({"all": [
                {"field": "listened_well", "op": "eq", "value": true},
                {"field": "days_since_last_order", "op": "gte", "value": 180},
            ]}))
            .unwrap(),
            datetime!(2026-12-01 03:00 UTC),
            2,
        );
        let count = win_back.count_sql();
        assert_eq!(count.matches("FROM customer_stats s").count(), 2, "{count}");
        assert!(
            count.contains("AND (s.last_order_at <= $2) AND s.listened_well = 1 AND s.last_call_at <= $3 UNION ALL"),
            "{count}"
        );
        // A comparison that zero meets stays on the customer row (with the stats joined).
        let zero = compile(
            &SegmentRule::from_json(&serde_json::json!({"field": "order_count", "op": "lt", "value": 1})).unwrap(),
            datetime!(2026-12-01 03:00 UTC),
            2,
        );
        assert!(zero.from().contains("customer_stats") && zero.count_sql().contains("WHERE c.tenant_id = $1"));
    }

    #[test]
    fn zero_meets_a_comparison_as_numbers_do() {
        use kimochi_domain::segment::Op;
        assert!(holds_for_zero(Op::Lt, &SegmentValue::Integer(2)));
        assert!(holds_for_zero(Op::Eq, &SegmentValue::Integer(0)));
        assert!(holds_for_zero(Op::Lte, &SegmentValue::Number(0.0)));
        assert!(!holds_for_zero(Op::Gte, &SegmentValue::Integer(1)));
        assert!(!holds_for_zero(Op::Gt, &SegmentValue::Integer(0)));
        assert!(!holds_for_zero(Op::Eq, &SegmentValue::Number(3.5)));
    }

    #[test]
    fn tag_facts_cover_every_kimochi_tag_and_call_facts_use_the_listened_well_length() {
        for tag in kimochi_domain::vocab::KimochiTag::ALL {
            assert!(crate::shared::RECOMPUTE_TAG_FACTS.contains(&format!("('{}')", tag.code())), "{tag:?}");
        }
        assert_eq!(
            crate::shared::RECOMPUTE_TAG_FACTS.matches("('").count(),
            kimochi_domain::vocab::KimochiTag::ALL.len()
        );
        assert!(crate::shared::RECOMPUTE_CALL_FACTS.contains(&format!(">= {LISTENED_WELL_SECONDS}")));
    }

    #[test]
    fn leap_days_step_back_to_the_28th() {
        assert_eq!(years_before(time::macros::date!(2028 - 02 - 29), 1), time::macros::date!(2027 - 02 - 28));
        assert_eq!(years_before(time::macros::date!(2028 - 02 - 29), 4), time::macros::date!(2024 - 02 - 29));
    }
}
