//! Segments (セグメント, T2): rules that pick customers for a target list, as a tree of `all`
//! (AND), `any` (OR), `not` and conditions over a closed list of fields. This module parses the
//! rule's JSON form, validates it with errors that name the path of the bad node
//! (`all[2].value`), and describes every field (type, allowed operators, labels) for the
//! builder. The store compiles a validated rule to SQL (`kimochi-store/src/segments.rs`); adding a
//! field is one [`Field`] variant with its [`FieldSpec`] here plus its SQL fragment there.
//!
//! JSON form: a group is `{"all": [...]}` or `{"any": [...]}`, a negation `{"not": rule}`, a
//! condition `{"field": "stage", "op": "in", "value": ["subscription"]}`; fields that look back
//! over a window also take `"days": N`. Conditions on hearing points and behavioural data name
//! what they test (their [`Subject`]): a hearing question (`"question": 12`) or every question
//! filling a soft attribute (`"attribute": "investment_appetite"`), a survey question's key
//! (`"key": "NPS"`) or text the visited URL contains (`"url": "/pricing"`).
//!
//! Definitions the fields rely on (documented for users in the builder's help):
//! - **Unmet expectation** (満たされない期待): the customer has at least one kimochi note of kind
//!   expectation, and a gap — a kimochi note of kind gap or a contact the text engine tagged gap.
//! - **Listened well last time** (前回しっかり話を聞けた): the customer's last *reached* phone
//!   call (an outcome other than no contact, busy or hung up) lasted at least
//!   [`LISTENED_WELL_SECONDS`] or was tagged gratitude or satisfaction, or read positive.
//! - **Call facts** count phone contacts only; email tracking events (`Outcome::is_email_event`)
//!   are recorded on the email channel and never count as, or reset, a call fact.
//! - **Hearing answers** (聞き出しの回答) test the customer's *latest* answer to the question, or
//!   to any question of the attribute of the answer's kind; the status is `answered` (some
//!   answer), `asked_unanswered` (asked, never answered) or `not_asked` (never asked, including
//!   never shown). Which questions exist is the tenant's data: the store checks the subject.
//! - **Survey answers** match when any answer to the key in the window is one of the texts, or,
//!   for a numeric comparison, is a plain decimal number (`9`, `-1.5`) that compares true.
//! - **Web visits** count visits in the window whose URL contains the text (ASCII letters in any
//!   case). **Email engagement** is an email-channel contact with that outcome in the window.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{Map, Value};

use crate::prefecture::PREFECTURES;
use crate::vocab::{ChurnLevel, Gender, KimochiKind, KimochiTag, LoyaltyQuadrant, Outcome, Stage};

/// A rule may nest groups this deep (the root is depth 1).
pub const MAX_DEPTH: usize = 6;
/// A rule may hold at most this many nodes (groups, negations and conditions).
pub const MAX_NODES: usize = 64;
/// A condition's list may hold at most this many values.
pub const MAX_VALUES: usize = 100;
/// A text value may be at most this many characters.
pub const MAX_TEXT: usize = 64;
/// Windows (`days`) may reach this far back.
pub const MAX_DAYS: i64 = 3650;
/// A reached call at least this long counts as "listened well" (5 minutes).
pub const LISTENED_WELL_SECONDS: i64 = 300;

/// What was wrong with a rule, and where: `path` is the bad node's path in the JSON form
/// (`all[2].value`, `any[0].not.field`; empty for the root), `reason` an English fragment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SegmentRuleError {
    pub path: String,
    pub problem: RuleProblem,
    pub reason: String,
}

impl fmt::Display for SegmentRuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "rule: {}", self.reason)
        } else {
            write!(f, "{}: {}", self.path, self.reason)
        }
    }
}

fn error(path: &str, problem: RuleProblem, reason: impl Into<String>) -> SegmentRuleError {
    SegmentRuleError { path: path.to_owned(), problem, reason: reason.into() }
}

/// What kind of mistake a [`SegmentRuleError`] is, for a message in the user's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleProblem {
    /// Not a group, negation or condition (wrong JSON shape).
    Malformed,
    EmptyGroup,
    TooLarge,
    UnknownField,
    WrongOperator,
    WrongValue,
    EmptyList,
    WrongWindow,
    /// Conditions on one field that no customer can meet together.
    Contradiction,
    /// A product that is not the tenant's own.
    ForeignProduct,
    /// A hearing question or soft attribute that is not the tenant's own.
    UnknownQuestion,
    /// A condition without what it is about (the question, attribute, key or URL), or with one
    /// its field does not take.
    WrongSubject,
}

impl RuleProblem {
    pub fn label_ja(self) -> &'static str {
        match self {
            RuleProblem::Malformed => "条件の形式が正しくありません",
            RuleProblem::EmptyGroup => "グループに条件がありません",
            RuleProblem::TooLarge => "条件が多すぎるか、入れ子が深すぎます",
            RuleProblem::UnknownField => "項目を選んでください（不明な項目です）",
            RuleProblem::WrongOperator => "この項目では使えない比較です",
            RuleProblem::WrongValue => "値が正しくありません",
            RuleProblem::EmptyList => "値を1つ以上選んでください",
            RuleProblem::WrongWindow => "日数（期間）が正しくありません",
            RuleProblem::Contradiction => "同じ項目の条件が矛盾していて、該当する顧客がいません",
            RuleProblem::ForeignProduct => "この商品は登録されていません",
            RuleProblem::UnknownQuestion => "この聞き出し項目は登録されていません",
            RuleProblem::WrongSubject => "対象（質問・項目・キー・URL）の指定が正しくありません",
        }
    }
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Eq,
    Lt,
    Lte,
    Gt,
    Gte,
    /// One of the listed values.
    In,
}

impl Op {
    pub const ALL: &'static [Op] = &[Op::Eq, Op::Lt, Op::Lte, Op::Gt, Op::Gte, Op::In];

    pub fn code(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::In => "in",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Op::Eq => "＝",
            Op::Lt => "＜（未満）",
            Op::Lte => "≦（以下）",
            Op::Gt => "＞（超）",
            Op::Gte => "≧（以上）",
            Op::In => "のいずれか",
        }
    }

    pub fn from_code(code: &str) -> Option<Op> {
        Op::ALL.iter().copied().find(|op| op.code() == code)
    }
}

const NUMERIC_OPS: &[Op] = &[Op::Eq, Op::Lt, Op::Lte, Op::Gt, Op::Gte];
const BOOL_OPS: &[Op] = &[Op::Eq];
const SET_OPS: &[Op] = &[Op::In];
const ALL_OPS: &[Op] = Op::ALL;

/// The type of a field's value.
#[derive(Debug, Clone, Copy)]
pub enum ValueKind {
    /// `true` or `false`.
    Bool,
    /// A whole number in `min..=max`.
    Integer { min: i64, max: i64 },
    /// A number in `min..=max` (yen, probabilities).
    Number { min: f64, max: f64 },
    /// A list of codes from a closed vocabulary: (code, Japanese label) pairs.
    Codes(fn() -> Vec<(&'static str, &'static str)>),
    /// A list of free texts (e.g. ad media as the tenant records them).
    Texts,
    /// A list of the tenant's product ids (the store checks they are the tenant's own).
    Products,
    /// A list of RFM cell codes 111–555.
    RfmCells,
    /// A list of texts for `in`, a number for the comparisons (survey answers).
    TextsOrNumber,
}

/// Whether a field takes a look-back window (`days`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    None,
    Required,
    Optional,
}

/// What the builder and the validator know of a field.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub field: Field,
    pub group_ja: &'static str,
    pub group_en: &'static str,
    pub label_ja: &'static str,
    pub label_en: &'static str,
    pub kind: ValueKind,
    pub ops: &'static [Op],
    pub window: Window,
}

macro_rules! fields {
    ($( $variant:ident = $code:literal, $group_ja:literal, $group_en:literal, $ja:literal, $en:literal, $kind:expr, $ops:expr, $window:expr; )+) => {
        /// A field a segment condition may test.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Field { $($variant,)+ }

        impl Field {
            pub const ALL: &'static [Field] = &[$(Field::$variant,)+];

            pub fn code(self) -> &'static str {
                match self { $(Field::$variant => $code,)+ }
            }

            pub fn from_code(code: &str) -> Option<Field> {
                match code { $($code => Some(Field::$variant),)+ _ => None }
            }

            pub fn spec(self) -> FieldSpec {
                match self {
                    $(Field::$variant => FieldSpec {
                        field: Field::$variant,
                        group_ja: $group_ja,
                        group_en: $group_en,
                        label_ja: $ja,
                        label_en: $en,
                        kind: $kind,
                        ops: $ops,
                        window: $window,
                    },)+
                }
            }
        }
    };
}

fn codes_of<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<(&'static str, &'static str)> {
    all.iter().map(|v| (code(*v), label(*v))).collect()
}
fn gender_codes() -> Vec<(&'static str, &'static str)> {
    codes_of(Gender::ALL, Gender::code, Gender::label_ja)
}
fn stage_codes() -> Vec<(&'static str, &'static str)> {
    codes_of(Stage::ALL, Stage::code, Stage::label_ja)
}
fn churn_level_codes() -> Vec<(&'static str, &'static str)> {
    codes_of(ChurnLevel::ALL, ChurnLevel::code, ChurnLevel::label_ja)
}
fn loyalty_codes() -> Vec<(&'static str, &'static str)> {
    codes_of(LoyaltyQuadrant::ALL, LoyaltyQuadrant::code, LoyaltyQuadrant::label_ja)
}
fn kimochi_tag_codes() -> Vec<(&'static str, &'static str)> {
    codes_of(KimochiTag::ALL, KimochiTag::code, KimochiTag::label_ja)
}
fn kimochi_kind_codes() -> Vec<(&'static str, &'static str)> {
    codes_of(KimochiKind::ALL, KimochiKind::code, KimochiKind::label_ja)
}
/// Outcomes an operator records on a call (email tracking events are not calls).
fn call_outcome_codes() -> Vec<(&'static str, &'static str)> {
    Outcome::ALL.iter().filter(|o| !o.is_email_event()).map(|o| (o.code(), o.label_ja())).collect()
}
fn prefecture_codes() -> Vec<(&'static str, &'static str)> {
    PREFECTURES.iter().map(|p| (*p, *p)).collect()
}

const COUNT: ValueKind = ValueKind::Integer { min: 0, max: 1_000_000 };
const YEN: ValueKind = ValueKind::Number { min: -1e12, max: 1e12 };
const RATIO: ValueKind = ValueKind::Number { min: 0.0, max: 1.0 };
const DAYS: ValueKind = ValueKind::Integer { min: 0, max: 36_500 };
const LEVEL: ValueKind = ValueKind::Integer { min: 1, max: 5 };

fields! {
    Prefecture = "prefecture", "プロフィール", "Profile", "都道府県", "Prefecture", ValueKind::Codes(prefecture_codes), SET_OPS, Window::None;
    Gender = "gender", "プロフィール", "Profile", "性別", "Gender", ValueKind::Codes(gender_codes), SET_OPS, Window::None;
    Age = "age", "プロフィール", "Profile", "年齢", "Age", ValueKind::Integer { min: 0, max: 130 }, NUMERIC_OPS, Window::None;
    AdMedium = "ad_medium", "プロフィール", "Profile", "広告媒体", "Ad medium", ValueKind::Texts, SET_OPS, Window::None;
    HasPhone = "has_phone", "プロフィール", "Profile", "電話番号あり", "Has a phone number", ValueKind::Bool, BOOL_OPS, Window::None;
    HasEmail = "has_email", "プロフィール", "Profile", "メールアドレスあり", "Has an email address", ValueKind::Bool, BOOL_OPS, Window::None;
    ConsentPhone = "consent_phone", "同意", "Consent", "電話連絡の同意", "Consents to calls", ValueKind::Bool, BOOL_OPS, Window::None;
    ConsentEmail = "consent_email", "同意", "Consent", "メール配信の同意", "Consents to email", ValueKind::Bool, BOOL_OPS, Window::None;
    ConsentDm = "consent_dm", "同意", "Consent", "DM送付の同意", "Consents to direct mail", ValueKind::Bool, BOOL_OPS, Window::None;
    DoNotCall = "do_not_call", "同意", "Consent", "架電禁止", "Do not call", ValueKind::Bool, BOOL_OPS, Window::None;
    Stage = "stage", "スコア", "Scores", "顧客ステージ", "Stage", ValueKind::Codes(stage_codes), SET_OPS, Window::None;
    RfmCell = "rfm_cell", "スコア", "Scores", "RFMセル", "RFM cell", ValueKind::RfmCells, SET_OPS, Window::None;
    RecencyLevel = "r_level", "スコア", "Scores", "R（最新購入）ランク", "R level", LEVEL, NUMERIC_OPS, Window::None;
    FrequencyLevel = "f_level", "スコア", "Scores", "F（購入頻度）ランク", "F level", LEVEL, NUMERIC_OPS, Window::None;
    MonetaryLevel = "m_level", "スコア", "Scores", "M（購入金額）ランク", "M level", LEVEL, NUMERIC_OPS, Window::None;
    Clv = "clv", "スコア", "Scores", "CLV（円）", "CLV (yen)", YEN, NUMERIC_OPS, Window::None;
    ChurnProbability = "churn_probability", "スコア", "Scores", "離反確率（0〜1）", "Churn probability (0–1)", RATIO, NUMERIC_OPS, Window::None;
    ChurnLevel = "churn_level", "スコア", "Scores", "離反リスク", "Churn risk", ValueKind::Codes(churn_level_codes), SET_OPS, Window::None;
    PAlive = "p_alive", "スコア", "Scores", "継続確率（0〜1）", "P(alive) (0–1)", RATIO, NUMERIC_OPS, Window::None;
    Loyalty = "loyalty", "スコア", "Scores", "ロイヤルティ", "Loyalty quadrant", ValueKind::Codes(loyalty_codes), SET_OPS, Window::None;
    PositiveDormant = "positive_dormant", "スコア", "Scores", "ポジティブ休眠", "Positive dormant", ValueKind::Bool, BOOL_OPS, Window::None;
    KimochiTagged = "kimochi_tag", "キモチ", "Kimochi", "キモチタグのある接触（直近N日）", "Contact tagged with a kimochi (last N days)", ValueKind::Codes(kimochi_tag_codes), SET_OPS, Window::Required;
    KimochiNote = "kimochi_note", "キモチ", "Kimochi", "キモチメモの種類", "Kimochi note of a kind", ValueKind::Codes(kimochi_kind_codes), SET_OPS, Window::Optional;
    UnmetExpectation = "unmet_expectation", "キモチ", "Kimochi", "満たされない期待（期待＋ギャップ）", "Unmet expectation (expectation + gap)", ValueKind::Bool, BOOL_OPS, Window::None;
    BoughtProduct = "bought_product", "購買", "Orders", "購入した商品", "Bought product", ValueKind::Products, SET_OPS, Window::None;
    DaysSinceLastOrder = "days_since_last_order", "購買", "Orders", "最終注文からの日数", "Days since last order", DAYS, NUMERIC_OPS, Window::None;
    OrderCount = "order_count", "購買", "Orders", "注文回数", "Order count", COUNT, NUMERIC_OPS, Window::None;
    TotalSpend = "total_spend", "購買", "Orders", "累計購入金額（円）", "Total spend (yen)", YEN, NUMERIC_OPS, Window::None;
    RepeatOverdue = "repeat_overdue", "購買", "Orders", "リピート周期超過", "Overdue to rebuy", ValueKind::Bool, BOOL_OPS, Window::None;
    ConsecutiveNoContact = "consecutive_no_contact", "接触履歴", "Contact history", "連続不通回数", "Consecutive no-contacts", COUNT, NUMERIC_OPS, Window::None;
    CallAttempts = "call_attempts", "接触履歴", "Contact history", "架電回数（直近N日）", "Call attempts (last N days)", COUNT, NUMERIC_OPS, Window::Required;
    LastCallOutcome = "last_call_outcome", "接触履歴", "Contact history", "前回通話の結果", "Last call's outcome", ValueKind::Codes(call_outcome_codes), SET_OPS, Window::None;
    ListenedWell = "listened_well", "接触履歴", "Contact history", "前回しっかり話を聞けた", "Listened well last time", ValueKind::Bool, BOOL_OPS, Window::None;
    HearingStatus = "hearing_status", "聞き出し", "Hearing points", "聞き出しの状況", "Hearing status", ValueKind::Codes(hearing_status_codes), SET_OPS, Window::None;
    HearingChoice = "hearing_choice", "聞き出し", "Hearing points", "最新の回答（選択肢）", "Latest answer (choice)", ValueKind::Texts, SET_OPS, Window::None;
    HearingNumber = "hearing_number", "聞き出し", "Hearing points", "最新の回答（数値）", "Latest answer (number)", ValueKind::Number { min: -1e12, max: 1e12 }, NUMERIC_OPS, Window::None;
    HearingDaysUntil = "hearing_days_until", "聞き出し", "Hearing points", "回答の日付までの日数（過去はマイナス）", "Days until the answered date (past: negative)", ValueKind::Integer { min: -36_500, max: 36_500 }, NUMERIC_OPS, Window::None;
    SurveyAnswer = "survey_answer", "行動データ", "Behaviour", "アンケート回答（直近N日）", "Survey answer (last N days)", ValueKind::TextsOrNumber, ALL_OPS, Window::Required;
    WebVisits = "web_visits", "行動データ", "Behaviour", "URLを含むページの閲覧回数（直近N日）", "Visits to pages whose URL contains (last N days)", COUNT, NUMERIC_OPS, Window::Required;
    EmailEngagement = "email_event", "行動データ", "Behaviour", "メールの反応（直近N日）", "Email engagement (last N days)", ValueKind::Codes(email_event_codes), SET_OPS, Window::Required;
}

/// The kinds of thing a field's conditions are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    /// The field is about the customer as a whole.
    None,
    /// A hearing question (`question`) or a soft attribute (`attribute`), exactly one.
    Hearing,
    /// A survey question's key (`key`).
    SurveyKey,
    /// Text the visited URL contains (`url`).
    Url,
}

impl Field {
    /// What the field's conditions must name besides the value.
    pub fn subject_kind(self) -> SubjectKind {
        match self {
            Field::HearingStatus | Field::HearingChoice | Field::HearingNumber | Field::HearingDaysUntil => {
                SubjectKind::Hearing
            }
            Field::SurveyAnswer => SubjectKind::SurveyKey,
            Field::WebVisits => SubjectKind::Url,
            _ => SubjectKind::None,
        }
    }
}

/// What a condition on hearing points or behaviour is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// One hearing question, by id (`"question": 12`).
    Question(i64),
    /// Every question filling a soft attribute (`"attribute": "investment_appetite"`).
    Attribute(String),
    /// A survey question's key as imported (`"key": "NPS"`).
    SurveyKey(String),
    /// Text the visited URL contains (`"url": "/pricing"`).
    UrlContains(String),
}

impl Subject {
    /// The key of the JSON form.
    pub fn key(&self) -> &'static str {
        match self {
            Subject::Question(_) => "question",
            Subject::Attribute(_) => "attribute",
            Subject::SurveyKey(_) => "key",
            Subject::UrlContains(_) => "url",
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Subject::Question(id) => Value::from(*id),
            Subject::Attribute(text) | Subject::SurveyKey(text) | Subject::UrlContains(text) => {
                Value::from(text.clone())
            }
        }
    }
}

/// The status of a hearing point for a customer.
pub const HEARING_STATUSES: &[(&str, &str)] =
    &[("answered", "回答あり"), ("asked_unanswered", "聞いたが回答なし"), ("not_asked", "まだ聞いていない")];

fn hearing_status_codes() -> Vec<(&'static str, &'static str)> {
    HEARING_STATUSES.to_vec()
}

/// Email events a customer's engagement is read from.
fn email_event_codes() -> Vec<(&'static str, &'static str)> {
    Outcome::ALL.iter().filter(|o| o.is_email_event()).map(|o| (o.code(), o.label_ja())).collect()
}

/// A saved segment's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SegmentId(pub i64);

impl fmt::Display for SegmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A segment to save: a name unique in the tenant, a description and the rule.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSegment {
    pub name: String,
    pub description: String,
    pub rule: SegmentRule,
}

/// A saved segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub id: SegmentId,
    pub name: String,
    pub description: String,
    pub rule: SegmentRule,
    pub created_by: Option<crate::ids::UserId>,
    pub created_at: time::OffsetDateTime,
    pub updated_at: time::OffsetDateTime,
}

/// Longest segment name and description, in characters.
pub const MAX_SEGMENT_NAME: usize = 100;
pub const MAX_SEGMENT_DESCRIPTION: usize = 1000;

impl NewSegment {
    /// Trims the name and checks both texts' lengths.
    pub fn validate(&self) -> Result<NewSegment, crate::ValidationError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(crate::ValidationError::new("name", name, "is empty"));
        }
        if name.chars().count() > MAX_SEGMENT_NAME {
            return Err(crate::ValidationError::new("name", name, format!("at most {MAX_SEGMENT_NAME} characters")));
        }
        let description = self.description.trim();
        if description.chars().count() > MAX_SEGMENT_DESCRIPTION {
            return Err(crate::ValidationError::new(
                "description",
                description,
                format!("at most {MAX_SEGMENT_DESCRIPTION} characters"),
            ));
        }
        Ok(NewSegment { name: name.to_owned(), description: description.to_owned(), rule: self.rule.clone() })
    }
}

/// A validated condition's value.
#[derive(Debug, Clone, PartialEq)]
pub enum SegmentValue {
    Bool(bool),
    Integer(i64),
    Number(f64),
    /// Codes, texts (deduplicated, in the order given).
    Texts(Vec<String>),
    /// Product ids or RFM cells.
    Integers(Vec<i64>),
}

/// One test of one field.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub field: Field,
    pub op: Op,
    pub value: SegmentValue,
    /// Look-back window in days, for the fields that take one.
    pub days: Option<i64>,
    /// What the condition is about, for the fields that name something ([`Field::subject_kind`]).
    pub subject: Option<Subject>,
}

/// A segment rule.
#[derive(Debug, Clone, PartialEq)]
pub enum SegmentRule {
    All(Vec<SegmentRule>),
    Any(Vec<SegmentRule>),
    Not(Box<SegmentRule>),
    Condition(Condition),
}

impl SegmentRule {
    /// Parses and validates a rule from its JSON form.
    pub fn from_json(value: &Value) -> Result<SegmentRule, SegmentRuleError> {
        let mut nodes = 0;
        let rule = parse_node(value, "", 1, &mut nodes)?;
        rule.check_contradictions("")?;
        Ok(rule)
    }

    /// Parses a rule stored or sent as text.
    pub fn from_json_text(text: &str) -> Result<SegmentRule, SegmentRuleError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| error("", RuleProblem::Malformed, format!("is not JSON: {e}")))?;
        SegmentRule::from_json(&value)
    }

    /// The JSON form (what [`SegmentRule::from_json`] reads back to the same rule).
    pub fn to_json(&self) -> Value {
        match self {
            SegmentRule::All(rules) => single("all", Value::Array(rules.iter().map(SegmentRule::to_json).collect())),
            SegmentRule::Any(rules) => single("any", Value::Array(rules.iter().map(SegmentRule::to_json).collect())),
            SegmentRule::Not(rule) => single("not", rule.to_json()),
            SegmentRule::Condition(condition) => {
                let mut map = Map::new();
                map.insert("field".into(), Value::from(condition.field.code()));
                map.insert("op".into(), Value::from(condition.op.code()));
                let value = match &condition.value {
                    SegmentValue::Bool(b) => Value::from(*b),
                    SegmentValue::Integer(i) => Value::from(*i),
                    SegmentValue::Number(n) => Value::from(*n),
                    SegmentValue::Texts(texts) => Value::from(texts.clone()),
                    SegmentValue::Integers(ids) => Value::from(ids.clone()),
                };
                map.insert("value".into(), value);
                if let Some(days) = condition.days {
                    map.insert("days".into(), Value::from(days));
                }
                if let Some(subject) = &condition.subject {
                    map.insert(subject.key().into(), subject.to_json());
                }
                Value::Object(map)
            }
        }
    }

    /// Every product id the rule names, for the store's ownership check.
    pub fn product_ids(&self) -> BTreeSet<i64> {
        let mut ids = BTreeSet::new();
        self.visit(&mut |condition| {
            if let (Field::BoughtProduct, SegmentValue::Integers(list)) = (condition.field, &condition.value) {
                ids.extend(list.iter().copied());
            }
        });
        ids
    }

    /// The path of the first condition naming `product` (for an error about it).
    pub fn product_path(&self, product: i64) -> String {
        fn walk(rule: &SegmentRule, path: &str, product: i64) -> Option<String> {
            match rule {
                SegmentRule::All(rules) | SegmentRule::Any(rules) => {
                    let key = if matches!(rule, SegmentRule::All(_)) { "all" } else { "any" };
                    rules.iter().enumerate().find_map(|(i, r)| walk(r, &child(path, &format!("{key}[{i}]")), product))
                }
                SegmentRule::Not(inner) => walk(inner, &child(path, "not"), product),
                SegmentRule::Condition(c) => match &c.value {
                    SegmentValue::Integers(list) if c.field == Field::BoughtProduct && list.contains(&product) => {
                        Some(child(path, "value"))
                    }
                    _ => None,
                },
            }
        }
        walk(self, "", product).unwrap_or_default()
    }

    /// Every condition with the path of its node (`any[1].not`), in rule order.
    pub fn conditions_with_paths(&self) -> Vec<(String, &Condition)> {
        fn walk<'r>(rule: &'r SegmentRule, path: String, out: &mut Vec<(String, &'r Condition)>) {
            match rule {
                SegmentRule::All(rules) | SegmentRule::Any(rules) => {
                    let key = if matches!(rule, SegmentRule::All(_)) { "all" } else { "any" };
                    for (i, inner) in rules.iter().enumerate() {
                        walk(inner, child(&path, &format!("{key}[{i}]")), out);
                    }
                }
                SegmentRule::Not(inner) => walk(inner, child(&path, "not"), out),
                SegmentRule::Condition(condition) => out.push((path, condition)),
            }
        }
        let mut out = Vec::new();
        walk(self, String::new(), &mut out);
        out
    }

    fn visit(&self, f: &mut impl FnMut(&Condition)) {
        match self {
            SegmentRule::All(rules) | SegmentRule::Any(rules) => rules.iter().for_each(|r| r.visit(f)),
            SegmentRule::Not(rule) => rule.visit(f),
            SegmentRule::Condition(condition) => f(condition),
        }
    }

    /// Conditions on one field (and window) that no customer can meet together in one `all`
    /// group: an empty range (days since last order ≥ 90 and ≤ 30), two different booleans, or
    /// lists with nothing in common.
    fn check_contradictions(&self, path: &str) -> Result<(), SegmentRuleError> {
        match self {
            SegmentRule::All(rules) => {
                let mut seen: Vec<(ConstraintKey, Constraint)> = Vec::new();
                for (i, rule) in rules.iter().enumerate() {
                    let here = child(path, &format!("all[{i}]"));
                    rule.check_contradictions(&here)?;
                    let SegmentRule::Condition(condition) = rule else { continue };
                    // "Some event in the window" may hold for two events that differ.
                    if matches!(condition.field, Field::SurveyAnswer | Field::EmailEngagement) {
                        continue;
                    }
                    let constraint = Constraint::of(condition);
                    let key = (condition.field, condition.days, condition.subject.clone());
                    match seen.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, existing)) => {
                            *existing = existing.clone().and(constraint).ok_or_else(|| {
                                error(
                                    &here,
                                    RuleProblem::Contradiction,
                                    format!("contradicts an earlier condition on {}", condition.field.code()),
                                )
                            })?;
                        }
                        None => seen.push((key, constraint)),
                    }
                }
                Ok(())
            }
            SegmentRule::Any(rules) => {
                for (i, rule) in rules.iter().enumerate() {
                    rule.check_contradictions(&child(path, &format!("any[{i}]")))?;
                }
                Ok(())
            }
            SegmentRule::Not(rule) => rule.check_contradictions(&child(path, "not")),
            SegmentRule::Condition(_) => Ok(()),
        }
    }
}

fn single(key: &str, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(key.into(), value);
    Value::Object(map)
}

/// Conditions constrain each other when they share the field, the window and the subject.
type ConstraintKey = (Field, Option<i64>, Option<Subject>);

/// What one or more conditions on one field allow, for the contradiction check.
#[derive(Debug, Clone)]
enum Constraint {
    /// Lower and upper bounds, each with whether it is inclusive.
    Range {
        low: Option<(f64, bool)>,
        high: Option<(f64, bool)>,
    },
    Bool(bool),
    Set(BTreeSet<String>),
}

impl Constraint {
    fn of(condition: &Condition) -> Constraint {
        let number = match condition.value {
            SegmentValue::Integer(i) => i as f64,
            SegmentValue::Number(n) => n,
            SegmentValue::Bool(b) => return Constraint::Bool(b),
            SegmentValue::Texts(ref texts) => return Constraint::Set(texts.iter().cloned().collect()),
            SegmentValue::Integers(ref ids) => return Constraint::Set(ids.iter().map(i64::to_string).collect()),
        };
        let (low, high) = match condition.op {
            Op::Eq => (Some((number, true)), Some((number, true))),
            Op::Gt => (Some((number, false)), None),
            Op::Gte => (Some((number, true)), None),
            Op::Lt => (None, Some((number, false))),
            Op::Lte => (None, Some((number, true))),
            Op::In => (None, None),
        };
        Constraint::Range { low, high }
    }

    /// Both constraints at once, or `None` when nothing can meet them.
    fn and(self, other: Constraint) -> Option<Constraint> {
        match (self, other) {
            (Constraint::Bool(a), Constraint::Bool(b)) => (a == b).then_some(Constraint::Bool(a)),
            (Constraint::Set(a), Constraint::Set(b)) => {
                let both: BTreeSet<String> = a.intersection(&b).cloned().collect();
                (!both.is_empty()).then_some(Constraint::Set(both))
            }
            (Constraint::Range { low: l1, high: h1 }, Constraint::Range { low: l2, high: h2 }) => {
                // The tighter bound wins; at equal values the exclusive one is tighter.
                let low = match (l1, l2) {
                    (Some(a), Some(b)) => Some(if a.0 > b.0 || (a.0 == b.0 && !a.1) { a } else { b }),
                    (a, b) => a.or(b),
                };
                let high = match (h1, h2) {
                    (Some(a), Some(b)) => Some(if a.0 < b.0 || (a.0 == b.0 && !a.1) { a } else { b }),
                    (a, b) => a.or(b),
                };
                if let (Some((lo, lo_inclusive)), Some((hi, hi_inclusive))) = (low, high)
                    && (lo > hi || (lo == hi && !(lo_inclusive && hi_inclusive)))
                {
                    return None;
                }
                Some(Constraint::Range { low, high })
            }
            // One field has one kind of value, so mixed constraints cannot happen.
            (a, _) => Some(a),
        }
    }
}

fn parse_node(value: &Value, path: &str, depth: usize, nodes: &mut usize) -> Result<SegmentRule, SegmentRuleError> {
    *nodes += 1;
    if *nodes > MAX_NODES {
        return Err(error(path, RuleProblem::TooLarge, format!("the rule has more than {MAX_NODES} parts")));
    }
    if depth > MAX_DEPTH {
        return Err(error(path, RuleProblem::TooLarge, format!("the rule nests deeper than {MAX_DEPTH} levels")));
    }
    let Value::Object(map) = value else {
        return Err(error(
            path,
            RuleProblem::Malformed,
            "must be an object: {\"all\": [...]}, {\"any\": [...]}, {\"not\": ...} or a condition",
        ));
    };
    for key in ["all", "any"] {
        if let Some(list) = map.get(key) {
            if map.len() != 1 {
                return Err(error(path, RuleProblem::Malformed, format!("a group holds only \"{key}\"")));
            }
            let here = child(path, key);
            let Value::Array(items) = list else {
                return Err(error(&here, RuleProblem::Malformed, "must be a list of rules"));
            };
            if items.is_empty() {
                return Err(error(&here, RuleProblem::EmptyGroup, "the group is empty"));
            }
            let rules = items
                .iter()
                .enumerate()
                .map(|(i, item)| parse_node(item, &child(path, &format!("{key}[{i}]")), depth + 1, nodes))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(if key == "all" { SegmentRule::All(rules) } else { SegmentRule::Any(rules) });
        }
    }
    if let Some(inner) = map.get("not") {
        if map.len() != 1 {
            return Err(error(path, RuleProblem::Malformed, "a negation holds only \"not\""));
        }
        return Ok(SegmentRule::Not(Box::new(parse_node(inner, &child(path, "not"), depth + 1, nodes)?)));
    }
    parse_condition(map, path).map(SegmentRule::Condition)
}

fn parse_condition(map: &Map<String, Value>, path: &str) -> Result<Condition, SegmentRuleError> {
    if let Some(key) = map
        .keys()
        .find(|k| !matches!(k.as_str(), "field" | "op" | "value" | "days" | "question" | "attribute" | "key" | "url"))
    {
        return Err(error(
            &child(path, key),
            RuleProblem::Malformed,
            "is not part of a condition (field, op, value, days, question, attribute, key, url)",
        ));
    }
    let field_path = child(path, "field");
    let field_code = map
        .get("field")
        .and_then(Value::as_str)
        .ok_or_else(|| error(&field_path, RuleProblem::UnknownField, "is missing"))?;
    let field = Field::from_code(field_code).ok_or_else(|| {
        error(&field_path, RuleProblem::UnknownField, format!("unknown field {:?}", truncate(field_code)))
    })?;
    let spec = field.spec();
    let op_path = child(path, "op");
    let op_code = map
        .get("op")
        .and_then(Value::as_str)
        .ok_or_else(|| error(&op_path, RuleProblem::WrongOperator, "is missing"))?;
    let op = Op::from_code(op_code).filter(|op| spec.ops.contains(op)).ok_or_else(|| {
        let allowed: Vec<&str> = spec.ops.iter().map(|op| op.code()).collect();
        error(
            &op_path,
            RuleProblem::WrongOperator,
            format!("{} takes {}, not {:?}", field.code(), allowed.join(", "), truncate(op_code)),
        )
    })?;
    let days_path = child(path, "days");
    let days = match (map.get("days"), spec.window) {
        (None | Some(Value::Null), Window::Required) => {
            return Err(error(&days_path, RuleProblem::WrongWindow, "is missing (a number of days)"));
        }
        (None | Some(Value::Null), _) => None,
        (Some(_), Window::None) => {
            return Err(error(&days_path, RuleProblem::WrongWindow, format!("{} takes no window", field.code())));
        }
        (Some(value), _) => match value.as_i64() {
            Some(days) if (1..=MAX_DAYS).contains(&days) => Some(days),
            _ => {
                return Err(error(
                    &days_path,
                    RuleProblem::WrongWindow,
                    format!("must be a whole number of days from 1 to {MAX_DAYS}"),
                ));
            }
        },
    };
    let subject = parse_subject(field, map, path)?;
    let value_path = child(path, "value");
    let raw = map.get("value").ok_or_else(|| error(&value_path, RuleProblem::WrongValue, "is missing"))?;
    let kind = match (spec.kind, op) {
        (ValueKind::TextsOrNumber, Op::In) => ValueKind::Texts,
        (ValueKind::TextsOrNumber, _) => ValueKind::Number { min: -1e12, max: 1e12 },
        (kind, _) => kind,
    };
    let value = parse_value(kind, raw, &value_path)?;
    Ok(Condition { field, op, value, days, subject })
}

/// The subject keys of a condition: exactly those its field takes.
fn parse_subject(field: Field, map: &Map<String, Value>, path: &str) -> Result<Option<Subject>, SegmentRuleError> {
    let allowed: &[&str] = match field.subject_kind() {
        SubjectKind::None => &[],
        SubjectKind::Hearing => &["question", "attribute"],
        SubjectKind::SurveyKey => &["key"],
        SubjectKind::Url => &["url"],
    };
    for key in ["question", "attribute", "key", "url"] {
        if map.contains_key(key) && !allowed.contains(&key) {
            return Err(error(
                &child(path, key),
                RuleProblem::WrongSubject,
                format!("{} does not take \"{key}\"", field.code()),
            ));
        }
    }
    let given: Vec<&str> = allowed.iter().copied().filter(|key| map.contains_key(*key)).collect();
    let key = match given.as_slice() {
        [] if allowed.is_empty() => return Ok(None),
        [] => {
            return Err(error(
                path,
                RuleProblem::WrongSubject,
                format!(
                    "{} needs {}",
                    field.code(),
                    allowed.iter().map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(" or ")
                ),
            ));
        }
        [key] => *key,
        _ => {
            return Err(error(
                &child(path, "attribute"),
                RuleProblem::WrongSubject,
                "give either \"question\" or \"attribute\", not both",
            ));
        }
    };
    let here = child(path, key);
    let raw = &map[key];
    let text = || -> Result<String, SegmentRuleError> {
        raw.as_str()
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.chars().count() <= MAX_TEXT)
            .map(str::to_owned)
            .ok_or_else(|| {
                error(&here, RuleProblem::WrongSubject, format!("must be a text of 1 to {MAX_TEXT} characters"))
            })
    };
    Ok(Some(match key {
        "question" => Subject::Question(
            raw.as_i64()
                .filter(|id| *id > 0)
                .ok_or_else(|| error(&here, RuleProblem::WrongSubject, "must be a question id"))?,
        ),
        "attribute" => Subject::Attribute(
            crate::hearing::parse_soft_attribute(&text()?)
                .map_err(|e| error(&here, RuleProblem::WrongSubject, e.reason))?,
        ),
        "key" => Subject::SurveyKey(text()?),
        _ => Subject::UrlContains(text()?),
    }))
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

fn parse_value(kind: ValueKind, raw: &Value, path: &str) -> Result<SegmentValue, SegmentRuleError> {
    match kind {
        ValueKind::Bool => raw
            .as_bool()
            .map(SegmentValue::Bool)
            .ok_or_else(|| error(path, RuleProblem::WrongValue, "must be true or false")),
        ValueKind::Integer { min, max } => match raw.as_i64() {
            Some(i) if (min..=max).contains(&i) => Ok(SegmentValue::Integer(i)),
            _ => Err(error(path, RuleProblem::WrongValue, format!("must be a whole number from {min} to {max}"))),
        },
        ValueKind::Number { min, max } => match raw.as_f64() {
            Some(n) if n.is_finite() && (min..=max).contains(&n) => Ok(SegmentValue::Number(n)),
            _ => Err(error(path, RuleProblem::WrongValue, format!("must be a number from {min} to {max}"))),
        },
        ValueKind::Codes(codes) => {
            let allowed = codes();
            let texts = parse_list(
                raw,
                path,
                |item| {
                    let text = item.as_str()?;
                    allowed.iter().find(|(code, _)| *code == text).map(|(code, _)| (*code).to_owned())
                },
                || {
                    let list: Vec<&str> = allowed.iter().map(|(code, _)| *code).take(12).collect();
                    format!("one of {}{}", list.join(", "), if allowed.len() > 12 { ", …" } else { "" })
                },
            )?;
            Ok(SegmentValue::Texts(texts))
        }
        ValueKind::Texts => {
            let texts = parse_list(
                raw,
                path,
                |item| {
                    let text = item.as_str()?.trim();
                    (!text.is_empty() && text.chars().count() <= MAX_TEXT).then(|| text.to_owned())
                },
                || format!("a text of 1 to {MAX_TEXT} characters"),
            )?;
            Ok(SegmentValue::Texts(texts))
        }
        ValueKind::Products => {
            let ids = parse_list(raw, path, |item| item.as_i64().filter(|id| *id > 0), || "a product id".to_owned())?;
            Ok(SegmentValue::Integers(ids))
        }
        ValueKind::TextsOrNumber => parse_value(ValueKind::Texts, raw, path),
        ValueKind::RfmCells => {
            let cells = parse_list(
                raw,
                path,
                |item| item.as_i64().filter(|c| valid_rfm_cell(*c)),
                || "an RFM cell from 111 to 555 (each digit 1–5)".to_owned(),
            )?;
            Ok(SegmentValue::Integers(cells))
        }
    }
}

/// An RFM cell code: three digits, each 1–5.
pub fn valid_rfm_cell(cell: i64) -> bool {
    (111..=555).contains(&cell) && [cell / 100, cell / 10 % 10, cell % 10].iter().all(|d| (1..=5).contains(d))
}

fn parse_list<T: PartialEq>(
    raw: &Value,
    path: &str,
    item: impl Fn(&Value) -> Option<T>,
    expected: impl Fn() -> String,
) -> Result<Vec<T>, SegmentRuleError> {
    let Value::Array(items) = raw else { return Err(error(path, RuleProblem::WrongValue, "must be a list")) };
    if items.is_empty() {
        return Err(error(path, RuleProblem::EmptyList, "the list is empty: no customer can match"));
    }
    if items.len() > MAX_VALUES {
        return Err(error(path, RuleProblem::TooLarge, format!("at most {MAX_VALUES} values")));
    }
    let mut values = Vec::with_capacity(items.len());
    for (i, raw_item) in items.iter().enumerate() {
        let value = item(raw_item).ok_or_else(|| {
            error(&format!("{path}[{i}]"), RuleProblem::WrongValue, format!("must be {}", expected()))
        })?;
        if !values.contains(&value) {
            values.push(value);
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check_error(rule: Value, path: &str, reason_part: &str) {
        let error = SegmentRule::from_json(&rule).expect_err("the rule should be refused");
        assert_eq!(error.path, path, "{error}");
        assert!(error.reason.contains(reason_part), "{error} lacks {reason_part:?}");
    }

    #[test]
    fn the_example_rule_parses_and_round_trips() {
        let rule = json!({"all": [
            {"field": "stage", "op": "in", "value": ["subscription"]},
            {"not": {"field": "consent_phone", "op": "eq", "value": true}},
            {"field": "call_attempts", "op": "gte", "value": 2, "days": 30},
            {"field": "churn_probability", "op": "gte", "value": 0.5},
        ]});
        let parsed = SegmentRule::from_json(&rule).unwrap();
        assert_eq!(parsed.to_json(), rule);
        assert_eq!(SegmentRule::from_json(&parsed.to_json()).unwrap(), parsed);
        match &parsed {
            SegmentRule::All(rules) => assert_eq!(rules.len(), 4),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_rules_name_the_bad_node() {
        check_error(json!({"all": []}), "all", "empty");
        check_error(json!({"any": [{"field": "nope", "op": "eq", "value": 1}]}), "any[0].field", "unknown field");
        check_error(
            json!({"all": [{"field": "age", "op": "gte", "value": 20}, {"field": "age", "op": "in", "value": [1]}]}),
            "all[1].op",
            "age takes eq, lt",
        );
        check_error(
            json!({"all": [{"field": "age", "op": "gte", "value": 20}, {"field": "stage", "op": "in", "value": "trial"}]}),
            "all[1].value",
            "must be a list",
        );
        check_error(json!({"all": [{"field": "stage", "op": "in", "value": []}]}), "all[0].value", "empty");
        check_error(
            json!({"all": [{"field": "stage", "op": "in", "value": ["trial", "vip"]}]}),
            "all[0].value[1]",
            "one of excluded",
        );
        check_error(json!({"not": {"field": "has_phone", "op": "eq", "value": "yes"}}), "not.value", "true or false");
        check_error(json!({"field": "call_attempts", "op": "gte", "value": 1}), "days", "missing");
        check_error(json!({"field": "age", "op": "gte", "value": 1, "days": 3}), "days", "takes no window");
        check_error(json!({"field": "churn_probability", "op": "gte", "value": 1.5}), "value", "from 0 to 1");
        check_error(json!({"field": "age", "op": "gte", "value": 1, "extra": 1}), "extra", "not part of a condition");
        check_error(json!([1]), "", "must be an object");
        check_error(json!({"all": [{"field": "rfm_cell", "op": "in", "value": [116]}]}), "all[0].value[0]", "RFM cell");
    }

    #[test]
    fn contradictions_in_one_all_group_are_refused() {
        check_error(
            json!({"all": [
                {"field": "days_since_last_order", "op": "gte", "value": 90},
                {"field": "days_since_last_order", "op": "lte", "value": 30},
            ]}),
            "all[1]",
            "contradicts",
        );
        check_error(
            json!({"any": [{"all": [
                {"field": "has_email", "op": "eq", "value": true},
                {"field": "has_email", "op": "eq", "value": false},
            ]}]}),
            "any[0].all[1]",
            "contradicts",
        );
        check_error(
            json!({"all": [
                {"field": "stage", "op": "in", "value": ["trial"]},
                {"field": "stage", "op": "in", "value": ["dormant"]},
            ]}),
            "all[1]",
            "contradicts",
        );
        check_error(
            json!({"all": [{"field": "age", "op": "gt", "value": 30}, {"field": "age", "op": "lt", "value": 30}]}),
            "all[1]",
            "contradicts",
        );
        // Touching bounds, OR groups, different windows and negations are not contradictions.
        for fine in [
            json!({"all": [{"field": "age", "op": "gte", "value": 30}, {"field": "age", "op": "lte", "value": 30}]}),
            json!({"any": [{"field": "has_email", "op": "eq", "value": true}, {"field": "has_email", "op": "eq", "value": false}]}),
            json!({"all": [
                {"field": "call_attempts", "op": "gte", "value": 3, "days": 30},
                {"field": "call_attempts", "op": "lte", "value": 1, "days": 7},
            ]}),
            json!({"all": [{"field": "has_email", "op": "eq", "value": true}, {"not": {"field": "has_email", "op": "eq", "value": false}}]}),
        ] {
            SegmentRule::from_json(&fine).unwrap();
        }
    }

    #[test]
    fn hearing_and_behaviour_conditions_name_their_subject() {
        let rule = json!({"all": [
            {"field": "hearing_choice", "op": "in", "value": ["高い"], "attribute": "investment_appetite"},
            {"field": "hearing_days_until", "op": "gte", "value": 0, "question": 5},
            {"field": "hearing_days_until", "op": "lte", "value": 180, "question": 5},
            {"field": "hearing_status", "op": "in", "value": ["not_asked"], "question": 6},
            {"field": "survey_answer", "op": "gte", "value": 9.0, "key": "NPS", "days": 90},
            {"field": "survey_answer", "op": "in", "value": ["はい"], "key": "NPS", "days": 90},
            {"field": "web_visits", "op": "gte", "value": 3, "url": "/pricing", "days": 30},
            {"field": "email_event", "op": "in", "value": ["opened"], "days": 30},
            {"field": "email_event", "op": "in", "value": ["clicked"], "days": 30},
        ]});
        let parsed = SegmentRule::from_json(&rule).unwrap();
        assert_eq!(parsed.to_json(), rule);
        let paths: Vec<String> = parsed.conditions_with_paths().into_iter().map(|(path, _)| path).collect();
        assert_eq!(paths[3], "all[3]");
        // The same field on two questions is not a contradiction; on one question it is.
        SegmentRule::from_json(&json!({"all": [
            {"field": "hearing_number", "op": "gte", "value": 5000, "question": 1},
            {"field": "hearing_number", "op": "lt", "value": 1000, "question": 2},
        ]}))
        .unwrap();
        check_error(
            json!({"all": [
                {"field": "hearing_number", "op": "gte", "value": 5000, "question": 1},
                {"field": "hearing_number", "op": "lt", "value": 1000, "question": 1},
            ]}),
            "all[1]",
            "contradicts",
        );
        check_error(
            json!({"field": "hearing_choice", "op": "in", "value": ["高い"]}),
            "",
            "needs \"question\" or \"attribute\"",
        );
        check_error(
            json!({"field": "hearing_choice", "op": "in", "value": ["高い"], "question": 1, "attribute": "a"}),
            "attribute",
            "not both",
        );
        check_error(
            json!({"field": "hearing_number", "op": "gte", "value": 1, "question": "x"}),
            "question",
            "question id",
        );
        check_error(
            json!({"field": "hearing_number", "op": "gte", "value": 1, "attribute": "Bad Key"}),
            "attribute",
            "lower-case",
        );
        check_error(json!({"field": "age", "op": "gte", "value": 1, "question": 1}), "question", "age does not take");
        check_error(
            json!({"field": "survey_answer", "op": "gte", "value": "9", "key": "NPS", "days": 90}),
            "value",
            "number",
        );
        check_error(json!({"field": "survey_answer", "op": "in", "value": ["9"], "key": "NPS"}), "days", "missing");
        check_error(json!({"field": "web_visits", "op": "gte", "value": 1, "url": "", "days": 7}), "url", "text of 1");
        check_error(
            json!({"field": "email_event", "op": "in", "value": ["resolved"], "days": 7}),
            "value[0]",
            "one of",
        );
    }

    #[test]
    fn size_and_depth_are_bounded() {
        let mut deep = json!({"field": "has_phone", "op": "eq", "value": true});
        for _ in 0..MAX_DEPTH {
            deep = json!({"not": deep});
        }
        let error = SegmentRule::from_json(&deep).unwrap_err();
        assert!(error.reason.contains("deeper"), "{error}");
        let wide: Vec<Value> =
            (0..MAX_NODES).map(|_| json!({"field": "has_phone", "op": "eq", "value": true})).collect();
        let error = SegmentRule::from_json(&json!({ "any": wide })).unwrap_err();
        assert!(error.reason.contains("more than"), "{error}");
        let long: Vec<i64> = (1..=(MAX_VALUES as i64 + 1)).collect();
        check_error(json!({"field": "bought_product", "op": "in", "value": long}), "value", "at most");
    }

    #[test]
    fn product_ids_and_their_paths() {
        let rule = SegmentRule::from_json(&json!({"any": [
            {"field": "age", "op": "gte", "value": 20},
            {"not": {"field": "bought_product", "op": "in", "value": [7, 9, 7]}},
        ]}))
        .unwrap();
        assert_eq!(rule.product_ids().into_iter().collect::<Vec<_>>(), vec![7, 9]);
        assert_eq!(rule.product_path(9), "any[1].not.value");
    }

    #[test]
    fn every_field_has_a_unique_code_and_ops() {
        let mut codes = BTreeSet::new();
        for field in Field::ALL {
            assert!(codes.insert(field.code()), "{} twice", field.code());
            assert_eq!(Field::from_code(field.code()), Some(*field));
            assert!(!field.spec().ops.is_empty());
        }
        assert!(!call_outcome_codes().iter().any(|(code, _)| *code == "opened"));
    }
}
