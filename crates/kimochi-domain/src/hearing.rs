//! Hearing points (聞き出しポイント, issue 6 S2/K5): a tenant's named sets of questions an
//! operator works into a conversation, each with a typed answer (choice, number, text, date) and
//! the soft attribute it fills (`wedding_date`, `what_matters_most` …), and the answers captured
//! with a contact. Answers are checked against their question's type here, with errors that name
//! the question, so the web edge and the store refuse the same things.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::ValidationError;
use crate::datetime::{format_date, parse_date};
use crate::ids::{ContactId, CustomerId, TenantId, UserId};
use crate::model::short_text;
use crate::normalize::normalize_text;

/// Most questions in one set: a checklist an operator can still read during a call.
pub const MAX_QUESTIONS: usize = 30;
/// Most options of a choice question.
pub const MAX_OPTIONS: usize = 20;
/// Longest operator hint, in characters.
pub const MAX_HINT_CHARS: usize = 500;
/// Longest text answer any question may allow, in characters.
pub const MAX_TEXT_ANSWER_CHARS: u32 = 1000;
/// Largest weight (potential points) of one question.
pub const MAX_WEIGHT: u32 = 50;
/// The weight of a question whose set does not say otherwise.
pub const DEFAULT_WEIGHT: u32 = 10;

/// A hearing-point set (聞き出しポイントセット).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HearingSetId(pub i64);

/// One question of a hearing-point set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HearingQuestionId(pub i64);

impl std::fmt::Display for HearingSetId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Display for HearingQuestionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The type of a question's answer, with its constraints.
#[derive(Debug, Clone, PartialEq)]
pub enum AnswerKind {
    /// One of the options, as written.
    Choice { options: Vec<String> },
    /// A number within the bounds, in `unit` (円, 歳, 人 …).
    Number { min: Option<f64>, max: Option<f64>, unit: Option<String> },
    /// Free text of at most `max_chars` characters.
    Text { max_chars: u32 },
    /// A calendar date (a wedding day, a move, a birthday of a child).
    Date,
}

impl AnswerKind {
    /// The stable code stored and shown in the API.
    pub fn code(&self) -> &'static str {
        match self {
            AnswerKind::Choice { .. } => "choice",
            AnswerKind::Number { .. } => "number",
            AnswerKind::Text { .. } => "text",
            AnswerKind::Date => "date",
        }
    }

    /// Checks the constraints themselves (options present and distinct, bounds ordered).
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self {
            AnswerKind::Choice { options } => {
                if options.is_empty() {
                    return Err(ValidationError::new("options", "", "a choice question needs at least one option"));
                }
                if options.len() > MAX_OPTIONS {
                    return Err(ValidationError::new(
                        "options",
                        &options.len().to_string(),
                        format!("has more than {MAX_OPTIONS} options"),
                    ));
                }
                for (index, option) in options.iter().enumerate() {
                    let checked = short_text("options", option)?;
                    if &checked != option {
                        return Err(ValidationError::new("options", option, "is not normalised"));
                    }
                    if options[..index].contains(option) {
                        return Err(ValidationError::new("options", option, "is listed twice"));
                    }
                }
                Ok(())
            }
            AnswerKind::Number { min, max, unit } => {
                for bound in [min, max].into_iter().flatten() {
                    if !bound.is_finite() {
                        return Err(ValidationError::new("min", &bound.to_string(), "is not a finite number"));
                    }
                }
                if let (Some(min), Some(max)) = (min, max)
                    && min > max
                {
                    return Err(ValidationError::new("max", &max.to_string(), format!("is below min {min}")));
                }
                if let Some(unit) = unit {
                    short_text("unit", unit)?;
                }
                Ok(())
            }
            AnswerKind::Text { max_chars } => {
                if *max_chars == 0 || *max_chars > MAX_TEXT_ANSWER_CHARS {
                    return Err(ValidationError::new(
                        "max_chars",
                        &max_chars.to_string(),
                        format!("must be between 1 and {MAX_TEXT_ANSWER_CHARS}"),
                    ));
                }
                Ok(())
            }
            AnswerKind::Date => Ok(()),
        }
    }
}

/// A soft attribute's key (`wedding_date`): lower-case ASCII letters, digits and underscores,
/// starting with a letter, at most 40 characters. It is what segments and the potential score
/// read, so it must stay stable when the question's wording changes.
pub fn parse_soft_attribute(input: &str) -> Result<String, ValidationError> {
    let text = input.trim();
    let valid = !text.is_empty()
        && text.len() <= 40
        && text.starts_with(|c: char| c.is_ascii_lowercase())
        && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(text.to_owned())
    } else {
        Err(ValidationError::new(
            "soft_attribute",
            input,
            "must be lower-case letters, digits and _ (like wedding_date), at most 40 characters",
        ))
    }
}

/// A question as an administrator writes it. `id` is set when an existing question is edited
/// (its answers stay attached to it).
#[derive(Debug, Clone, PartialEq)]
pub struct NewHearingQuestion {
    pub id: Option<HearingQuestionId>,
    /// What the operator finds out, as shown in the checklist (「ご結婚の予定日」).
    pub label: String,
    pub kind: AnswerKind,
    pub soft_attribute: String,
    /// How to work the question into the conversation (「お祝いの話題から自然に」).
    pub hint: String,
    /// Potential points an answer adds (0–[`MAX_WEIGHT`]).
    pub weight: u32,
}

/// A hearing-point set as an administrator writes it; questions in display order.
#[derive(Debug, Clone, PartialEq)]
pub struct NewHearingSet {
    pub name: String,
    pub description: String,
    /// Shown on the contact form of every inbound contact (one set per tenant at most).
    pub default_inbound: bool,
    pub questions: Vec<NewHearingQuestion>,
}

impl NewHearingSet {
    /// Checks the set and every question; errors name the question by position and label.
    pub fn validate(&self) -> Result<(), ValidationError> {
        short_text("name", &self.name)?;
        if self.description.chars().count() > MAX_HINT_CHARS {
            return Err(ValidationError::new(
                "description",
                &self.description,
                format!("is longer than {MAX_HINT_CHARS} characters"),
            ));
        }
        if self.questions.is_empty() {
            return Err(ValidationError::new("questions", "", "a set needs at least one question"));
        }
        if self.questions.len() > MAX_QUESTIONS {
            return Err(ValidationError::new(
                "questions",
                &self.questions.len().to_string(),
                format!("has more than {MAX_QUESTIONS} questions"),
            ));
        }
        for (index, question) in self.questions.iter().enumerate() {
            let named = |error: ValidationError| {
                ValidationError::new(
                    error.field,
                    &error.value,
                    format!("question {} 「{}」: {}", index + 1, question.label, error.reason),
                )
            };
            short_text("label", &question.label).map_err(named)?;
            parse_soft_attribute(&question.soft_attribute).map_err(named)?;
            question.kind.validate().map_err(named)?;
            if question.hint.chars().count() > MAX_HINT_CHARS {
                return Err(named(ValidationError::new(
                    "hint",
                    &question.hint,
                    format!("is longer than {MAX_HINT_CHARS} characters"),
                )));
            }
            if question.weight > MAX_WEIGHT {
                return Err(named(ValidationError::new(
                    "weight",
                    &question.weight.to_string(),
                    format!("must be between 0 and {MAX_WEIGHT}"),
                )));
            }
            if question.id.is_some() && self.questions[..index].iter().any(|q| q.id == question.id) {
                return Err(named(ValidationError::new("id", &format!("{:?}", question.id), "is listed twice")));
            }
        }
        Ok(())
    }
}

/// A stored question.
#[derive(Debug, Clone, PartialEq)]
pub struct HearingQuestion {
    pub id: HearingQuestionId,
    pub set_id: HearingSetId,
    /// 1-based position in the set.
    pub position: u32,
    pub label: String,
    pub kind: AnswerKind,
    pub soft_attribute: String,
    pub hint: String,
    pub weight: u32,
}

impl HearingQuestion {
    /// Parses an answer typed into the contact form (blank means "not answered").
    pub fn parse_answer(&self, input: &str) -> Result<Option<AnswerValue>, ValidationError> {
        let text = input.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let value = match &self.kind {
            AnswerKind::Choice { .. } => AnswerValue::Choice(normalize_text(text)),
            AnswerKind::Number { .. } => {
                let normalized = normalize_text(text).replace([',', '，'], "");
                match normalized.parse::<f64>() {
                    Ok(number) => AnswerValue::Number(number),
                    Err(_) => return Err(self.refuse(input, "is not a number")),
                }
            }
            AnswerKind::Text { .. } => AnswerValue::Text(text.to_owned()),
            AnswerKind::Date => {
                AnswerValue::Date(parse_date("hearing", text).map_err(|e| self.refuse(input, &e.reason))?)
            }
        };
        self.check(&value)?;
        Ok(Some(value))
    }

    /// Checks a typed answer against this question: its type, options, bounds and length.
    pub fn check(&self, value: &AnswerValue) -> Result<(), ValidationError> {
        match (&self.kind, value) {
            (AnswerKind::Choice { options }, AnswerValue::Choice(choice)) => {
                if options.iter().any(|o| o == choice) {
                    Ok(())
                } else {
                    Err(self.refuse(choice, &format!("is not one of the options ({})", options.join(", "))))
                }
            }
            (AnswerKind::Number { min, max, .. }, AnswerValue::Number(number)) => {
                if !number.is_finite() {
                    return Err(self.refuse(&number.to_string(), "is not a finite number"));
                }
                if let Some(min) = min
                    && number < min
                {
                    return Err(self.refuse(&number.to_string(), &format!("is below the minimum {min}")));
                }
                if let Some(max) = max
                    && number > max
                {
                    return Err(self.refuse(&number.to_string(), &format!("is above the maximum {max}")));
                }
                Ok(())
            }
            (AnswerKind::Text { max_chars }, AnswerValue::Text(text)) => {
                if text.trim().is_empty() {
                    return Err(self.refuse(text, "is empty"));
                }
                if text.chars().count() > *max_chars as usize {
                    return Err(self.refuse(text, &format!("is longer than {max_chars} characters")));
                }
                Ok(())
            }
            (AnswerKind::Date, AnswerValue::Date(_)) => Ok(()),
            (kind, value) => Err(self.refuse(
                &value.display(),
                &format!("is a {} answer, the question wants {}", value.code(), kind.code()),
            )),
        }
    }

    fn refuse(&self, value: &str, reason: &str) -> ValidationError {
        ValidationError::new("hearing", value, format!("question {} 「{}」: {reason}", self.id, self.label))
    }
}

/// A stored set with its questions in order.
#[derive(Debug, Clone, PartialEq)]
pub struct HearingSet {
    pub id: HearingSetId,
    pub tenant_id: TenantId,
    pub name: String,
    pub description: String,
    pub default_inbound: bool,
    pub questions: Vec<HearingQuestion>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl HearingSet {
    pub fn question(&self, id: HearingQuestionId) -> Option<&HearingQuestion> {
        self.questions.iter().find(|q| q.id == id)
    }
}

/// A typed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum AnswerValue {
    Choice(String),
    Number(f64),
    Text(String),
    Date(Date),
}

impl AnswerValue {
    pub fn code(&self) -> &'static str {
        match self {
            AnswerValue::Choice(_) => "choice",
            AnswerValue::Number(_) => "number",
            AnswerValue::Text(_) => "text",
            AnswerValue::Date(_) => "date",
        }
    }

    /// The answer as shown to people (numbers without a trailing `.0`, dates as ISO).
    pub fn display(&self) -> String {
        match self {
            AnswerValue::Choice(text) | AnswerValue::Text(text) => text.clone(),
            AnswerValue::Number(number) => format_number(*number),
            AnswerValue::Date(date) => format_date(*date),
        }
    }
}

/// A number as people write it: `3` rather than `3.0`.
pub fn format_number(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e15 { format!("{}", number as i64) } else { format!("{number}") }
}

/// One question's line of the checklist on a contact: asked or not, and the answer if one was
/// given (asked without an answer is kept: the asked-rate report counts it).
#[derive(Debug, Clone, PartialEq)]
pub struct NewHearingAnswer {
    pub question_id: HearingQuestionId,
    pub asked: bool,
    pub value: Option<AnswerValue>,
}

/// The checklist recorded with a contact: the set that was shown and a line per question.
#[derive(Debug, Clone, PartialEq)]
pub struct HearingCapture {
    pub set_id: HearingSetId,
    pub answers: Vec<NewHearingAnswer>,
}

impl HearingCapture {
    /// Checks the capture against the set it names: each question of the set at most once, every
    /// answer valid for its question, an answer only when the question was asked.
    pub fn validate(&self, set: &HearingSet) -> Result<(), ValidationError> {
        if set.id != self.set_id {
            return Err(ValidationError::new("hearing.set_id", &self.set_id.to_string(), "is not this set"));
        }
        for (index, answer) in self.answers.iter().enumerate() {
            let Some(question) = set.question(answer.question_id) else {
                return Err(ValidationError::new(
                    "hearing.question_id",
                    &answer.question_id.to_string(),
                    format!("is not a question of set {} 「{}」", set.id, set.name),
                ));
            };
            if self.answers[..index].iter().any(|a| a.question_id == answer.question_id) {
                return Err(question.refuse("", "is answered twice"));
            }
            if let Some(value) = &answer.value {
                if !answer.asked {
                    return Err(question.refuse(&value.display(), "has an answer but is marked as not asked"));
                }
                question.check(value)?;
            }
        }
        Ok(())
    }
}

/// A stored answer line.
#[derive(Debug, Clone, PartialEq)]
pub struct HearingAnswer {
    pub id: i64,
    pub customer_id: CustomerId,
    pub contact_id: ContactId,
    pub set_id: HearingSetId,
    pub question_id: HearingQuestionId,
    pub agent_id: Option<UserId>,
    pub asked: bool,
    pub value: Option<AnswerValue>,
    /// When it was heard: the contact's start.
    pub answered_at: OffsetDateTime,
}

/// The latest answer of a customer for one soft attribute (a "soft fact" on the karte).
#[derive(Debug, Clone, PartialEq)]
pub struct SoftFact {
    pub soft_attribute: String,
    pub question_id: HearingQuestionId,
    pub label: String,
    pub value: AnswerValue,
    /// The unit of a number question.
    pub unit: Option<String>,
    pub weight: u32,
    pub answered_at: OffsetDateTime,
    pub agent_id: Option<UserId>,
    pub contact_id: ContactId,
}

/// One row of the asked-rate report: how often an operator asked a question when the set was
/// shown, and how often the customer answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AskedRate {
    pub agent_id: Option<UserId>,
    pub agent_name: Option<String>,
    pub set_id: HearingSetId,
    pub question_id: HearingQuestionId,
    pub question_label: String,
    pub position: u32,
    /// Contacts where the set (so this question) was shown.
    pub shown: i64,
    pub asked: i64,
    pub answered: i64,
}

impl AskedRate {
    /// asked / shown, `None` without contacts.
    pub fn asked_rate(&self) -> Option<f64> {
        (self.shown > 0).then(|| self.asked as f64 / self.shown as f64)
    }

    /// answered / asked, `None` when never asked.
    pub fn answered_rate(&self) -> Option<f64> {
        (self.asked > 0).then(|| self.answered as f64 / self.asked as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(kind: AnswerKind) -> HearingQuestion {
        HearingQuestion {
            id: HearingQuestionId(7),
            set_id: HearingSetId(1),
            position: 1,
            label: "ご予算".to_owned(),
            kind,
            soft_attribute: "budget".to_owned(),
            hint: String::new(),
            weight: DEFAULT_WEIGHT,
        }
    }

    #[test]
    fn answers_are_parsed_by_type_and_errors_name_the_question() {
        let number = question(AnswerKind::Number { min: Some(0.0), max: Some(100_000.0), unit: Some("円".into()) });
        assert_eq!(number.parse_answer("３，０００").unwrap(), Some(AnswerValue::Number(3000.0)));
        assert_eq!(number.parse_answer("  ").unwrap(), None);
        let error = number.parse_answer("200000").unwrap_err();
        assert!(error.reason.contains("「ご予算」"), "{error}");
        assert!(error.reason.contains("maximum"), "{error}");
        assert!(number.parse_answer("たくさん").unwrap_err().reason.contains("not a number"));

        let choice = question(AnswerKind::Choice { options: vec!["高い".into(), "低い".into()] });
        assert_eq!(choice.parse_answer("高い").unwrap(), Some(AnswerValue::Choice("高い".into())));
        assert!(choice.parse_answer("普通").unwrap_err().reason.contains("not one of the options"));

        let date = question(AnswerKind::Date);
        assert_eq!(
            date.parse_answer("2027年3月1日").unwrap(),
            Some(AnswerValue::Date(Date::from_calendar_date(2027, time::Month::March, 1).unwrap()))
        );
        assert!(date.parse_answer("2027-02-30").is_err());

        let text = question(AnswerKind::Text { max_chars: 3 });
        assert!(text.parse_answer("ながいこたえ").unwrap_err().reason.contains("longer than 3"));
        assert!(text.check(&AnswerValue::Number(1.0)).unwrap_err().reason.contains("wants text"));
    }

    #[test]
    fn sets_are_validated_question_by_question() {
        let good = NewHearingQuestion {
            id: None,
            label: "重視すること".into(),
            kind: AnswerKind::Choice { options: vec!["価格".into(), "品質".into()] },
            soft_attribute: "what_matters_most".into(),
            hint: String::new(),
            weight: 10,
        };
        let mut set = NewHearingSet {
            name: "基本".into(),
            description: String::new(),
            default_inbound: true,
            questions: vec![good.clone()],
        };
        set.validate().unwrap();
        set.questions.push(NewHearingQuestion { soft_attribute: "Bad Key".into(), ..good.clone() });
        let error = set.validate().unwrap_err();
        assert!(error.reason.starts_with("question 2 「重視すること」"), "{error}");
        set.questions[1] = NewHearingQuestion { kind: AnswerKind::Choice { options: vec![] }, ..good.clone() };
        assert!(set.validate().is_err());
        set.questions[1] =
            NewHearingQuestion { kind: AnswerKind::Number { min: Some(5.0), max: Some(1.0), unit: None }, ..good };
        assert!(set.validate().unwrap_err().reason.contains("below min"));
        set.questions.clear();
        assert!(set.validate().is_err());
    }

    #[test]
    fn a_capture_refuses_foreign_questions_doubles_and_answers_not_asked() {
        let set = HearingSet {
            id: HearingSetId(1),
            tenant_id: TenantId(1),
            name: "基本".into(),
            description: String::new(),
            default_inbound: false,
            questions: vec![question(AnswerKind::Date)],
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        };
        let date = AnswerValue::Date(Date::from_calendar_date(2027, time::Month::May, 5).unwrap());
        let line =
            |asked, value: Option<AnswerValue>| NewHearingAnswer { question_id: HearingQuestionId(7), asked, value };
        let capture = |answers| HearingCapture { set_id: HearingSetId(1), answers };
        capture(vec![line(true, Some(date.clone()))]).validate(&set).unwrap();
        capture(vec![line(true, None)]).validate(&set).unwrap();
        assert!(capture(vec![line(false, Some(date.clone()))]).validate(&set).is_err());
        assert!(capture(vec![line(true, None), line(true, None)]).validate(&set).is_err());
        let foreign = NewHearingAnswer { question_id: HearingQuestionId(8), asked: true, value: None };
        assert_eq!(capture(vec![foreign]).validate(&set).unwrap_err().field, "hearing.question_id");
    }

    #[test]
    fn soft_attribute_keys_are_plain() {
        assert_eq!(parse_soft_attribute(" wedding_date ").unwrap(), "wedding_date");
        assert!(parse_soft_attribute("1st").is_err());
        assert!(parse_soft_attribute("結婚").is_err());
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(2.5), "2.5");
    }
}
