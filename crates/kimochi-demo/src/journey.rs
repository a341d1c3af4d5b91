//! One customer's history, simulated day by day: acquisition through an ad medium, sample,
//! trial, the outbound proposal of the main product, subscription with monthly deliveries until
//! churn, and the spontaneous contacts and kimochi heard along the way.
//!
//! Times are Unix seconds while simulating (cheap to add and compare) and become JST
//! `OffsetDateTime`s only when the records are written out.

use std::collections::BTreeMap;

use kimochi_domain::datetime::JST;
use kimochi_domain::import::{BulkChunk, BulkContact, BulkHandoverNote, BulkKimochiNote, BulkOrder};
use kimochi_domain::{
    Channel, Consent, CustomerProfile, Direction, ExternalId, HandoverKind, KimochiKind, NewOrderLine, Outcome,
    ProductId, UserId,
};
use rand::Rng;
use time::{Date, OffsetDateTime};

use crate::catalog::{operator_teams, price, product, team};
use crate::effects::{AdMedium, LostOrderReason, PLANTED};
use crate::hearing;
use crate::people;
use crate::random::{DemoRng, between, chance, customer_rng, exponential, pick, weighted};
use crate::voice::{self, CONCERNS, Inquiry};
use crate::{CustomerTruth, DemoConfig, DemoIds, Segment};

const MINUTE: i64 = 60;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;
/// Length of a subscription delivery cycle.
const CYCLE: i64 = 30 * DAY;

/// The simulated window: `[start, end)` in Unix seconds, both at midnight JST.
pub(crate) struct Window {
    start: i64,
    end: i64,
}

impl Window {
    pub fn new(config: &DemoConfig) -> Window {
        let end = config.as_of.midnight().assume_offset(JST).unix_timestamp();
        Window { start: end - i64::from(config.history_days.max(1)) * DAY, end }
    }

    fn days(&self) -> i64 {
        (self.end - self.start) / DAY
    }

    /// Midnight JST of the day holding `at`.
    fn midnight_of(&self, at: i64) -> i64 {
        self.start + (at - self.start).div_euclid(DAY) * DAY
    }
}

/// Operators grouped by team, so that outbound calls come from the outbound team and emails
/// from the digital team. Falls back to every agent for every team when the caller's agent list
/// does not match the demo users.
pub(crate) struct AgentPool {
    by_team: [Vec<UserId>; 4],
}

impl AgentPool {
    pub fn new(agents: &[UserId]) -> AgentPool {
        let teams: Vec<usize> = operator_teams().collect();
        let mut by_team: [Vec<UserId>; 4] = Default::default();
        if agents.len() == teams.len() {
            for (agent, team) in agents.iter().zip(teams) {
                by_team[team].push(*agent);
            }
        } else {
            for members in &mut by_team {
                members.extend_from_slice(agents);
            }
        }
        AgentPool { by_team }
    }

    fn pick(&self, rng: &mut DemoRng, team: usize) -> Option<UserId> {
        let members = &self.by_team[team];
        if members.is_empty() { None } else { Some(*pick(rng, members)) }
    }
}

/// When in the day something happens (JST).
#[derive(Clone, Copy)]
enum Slot {
    /// Calls to the center, 9–20h, busiest mid-morning.
    Inbound,
    /// Calls from the center, 10–19h.
    Outbound,
    /// Calls to customers who asked for 17h or later.
    Evening,
    /// Web, email and SNS, 6–24h, busiest in the evening.
    Digital,
    /// Paper handled in office hours.
    Office,
    /// The nightly subscription batch.
    Batch,
}

fn seconds_of_day(rng: &mut DemoRng, slot: Slot) -> i64 {
    let hour = match slot {
        Slot::Inbound => 9 + weighted(rng, &[8, 14, 13, 8, 10, 11, 11, 10, 8, 5, 2]),
        Slot::Outbound => 10 + weighted(rng, &[10, 12, 6, 10, 12, 12, 10, 9, 7]),
        Slot::Evening => 17 + weighted(rng, &[5, 4, 2]),
        Slot::Digital => 6 + weighted(rng, &[2, 4, 5, 5, 6, 6, 7, 6, 5, 5, 5, 5, 6, 7, 8, 9, 8, 5]),
        Slot::Office => 9 + weighted(rng, &[3, 3, 3, 1, 3, 3, 3, 2]),
        Slot::Batch => 5,
    } as i64;
    hour * HOUR + between(rng, 0, HOUR - 1)
}

fn slot_for(channel: Channel, direction: Direction, evening: bool) -> Slot {
    match (channel, direction) {
        (Channel::Phone, Direction::Outbound) if evening => Slot::Evening,
        (Channel::Phone, Direction::Outbound) => Slot::Outbound,
        (Channel::Phone | Channel::Visit, Direction::Inbound) => Slot::Inbound,
        (Channel::Letter | Channel::Fax, _) => Slot::Office,
        _ => Slot::Digital,
    }
}

/// Handling time in seconds: phone conversations 3–25 minutes, unanswered rings under a minute.
fn handling_seconds(rng: &mut DemoRng, channel: Channel, outcome: Outcome) -> i64 {
    match (channel, outcome) {
        (Channel::Phone, Outcome::NoContact) => between(rng, 20, 60),
        (Channel::Phone, Outcome::Busy) => between(rng, 3, 15),
        (Channel::Phone, Outcome::HungUp) => between(rng, 8, 45),
        (Channel::Phone, Outcome::Callback) => between(rng, 30, 90),
        (Channel::Phone, _) => 180 + (exponential(rng, 300.0) as i64).min(1_320),
        (Channel::Visit, _) => between(rng, 15, 40) * MINUTE,
        (Channel::Chat, _) => between(rng, 5, 20) * MINUTE,
        (Channel::Sns, _) => between(rng, 2, 10) * MINUTE,
        _ => between(rng, 4, 15) * MINUTE,
    }
}

struct PendingContact {
    at: i64,
    ended: i64,
    channel: Channel,
    direction: Direction,
    agent: Option<UserId>,
    reason: &'static str,
    outcome: Outcome,
    text: String,
    thread_of: Option<usize>,
    crisis: bool,
}

struct PendingNote {
    at: i64,
    kind: KimochiKind,
    text: String,
    by: Option<UserId>,
    contact: Option<usize>,
}

struct PendingHandover {
    at: i64,
    kind: HandoverKind,
    text: String,
    by: Option<UserId>,
}

struct PendingOrder {
    at: i64,
    channel: Channel,
    is_subscription: bool,
    lines: Vec<NewOrderLine>,
}

/// How an outbound sequence of attempts ended.
enum Reach {
    /// Someone answered at `at`; `thread_of` is the callback request the call continues.
    Reached { at: i64, thread_of: Option<usize> },
    /// Every attempt went unanswered; the last one was at `last`.
    NotReached { last: i64 },
}

/// The funnel's conversion rates. Not planted effects (nothing analytics must rediscover), but
/// they set the volumes: about ten orders and five contacts per customer over three years.
struct Funnel {
    /// Share of sample requesters who go on to buy the trial set.
    sample_to_trial: f64,
    /// Share of trial buyers who buy the main product or subscribe, when their expectation is
    /// met, and when it is not.
    trial_to_main: f64,
    trial_to_main_unmet: f64,
    /// Share of those who subscribe straight away rather than buy the main product.
    subscribe_at_once: f64,
    /// Per main-product purchase: the chance that it is the last one, and that the next one
    /// is a subscription instead.
    main_stop: f64,
    main_to_subscription: f64,
    /// Per delivery: the chance of a separate add-on order.
    add_on_order: f64,
    /// Spontaneous contacts (inquiries, feedback, complaints) per 30 days: in the two months
    /// after a trial, while buying the main product, and while subscribed.
    inquiries_after_trial: f64,
    inquiries_buyer: f64,
    inquiries_subscriber: f64,
}

const FUNNEL: Funnel = Funnel {
    sample_to_trial: 0.6,
    trial_to_main: 0.75,
    trial_to_main_unmet: 0.45,
    subscribe_at_once: 0.75,
    main_stop: 0.2,
    main_to_subscription: 0.35,
    add_on_order: 0.06,
    inquiries_after_trial: 0.2,
    inquiries_buyer: 0.09,
    inquiries_subscriber: 0.085,
};

/// What the customer said yes to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Conversion {
    Subscription,
    Main,
    /// The first order was the main product already (no trial).
    MainAlreadyOrdered,
}

impl Conversion {
    fn new(subscribe: bool) -> Conversion {
        if subscribe { Conversion::Subscription } else { Conversion::Main }
    }
}

/// The customer's traits that shape their history.
struct Traits {
    medium: AdMedium,
    age: i64,
    concern: usize,
    phone_ok: bool,
    evening: bool,
    digital: bool,
    order_channel: Channel,
    expectation_unmet: bool,
    unreachable: bool,
    advocate: bool,
}

/// The per-customer simulation. The buffers are reused from customer to customer.
pub(crate) struct Simulation<'a> {
    config: &'a DemoConfig,
    window: Window,
    agents: AgentPool,
    ids: &'a DemoIds,
    products: &'a [ProductId],
    rng: DemoRng,
    contacts: Vec<PendingContact>,
    notes: Vec<PendingNote>,
    handovers: Vec<PendingHandover>,
    orders: Vec<PendingOrder>,
    /// Spans holding a no-contact streak, kept free of other contacts so that the streak stays
    /// unbroken in the data.
    blocked: Vec<(i64, i64)>,
    gap_revealed: bool,
    advocacy_revealed: bool,
    subscription_orders: usize,
}

impl<'a> Simulation<'a> {
    pub fn new(config: &'a DemoConfig, ids: &'a DemoIds) -> Simulation<'a> {
        Simulation {
            config,
            window: Window::new(config),
            agents: AgentPool::new(&ids.agents),
            ids,
            products: &ids.products,
            rng: customer_rng(config.seed, 0),
            contacts: Vec::new(),
            notes: Vec::new(),
            handovers: Vec::new(),
            orders: Vec::new(),
            blocked: Vec::new(),
            gap_revealed: false,
            advocacy_revealed: false,
            subscription_orders: 0,
        }
    }

    /// Simulates the customer with global `index` and appends their records to `chunk`.
    pub fn customer(&mut self, index: u64, chunk: &mut BulkChunk) -> CustomerTruth {
        self.rng = customer_rng(self.config.seed, index);
        self.contacts.clear();
        self.notes.clear();
        self.handovers.clear();
        self.orders.clear();
        self.blocked.clear();
        self.gap_revealed = false;
        self.advocacy_revealed = false;
        self.subscription_orders = 0;

        let rng = &mut self.rng;
        let medium = AdMedium::ALL[weighted(rng, &PLANTED.medium_per_mille)];
        let age_shift = match medium {
            AdMedium::SnsAd | AdMedium::WebAd | AdMedium::Affiliate => -1,
            AdMedium::TvShopping | AdMedium::Newspaper => 1,
            AdMedium::Magazine | AdMedium::Referral => 0,
        };
        let gender = people::gender(rng);
        let age = people::age(rng, age_shift);
        let name = people::name(rng, gender, age);
        let prefecture = people::prefecture(rng);
        let mut phones = Vec::with_capacity(2);
        if chance(rng, 0.88) {
            phones.extend(people::mobile_phone(rng, index));
        }
        if phones.is_empty() || chance(rng, 0.2) {
            phones.extend(people::landline(index, prefecture));
        }
        if phones.is_empty() {
            phones.extend(people::mobile_phone(rng, index));
        }
        let emails: Vec<_> = if chance(rng, if age < 60 { 0.8 } else { 0.55 }) {
            people::email(rng, &name, index).into_iter().collect()
        } else {
            Vec::new()
        };
        let consent =
            Consent { phone: chance(rng, 0.85), email: !emails.is_empty() && chance(rng, 0.95), dm: chance(rng, 0.6) };
        let do_not_call = chance(rng, 0.03);
        let phone_ok = consent.phone && !do_not_call && !phones.is_empty();
        let contact_time = weighted(rng, &[65, 20, 15]);
        let skin_type = ["乾燥肌", "混合肌", "普通肌", "敏感肌", "脂性肌"][weighted(rng, &[35, 22, 18, 15, 10])];
        let concern = rng.random_range(0..CONCERNS.len());
        let order_channel = match medium {
            AdMedium::TvShopping => [Channel::Phone, Channel::WebForm][weighted(rng, &[75, 25])],
            AdMedium::Newspaper => [Channel::Phone, Channel::Letter, Channel::Fax][weighted(rng, &[55, 30, 15])],
            AdMedium::Magazine => [Channel::Phone, Channel::Letter, Channel::WebForm][weighted(rng, &[45, 30, 25])],
            AdMedium::Referral => [Channel::Phone, Channel::WebForm][weighted(rng, &[45, 55])],
            AdMedium::WebAd | AdMedium::Affiliate | AdMedium::SnsAd => {
                [Channel::WebForm, Channel::Phone][weighted(rng, &[88, 12])]
            }
        };
        let expectation_unmet = chance(rng, PLANTED.expectation_unmet_share);
        let unreachable = phone_ok && chance(rng, PLANTED.unreachable_share);
        let traits = Traits {
            medium,
            age,
            concern,
            phone_ok,
            evening: contact_time == 1,
            digital: age < 45 || matches!(medium, AdMedium::SnsAd | AdMedium::WebAd | AdMedium::Affiliate),
            order_channel,
            expectation_unmet,
            unreachable,
            advocate: false,
        };
        let mut truth = CustomerTruth {
            index,
            ad_medium: medium,
            segment: Segment::SampleOnly,
            acquired_on: self.config.as_of,
            expectation_unmet,
            advocate: false,
            no_contact_streak: false,
            crisis: false,
            lost_order_reason: None,
            subscribed_on: None,
            churned_on: None,
            monthly_churn_hazard: None,
        };
        let acquired_at = self.window.start
            + acquisition_day(&mut self.rng, self.window.days()) * DAY
            + seconds_of_day(&mut self.rng, Slot::Digital);
        truth.acquired_on = date_of(acquired_at);
        let traits = self.journey(traits, acquired_at, &mut truth);
        truth.advocate = traits.advocate;
        self.extra_notes(&traits);

        let customer = chunk.customers.len();
        let first_contact = chunk.contacts.len();
        let order_count = self.flush(customer, chunk, &mut truth);
        self.listen(index, customer, first_contact, acquired_at, &traits, &truth, chunk);
        let rank = match order_count {
            0..=1 => "一般",
            2..=5 => "ブロンズ",
            6..=11 => "シルバー",
            12..=23 => "ゴールド",
            _ => "プラチナ",
        };
        let mut attributes = BTreeMap::new();
        attributes.insert("肌タイプ".to_owned(), skin_type.to_owned());
        attributes.insert("肌悩み".to_owned(), CONCERNS[concern].0.to_owned());
        attributes.insert("会員ランク".to_owned(), rank.to_owned());
        match contact_time {
            1 => attributes.insert("連絡希望".to_owned(), "17時以降".to_owned()),
            2 => attributes.insert("連絡希望".to_owned(), "午前中".to_owned()),
            _ => None,
        };
        let birth_date = self
            .config
            .as_of
            .replace_year(self.config.as_of.year() - age as i32)
            .unwrap_or(self.config.as_of)
            .saturating_sub(time::Duration::days(between(&mut self.rng, 1, 364)));
        chunk.customers.push(CustomerProfile {
            external_id: ExternalId::parse(&format!("C{:07}", index + 1)).ok(),
            name: name.full(),
            kana: Some(name.kana()),
            birth_date: Some(birth_date),
            gender,
            prefecture: Some(people::prefecture_name(prefecture).to_owned()),
            address: Some(people::address(&mut self.rng, prefecture)),
            phones,
            emails,
            consent,
            do_not_call,
            ad_medium: Some(medium.label().to_owned()),
            attributes,
        });
        truth
    }

    /// Hearing checklists on the customer's inbound calls and their behavioural events, from a
    /// random stream of their own (so the records above do not change with them).
    #[allow(clippy::too_many_arguments)]
    fn listen(
        &mut self,
        index: u64,
        customer: usize,
        first_contact: usize,
        acquired_at: i64,
        traits: &Traits,
        truth: &CustomerTruth,
        chunk: &mut BulkChunk,
    ) {
        let mut rng = customer_rng(self.config.seed ^ 0x4845_4152_494E_4721, index);
        let listener = hearing::Listener {
            age: traits.age,
            concern: traits.concern,
            digital: traits.digital,
            expectation_unmet: traits.expectation_unmet,
            advocate: traits.advocate,
            segment: truth.segment,
            acquired_at,
            subscribed_on: truth.subscribed_on,
            churned_on: truth.churned_on,
        };
        if let Some(set) = self.ids.hearing_set {
            let ids = hearing::HearingIds { set, questions: &self.ids.hearing_questions, agents: &self.ids.agents };
            let contacts = &chunk.contacts[first_contact..];
            hearing::hear(
                &mut rng,
                &ids,
                &listener,
                contacts,
                first_contact,
                self.window.end,
                &mut chunk.hearing_answers,
            );
        }
        hearing::behave(&mut rng, &listener, customer, self.window.end, &mut chunk.behavior_events);
    }

    /// The funnel: sample → trial → main product → subscription.
    fn journey(&mut self, mut traits: Traits, acquired_at: i64, truth: &mut CustomerTruth) -> Traits {
        let sample_share = match traits.medium {
            AdMedium::WebAd | AdMedium::Affiliate | AdMedium::SnsAd => 0.45,
            AdMedium::Newspaper | AdMedium::Magazine => 0.30,
            AdMedium::Referral => 0.20,
            AdMedium::TvShopping => 0.15,
        };
        let mut first_purchase_at = acquired_at;
        if chance(&mut self.rng, sample_share) {
            let channel = if chance(&mut self.rng, 0.3) { Channel::Phone } else { Channel::WebForm };
            if channel == Channel::Phone {
                let text = voice::sample_request(&mut self.rng, traits.medium, traits.concern);
                self.contact(
                    acquired_at,
                    Channel::Phone,
                    Direction::Inbound,
                    team::GENERAL,
                    "サンプル請求",
                    Outcome::Resolved,
                    text,
                    None,
                );
            }
            self.order(acquired_at, channel, false, &[(product::SAMPLE, 1)]);
            if !chance(&mut self.rng, FUNNEL.sample_to_trial) {
                truth.segment = Segment::SampleOnly;
                return traits;
            }
            first_purchase_at =
                self.later(acquired_at, 5, 30, slot_for(traits.order_channel, Direction::Inbound, false));
        }
        if first_purchase_at >= self.window.end {
            truth.segment = Segment::SampleOnly;
            return traits;
        }
        truth.segment = Segment::TrialOnly;
        let main_direct = first_purchase_at == acquired_at && chance(&mut self.rng, 0.08);
        let first_product = if main_direct { product::SERUM } else { product::TRIAL };
        let first_contact = if traits.order_channel == Channel::Phone {
            let text = voice::phone_first_order(&mut self.rng, traits.medium, traits.concern, main_direct);
            Some(self.contact(
                first_purchase_at,
                Channel::Phone,
                Direction::Inbound,
                team::GENERAL,
                "注文",
                Outcome::Ordered,
                text,
                None,
            ))
        } else {
            None
        };
        self.order(first_purchase_at, traits.order_channel, false, &[(first_product, 1)]);
        let expectation = voice::expectation_note(&mut self.rng, traits.medium, traits.concern);
        let survey_at = first_purchase_at + between(&mut self.rng, 1, 3) * DAY;
        self.note_at(first_contact, survey_at, KimochiKind::Expectation, expectation);
        if chance(&mut self.rng, 0.6) {
            let concern = voice::concern_note(&mut self.rng, traits.concern);
            self.note_at(first_contact, survey_at, KimochiKind::Concern, concern);
        }
        if main_direct {
            truth.segment = Segment::MainOnly;
            let channel = traits.order_channel;
            self.converted(
                &mut traits,
                first_purchase_at,
                first_purchase_at,
                channel,
                truth,
                Conversion::MainAlreadyOrdered,
            );
            self.crisis(&traits, first_purchase_at, truth);
            return traits;
        }

        // The outbound proposal of the main product (本品引き上げ) after the trial.
        let converts = chance(
            &mut self.rng,
            if traits.expectation_unmet { FUNNEL.trial_to_main_unmet } else { FUNNEL.trial_to_main },
        );
        let mut own_conversion_after = first_purchase_at + between(&mut self.rng, 14, 40) * DAY;
        let mut converted_by_call = None;
        if traits.phone_ok {
            let start = self.later(first_purchase_at, 10, 16, Slot::Outbound);
            match self.outbound_attempts(start, "本品のご案内", &traits) {
                Reach::Reached { at, thread_of } => {
                    let used = (at - first_purchase_at) / DAY;
                    let call = if chance(&mut self.rng, 0.06) {
                        let text = voice::hung_up(&mut self.rng);
                        self.contact(
                            at,
                            Channel::Phone,
                            Direction::Outbound,
                            team::OUTBOUND,
                            "本品のご案内",
                            Outcome::HungUp,
                            text,
                            thread_of,
                        );
                        None
                    } else if converts {
                        let subscribe = chance(&mut self.rng, FUNNEL.subscribe_at_once);
                        let text = voice::followup_ordered(&mut self.rng, used, subscribe, traits.expectation_unmet);
                        let call = self.contact(
                            at,
                            Channel::Phone,
                            Direction::Outbound,
                            team::OUTBOUND,
                            "本品のご案内",
                            Outcome::Ordered,
                            text,
                            thread_of,
                        );
                        converted_by_call = Some((at, subscribe));
                        Some(call)
                    } else {
                        let reason = LostOrderReason::ALL[weighted(&mut self.rng, &PLANTED.lost_order_reason_percent)];
                        if at < self.window.end {
                            truth.lost_order_reason = Some(reason);
                        }
                        let text = voice::lost_order(&mut self.rng, reason);
                        Some(self.contact(
                            at,
                            Channel::Phone,
                            Direction::Outbound,
                            team::OUTBOUND,
                            "本品のご案内",
                            Outcome::LostOrder,
                            text,
                            thread_of,
                        ))
                    };
                    if let Some(call) = call {
                        self.reveal_gap_on(&traits, call, used);
                    }
                    own_conversion_after = own_conversion_after.max(at + DAY);
                }
                Reach::NotReached { last } => own_conversion_after = own_conversion_after.max(last + DAY),
            }
        }
        match converted_by_call {
            Some((at, subscribe)) => {
                self.converted(&mut traits, first_purchase_at, at, Channel::Phone, truth, Conversion::new(subscribe));
            }
            None if converts => {
                let at = self.window.midnight_of(own_conversion_after)
                    + seconds_of_day(&mut self.rng, slot_for(traits.order_channel, Direction::Inbound, false));
                if traits.order_channel == Channel::Phone {
                    let text = voice::phone_repeat_order(&mut self.rng, product::SERUM);
                    self.contact(
                        at,
                        Channel::Phone,
                        Direction::Inbound,
                        team::GENERAL,
                        "注文",
                        Outcome::Ordered,
                        text,
                        None,
                    );
                }
                let subscribe = chance(&mut self.rng, FUNNEL.subscribe_at_once);
                let channel = traits.order_channel;
                self.converted(&mut traits, first_purchase_at, at, channel, truth, Conversion::new(subscribe));
            }
            None => {
                if traits.expectation_unmet && !self.gap_revealed {
                    // Heard through the post-trial questionnaire (アンケート), not a conversation.
                    let text = voice::gap_note(&mut self.rng, traits.concern);
                    let at = first_purchase_at + between(&mut self.rng, 14, 20) * DAY;
                    self.note_at(None, at, KimochiKind::Gap, text);
                    self.gap_revealed = true;
                }
                self.inquiries(
                    &traits,
                    first_purchase_at,
                    first_purchase_at + 60 * DAY,
                    FUNNEL.inquiries_after_trial,
                    false,
                    first_purchase_at,
                );
            }
        }
        self.crisis(&traits, first_purchase_at, truth);
        traits
    }

    /// After the customer said yes to the main product at `at`: either a subscription at once,
    /// or main-product purchases that may turn into a subscription later.
    fn converted(
        &mut self,
        traits: &mut Traits,
        first_purchase_at: i64,
        at: i64,
        channel: Channel,
        truth: &mut CustomerTruth,
        conversion: Conversion,
    ) {
        if at >= self.window.end {
            return;
        }
        let advocate_share =
            if traits.medium == AdMedium::Referral { PLANTED.advocate_share_referral } else { PLANTED.advocate_share };
        traits.advocate = !traits.expectation_unmet && chance(&mut self.rng, advocate_share);
        if conversion == Conversion::Subscription {
            self.subscription(traits, first_purchase_at, at, channel, truth);
            return;
        }
        truth.segment = Segment::MainOnly;
        if conversion == Conversion::Main {
            let mut lines: Vec<(usize, i64)> = vec![(product::SERUM, 1)];
            if chance(&mut self.rng, 0.15) {
                lines.push((product::CREAM, 1));
            }
            self.order(at, channel, false, &lines);
        }
        // Whatever was not heard yet comes out within the first weeks, before any subscription.
        let reveal_at = self.later(at, 18, 30, Slot::Digital);
        self.reveal_by_message(traits, reveal_at, (reveal_at - first_purchase_at) / DAY);

        let mut last = at;
        loop {
            let next = self.later(last, 40, 75, slot_for(channel, Direction::Inbound, false));
            if next >= self.window.end {
                self.inquiries(traits, last + DAY, self.window.end, FUNNEL.inquiries_buyer, false, first_purchase_at);
                return;
            }
            self.inquiries(traits, last + DAY, next - DAY, FUNNEL.inquiries_buyer, false, first_purchase_at);
            if chance(&mut self.rng, FUNNEL.main_stop) {
                return;
            }
            if chance(&mut self.rng, FUNNEL.main_to_subscription) {
                if channel == Channel::Phone {
                    let text = voice::phone_repeat_order(&mut self.rng, product::SERUM_SUBSCRIPTION);
                    self.contact(
                        next,
                        Channel::Phone,
                        Direction::Inbound,
                        team::GENERAL,
                        "注文",
                        Outcome::Ordered,
                        text,
                        None,
                    );
                }
                self.subscription(traits, first_purchase_at, next, channel, truth);
                return;
            }
            let repeat = *pick(
                &mut self.rng,
                &[product::SERUM, product::SERUM, product::SERUM, product::CREAM, product::LOTION],
            );
            if channel == Channel::Phone {
                let text = voice::phone_repeat_order(&mut self.rng, repeat);
                self.contact(
                    next,
                    Channel::Phone,
                    Direction::Inbound,
                    team::GENERAL,
                    "注文",
                    Outcome::Ordered,
                    text,
                    None,
                );
            }
            let quantity = if chance(&mut self.rng, 0.15) { 2 } else { 1 };
            self.order(next, channel, false, &[(repeat, quantity)]);
            last = next;
        }
    }

    /// A subscription (定期便) from `start`: monthly deliveries until the customer cancels with
    /// the planted hazard, or the window ends.
    fn subscription(
        &mut self,
        traits: &Traits,
        first_purchase_at: i64,
        start: i64,
        channel: Channel,
        truth: &mut CustomerTruth,
    ) {
        truth.segment = Segment::Subscriber;
        truth.subscribed_on = Some(date_of(start));
        let mut item =
            if chance(&mut self.rng, 0.25) { product::SET_SUBSCRIPTION } else { product::SERUM_SUBSCRIPTION };
        self.order(start, channel, true, &[(item, 1)]);

        // The first-month follow-up call; whatever it does not hear arrives by message. Both
        // happen before the first churn decision, so the hazard's inputs are in the data by then.
        let mut welcome_heard = false;
        if traits.phone_ok {
            let first = self.later(start, 3, 6, Slot::Outbound);
            if let Reach::Reached { at, thread_of } = self.outbound_attempts(first, "フォローコール", traits) {
                let used = (at - first_purchase_at) / DAY;
                let mut text = voice::welcome_call(&mut self.rng, used);
                let gap = traits.expectation_unmet && !self.gap_revealed;
                let advocacy = traits.advocate && !self.advocacy_revealed;
                if gap {
                    text.push_str(&voice::gap_utterance(&mut self.rng, used));
                }
                if advocacy {
                    text.push_str(&voice::advocacy(&mut self.rng));
                }
                let call = self.contact(
                    at,
                    Channel::Phone,
                    Direction::Outbound,
                    team::OUTBOUND,
                    "フォローコール",
                    Outcome::Resolved,
                    text,
                    thread_of,
                );
                self.reveal_gap_on(traits, call, used);
                if advocacy {
                    let note = voice::advocacy_note(&mut self.rng);
                    self.note_on(call, KimochiKind::Experience, note);
                    self.advocacy_revealed = true;
                } else if chance(&mut self.rng, 0.3) {
                    let note = voice::experience_note(&mut self.rng, used);
                    self.note_on(call, KimochiKind::Experience, note);
                }
                welcome_heard = true;
            }
        }
        if !welcome_heard || !self.gap_revealed || !self.advocacy_revealed {
            let at = self.later(start, 19, 22, Slot::Digital);
            self.reveal_by_message(traits, at, (at - first_purchase_at) / DAY);
        }

        let hazard =
            PLANTED.monthly_churn(traits.medium, traits.expectation_unmet, traits.advocate, traits.unreachable);
        truth.monthly_churn_hazard = Some(hazard);
        // Deliveries leave with the early-morning batch, every cycle on the same minute.
        let batch = seconds_of_day(&mut self.rng, Slot::Batch);
        let mut previous = start;
        for cycle in 1_i64.. {
            let delivery = self.window.midnight_of(start) + cycle * CYCLE + batch;
            if delivery >= self.window.end {
                self.inquiries(
                    traits,
                    previous + DAY,
                    self.window.end,
                    FUNNEL.inquiries_subscriber,
                    true,
                    first_purchase_at,
                );
                return;
            }
            // Care calls before the third delivery, when many subscribers drop, and the twelfth.
            if cycle == 3 || cycle == 12 {
                let call_at = delivery - between(&mut self.rng, 20, 25) * DAY;
                self.care_call(traits, call_at, cycle, &mut item);
            }
            self.inquiries(
                traits,
                previous + DAY,
                delivery - 8 * DAY,
                FUNNEL.inquiries_subscriber,
                true,
                first_purchase_at,
            );
            if chance(&mut self.rng, hazard) {
                let at = self.later(delivery - 8 * DAY, 1, 6, Slot::Inbound);
                let channel = [Channel::Phone, Channel::WebForm, Channel::Email, Channel::Letter]
                    [weighted(&mut self.rng, &[70, 15, 10, 5])];
                let text = voice::cancel(&mut self.rng, traits.expectation_unmet);
                let desk = if channel == Channel::Phone { self.inbound_team() } else { team::DIGITAL };
                self.contact(at, channel, Direction::Inbound, desk, "定期便の解約", Outcome::Resolved, text, None);
                truth.churned_on = Some(date_of(at));
                return;
            }
            let mut lines = vec![(item, 1)];
            if chance(&mut self.rng, 0.08) {
                lines.push((*pick(&mut self.rng, &[product::COTTON, product::LOTION]), 1));
            }
            self.order(delivery, channel, true, &lines);
            if chance(&mut self.rng, FUNNEL.add_on_order) {
                let at = self.later(delivery, 3, 20, slot_for(channel, Direction::Inbound, false));
                let add_on = *pick(&mut self.rng, &[product::CREAM, product::LOTION, product::COTTON, product::SERUM]);
                if channel == Channel::Phone {
                    let text = voice::phone_repeat_order(&mut self.rng, add_on);
                    let desk = self.inbound_team();
                    self.contact(at, Channel::Phone, Direction::Inbound, desk, "注文", Outcome::Ordered, text, None);
                }
                self.order(at, channel, false, &[(add_on, 1)]);
            }
            previous = delivery;
        }
    }

    /// A care call (定期フォローコール) to a subscriber, which sometimes sells an add-on.
    fn care_call(&mut self, traits: &Traits, start: i64, cycle: i64, item: &mut usize) {
        if !traits.phone_ok {
            return;
        }
        let start = self.window.midnight_of(start)
            + seconds_of_day(&mut self.rng, if traits.evening { Slot::Evening } else { Slot::Outbound });
        let Reach::Reached { at, thread_of } = self.outbound_attempts(start, "フォローコール", traits) else {
            return;
        };
        if chance(&mut self.rng, 0.05) {
            let text = voice::hung_up(&mut self.rng);
            self.contact(
                at,
                Channel::Phone,
                Direction::Outbound,
                team::OUTBOUND,
                "フォローコール",
                Outcome::HungUp,
                text,
                thread_of,
            );
            return;
        }
        let upsell = if chance(&mut self.rng, 0.15) {
            Some(if *item == product::SERUM_SUBSCRIPTION && chance(&mut self.rng, 0.5) {
                product::SET_SUBSCRIPTION
            } else {
                product::CREAM
            })
        } else {
            None
        };
        let text = voice::care_call(&mut self.rng, cycle, upsell);
        let outcome = if upsell.is_some() { Outcome::Ordered } else { Outcome::Resolved };
        let call = self.contact(
            at,
            Channel::Phone,
            Direction::Outbound,
            team::OUTBOUND,
            "フォローコール",
            outcome,
            text,
            thread_of,
        );
        match upsell {
            Some(product::SET_SUBSCRIPTION) => *item = product::SET_SUBSCRIPTION,
            Some(add_on) => self.order(at + 5 * MINUTE, Channel::Phone, false, &[(add_on, 1)]),
            None => {}
        }
        if chance(&mut self.rng, 0.2) {
            let note = voice::potential_note(&mut self.rng);
            self.note_on(call, KimochiKind::Potential, note);
        }
    }

    /// Outbound phone attempts from `start` until someone answers. Customers who never pick up
    /// run up a streak of 3–5 no-contacts; the others answer by the third attempt, so that only
    /// they show a planted streak.
    fn outbound_attempts(&mut self, start: i64, reason: &'static str, traits: &Traits) -> Reach {
        let slot = if traits.evening { Slot::Evening } else { Slot::Outbound };
        let misses = if traits.unreachable {
            between(&mut self.rng, PLANTED.no_contact_streak_min as i64, 5)
        } else {
            weighted(&mut self.rng, &[60, 28, 12]) as i64
        };
        let mut at = start;
        for attempt in 0..misses {
            if attempt > 0 {
                at = self.later(at, 1, 3, slot);
            }
            let busy = chance(&mut self.rng, 0.25);
            let text = voice::no_contact(&mut self.rng, busy);
            let outcome = if busy { Outcome::Busy } else { Outcome::NoContact };
            self.contact(at, Channel::Phone, Direction::Outbound, team::OUTBOUND, reason, outcome, text, None);
        }
        if traits.unreachable {
            self.blocked.push((start - DAY, at + DAY));
            return Reach::NotReached { last: at };
        }
        if misses > 0 {
            at = self.later(at, 1, 3, slot);
        }
        if chance(&mut self.rng, 0.07) {
            let text = voice::callback(&mut self.rng);
            let request = self.contact(
                at,
                Channel::Phone,
                Direction::Outbound,
                team::OUTBOUND,
                reason,
                Outcome::Callback,
                text,
                None,
            );
            let again = at + between(&mut self.rng, 2, 20) * HOUR;
            let again = self.window.midnight_of(again) + seconds_of_day(&mut self.rng, slot);
            return Reach::Reached { at: again.max(at + HOUR), thread_of: Some(request) };
        }
        Reach::Reached { at, thread_of: None }
    }

    /// Attaches the Gap note to a conversation, if the gap has not been heard yet.
    fn reveal_gap_on(&mut self, traits: &Traits, contact: usize, _days_used: i64) {
        if traits.expectation_unmet && !self.gap_revealed {
            let text = voice::gap_note(&mut self.rng, traits.concern);
            self.note_on(contact, KimochiKind::Gap, text);
            self.gap_revealed = true;
        }
    }

    /// Gap or advocacy not heard on the phone arrive by message around `at`.
    fn reveal_by_message(&mut self, traits: &Traits, at: i64, days_used: i64) {
        if traits.expectation_unmet && !self.gap_revealed {
            let channel = [Channel::Email, Channel::WebForm, Channel::Phone][weighted(&mut self.rng, &[40, 30, 30])];
            let text = voice::gap_utterance(&mut self.rng, days_used);
            let desk = if channel == Channel::Phone { team::GENERAL } else { team::DIGITAL };
            let contact =
                self.contact(at, channel, Direction::Inbound, desk, "効果について", Outcome::Resolved, text, None);
            self.reveal_gap_on(traits, contact, days_used);
        }
        if traits.advocate && !self.advocacy_revealed {
            let channel = [Channel::Sns, Channel::Letter, Channel::Email, Channel::Phone]
                [weighted(&mut self.rng, &[30, 20, 25, 25])];
            let text = voice::advocacy(&mut self.rng);
            let desk = if channel == Channel::Phone { team::GENERAL } else { team::DIGITAL };
            let contact = self.contact(
                at + HOUR,
                channel,
                Direction::Inbound,
                desk,
                "ご意見・ご感想",
                Outcome::Resolved,
                text,
                None,
            );
            let note = voice::advocacy_note(&mut self.rng);
            self.note_on(contact, KimochiKind::Experience, note);
            self.advocacy_revealed = true;
        }
    }

    /// Spontaneous contacts between `from` and `to`: on average `rate` per 30 days.
    fn inquiries(&mut self, traits: &Traits, from: i64, to: i64, rate: f64, subscriber: bool, first_purchase_at: i64) {
        if to <= from {
            return;
        }
        let expected = rate * (to - from) as f64 / CYCLE as f64;
        let mut budget = expected;
        // A Poisson count by inversion of exponential gaps, in units of the expected count.
        loop {
            budget -= exponential(&mut self.rng, 1.0);
            if budget < 0.0 {
                break;
            }
            let day = self.window.midnight_of(from + ((to - from) as f64 * self.rng.random::<f64>()) as i64);
            self.inquiry(traits, day, subscriber, first_purchase_at);
        }
    }

    fn inquiry(&mut self, traits: &Traits, day: i64, subscriber: bool, first_purchase_at: i64) {
        const SUBSCRIBER: [(Inquiry, u32); 11] = [
            (Inquiry::DeliveryDate, 18),
            (Inquiry::DeliveryCycle, 12),
            (Inquiry::Pause, 8),
            (Inquiry::Usage, 12),
            (Inquiry::SkinTrouble, 4),
            (Inquiry::Payment, 10),
            (Inquiry::Address, 6),
            (Inquiry::NotArrived, 6),
            (Inquiry::Product, 8),
            (Inquiry::Feedback, 10),
            (Inquiry::Counselling, 2),
        ];
        const BUYER: [(Inquiry, u32); 8] = [
            (Inquiry::Usage, 25),
            (Inquiry::SkinTrouble, 8),
            (Inquiry::Payment, 12),
            (Inquiry::Address, 6),
            (Inquiry::NotArrived, 8),
            (Inquiry::Product, 18),
            (Inquiry::Feedback, 10),
            (Inquiry::Counselling, 4),
        ];
        let table: &[(Inquiry, u32)] = if subscriber { &SUBSCRIBER } else { &BUYER };
        let complaint = chance(&mut self.rng, 0.06);
        let kind = table[weighted_pairs(&mut self.rng, table)].0;
        let channel = if kind == Inquiry::Counselling {
            Channel::Visit
        } else if complaint || kind == Inquiry::Feedback {
            let weights = if traits.digital { [30, 30, 20, 10, 10] } else { [10, 25, 15, 30, 20] };
            [Channel::Sns, Channel::Email, Channel::WebForm, Channel::Phone, Channel::Letter]
                [weighted(&mut self.rng, &weights)]
        } else {
            let weights = if traits.digital { [30, 25, 25, 14, 2, 4] } else { [62, 10, 10, 3, 7, 8] };
            let address_letter = kind == Inquiry::Address && chance(&mut self.rng, 0.2);
            if address_letter {
                Channel::Letter
            } else {
                [Channel::Phone, Channel::Email, Channel::WebForm, Channel::Chat, Channel::Fax, Channel::Letter]
                    [weighted(&mut self.rng, &weights)]
            }
        };
        let at = day + seconds_of_day(&mut self.rng, slot_for(channel, Direction::Inbound, false));
        if self.is_blocked(at, at + 4 * DAY) || at < first_purchase_at {
            return;
        }
        let days_used = (at - first_purchase_at) / DAY;
        let (reason, text) = if complaint {
            ("クレーム", voice::complaint(&mut self.rng))
        } else if kind == Inquiry::Feedback && channel == Channel::Sns {
            (kind.reason(), voice::sns_praise(&mut self.rng, days_used))
        } else {
            (kind.reason(), voice::inquiry(&mut self.rng, kind, days_used))
        };
        let outcome = match kind {
            _ if complaint && chance(&mut self.rng, 0.3) => Outcome::Escalated,
            Inquiry::SkinTrouble if chance(&mut self.rng, 0.3) => Outcome::Escalated,
            Inquiry::NotArrived if channel == Channel::Phone && chance(&mut self.rng, 0.3) => Outcome::Callback,
            _ => Outcome::Resolved,
        };
        let desk = match channel {
            Channel::Phone | Channel::Visit => self.inbound_team(),
            Channel::Fax | Channel::Letter => team::GENERAL,
            _ => team::DIGITAL,
        };
        let contact = self.contact(at, channel, Direction::Inbound, desk, reason, outcome, text, None);
        let answered_by_phone = outcome == Outcome::Callback
            || (matches!(channel, Channel::Email | Channel::WebForm | Channel::Sns)
                && (complaint || kind == Inquiry::SkinTrouble)
                && chance(&mut self.rng, 0.5)
                && traits.phone_ok);
        if channel == Channel::Sns {
            let reply_at = at + between(&mut self.rng, 10, 90) * MINUTE;
            let text = voice::sns_reply(&mut self.rng, !complaint && kind == Inquiry::Feedback);
            self.contact(
                reply_at,
                Channel::Sns,
                Direction::Outbound,
                team::DIGITAL,
                reason,
                Outcome::Resolved,
                text,
                Some(contact),
            );
        }
        if answered_by_phone {
            let call_at = self.call_back_after(at);
            let text = voice::thread_followup_call(
                &mut self.rng,
                false,
                if outcome == Outcome::Callback { Channel::Phone } else { channel },
            );
            self.contact(
                call_at,
                Channel::Phone,
                Direction::Outbound,
                team::GENERAL,
                reason,
                Outcome::Resolved,
                text,
                Some(contact),
            );
        }
        if kind == Inquiry::Feedback && chance(&mut self.rng, 0.4) {
            let note = voice::experience_note(&mut self.rng, days_used);
            self.note_on(contact, KimochiKind::Experience, note);
        }
    }

    /// A post or email with crisis words (F5), escalated and answered by phone in the same thread.
    fn crisis(&mut self, traits: &Traits, first_purchase_at: i64, truth: &mut CustomerTruth) {
        let share = if traits.expectation_unmet { 0.06 } else { 0.015 };
        if !chance(&mut self.rng, share) {
            return;
        }
        let last_active = truth
            .churned_on
            .map_or(self.window.end, |date| date.midnight().assume_offset(JST).unix_timestamp() + 30 * DAY);
        for _ in 0..4 {
            let from = first_purchase_at + 7 * DAY;
            if last_active <= from {
                return;
            }
            let day = self.window.midnight_of(between(&mut self.rng, from, last_active - 1));
            let channel = if chance(&mut self.rng, 0.6) { Channel::Sns } else { Channel::Email };
            let at = day + seconds_of_day(&mut self.rng, Slot::Digital);
            if self.is_blocked(at, at + 4 * DAY) {
                continue;
            }
            let text = voice::crisis_post(&mut self.rng);
            let post = self.contact(
                at,
                channel,
                Direction::Inbound,
                team::DIGITAL,
                "クレーム",
                Outcome::Escalated,
                text,
                None,
            );
            self.contacts[post].crisis = true;
            if channel == Channel::Sns {
                let text = voice::sns_reply(&mut self.rng, false);
                let reply_at = at + between(&mut self.rng, 10, 60) * MINUTE;
                self.contact(
                    reply_at,
                    Channel::Sns,
                    Direction::Outbound,
                    team::DIGITAL,
                    "クレーム",
                    Outcome::Resolved,
                    text,
                    Some(post),
                );
            }
            if traits.phone_ok {
                let text = voice::thread_followup_call(&mut self.rng, true, channel);
                let call_at = self.call_back_after(at);
                self.contact(
                    call_at,
                    Channel::Phone,
                    Direction::Outbound,
                    team::LOYAL,
                    "クレーム",
                    Outcome::Resolved,
                    text,
                    Some(post),
                );
            }
            return;
        }
    }

    /// Preference, life event, potential, handover and caution notes, each attached to one of
    /// the customer's conversations.
    fn extra_notes(&mut self, traits: &Traits) {
        let conversations: Vec<usize> = (0..self.contacts.len())
            .filter(|&position| {
                let contact = &self.contacts[position];
                contact.channel == Channel::Phone
                    && !contact.outcome.is_no_contact()
                    && contact.outcome != Outcome::HungUp
            })
            .collect();
        if conversations.is_empty() {
            return;
        }
        if chance(&mut self.rng, 0.35) {
            let call = *pick(&mut self.rng, &conversations);
            let text = voice::preference_note(&mut self.rng);
            self.note_on(call, KimochiKind::Preference, text);
        }
        if chance(&mut self.rng, 0.15) {
            let call = *pick(&mut self.rng, &conversations);
            let text = voice::life_event_note(&mut self.rng);
            self.note_on(call, KimochiKind::LifeEvent, text);
        }
        if chance(&mut self.rng, 0.12) {
            let call = *pick(&mut self.rng, &conversations);
            let text = voice::potential_note(&mut self.rng);
            self.note_on(call, KimochiKind::Potential, text);
        }
        if traits.evening || chance(&mut self.rng, 0.08) {
            let call = *pick(&mut self.rng, &conversations);
            let text = voice::handover_note(&mut self.rng, traits.evening);
            self.handover_on(call, HandoverKind::Handover, text);
        }
        if chance(&mut self.rng, 0.06) || (traits.age >= 75 && chance(&mut self.rng, 0.3)) {
            let call = *pick(&mut self.rng, &conversations);
            let text = voice::caution_note(&mut self.rng);
            self.handover_on(call, HandoverKind::Caution, text);
        }
    }

    // ---- primitives ----

    /// A moment `low..=high` days after `at`, at a time of day fitting `slot`.
    fn later(&mut self, at: i64, low: i64, high: i64, slot: Slot) -> i64 {
        self.window.midnight_of(at) + between(&mut self.rng, low, high) * DAY + seconds_of_day(&mut self.rng, slot)
    }

    /// A call answering something received at `at`: 2–26 hours later, within calling hours.
    fn call_back_after(&mut self, at: i64) -> i64 {
        let call_at = at + between(&mut self.rng, 2, 26) * HOUR;
        let hour = (call_at - self.window.midnight_of(call_at)) / HOUR;
        match hour {
            10..=18 => call_at,
            ..=9 => self.window.midnight_of(call_at) + seconds_of_day(&mut self.rng, Slot::Outbound),
            _ => self.window.midnight_of(call_at) + DAY + seconds_of_day(&mut self.rng, Slot::Outbound),
        }
    }

    fn is_blocked(&self, from: i64, to: i64) -> bool {
        self.blocked.iter().any(|&(start, end)| from < end && start < to)
    }

    /// Inbound phone calls from long-standing subscribers go to the loyal-customer line (E6).
    fn inbound_team(&self) -> usize {
        if self.subscription_orders >= 12 { team::LOYAL } else { team::GENERAL }
    }

    #[allow(clippy::too_many_arguments)]
    fn contact(
        &mut self,
        at: i64,
        channel: Channel,
        direction: Direction,
        desk: usize,
        reason: &'static str,
        outcome: Outcome,
        text: String,
        thread_of: Option<usize>,
    ) -> usize {
        let ended = at + handling_seconds(&mut self.rng, channel, outcome);
        let agent = self.agents.pick(&mut self.rng, desk);
        self.contacts.push(PendingContact {
            at,
            ended,
            channel,
            direction,
            agent,
            reason,
            outcome,
            text,
            thread_of,
            crisis: false,
        });
        self.contacts.len() - 1
    }

    /// A kimochi note heard on `contact`, written when the contact ended.
    fn note_on(&mut self, contact: usize, kind: KimochiKind, text: String) {
        let heard = &self.contacts[contact];
        self.notes.push(PendingNote { at: heard.ended, kind, text, by: heard.agent, contact: Some(contact) });
    }

    /// A kimochi note heard on `contact` if there is one, else from a questionnaire at `at`.
    fn note_at(&mut self, contact: Option<usize>, at: i64, kind: KimochiKind, text: String) {
        match contact {
            Some(contact) => self.note_on(contact, kind, text),
            None => self.notes.push(PendingNote { at, kind, text, by: None, contact: None }),
        }
    }

    fn handover_on(&mut self, contact: usize, kind: HandoverKind, text: String) {
        let heard = &self.contacts[contact];
        self.handovers.push(PendingHandover { at: heard.ended + MINUTE, kind, text, by: heard.agent });
    }

    fn order(&mut self, at: i64, channel: Channel, is_subscription: bool, items: &[(usize, i64)]) {
        let lines = items
            .iter()
            .map(|&(position, quantity)| NewOrderLine {
                product_id: self.products[position],
                quantity,
                amount: price(position) * quantity,
            })
            .collect();
        if is_subscription {
            self.subscription_orders += 1;
        }
        self.orders.push(PendingOrder { at, channel, is_subscription, lines });
    }

    /// Writes the customer's records inside the window into `chunk`, in time order, and fills
    /// the truth that is read off the data. Returns the number of orders written.
    fn flush(&mut self, customer: usize, chunk: &mut BulkChunk, truth: &mut CustomerTruth) -> usize {
        let end = self.window.end;
        let ad_medium = truth.ad_medium.label();

        let mut order: Vec<usize> = (0..self.contacts.len()).filter(|&i| self.contacts[i].at < end).collect();
        order.sort_by_key(|&i| self.contacts[i].at);
        let mut position_of = vec![usize::MAX; self.contacts.len()];
        let base = chunk.contacts.len();
        for (rank, &i) in order.iter().enumerate() {
            position_of[i] = base + rank;
        }
        let mut run = 0;
        for &i in &order {
            let pending = &mut self.contacts[i];
            if pending.outcome.is_no_contact() {
                run += 1;
                truth.no_contact_streak |= run >= PLANTED.no_contact_streak_min;
            } else {
                run = 0;
            }
            truth.crisis |= pending.crisis;
            chunk.contacts.push(BulkContact {
                customer,
                channel: pending.channel,
                direction: pending.direction,
                started_at: to_datetime(pending.at),
                ended_at: Some(to_datetime(pending.ended)),
                agent_id: pending.agent,
                reason: Some(pending.reason.to_owned()),
                outcome: Some(pending.outcome),
                text: std::mem::take(&mut pending.text),
                thread_of: pending.thread_of.map(|parent| position_of[parent]).filter(|&p| p != usize::MAX),
                tags: Default::default(),
            });
        }

        self.notes.sort_by_key(|note| note.at);
        for note in &mut self.notes {
            let contact = match note.contact {
                Some(local) if position_of[local] == usize::MAX => continue,
                Some(local) => Some(position_of[local]),
                None => None,
            };
            if note.at >= end {
                continue;
            }
            chunk.kimochi_notes.push(BulkKimochiNote {
                customer,
                kind: note.kind,
                text: std::mem::take(&mut note.text),
                captured_by: note.by,
                captured_at: to_datetime(note.at),
                contact,
            });
        }

        self.handovers.sort_by_key(|note| note.at);
        for note in &mut self.handovers {
            if note.at < end {
                chunk.handover_notes.push(BulkHandoverNote {
                    customer,
                    kind: note.kind,
                    text: std::mem::take(&mut note.text),
                    author_id: note.by,
                    created_at: to_datetime(note.at),
                });
            }
        }

        self.orders.sort_by_key(|order| order.at);
        let mut written = 0;
        for pending in &mut self.orders {
            if pending.at >= end {
                continue;
            }
            written += 1;
            chunk.orders.push(BulkOrder {
                customer,
                ordered_at: to_datetime(pending.at),
                channel: Some(pending.channel),
                ad_medium: Some(ad_medium.to_owned()),
                is_subscription: pending.is_subscription,
                lines: std::mem::take(&mut pending.lines),
            });
        }
        written
    }
}

/// The day (from the window's start) a customer is acquired. The business launched with heavy
/// advertising: acquisition falls linearly to a third of its launch rate by the window's end
/// (density ∝ 1 − 2u/3 for u the elapsed share of the window, sampled by inversion).
fn acquisition_day(rng: &mut DemoRng, days: i64) -> i64 {
    const SLOPE: f64 = 2.0 / 3.0;
    let r: f64 = rng.random();
    // The CDF is (u − SLOPE·u²/2) / (1 − SLOPE/2); solve the quadratic for u.
    let total = 1.0 - SLOPE / 2.0;
    let u = (1.0 - (1.0 - 2.0 * SLOPE * total * r).sqrt()) / SLOPE;
    ((u * days as f64) as i64).clamp(0, days - 1)
}

fn weighted_pairs<T>(rng: &mut DemoRng, table: &[(T, u32)]) -> usize {
    let total: u32 = table.iter().map(|(_, weight)| weight).sum();
    let mut ticket = rng.random_range(0..total);
    for (index, (_, weight)) in table.iter().enumerate() {
        if ticket < *weight {
            return index;
        }
        ticket -= weight;
    }
    table.len() - 1
}

fn to_datetime(at: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(at).map_or(OffsetDateTime::UNIX_EPOCH, |utc| utc.to_offset(JST))
}

fn date_of(at: i64) -> Date {
    to_datetime(at).date()
}
