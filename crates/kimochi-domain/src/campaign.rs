//! Outbound care campaigns (issue 6: T3, T4, F13, B1): a snapshot of customers with a
//! reproducible random holdout, an ordered list of steps across channels (email → wait → call
//! list), the plan that moves each member through them by time, and the call list's retry rules.
//!
//! Pure: the holdout takes its seed, the planner and the hour rules take the time.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::datetime::JST;
use crate::error::ValidationError;
use crate::ids::CustomerId;
use crate::model::{long_text, short_text};
use crate::vocab::Outcome;

/// A campaign of a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CampaignId(pub i64);

/// One member of one campaign: the task an operator is served on the call list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CampaignMemberId(pub i64);

impl std::fmt::Display for CampaignId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Display for CampaignMemberId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Default share of members held out (B1).
pub const DEFAULT_HOLDOUT_FRACTION: f64 = 0.10;
/// Largest share held out: a campaign is for treating customers.
pub const MAX_HOLDOUT_FRACTION: f64 = 0.5;
/// Most members one campaign may take (a snapshot is written in one transaction).
pub const MAX_MEMBERS: usize = 200_000;
/// Most steps of one campaign.
pub const MAX_STEPS: usize = 12;
/// Longest wait step.
pub const MAX_WAIT_DAYS: u32 = 365;
/// Longest email subject and body.
pub const MAX_SUBJECT_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 10_000;

/// When an outbound call step calls a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallCondition {
    /// Every member who reaches the step.
    Everyone,
    /// Members who neither opened nor clicked since the latest email step started.
    NotOpened,
    /// Members who did not click since the latest email step started.
    NotClicked,
}

impl CallCondition {
    pub const ALL: &'static [CallCondition] =
        &[CallCondition::Everyone, CallCondition::NotOpened, CallCondition::NotClicked];

    pub fn code(self) -> &'static str {
        match self {
            CallCondition::Everyone => "everyone",
            CallCondition::NotOpened => "not_opened",
            CallCondition::NotClicked => "not_clicked",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            CallCondition::Everyone => "全員",
            CallCondition::NotOpened => "メール未開封の人",
            CallCondition::NotClicked => "メール未クリックの人",
        }
    }

    pub fn parse(input: &str) -> Result<CallCondition, ValidationError> {
        CallCondition::ALL
            .iter()
            .copied()
            .find(|c| c.code() == input.trim())
            .ok_or_else(|| ValidationError::new("condition", input, "is not one of everyone, not_opened, not_clicked"))
    }
}

/// Retry rules of a call step (T4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRules {
    /// Attempts per member, after which the step ends whatever the outcome.
    pub max_attempts: u32,
    /// Allowed hours in Japan time, as minutes after midnight: `[from, to)`.
    pub from_minute: u32,
    pub to_minute: u32,
    /// Least time between two attempts on one member.
    pub spacing_minutes: u32,
}

impl Default for CallRules {
    fn default() -> Self {
        CallRules { max_attempts: 3, from_minute: 10 * 60, to_minute: 20 * 60, spacing_minutes: 4 * 60 }
    }
}

impl CallRules {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if !(1..=10).contains(&self.max_attempts) {
            return Err(ValidationError::new("max_attempts", &self.max_attempts.to_string(), "must be 1 to 10"));
        }
        if self.to_minute > 24 * 60 || self.from_minute >= self.to_minute {
            return Err(ValidationError::new(
                "allowed_hours",
                &format!("{}-{}", hhmm(self.from_minute), hhmm(self.to_minute)),
                "must be a range within 00:00-24:00 that starts before it ends",
            ));
        }
        if self.spacing_minutes > 7 * 24 * 60 {
            return Err(ValidationError::new(
                "spacing_minutes",
                &self.spacing_minutes.to_string(),
                "must be at most 7 days",
            ));
        }
        Ok(())
    }

    /// Whether `now` is inside the allowed hours (Japan time).
    pub fn allows(&self, now: OffsetDateTime) -> bool {
        let minute = jst_minute_of_day(now);
        self.from_minute <= minute && minute < self.to_minute
    }

    /// The allowed hours as `10:00–20:00`.
    pub fn hours_label(&self) -> String {
        format!("{}–{}", hhmm(self.from_minute), hhmm(self.to_minute))
    }
}

/// Minutes after midnight in Japan time.
pub fn jst_minute_of_day(at: OffsetDateTime) -> u32 {
    let local = at.to_offset(JST);
    u32::from(local.hour()) * 60 + u32::from(local.minute())
}

/// `HH:MM` of minutes after midnight.
pub fn hhmm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Parses `HH:MM` (or `HH`) into minutes after midnight; `24:00` is the end of the day.
pub fn parse_hhmm(field: &'static str, input: &str) -> Result<u32, ValidationError> {
    let text = input.trim();
    let (h, m) = text.split_once(':').unwrap_or((text, "0"));
    let (Ok(h), Ok(m)) = (h.parse::<u32>(), m.parse::<u32>()) else {
        return Err(ValidationError::new(field, input, "is not a time like 10:00"));
    };
    if m >= 60 || h > 24 || (h == 24 && m > 0) {
        return Err(ValidationError::new(field, input, "is not a time between 00:00 and 24:00"));
    }
    Ok(h * 60 + m)
}

/// One step of a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CampaignStep {
    /// An email to each member who consented; sending belongs to the email outbox.
    Email { subject: String, body: String },
    /// Waits whole days from the start of the step.
    Wait { days: u32 },
    /// Puts the members the condition selects on the operators' call list.
    Call { condition: CallCondition, rules: CallRules },
}

impl CampaignStep {
    pub fn kind(&self) -> &'static str {
        match self {
            CampaignStep::Email { .. } => "email",
            CampaignStep::Wait { .. } => "wait",
            CampaignStep::Call { .. } => "call",
        }
    }

    pub fn validate(&self) -> Result<CampaignStep, ValidationError> {
        Ok(match self {
            CampaignStep::Email { subject, body } => {
                let subject = short_text("subject", subject)?;
                if subject.chars().count() > MAX_SUBJECT_CHARS {
                    return Err(ValidationError::new("subject", &subject, "is longer than 200 characters"));
                }
                if body.trim().is_empty() {
                    return Err(ValidationError::new("body", body, "is empty"));
                }
                if body.chars().count() > MAX_BODY_CHARS {
                    return Err(ValidationError::new("body", body, "is longer than 10000 characters"));
                }
                CampaignStep::Email { subject, body: long_text("body", body)? }
            }
            CampaignStep::Wait { days } => {
                if !(1..=MAX_WAIT_DAYS).contains(days) {
                    return Err(ValidationError::new("days", &days.to_string(), "must be 1 to 365"));
                }
                CampaignStep::Wait { days: *days }
            }
            CampaignStep::Call { condition, rules } => {
                rules.validate()?;
                CampaignStep::Call { condition: *condition, rules: *rules }
            }
        })
    }
}

/// What a new campaign is made of. The members are a snapshot taken now: customers who join a
/// segment later are not added.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCampaign {
    pub name: String,
    pub purpose: String,
    pub members: Vec<CustomerId>,
    /// Share of members held out, in `[0, 0.5]`.
    pub holdout_fraction: f64,
    /// Seed of the holdout shuffle; stored, so the groups can be recomputed and checked.
    pub seed: u64,
    pub steps: Vec<CampaignStep>,
    /// The hearing points (ヒアリング項目) the call list shows with each call (S2/K5): the
    /// campaign's own set of questions, answered with the call's outcome. `None` shows none.
    pub hearing_set: Option<crate::hearing::HearingSetId>,
}

impl NewCampaign {
    /// Validates and normalises: names trimmed, members sorted without repeats.
    pub fn validate(&self) -> Result<NewCampaign, ValidationError> {
        let name = short_text("name", &self.name)?;
        let purpose = if self.purpose.trim().is_empty() { String::new() } else { long_text("purpose", &self.purpose)? };
        if purpose.chars().count() > 2_000 {
            return Err(ValidationError::new("purpose", &purpose, "is longer than 2000 characters"));
        }
        let mut members = self.members.clone();
        members.sort_unstable();
        members.dedup();
        if members.is_empty() {
            return Err(ValidationError::new("members", "", "a campaign needs at least one customer"));
        }
        if members.len() > MAX_MEMBERS {
            return Err(ValidationError::new("members", &members.len().to_string(), "more than 200000 customers"));
        }
        if !(0.0..=MAX_HOLDOUT_FRACTION).contains(&self.holdout_fraction) || self.holdout_fraction.is_nan() {
            return Err(ValidationError::new(
                "holdout_fraction",
                &self.holdout_fraction.to_string(),
                "must be between 0 and 0.5",
            ));
        }
        if self.steps.is_empty() {
            return Err(ValidationError::new("steps", "", "a campaign needs at least one step"));
        }
        if self.steps.len() > MAX_STEPS {
            return Err(ValidationError::new("steps", &self.steps.len().to_string(), "more than 12 steps"));
        }
        let steps = self.steps.iter().map(CampaignStep::validate).collect::<Result<Vec<_>, _>>()?;
        // "Those who did not open" is only a choice once readers had time to open: the email is
        // decided and the next step taken in the same instant, so a call step that selects on
        // opens or clicks needs an email before it and a wait between them.
        for (index, step) in steps.iter().enumerate() {
            let CampaignStep::Call { condition, .. } = step else { continue };
            if *condition == CallCondition::Everyone {
                continue;
            }
            let email = steps[..index].iter().rposition(|s| matches!(s, CampaignStep::Email { .. }));
            let waited = email.is_some_and(|at| {
                steps[at + 1..index].iter().any(|s| matches!(s, CampaignStep::Wait { days } if *days > 0))
            });
            if !waited {
                return Err(ValidationError::new(
                    "steps",
                    &format!("step {}", index + 1),
                    format!(
                        "a call step for those who did {} needs an email step before it and a wait of at least a day in between",
                        if *condition == CallCondition::NotOpened { "not open" } else { "not click" }
                    ),
                ));
            }
        }
        Ok(NewCampaign {
            name,
            purpose,
            members,
            holdout_fraction: self.holdout_fraction,
            seed: self.seed,
            steps,
            hearing_set: self.hearing_set,
        })
    }
}

/// A stored campaign with its group sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    pub id: CampaignId,
    pub name: String,
    pub purpose: String,
    pub holdout_fraction: f64,
    pub seed: u64,
    pub steps: Vec<CampaignStep>,
    pub hearing_set: Option<crate::hearing::HearingSetId>,
    pub started_at: OffsetDateTime,
    pub members: i64,
    pub holdout: i64,
}

/// Which group a member is in (B1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    Treatment,
    Holdout,
}

impl Group {
    pub fn code(self) -> &'static str {
        match self {
            Group::Treatment => "treatment",
            Group::Holdout => "holdout",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Group::Treatment => "施策群",
            Group::Holdout => "ホールドアウト",
        }
    }
}

/// SplitMix64: a small, well-mixed generator, enough for a shuffle that must be reproducible from
/// a stored seed on every platform (no dependency whose stream could change between versions).
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (bound > 0), by rejection so that no value is favoured.
    pub fn below(&mut self, bound: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % bound;
        loop {
            let value = self.next_u64();
            if value < zone {
                return value % bound;
            }
        }
    }
}

/// Number held out of `members`: round(n × fraction), halves away from zero.
pub fn holdout_size(members: usize, fraction: f64) -> usize {
    let size = (members as f64 * fraction).round();
    (size.max(0.0) as usize).min(members)
}

/// The holdout of a campaign (B1): the member ids are sorted and deduplicated, shuffled by a
/// Fisher–Yates shuffle driven by `seed`, and the first round(n × fraction) are held out.
/// The same ids and seed give the same groups, whatever order the ids came in. Returns the
/// sorted ids with their group.
pub fn assign_groups(members: &[CustomerId], fraction: f64, seed: u64) -> Vec<(CustomerId, Group)> {
    let mut sorted = members.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut order = sorted.clone();
    let mut rng = SplitMix64::new(seed);
    for i in (1..order.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        order.swap(i, j);
    }
    let held: std::collections::HashSet<CustomerId> =
        order.into_iter().take(holdout_size(sorted.len(), fraction)).collect();
    sorted.into_iter().map(|id| (id, if held.contains(&id) { Group::Holdout } else { Group::Treatment })).collect()
}

/// Where a treatment member is in the steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberProgress {
    /// Index of the current step; `steps.len()` when finished.
    pub step: u32,
    pub step_started_at: OffsetDateTime,
    /// When the latest email step started for this member (opens count from then).
    pub last_email_at: Option<OffsetDateTime>,
    /// Whether the member is on the call list of the current (call) step.
    pub call_open: bool,
}

/// What the planner needs to know about a member now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemberFacts {
    /// The customer consents to email now.
    pub email_allowed: bool,
    /// An `opened` or `clicked` email contact since `last_email_at`.
    pub opened: bool,
    /// A `clicked` email contact since `last_email_at`.
    pub clicked: bool,
}

/// The planner's decision for one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advance {
    pub progress: MemberProgress,
    /// Indexes of email steps the member is due an email for now.
    pub emails: Vec<u32>,
    /// Indexes of email steps skipped because the customer does not consent to email.
    pub emails_skipped: Vec<u32>,
}

/// Moves a treatment member through the steps as far as time allows at `now` (the step runner's
/// pure core). Email steps are decided at once (due now, or skipped without consent); a wait
/// step ends `days` after it started; a call step opens the member on the call list when its
/// condition selects them, else it is passed. A member on a call list stays there until the
/// call list ends the step ([`attempt_ends_step`]).
pub fn advance(steps: &[CampaignStep], progress: MemberProgress, facts: MemberFacts, now: OffsetDateTime) -> Advance {
    let mut progress = progress;
    let mut facts = facts;
    let mut emails = Vec::new();
    let mut emails_skipped = Vec::new();
    while let Some(step) = steps.get(progress.step as usize) {
        if progress.call_open {
            break;
        }
        match step {
            CampaignStep::Email { .. } => {
                if facts.email_allowed {
                    emails.push(progress.step);
                } else {
                    emails_skipped.push(progress.step);
                }
                progress.last_email_at = Some(now);
                // Nothing can have been opened of an email decided this instant.
                facts.opened = false;
                facts.clicked = false;
                progress.step += 1;
                progress.step_started_at = now;
            }
            CampaignStep::Wait { days } => {
                let ends = progress.step_started_at + time::Duration::days(i64::from(*days));
                if now < ends {
                    break;
                }
                progress.step += 1;
                progress.step_started_at = ends;
            }
            CampaignStep::Call { condition, .. } => {
                let selected = match condition {
                    CallCondition::Everyone => true,
                    CallCondition::NotOpened => !(facts.opened || facts.clicked),
                    CallCondition::NotClicked => !facts.clicked,
                };
                if selected {
                    progress.call_open = true;
                    break;
                }
                progress.step += 1;
                progress.step_started_at = now;
            }
        }
    }
    Advance { progress, emails, emails_skipped }
}

/// How an outbound call attempt ended, as the operator records it on the call list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    Reached,
    NoAnswer,
    Busy,
    HungUp,
    Callback,
    Ordered,
    Refused,
}

impl CallOutcome {
    pub const ALL: &'static [CallOutcome] = &[
        CallOutcome::Reached,
        CallOutcome::NoAnswer,
        CallOutcome::Busy,
        CallOutcome::HungUp,
        CallOutcome::Callback,
        CallOutcome::Ordered,
        CallOutcome::Refused,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CallOutcome::Reached => "reached",
            CallOutcome::NoAnswer => "no_answer",
            CallOutcome::Busy => "busy",
            CallOutcome::HungUp => "hung_up",
            CallOutcome::Callback => "callback",
            CallOutcome::Ordered => "ordered",
            CallOutcome::Refused => "refused",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            CallOutcome::Reached => "通話できた",
            CallOutcome::NoAnswer => "不在",
            CallOutcome::Busy => "話し中",
            CallOutcome::HungUp => "ガチャ切り",
            CallOutcome::Callback => "折り返し希望",
            CallOutcome::Ordered => "受注",
            CallOutcome::Refused => "お断り",
        }
    }

    pub fn parse(input: &str) -> Result<CallOutcome, ValidationError> {
        CallOutcome::ALL.iter().copied().find(|o| o.code() == input.trim()).ok_or_else(|| {
            ValidationError::new(
                "outcome",
                input,
                "is not one of reached, no_answer, busy, hung_up, callback, ordered, refused",
            )
        })
    }

    /// The outcome stored on the contact (the shared vocabulary).
    pub fn contact_outcome(self) -> Outcome {
        match self {
            CallOutcome::Reached => Outcome::Resolved,
            CallOutcome::NoAnswer => Outcome::NoContact,
            CallOutcome::Busy => Outcome::Busy,
            CallOutcome::HungUp => Outcome::HungUp,
            CallOutcome::Callback => Outcome::Callback,
            CallOutcome::Ordered => Outcome::Ordered,
            CallOutcome::Refused => Outcome::LostOrder,
        }
    }

    /// Whether the customer was spoken to (or answered and hung up): no more attempts.
    pub fn is_final(self) -> bool {
        matches!(self, CallOutcome::Reached | CallOutcome::HungUp | CallOutcome::Ordered | CallOutcome::Refused)
    }
}

/// Whether an attempt ends the member's call step: a final outcome, or the last allowed attempt.
pub fn attempt_ends_step(rules: &CallRules, attempts_after: u32, outcome: CallOutcome) -> bool {
    outcome.is_final() || attempts_after >= rules.max_attempts
}

/// Whether a member may be called at `now` under `rules`, given their attempts so far (the same
/// rule the store applies in SQL when it leases the next member).
pub fn call_allowed(
    rules: &CallRules,
    attempts: u32,
    last_attempt_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> bool {
    attempts < rules.max_attempts
        && rules.allows(now)
        && last_attempt_at.is_none_or(|last| now >= last + time::Duration::minutes(i64::from(rules.spacing_minutes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn ids(range: std::ops::RangeInclusive<i64>) -> Vec<CustomerId> {
        range.map(CustomerId).collect()
    }

    #[test]
    fn holdout_is_reproducible_and_exactly_sized() {
        let members = ids(1..=1000);
        let a = assign_groups(&members, 0.1, 42);
        let mut reversed = members.clone();
        reversed.reverse();
        let b = assign_groups(&reversed, 0.1, 42);
        assert_eq!(a, b, "input order must not matter");
        assert_eq!(a.iter().filter(|(_, g)| *g == Group::Holdout).count(), 100);
        let c = assign_groups(&members, 0.1, 43);
        assert_ne!(a, c, "another seed gives other groups");
        assert_eq!(c.iter().filter(|(_, g)| *g == Group::Holdout).count(), 100);
        // round(n × fraction), halves away from zero
        assert_eq!(holdout_size(15, 0.1), 2);
        assert_eq!(holdout_size(14, 0.1), 1);
        assert_eq!(holdout_size(1, 0.1), 0);
        assert_eq!(holdout_size(7, 0.5), 4);
        assert_eq!(assign_groups(&ids(1..=15), 0.1, 7).iter().filter(|(_, g)| *g == Group::Holdout).count(), 2);
    }

    #[test]
    fn a_call_for_those_who_did_not_open_needs_an_email_and_a_wait_before_it() {
        let email = CampaignStep::Email { subject: "ご案内".into(), body: "本文".into() };
        let call = |condition| CampaignStep::Call { condition, rules: CallRules::default() };
        let campaign = |steps: Vec<CampaignStep>| NewCampaign {
            name: "ケア".into(),
            purpose: String::new(),
            members: ids(1..=3),
            holdout_fraction: 0.0,
            seed: 1,
            steps,
            hearing_set: None,
        };
        let refused = campaign(vec![email.clone(), call(CallCondition::NotOpened)]).validate().unwrap_err();
        assert_eq!(refused.field, "steps");
        assert!(refused.reason.contains("wait"), "{refused}");
        assert!(campaign(vec![call(CallCondition::NotClicked)]).validate().is_err(), "no email at all");
        assert!(
            campaign(vec![email.clone(), CampaignStep::Wait { days: 3 }, call(CallCondition::NotOpened)])
                .validate()
                .is_ok()
        );
        assert!(campaign(vec![email, call(CallCondition::Everyone)]).validate().is_ok(), "everyone needs no wait");
    }

    #[test]
    fn holdout_shuffle_is_fair() {
        // Every id lands in the holdout about as often as any other across seeds.
        let members = ids(1..=10);
        let mut counts = [0u32; 10];
        for seed in 0..20_000u64 {
            for (id, group) in assign_groups(&members, 0.2, seed) {
                if group == Group::Holdout {
                    counts[(id.0 - 1) as usize] += 1;
                }
            }
        }
        // expected 4,000 each (2 of 10 per seed); sd ≈ 57
        for count in counts {
            assert!((3_700..=4_300).contains(&count), "{counts:?}");
        }
    }

    #[test]
    fn splitmix_matches_the_reference_stream() {
        // Reference values of SplitMix64 seeded with 1234567 (Vigna's splitmix64.c).
        let mut rng = SplitMix64::new(1_234_567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn zero_members_and_bad_steps_are_refused() {
        let campaign = NewCampaign {
            name: "休眠フォロー".into(),
            purpose: String::new(),
            members: vec![],
            holdout_fraction: 0.1,
            seed: 1,
            steps: vec![CampaignStep::Wait { days: 3 }],
            hearing_set: None,
        };
        let error = campaign.validate().unwrap_err();
        assert_eq!(error.field, "members");
        let mut ok = campaign.clone();
        ok.members = vec![CustomerId(3), CustomerId(1), CustomerId(3)];
        assert_eq!(ok.validate().unwrap().members, vec![CustomerId(1), CustomerId(3)]);
        let mut bad = ok.clone();
        bad.holdout_fraction = 0.8;
        assert_eq!(bad.validate().unwrap_err().field, "holdout_fraction");
        let mut bad = ok.clone();
        bad.steps = vec![CampaignStep::Call {
            condition: CallCondition::Everyone,
            rules: CallRules { from_minute: 20 * 60, to_minute: 10 * 60, ..CallRules::default() },
        }];
        assert_eq!(bad.validate().unwrap_err().field, "allowed_hours");
        let mut bad = ok;
        bad.steps = vec![];
        assert_eq!(bad.validate().unwrap_err().field, "steps");
    }

    fn steps() -> Vec<CampaignStep> {
        vec![
            CampaignStep::Email { subject: "ご愛用ありがとうございます".into(), body: "本文".into() },
            CampaignStep::Wait { days: 3 },
            CampaignStep::Call { condition: CallCondition::NotOpened, rules: CallRules::default() },
        ]
    }

    #[test]
    fn email_then_wait_then_call_for_those_who_did_not_open() {
        let start = datetime!(2026-12-01 01:00 UTC);
        let fresh = MemberProgress { step: 0, step_started_at: start, last_email_at: None, call_open: false };
        let allowed = MemberFacts { email_allowed: true, ..MemberFacts::default() };
        let first = advance(&steps(), fresh, allowed, start);
        assert_eq!(first.emails, vec![0]);
        assert_eq!(first.progress.step, 1);
        assert_eq!(first.progress.last_email_at, Some(start));
        // two days later: still waiting, nothing to do
        let later = advance(&steps(), first.progress, allowed, start + time::Duration::days(2));
        assert_eq!(later.progress, first.progress);
        assert!(later.emails.is_empty());
        // three days later, did not open: on the call list
        let due = advance(&steps(), first.progress, allowed, start + time::Duration::days(3));
        assert_eq!(due.progress.step, 2);
        assert!(due.progress.call_open);
        // opened: the call step is passed and the member is finished
        let opened = MemberFacts { opened: true, ..allowed };
        let done = advance(&steps(), first.progress, opened, start + time::Duration::days(3));
        assert_eq!(done.progress.step, 3);
        assert!(!done.progress.call_open);
        // not-clicked condition: an open alone still gets a call
        let mut click_steps = steps();
        click_steps[2] = CampaignStep::Call { condition: CallCondition::NotClicked, rules: CallRules::default() };
        assert!(advance(&click_steps, first.progress, opened, start + time::Duration::days(3)).progress.call_open);
        // no email consent: the email is skipped, the member still moves on
        let no_mail = advance(&steps(), fresh, MemberFacts::default(), start);
        assert!(no_mail.emails.is_empty());
        assert_eq!(no_mail.emails_skipped, vec![0]);
        assert_eq!(no_mail.progress.step, 1);
        // an open member stays put
        let open = advance(&steps(), due.progress, opened, start + time::Duration::days(9));
        assert_eq!(open.progress, due.progress);
    }

    #[test]
    fn call_rules_hours_spacing_and_attempts() {
        let rules = CallRules::default();
        // 10:00 JST = 01:00 UTC
        assert!(rules.allows(datetime!(2026-12-02 01:00 UTC)));
        assert!(!rules.allows(datetime!(2026-12-02 00:59 UTC)));
        assert!(rules.allows(datetime!(2026-12-02 10:59 UTC)));
        assert!(!rules.allows(datetime!(2026-12-02 11:00 UTC)));
        let now = datetime!(2026-12-02 05:00 UTC);
        assert!(call_allowed(&rules, 0, None, now));
        assert!(!call_allowed(&rules, 1, Some(now - time::Duration::hours(3)), now));
        assert!(call_allowed(&rules, 1, Some(now - time::Duration::hours(4)), now));
        assert!(!call_allowed(&rules, 3, None, now));
        assert!(attempt_ends_step(&rules, 1, CallOutcome::Reached));
        assert!(!attempt_ends_step(&rules, 2, CallOutcome::NoAnswer));
        assert!(attempt_ends_step(&rules, 3, CallOutcome::NoAnswer));
        assert_eq!(parse_hhmm("from", "10:30").unwrap(), 630);
        assert_eq!(parse_hhmm("to", "24:00").unwrap(), 1440);
        assert!(parse_hhmm("to", "25:00").is_err());
        assert_eq!(CallOutcome::Refused.contact_outcome(), Outcome::LostOrder);
        assert_eq!(CallOutcome::parse("callback").unwrap(), CallOutcome::Callback);
        assert_eq!(CallOutcome::parse("maybe").unwrap_err().field, "outcome");
    }
}
