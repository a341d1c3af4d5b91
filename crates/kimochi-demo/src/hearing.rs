//! The demo tenant's hearing-point set (聞き出しポイント, issue 6): what the operators of a
//! cosmetics mail-order business try to learn in a call, beyond the order itself. Fixed content,
//! so the demo stays deterministic. Also the checklists the operators recorded with it on
//! inbound calls of the last year of the history (each operator asks at their own rate, so the
//! asked-rate report shows a spread; answers follow the customer's hidden traits), and the
//! customer's behavioural events (web visits, a subscriber survey with an NPS question).
//!
//! Both draw from their own random stream per customer, so adding them left every other record
//! of the demo as it was.

use kimochi_domain::hearing::{
    AnswerKind, AnswerValue, HearingQuestionId, HearingSetId, NewHearingQuestion, NewHearingSet,
};
use kimochi_domain::import::{BulkBehaviorEvent, BulkContact, BulkEventDetail, BulkHearingAnswer};
use kimochi_domain::{Channel, Direction, UserId};
use time::{Date, OffsetDateTime};

use crate::Segment;
use crate::random::{DemoRng, between, chance, weighted};
use crate::voice::CONCERNS;

fn question(label: &str, kind: AnswerKind, soft_attribute: &str, hint: &str, weight: u32) -> NewHearingQuestion {
    NewHearingQuestion {
        id: None,
        label: label.to_owned(),
        kind,
        soft_attribute: soft_attribute.to_owned(),
        hint: hint.to_owned(),
        weight,
    }
}

fn choice(options: &[&str]) -> AnswerKind {
    AnswerKind::Choice { options: options.iter().map(|o| (*o).to_owned()).collect() }
}

/// 「肌と暮らしの聞き出し」: the inbound default set of the demo tenant.
pub fn demo_hearing_set() -> NewHearingSet {
    NewHearingSet {
        name: "肌と暮らしの聞き出し".to_owned(),
        description:
            "受電時に会話の流れで聞き出す項目。売り込みではなく、次のご提案の時期と内容を決めるために使います。"
                .to_owned(),
        default_inbound: true,
        questions: vec![
            question(
                "いちばん気になる肌悩み",
                choice(&["乾燥", "小じわ", "シミ", "くすみ", "たるみ", "ハリ不足", "毛穴", "敏感肌"]),
                "skin_concern",
                "使い心地を伺ったあとに「ほかに気になるところはありますか」と続ける",
                10,
            ),
            question(
                "化粧品選びで重視すること",
                choice(&["効果の実感", "価格", "成分の安心さ", "使い心地", "香り"]),
                "what_matters_most",
                "以前お使いの化粧品を変えた理由を伺うと自然に出てきます",
                10,
            ),
            question(
                "月々のスキンケア予算",
                AnswerKind::Number { min: Some(0.0), max: Some(100_000.0), unit: Some("円".to_owned()) },
                "monthly_budget",
                "定期便の金額の話題のときに「普段どのくらいかけていらっしゃいますか」",
                10,
            ),
            question(
                "美容への投資意欲",
                choice(&["高い", "普通", "低い"]),
                "investment_appetite",
                "直接は聞かない。会話の印象で記録してかまいません",
                15,
            ),
            question(
                "近い予定のお祝い事・イベントの日",
                AnswerKind::Date,
                "life_event_date",
                "結婚式・同窓会・旅行など「その日までに肌を整えたい」という話が出たら日付を伺う",
                20,
            ),
            question(
                "ご家族や暮らしの変化",
                AnswerKind::Text { max_chars: 200 },
                "life_plan",
                "お届け日や連絡時間の相談のときに伺えることが多い(転居・出産・介護など)",
                5,
            ),
        ],
    }
}

/// How readily each operator (by position among the demo operators) asks the set's questions:
/// some work them into nearly every call, some rarely do.
const OPERATOR_ASKING: [f64; 10] = [0.92, 0.55, 0.78, 0.3, 0.85, 0.62, 0.42, 0.7, 0.88, 0.5];
/// Per question of the demo set (in order): how likely a ready operator asks it, and how likely
/// the customer answers once asked.
const QUESTION_ASKED: [f64; 6] = [1.0, 0.8, 0.6, 0.75, 0.4, 0.3];
const QUESTION_ANSWERED: [f64; 6] = [0.92, 0.8, 0.6, 0.95, 0.9, 0.5];
/// Share of inbound calls on which the operator records the checklist at all.
const CHECKLIST_SHARE: f64 = 0.7;
/// The tenant started using hearing points this many days before the history's end.
pub(crate) const HEARING_DAYS: i64 = 365;
const DAY: i64 = 86_400;

/// The hidden traits of a customer that their answers and behaviour follow.
pub(crate) struct Listener {
    pub age: i64,
    pub concern: usize,
    pub digital: bool,
    pub expectation_unmet: bool,
    pub advocate: bool,
    pub segment: Segment,
    pub acquired_at: i64,
    pub subscribed_on: Option<Date>,
    pub churned_on: Option<Date>,
}

/// The demo set's ids in the store, with the operators in the order of `DemoIds::agents`.
pub(crate) struct HearingIds<'a> {
    pub set: HearingSetId,
    pub questions: &'a [HearingQuestionId],
    pub agents: &'a [UserId],
}

/// The customer's own answers, drawn once: a customer says the same thing each time asked.
fn own_answers(rng: &mut DemoRng, who: &Listener) -> [Option<AnswerValue>; 6] {
    let choice = |text: &str| Some(AnswerValue::Choice(text.to_owned()));
    let concern = choice(CONCERNS[who.concern].0);
    let matters = ["効果の実感", "価格", "成分の安心さ", "使い心地", "香り"];
    let weights: &[u32] = if who.expectation_unmet {
        &[70, 10, 10, 7, 3]
    } else if who.age >= 50 {
        &[45, 15, 20, 15, 5]
    } else {
        &[30, 30, 15, 18, 7]
    };
    let matters = choice(matters[weighted(rng, weights)]);
    let (low, high) = match who.segment {
        Segment::Subscriber => (8, 20),
        Segment::MainOnly => (6, 16),
        Segment::TrialOnly => (3, 10),
        Segment::SampleOnly => (1, 6),
    };
    let budget = Some(AnswerValue::Number((between(rng, low, high) * 500) as f64));
    let appetite = if chance(rng, 0.15) {
        ["高い", "普通", "低い"][weighted(rng, &[1, 1, 1])]
    } else if who.advocate || (who.segment == Segment::Subscriber && who.churned_on.is_none()) {
        "高い"
    } else if who.expectation_unmet || who.segment == Segment::SampleOnly {
        "低い"
    } else {
        "普通"
    };
    let plans = ["転居の予定がある", "出産を控えている", "家族の介護をしている", "子どもが独立した"];
    let plan = chance(rng, 0.25).then(|| AnswerValue::Text(plans[weighted(rng, &[1, 1, 1, 1])].to_owned()));
    // The event date is drawn per call (it is ahead of the call); `Some` marks that there is one.
    let event = chance(rng, 0.3).then_some(AnswerValue::Date(Date::MIN));
    [concern, matters, budget, choice(appetite), event, plan]
}

/// Checklists on the customer's inbound phone calls of the last [`HEARING_DAYS`] days before
/// `end`: one line per question of the set, asked at the operator's rate, answered from the
/// customer's own answers. `contacts` are the customer's, at positions `first..` of the chunk.
pub(crate) fn hear(
    rng: &mut DemoRng,
    ids: &HearingIds<'_>,
    who: &Listener,
    contacts: &[BulkContact],
    first: usize,
    end: i64,
    out: &mut Vec<BulkHearingAnswer>,
) {
    let own = own_answers(rng, who);
    for (offset, contact) in contacts.iter().enumerate() {
        let at = contact.started_at.unix_timestamp();
        if contact.channel != Channel::Phone || contact.direction != Direction::Inbound || at < end - HEARING_DAYS * DAY
        {
            continue;
        }
        let Some(operator) = contact.agent_id.and_then(|agent| ids.agents.iter().position(|a| *a == agent)) else {
            continue;
        };
        if !chance(rng, CHECKLIST_SHARE) {
            continue;
        }
        let readiness = OPERATOR_ASKING[operator % OPERATOR_ASKING.len()];
        for (index, question) in ids.questions.iter().enumerate().take(own.len()) {
            let asked = chance(rng, readiness * QUESTION_ASKED[index]);
            let value = match &own[index] {
                Some(AnswerValue::Date(_)) => {
                    let day = contact.started_at.date().checked_add(time::Duration::days(between(rng, 20, 300)));
                    day.map(AnswerValue::Date)
                }
                other => other.clone(),
            };
            let value = value.filter(|_| asked && chance(rng, QUESTION_ANSWERED[index]));
            out.push(BulkHearingAnswer {
                contact: first + offset,
                set_id: ids.set,
                question_id: *question,
                asked,
                value,
            });
        }
    }
}

const PAGES: [(&str, u32); 5] = [
    ("https://uruoi.example.jp/products/serum", 40),
    ("https://uruoi.example.jp/products/trial-set", 20),
    ("https://uruoi.example.jp/campaign/winter", 15),
    ("https://uruoi.example.jp/faq/usage", 15),
    ("https://uruoi.example.jp/mypage/subscription", 10),
];

/// Web visits of digital customers in the last 120 days, and an NPS survey answered 45 days
/// into a subscription (promoters among advocates, detractors among the disappointed).
pub(crate) fn behave(rng: &mut DemoRng, who: &Listener, customer: usize, end: i64, out: &mut Vec<BulkBehaviorEvent>) {
    let at = |seconds: i64| OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    if who.digital && chance(rng, 0.5) {
        let visits = between(rng, 1, 6);
        let weights: Vec<u32> = PAGES.iter().map(|(_, w)| *w).collect();
        for visit in 0..visits {
            let when = end - between(rng, 1, 120 * DAY) + visit;
            let (url, _) = PAGES[weighted(rng, &weights)];
            if when > who.acquired_at {
                out.push(BulkBehaviorEvent {
                    customer,
                    occurred_at: at(when),
                    detail: BulkEventDetail::Web { url: url.to_owned() },
                });
            }
        }
    }
    if let Some(subscribed) = who.subscribed_on {
        let asked = subscribed.midnight().assume_utc().unix_timestamp() + 45 * DAY + between(rng, 9 * 3600, 20 * 3600);
        let still_there = who.churned_on.is_none_or(|churned| churned.midnight().assume_utc().unix_timestamp() > asked);
        if asked < end && still_there && chance(rng, 0.4) {
            let score = if who.advocate {
                between(rng, 9, 10)
            } else if who.expectation_unmet {
                between(rng, 0, 6)
            } else {
                between(rng, 5, 9)
            };
            out.push(BulkBehaviorEvent {
                customer,
                occurred_at: at(asked),
                detail: BulkEventDetail::Survey {
                    survey: "定期便アンケート".to_owned(),
                    question: "NPS".to_owned(),
                    answer: score.to_string(),
                },
            });
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_set_is_valid() {
        super::demo_hearing_set().validate().unwrap();
    }
}
