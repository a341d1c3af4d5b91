//! The demo generator as its callers see it: determinism under any chunking, valid records,
//! the promised volumes, and every planted effect recovered from the generated data.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::OnceLock;

use kimochi_demo::{
    AdMedium, CRISIS_WORDS, CustomerTruth, DemoConfig, DemoIds, LostOrderReason, PLANTED, Segment, demo_faq,
    demo_hearing_set, demo_products, demo_teams, demo_users, generate_chunk,
};
use kimochi_domain::datetime::JST;
use kimochi_domain::hearing::{AnswerValue, HearingQuestionId, HearingSetId};
use kimochi_domain::import::BulkChunk;
use kimochi_domain::normalize::is_kana;
use kimochi_domain::prefecture::PREFECTURES;
use kimochi_domain::{
    Channel, ContactId, CustomerId, Direction, KimochiKind, NewContact, NewOrder, Outcome, ProductId, Role, UserId,
};
use time::macros::date;

const AS_OF: time::Date = date!(2025 - 04 - 01);

fn config(customers: u64, seed: u64) -> DemoConfig {
    DemoConfig::new(customers, seed, AS_OF)
}

fn ids() -> DemoIds {
    let operators = demo_users().iter().filter(|user| user.role == Role::Agent).count() as i64;
    DemoIds {
        products: (1..=demo_products().len() as i64).map(ProductId).collect(),
        agents: (101..101 + operators).map(UserId).collect(),
        hearing_set: Some(HearingSetId(1)),
        hearing_questions: (1..=demo_hearing_set().questions.len() as i64).map(HearingQuestionId).collect(),
    }
}

/// 20,000 customers, generated once for all the statistical tests.
fn sample() -> &'static (BulkChunk, Vec<CustomerTruth>) {
    static SAMPLE: OnceLock<(BulkChunk, Vec<CustomerTruth>)> = OnceLock::new();
    SAMPLE.get_or_init(|| generate_chunk(&config(20_000, 42), &ids(), 0, 20_000))
}

/// Appends `part` to `whole`, shifting its positions as a loader concatenating chunks would.
fn append(whole: &mut BulkChunk, part: BulkChunk) {
    let customers = whole.customers.len();
    let contacts = whole.contacts.len();
    whole.customers.extend(part.customers);
    whole.orders.extend(part.orders.into_iter().map(|mut order| {
        order.customer += customers;
        order
    }));
    whole.contacts.extend(part.contacts.into_iter().map(|mut contact| {
        contact.customer += customers;
        contact.thread_of = contact.thread_of.map(|parent| parent + contacts);
        contact
    }));
    whole.kimochi_notes.extend(part.kimochi_notes.into_iter().map(|mut note| {
        note.customer += customers;
        note.contact = note.contact.map(|contact| contact + contacts);
        note
    }));
    whole.handover_notes.extend(part.handover_notes.into_iter().map(|mut note| {
        note.customer += customers;
        note
    }));
    whole.hearing_answers.extend(part.hearing_answers.into_iter().map(|mut answer| {
        answer.contact += contacts;
        answer
    }));
    whole.behavior_events.extend(part.behavior_events.into_iter().map(|mut event| {
        event.customer += customers;
        event
    }));
}

#[test]
fn chunking_does_not_change_the_data() {
    let config = config(2_000, 7);
    let ids = ids();
    let (whole, whole_truth) = generate_chunk(&config, &ids, 0, 2_000);
    let mut pieces = BulkChunk::default();
    let mut pieces_truth = Vec::new();
    for (first, count) in [(0, 1), (1, 699), (700, 800), (1_500, 500)] {
        let (part, truth) = generate_chunk(&config, &ids, first, count);
        append(&mut pieces, part);
        pieces_truth.extend(truth);
    }
    assert_eq!(format!("{whole:?}"), format!("{pieces:?}"));
    assert_eq!(whole_truth, pieces_truth);

    // Chunks made on other threads are the same too.
    let handles: Vec<_> = [(0_u64, 1_000_u64), (1_000, 1_000)]
        .into_iter()
        .map(|(first, count)| {
            let config = config.clone();
            let ids = ids.clone();
            std::thread::spawn(move || generate_chunk(&config, &ids, first, count))
        })
        .collect();
    let mut threaded = BulkChunk::default();
    for handle in handles {
        append(&mut threaded, handle.join().unwrap().0);
    }
    assert_eq!(format!("{whole:?}"), format!("{threaded:?}"));
}

#[test]
fn the_seed_decides_the_data() {
    let ids = ids();
    let (first, _) = generate_chunk(&config(300, 1), &ids, 0, 300);
    let (again, _) = generate_chunk(&config(300, 1), &ids, 0, 300);
    let (other, _) = generate_chunk(&config(300, 2), &ids, 0, 300);
    assert_eq!(format!("{first:?}"), format!("{again:?}"));
    assert_ne!(format!("{first:?}"), format!("{other:?}"));
    let same_names = first.customers.iter().zip(&other.customers).filter(|(a, b)| a.name == b.name).count();
    assert!(same_names < 30, "{same_names} of 300 names unchanged by a new seed");
}

#[test]
fn volumes_match_the_targets() {
    let (chunk, truths) = sample();
    let customers = chunk.customers.len() as f64;
    let orders = chunk.orders.len() as f64 / customers;
    let contacts = chunk.contacts.len() as f64 / customers;
    let notes = chunk.kimochi_notes.len() as f64 / customers;
    eprintln!(
        "per customer: {orders:.2} orders, {contacts:.2} contacts, {notes:.2} kimochi notes, {:.3} handover notes",
        chunk.handover_notes.len() as f64 / customers
    );
    let mut segments = BTreeMap::new();
    for truth in truths {
        *segments.entry(truth.segment).or_insert(0) += 1;
    }
    eprintln!("segments: {segments:?}");
    assert!((8.0..=12.0).contains(&orders), "{orders} orders per customer");
    assert!((4.0..=6.0).contains(&contacts), "{contacts} contacts per customer");
    assert!((1.5..=4.0).contains(&notes), "{notes} kimochi notes per customer");
    assert!(segments.len() == 4, "{segments:?}");
}

#[test]
fn records_are_valid_and_varied() {
    let (chunk, truths) = sample();
    assert_eq!(chunk.customers.len(), truths.len());
    let start =
        (AS_OF - time::Duration::days(i64::from(DemoConfig::DEFAULT_HISTORY_DAYS))).midnight().assume_offset(JST);
    let end = AS_OF.midnight().assume_offset(JST);

    let mut phones = HashSet::new();
    let mut emails = HashSet::new();
    let mut external_ids = HashSet::new();
    let mut female = 0;
    for profile in &chunk.customers {
        profile.validate().unwrap();
        assert!(is_kana(profile.kana.as_deref().unwrap()), "{:?}", profile.kana);
        assert!(PREFECTURES.contains(&profile.prefecture.as_deref().unwrap()));
        assert!(AdMedium::from_label(profile.ad_medium.as_deref().unwrap()).is_some());
        assert!(!profile.phones.is_empty());
        for phone in &profile.phones {
            assert!(phones.insert(phone.digits().to_owned()), "phone {phone} twice");
        }
        for email in &profile.emails {
            assert!(emails.insert(email.as_str().to_owned()), "email {email} twice");
        }
        assert!(external_ids.insert(profile.external_id.clone().unwrap()));
        let age = AS_OF.year() - profile.birth_date.unwrap().year();
        assert!((20..=80).contains(&age), "age {age}");
        female += usize::from(profile.gender == kimochi_domain::Gender::Female);
    }
    let female_share = female as f64 / chunk.customers.len() as f64;
    assert!((0.70..=0.80).contains(&female_share), "{female_share}");
    let email_share = emails.len() as f64 / chunk.customers.len() as f64;
    assert!((0.6..=0.8).contains(&email_share), "{email_share}");

    let prices: Vec<i64> = demo_products().iter().map(|product| product.price).collect();
    for order in &chunk.orders {
        let new_order = NewOrder {
            external_id: None,
            customer_id: CustomerId(order.customer as i64),
            ordered_at: order.ordered_at,
            channel: order.channel,
            ad_medium: order.ad_medium.clone(),
            is_subscription: order.is_subscription,
            lines: order.lines.clone(),
        };
        new_order.validate().unwrap();
        assert!(order.customer < chunk.customers.len());
        assert!(start <= order.ordered_at && order.ordered_at < end, "{}", order.ordered_at);
        for line in &order.lines {
            assert_eq!(line.amount, prices[(line.product_id.0 - 1) as usize] * line.quantity);
        }
    }

    let mut channels = BTreeSet::new();
    let mut outcomes = BTreeSet::new();
    let mut texts = HashSet::new();
    let mut threads = 0;
    for (position, contact) in chunk.contacts.iter().enumerate() {
        let new_contact = NewContact {
            external_id: None,
            customer_id: CustomerId(contact.customer as i64),
            channel: contact.channel,
            direction: contact.direction,
            started_at: contact.started_at,
            ended_at: contact.ended_at,
            agent_id: contact.agent_id,
            reason: contact.reason.clone(),
            outcome: contact.outcome,
            text: contact.text.clone(),
            thread_of: contact.thread_of.map(|parent| ContactId(parent as i64)),
            tags: Default::default(),
        };
        new_contact.validate().unwrap();
        assert!(start <= contact.started_at && contact.started_at < end);
        assert!(!contact.text.is_empty());
        if let Some(parent) = contact.thread_of {
            assert!(parent < position, "thread_of must point backwards");
            assert_eq!(chunk.contacts[parent].customer, contact.customer);
            assert!(chunk.contacts[parent].started_at < contact.started_at);
            threads += 1;
        }
        if contact.channel == Channel::Phone && contact.outcome.is_some_and(|outcome| !outcome.is_no_contact()) {
            let seconds = (contact.ended_at.unwrap() - contact.started_at).whole_seconds();
            assert!(seconds <= 30 * 60, "{seconds} s");
        }
        channels.insert(contact.channel);
        outcomes.insert(contact.outcome.unwrap());
        texts.insert(contact.text.as_str());
    }
    assert_eq!(channels.len(), Channel::ALL.len(), "{channels:?}");
    // Every outcome of a conversation; email tracking events come from campaigns, not the demo.
    let conversation = Outcome::ALL.iter().filter(|o| !o.is_email_event()).count();
    assert_eq!(outcomes.len(), conversation, "{outcomes:?}");
    assert!(texts.len() > 2_000, "only {} distinct contact texts", texts.len());
    assert!(threads > 200, "{threads} threaded contacts");
    let inbound = chunk.contacts.iter().filter(|contact| contact.direction == Direction::Inbound).count();
    assert!(inbound * 4 > chunk.contacts.len(), "{inbound} inbound");

    let mut kinds = BTreeSet::new();
    for note in &chunk.kimochi_notes {
        kinds.insert(note.kind);
        assert!(start <= note.captured_at && note.captured_at < end);
        if let Some(contact) = note.contact {
            assert_eq!(chunk.contacts[contact].customer, note.customer);
            assert!(chunk.contacts[contact].started_at <= note.captured_at);
        }
    }
    assert_eq!(kinds.len(), KimochiKind::ALL.len(), "{kinds:?}");
    assert!(chunk.handover_notes.iter().any(|note| note.text.contains("17時以降")));
}

#[test]
fn fixed_records_are_complete() {
    let products = demo_products();
    assert_eq!(products.len(), 8);
    let users = demo_users();
    assert_eq!(users.iter().filter(|user| user.role == Role::Agent).count(), 24);
    assert_eq!(users.iter().filter(|user| user.role == Role::Supervisor).count(), 3);
    assert_eq!(users.iter().filter(|user| user.role == Role::Analyst).count(), 2);
    assert_eq!(users.iter().filter(|user| user.role == Role::Admin).count(), 1);
    let logins: HashSet<_> = users.iter().map(|user| user.login).collect();
    assert_eq!(logins.len(), users.len());
    assert!(users.iter().all(|user| user.team.is_none_or(|team| team < demo_teams().len())));
    let faq = demo_faq();
    assert!(faq.len() >= 20);
    assert!(faq.iter().any(|article| article.title.contains("解約")));
    assert!(faq.iter().all(|article| !article.body.is_empty() && !article.tags.is_empty()));
}

/// Per-customer facts read off the generated data alone.
struct Observed {
    subscription_orders: usize,
    gap_note: bool,
    advocacy: bool,
    streak: bool,
    crisis: bool,
    lost_orders: Vec<usize>,
}

fn observe(chunk: &BulkChunk) -> Vec<Observed> {
    let mut observed: Vec<Observed> = (0..chunk.customers.len())
        .map(|_| Observed {
            subscription_orders: 0,
            gap_note: false,
            advocacy: false,
            streak: false,
            crisis: false,
            lost_orders: Vec::new(),
        })
        .collect();
    for order in &chunk.orders {
        observed[order.customer].subscription_orders += usize::from(order.is_subscription);
    }
    for note in &chunk.kimochi_notes {
        observed[note.customer].gap_note |= note.kind == KimochiKind::Gap;
    }
    let mut run = vec![0; chunk.customers.len()];
    for (position, contact) in chunk.contacts.iter().enumerate() {
        let seen = &mut observed[contact.customer];
        seen.advocacy |= contact.text.contains("勧め");
        seen.crisis |= CRISIS_WORDS.iter().any(|word| contact.text.contains(word));
        if contact.outcome == Some(Outcome::LostOrder) {
            seen.lost_orders.push(position);
        }
        if contact.outcome.is_some_and(Outcome::is_no_contact) {
            run[contact.customer] += 1;
            seen.streak |= run[contact.customer] >= PLANTED.no_contact_streak_min;
        } else {
            run[contact.customer] = 0;
        }
    }
    observed
}

#[test]
fn planted_traits_are_visible_in_the_data() {
    let (chunk, truths) = sample();
    let observed = observe(chunk);
    for (truth, seen) in truths.iter().zip(&observed) {
        assert_eq!(seen.streak, truth.no_contact_streak, "customer {}", truth.index);
        assert_eq!(seen.crisis, truth.crisis, "customer {}", truth.index);
        assert!(!seen.gap_note || truth.expectation_unmet, "customer {}", truth.index);
        assert!(!seen.advocacy || truth.advocate, "customer {}", truth.index);
        assert_eq!(seen.lost_orders.len(), usize::from(truth.lost_order_reason.is_some()), "customer {}", truth.index);
        // Every subscriber who lived to a churn decision had their traits heard before it.
        if truth.segment == Segment::Subscriber
            && seen.subscription_orders + usize::from(truth.churned_on.is_some()) > 1
        {
            assert_eq!(seen.gap_note, truth.expectation_unmet, "customer {}", truth.index);
            assert_eq!(seen.advocacy, truth.advocate, "customer {}", truth.index);
        }
    }
    let crisis = truths.iter().filter(|truth| truth.crisis).count();
    assert!(crisis > 100, "{crisis} crisis customers");
}

/// Effects 1, 3, 4 and 5: churn hazards. Each subscriber faces one churn decision per delivery
/// after the first; the hazard of each follows from traits visible in the data. For each trait,
/// the factor is estimated as observed churns over the churns expected without that factor.
#[test]
fn churn_follows_the_planted_hazards() {
    let (chunk, truths) = sample();
    let observed = observe(chunk);
    #[derive(Default)]
    struct Tally {
        churns: f64,
        decisions: f64,
        expected_without_factor: f64,
    }
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut all = Tally::default();
    for ((truth, seen), profile) in truths.iter().zip(&observed).zip(&chunk.customers) {
        if truth.segment != Segment::Subscriber {
            continue;
        }
        let churned = truth.churned_on.is_some();
        let decisions = (seen.subscription_orders - 1 + usize::from(churned)) as f64;
        if decisions == 0.0 {
            continue;
        }
        let medium = AdMedium::from_label(profile.ad_medium.as_deref().unwrap()).unwrap();
        let hazard = PLANTED.monthly_churn(medium, seen.gap_note, seen.advocacy, seen.streak);
        assert_eq!(Some(hazard), truth.monthly_churn_hazard, "customer {}", truth.index);
        let churns = f64::from(u8::from(churned));
        all.churns += churns;
        all.expected_without_factor += decisions * hazard;
        all.decisions += decisions;
        let mut add = |name: &'static str, factor: f64| {
            let tally = tallies.entry(name).or_default();
            tally.churns += churns;
            tally.decisions += decisions;
            tally.expected_without_factor += decisions * hazard / factor;
        };
        if seen.gap_note {
            add("expectation unmet", PLANTED.expectation_unmet_churn);
        } else {
            add("expectation met", 1.0);
        }
        if seen.advocacy {
            add("advocate", PLANTED.advocate_churn);
        }
        if seen.streak {
            add("no-contact streak", PLANTED.no_contact_streak_churn);
        }
        match medium {
            AdMedium::TvShopping => add("TV通販", PLANTED.medium_churn_factor(medium)),
            AdMedium::Referral => add("紹介", PLANTED.medium_churn_factor(medium)),
            _ => {}
        }
    }
    let overall = all.churns / all.expected_without_factor;
    eprintln!("overall observed/expected churn {overall:.3} over {} decisions", all.decisions);
    assert!((0.9..=1.1).contains(&overall), "{overall}");
    let planted = [
        ("expectation unmet", PLANTED.expectation_unmet_churn),
        ("expectation met", 1.0),
        ("advocate", PLANTED.advocate_churn),
        ("no-contact streak", PLANTED.no_contact_streak_churn),
        ("TV通販", PLANTED.medium_churn_factor(AdMedium::TvShopping)),
        ("紹介", PLANTED.medium_churn_factor(AdMedium::Referral)),
    ];
    for (name, factor) in planted {
        let tally = &tallies[name];
        let estimate = tally.churns / tally.expected_without_factor;
        eprintln!(
            "{name}: factor {estimate:.2} (planted {factor}), raw monthly hazard {:.3}, {} churns",
            tally.churns / tally.decisions,
            tally.churns
        );
        assert!((estimate / factor - 1.0).abs() < 0.25, "{name}: estimated {estimate}, planted {factor}");
    }
    // The raw rates, which is what an analyst sees first, point the same way.
    let raw = |name: &str| tallies[name].churns / tallies[name].decisions;
    assert!(raw("expectation unmet") > 2.0 * raw("expectation met"));
    assert!(raw("TV通販") > 2.0 * raw("紹介"));
    assert!(raw("advocate") < 0.7 * all.churns / all.decisions);
    assert!(raw("no-contact streak") > 1.4 * all.churns / all.decisions);
}

/// Effect 2: lost-order reasons, each recognisable in the text, in the planted shares.
#[test]
fn lost_orders_carry_their_reason_in_the_planted_shares() {
    let (chunk, truths) = sample();
    let observed = observe(chunk);
    let mut counts = [0_usize; 6];
    for (truth, seen) in truths.iter().zip(&observed) {
        for &position in &seen.lost_orders {
            let contact = &chunk.contacts[position];
            assert_eq!(contact.direction, Direction::Outbound);
            let reason = truth.lost_order_reason.unwrap();
            for other in LostOrderReason::ALL {
                let found = other.markers().iter().any(|marker| contact.text.contains(marker));
                assert_eq!(found, other == reason, "{:?} in {:?} ({reason:?})", other, contact.text);
            }
            counts[reason.index()] += 1;
        }
    }
    let total: usize = counts.iter().sum();
    assert!(total > 500, "{total} lost orders");
    for reason in LostOrderReason::ALL {
        let share = counts[reason.index()] as f64 / total as f64;
        let planted = PLANTED.lost_order_share(reason);
        eprintln!("{}: {share:.3} (planted {planted})", reason.label_ja());
        assert!((share - planted).abs() < 0.03, "{reason:?}: {share} vs {planted}");
    }
}

/// Operators recorded hearing checklists on inbound calls of the last year, each asking at their
/// own rate (the asked-rate report shows a spread), and the answers follow the hidden traits.
#[test]
fn hearing_answers_show_an_asked_rate_spread_and_follow_the_traits() {
    let (chunk, truths) = sample();
    assert!(chunk.hearing_answers.len() > 10_000, "{} answer lines", chunk.hearing_answers.len());
    let year_ago = AS_OF.midnight().assume_offset(JST) - time::Duration::days(365);
    let mut per_operator: BTreeMap<UserId, (u32, u32)> = BTreeMap::new();
    let mut appetite: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for answer in &chunk.hearing_answers {
        let contact = &chunk.contacts[answer.contact];
        assert_eq!((contact.channel, contact.direction), (Channel::Phone, Direction::Inbound));
        assert!(contact.started_at >= year_ago, "answers only in the last year");
        assert!(answer.asked || answer.value.is_none(), "an answer means it was asked");
        let entry = per_operator.entry(contact.agent_id.expect("an operator")).or_default();
        entry.0 += 1;
        entry.1 += u32::from(answer.asked);
        let profile = &chunk.customers[contact.customer];
        let truth = &truths[contact.customer];
        match (answer.question_id.0, &answer.value) {
            // いちばん気になる肌悩み is the customer's own concern.
            (1, Some(AnswerValue::Choice(concern))) => assert_eq!(Some(concern), profile.attributes.get("肌悩み")),
            (3, Some(AnswerValue::Number(budget))) => assert!(*budget >= 500.0 && *budget <= 10_000.0),
            (4, Some(AnswerValue::Choice(level))) => {
                let group = if truth.advocate {
                    "advocate"
                } else if truth.expectation_unmet {
                    "unmet"
                } else {
                    "other"
                };
                let entry = appetite.entry(group).or_default();
                entry.0 += 1;
                entry.1 += u32::from(level == "高い");
            }
            (5, Some(AnswerValue::Date(day))) => {
                assert!(*day > contact.started_at.date(), "an event ahead of the call")
            }
            _ => {}
        }
    }
    let rates: Vec<f64> =
        per_operator.values().filter(|(shown, _)| *shown >= 300).map(|(s, a)| f64::from(*a) / f64::from(*s)).collect();
    assert!(rates.len() >= 4, "{per_operator:?}");
    let (low, high) = rates.iter().fold((1.0f64, 0.0f64), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
    assert!(high - low >= 0.25, "asked rates from {low:.2} to {high:.2}");
    let share = |group: &str| appetite.get(group).map_or(0.0, |(n, high)| f64::from(*high) / f64::from(*n));
    assert!(share("advocate") > share("other") && share("other") > share("unmet"), "{appetite:?}");
    assert!(chunk.behavior_events.len() > 1_000, "{} behaviour events", chunk.behavior_events.len());
}
