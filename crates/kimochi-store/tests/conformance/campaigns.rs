//! Conformance cases for outbound care campaigns (migration 0011): the snapshot and its
//! reproducible holdout, the step runner (emails due, call lists for those who did not open),
//! exclusive leases, consent read at every lease, retry spacing, attempts and allowed hours,
//! results facts and tenant isolation.

use kimochi_domain::campaign::*;

use super::*;

/// `n` customers with phone consent (and email consent for every even one), in id order.
async fn customers(store: &Arc<dyn Store>, tenant: TenantId, n: usize) -> Vec<CustomerId> {
    let mut ids = Vec::new();
    for i in 0..n {
        let mut p = profile(&format!("C{i:03}"), &format!("顧客 {i}"), "コキャク", &format!("090-1111-{i:04}"));
        if i % 2 == 0 {
            p.emails = vec![Email::parse(&format!("c{i}@example.jp")).unwrap()];
            p.consent.email = true;
        }
        ids.push(store.customer_create(tenant, &p, now()).await.unwrap().id);
    }
    ids
}

fn campaign(members: Vec<CustomerId>, steps: Vec<CampaignStep>) -> NewCampaign {
    NewCampaign {
        name: "休眠前フォロー".into(),
        purpose: "解約予兆のある定期顧客へのケア".into(),
        members,
        holdout_fraction: 0.1,
        seed: 20_261_202,
        steps,
    }
}

fn call_step(condition: CallCondition) -> CampaignStep {
    CampaignStep::Call { condition, rules: CallRules::default() }
}

/// 11:00 JST on the day of `now()`: inside the default allowed hours.
fn daytime() -> OffsetDateTime {
    at("2026-11-01 11:00")
}

fn attempt(outcome: CallOutcome, when: OffsetDateTime) -> CallAttempt {
    CallAttempt {
        outcome,
        text: "お客様より：最近使えていない".into(),
        tags: Default::default(),
        agent: None,
        at: when,
    }
}

pub(crate) async fn campaign_snapshot_and_holdout_are_reproducible(store: Arc<dyn Store>) {
    let a = tenant(&store, "acme").await;
    let b = tenant(&store, "beta").await;
    let ids = customers(&store, a, 25).await;
    let b_ids = customers(&store, b, 1).await;
    let mut shuffled = ids.clone();
    shuffled.reverse();
    let created =
        store.campaign_create(a, &campaign(shuffled, vec![call_step(CallCondition::Everyone)]), now()).await.unwrap();
    assert_eq!((created.members, created.holdout), (25, 3), "round(25 × 0.1) = 3 (2.5 rounds up)");
    assert_eq!(created.seed, 20_261_202);
    assert_eq!(created.steps, vec![call_step(CallCondition::Everyone)]);
    let members = store.campaign_members(a, created.id, None, 1000).await.unwrap();
    let stored: Vec<(CustomerId, Group)> = members.iter().map(|m| (m.customer_id, m.group)).collect();
    assert_eq!(stored, assign_groups(&ids, 0.1, 20_261_202), "the stored groups are the seed's");
    // The same members and seed again: the same groups.
    let again = store
        .campaign_create(a, &campaign(ids.clone(), vec![call_step(CallCondition::Everyone)]), now())
        .await
        .unwrap();
    let again: Vec<Group> =
        store.campaign_members(a, again.id, None, 1000).await.unwrap().iter().map(|m| m.group).collect();
    assert_eq!(again, stored.iter().map(|(_, g)| *g).collect::<Vec<_>>());
    // Paging.
    let first = store.campaign_members(a, created.id, None, 10).await.unwrap();
    let rest = store.campaign_members(a, created.id, Some(first[9].id), 1000).await.unwrap();
    assert_eq!(first.len() + rest.len(), 25);

    // Zero members, and another tenant's customer, are refused and write nothing.
    let before = store.campaign_list(a).await.unwrap().len();
    let empty = store.campaign_create(a, &campaign(vec![], vec![call_step(CallCondition::Everyone)]), now()).await;
    assert!(matches!(&empty, Err(StoreError::Invalid(e)) if e.field == "members"), "{empty:?}");
    let mut foreign = ids.clone();
    foreign.push(b_ids[0]);
    let refused = store.campaign_create(a, &campaign(foreign, vec![call_step(CallCondition::Everyone)]), now()).await;
    assert!(
        matches!(&refused, Err(StoreError::Invalid(e)) if e.field == "members" && e.value == b_ids[0].0.to_string()),
        "{refused:?}"
    );
    assert_eq!(store.campaign_list(a).await.unwrap().len(), before);

    // Tenant isolation: another tenant's campaign reads as not found everywhere.
    assert!(matches!(store.campaign_get(b, created.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.campaign_members(b, created.id, None, 10).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.campaign_update(b, created.id, "x", "").await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.campaign_delete(b, created.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(
        store.campaign_results_facts(b, created.id, time::Duration::days(90)).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.campaign_list(b).await.unwrap().is_empty());
    store.campaign_run(b, daytime()).await.unwrap();
    assert_eq!(
        store.campaign_call_next(b, "user:1", None, daytime(), time::Duration::minutes(15)).await.unwrap(),
        None
    );
    let member = members.iter().find(|m| m.group == Group::Treatment).unwrap().id;
    assert!(matches!(
        store.campaign_call_record(b, created.id, member, "user:1", &attempt(CallOutcome::Reached, daytime())).await,
        Err(StoreError::NotFound(_))
    ));

    // Update and delete.
    let renamed = store.campaign_update(a, created.id, "  冬のケア  ", "目的").await.unwrap();
    assert_eq!((renamed.name.as_str(), renamed.purpose.as_str()), ("冬のケア", "目的"));
    store.campaign_delete(a, created.id).await.unwrap();
    assert!(matches!(store.campaign_get(a, created.id).await, Err(StoreError::NotFound(_))));
}

pub(crate) async fn campaign_steps_email_then_call_those_who_did_not_open(store: Arc<dyn Store>) {
    let a = tenant(&store, "acme").await;
    let ids = customers(&store, a, 10).await;
    let steps = vec![
        CampaignStep::Email {
            subject: "いつもありがとうございます".into(),
            body: "ご愛用の感想をお聞かせください".into(),
        },
        CampaignStep::Wait { days: 3 },
        call_step(CallCondition::NotOpened),
    ];
    let mut new = campaign(ids.clone(), steps);
    new.holdout_fraction = 0.2;
    let created = store.campaign_create(a, &new, now()).await.unwrap();
    let members = store.campaign_members(a, created.id, None, 100).await.unwrap();
    let treated: Vec<CustomerId> =
        members.iter().filter(|m| m.group == Group::Treatment).map(|m| m.customer_id).collect();
    assert_eq!(treated.len(), 8);
    // Customers with an even index (by creation) consent to email.
    let emailable: Vec<CustomerId> =
        treated.iter().copied().filter(|id| ids.iter().position(|c| c == id).unwrap() % 2 == 0).collect();

    let report = store.campaign_run(a, now()).await.unwrap();
    assert_eq!(report.emails_due, emailable.len() as u64);
    assert_eq!(report.emails_skipped, (treated.len() - emailable.len()) as u64);
    assert_eq!(report.calls_opened, 0);
    // Running again at the same time changes nothing and doubles nothing.
    assert_eq!(store.campaign_run(a, now()).await.unwrap().advanced, 0);
    // The hand-off to the outbox takes and queues in one transaction, each due email once.
    let queued = store.campaign_emails_queue(a, now(), 100).await.unwrap();
    assert_eq!((queued.taken, queued.queued), (emailable.len(), emailable.len()), "{queued:?}");
    assert!(queued.refused.is_empty(), "{queued:?}");
    let query = kimochi_store::EmailQuery { customer_id: None, campaign_id: Some(created.id.0), limit: 100 };
    let emails = store.email_list(a, &query).await.unwrap();
    let mut to: Vec<CustomerId> = emails.iter().map(|e| e.customer_id).collect();
    to.sort();
    assert_eq!(to, emailable, "only treated members who consent to email, once each");
    assert!(emails.iter().all(|e| e.campaign_step == Some(0) && e.subject == "いつもありがとうございます"));
    assert!(emails.iter().all(|e| e.body_html.as_deref().is_some_and(|html| html.contains("ご愛用の感想"))));
    let again = store.campaign_emails_queue(a, now(), 100).await.unwrap();
    assert_eq!((again.taken, again.queued), (0, 0), "taken once");

    // One emailed member opens after the email step started; another opened only before it.
    let opener = emailable[0];
    let early = emailable[1];
    let mut open = contact(opener, "2026-11-02 08:00", Some(Outcome::Opened));
    open.channel = Channel::Email;
    store.contact_create(a, &open).await.unwrap();
    let mut stale = contact(early, "2026-10-20 08:00", Some(Outcome::Clicked));
    stale.channel = Channel::Email;
    store.contact_create(a, &stale).await.unwrap();

    // Two days later: still waiting.
    assert_eq!(store.campaign_run(a, now() + time::Duration::days(2)).await.unwrap().advanced, 0);
    // Three days later: everyone treated but the opener is on the call list.
    let report = store.campaign_run(a, now() + time::Duration::days(3)).await.unwrap();
    assert_eq!(report.calls_opened, treated.len() as u64 - 1);
    let members = store.campaign_members(a, created.id, None, 100).await.unwrap();
    for member in &members {
        match member.group {
            Group::Holdout => assert!(!member.call_open && member.step == 0, "holdout members get no step"),
            Group::Treatment if member.customer_id == opener => assert!(!member.call_open && member.step == 3),
            Group::Treatment => assert!(member.call_open && member.step == 2, "{member:?}"),
        }
    }
    // The call list serves only treated non-openers, never the holdout.
    let day4 = at("2026-11-04 11:00");
    let mut served = Vec::new();
    for i in 0..20 {
        match store.campaign_call_next(a, &format!("user:{i}"), None, day4, time::Duration::minutes(15)).await.unwrap()
        {
            Some(task) => served.push(task.customer_id),
            None => break,
        }
    }
    served.sort();
    let mut expected: Vec<CustomerId> = treated.iter().copied().filter(|c| *c != opener).collect();
    expected.sort();
    assert_eq!(served, expected);
}

pub(crate) async fn campaign_call_leases_are_exclusive_and_honour_consent(store: Arc<dyn Store>) {
    let a = tenant(&store, "acme").await;
    let ids = customers(&store, a, 3).await;
    let mut new = campaign(ids.clone(), vec![call_step(CallCondition::Everyone)]);
    new.holdout_fraction = 0.0;
    let created = store.campaign_create(a, &new, now()).await.unwrap();
    store.campaign_run(a, now()).await.unwrap();
    let lease = time::Duration::minutes(15);
    let t = daytime();

    let first = store.campaign_call_next(a, "user:1", None, t, lease).await.unwrap().unwrap();
    let second = store.campaign_call_next(a, "user:2", None, t, lease).await.unwrap().unwrap();
    assert_ne!(first.customer_id, second.customer_id, "two operators never get the same customer");
    assert_eq!(first.campaign_id, created.id);
    assert_eq!((first.attempts, first.max_attempts), (0, 3));
    // A reload gives the same customer back.
    let reload =
        store.campaign_call_next(a, "user:1", None, t + time::Duration::minutes(1), lease).await.unwrap().unwrap();
    assert_eq!(reload.member_id, first.member_id);
    // Many operators at once: each customer once at most.
    let mut handles = Vec::new();
    for i in 10..16 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            store
                .campaign_call_next(a, &format!("user:{i}"), None, t, lease)
                .await
                .unwrap()
                .map(|task| task.customer_id)
        }));
    }
    let mut got: Vec<CustomerId> = Vec::new();
    for handle in handles {
        got.extend(handle.await.unwrap());
    }
    assert_eq!(got.len(), 1, "one customer was left for six operators: {got:?}");
    assert!(got[0] != first.customer_id && got[0] != second.customer_id);

    // Recording needs the lease.
    assert!(matches!(
        store.campaign_call_record(a, created.id, first.member_id, "user:2", &attempt(CallOutcome::Reached, t)).await,
        Err(StoreError::Conflict(_))
    ));
    // A lease runs out: the customer can be served to someone else.
    let later = t + time::Duration::minutes(16);
    let taken = store.campaign_call_next(a, "user:3", None, later, lease).await.unwrap().unwrap();
    assert!([first.customer_id, second.customer_id, got[0]].contains(&taken.customer_id));

    // Do-not-call set after the snapshot: never served again, even to the operator holding them.
    store.campaign_call_release(a, "user:3").await.unwrap();
    let dnc = first.customer_id;
    let mut p = store.customer_get(a, dnc).await.unwrap().profile;
    p.do_not_call = true;
    store.customer_update(a, dnc, &p, now()).await.unwrap();
    // Consent withdrawn for another.
    let withdrawn = second.customer_id;
    let mut p = store.customer_get(a, withdrawn).await.unwrap().profile;
    p.consent.phone = false;
    store.customer_update(a, withdrawn, &p, now()).await.unwrap();
    let much_later = t + time::Duration::hours(1);
    let mut served = Vec::new();
    for i in 20..25 {
        if let Some(task) = store.campaign_call_next(a, &format!("user:{i}"), None, much_later, lease).await.unwrap() {
            served.push(task.customer_id);
        }
    }
    assert_eq!(served, vec![got[0]], "only the customer who still consents");
    // A filter on another campaign id serves nobody.
    assert_eq!(
        store.campaign_call_next(a, "user:99", Some(CampaignId(created.id.0 + 1000)), much_later, lease).await.unwrap(),
        None
    );
}

pub(crate) async fn campaign_call_retries_spacing_attempts_and_hours(store: Arc<dyn Store>) {
    let a = tenant(&store, "acme").await;
    let agent = store
        .user_create(
            a,
            &NewUser {
                login: "op01".into(),
                display_name: "オペ".into(),
                role: Role::Agent,
                team_id: None,
                password_hash: "x".into(),
            },
            now(),
        )
        .await
        .unwrap();
    let ids = customers(&store, a, 1).await;
    let mut new = campaign(ids.clone(), vec![call_step(CallCondition::Everyone)]);
    new.holdout_fraction = 0.0;
    let created = store.campaign_create(a, &new, now()).await.unwrap();
    store.campaign_run(a, now()).await.unwrap();
    let lease = time::Duration::minutes(15);
    let holder = lease_holder(&Actor::User(agent.id));

    // 09:00 JST is before the allowed hours; 20:00 is after them.
    assert_eq!(store.campaign_call_next(a, &holder, None, now(), lease).await.unwrap(), None);
    assert_eq!(store.campaign_call_next(a, &holder, None, at("2026-11-01 20:00"), lease).await.unwrap(), None);
    let t1 = daytime();
    let task = store.campaign_call_next(a, &holder, None, t1, lease).await.unwrap().unwrap();
    let mut first = attempt(CallOutcome::NoAnswer, t1);
    first.agent = Some(agent.id);
    // The task must belong to the campaign named.
    assert!(matches!(
        store.campaign_call_record(a, CampaignId(created.id.0 + 1000), task.member_id, &holder, &first).await,
        Err(StoreError::NotFound(_))
    ));
    let recorded = store.campaign_call_record(a, task.campaign_id, task.member_id, &holder, &first).await.unwrap();
    assert_eq!((recorded.attempts, recorded.step_done), (1, false));
    // The attempt is a contact: phone, outbound, no_contact, by the operator.
    let contact = store.contact_get(a, recorded.contact.id).await.unwrap();
    assert_eq!(
        (contact.channel, contact.direction, contact.outcome),
        (Channel::Phone, Direction::Outbound, Some(Outcome::NoContact))
    );
    assert_eq!(contact.agent_id, Some(agent.id));
    assert_eq!(store.customer_stats(a, ids[0]).await.unwrap().consecutive_no_contact, 1);
    // The lease ended with the attempt; the same lease cannot record twice.
    assert!(matches!(
        store
            .campaign_call_record(a, task.campaign_id, task.member_id, &holder, &attempt(CallOutcome::NoAnswer, t1))
            .await,
        Err(StoreError::Conflict(_))
    ));
    // Spacing: not again within four hours.
    assert_eq!(store.campaign_call_next(a, &holder, None, t1 + time::Duration::hours(3), lease).await.unwrap(), None);
    let t2 = t1 + time::Duration::hours(4);
    let task = store.campaign_call_next(a, &holder, None, t2, lease).await.unwrap().unwrap();
    assert_eq!(task.attempts, 1);
    store
        .campaign_call_record(a, task.campaign_id, task.member_id, &holder, &attempt(CallOutcome::Busy, t2))
        .await
        .unwrap();
    let t3 = at("2026-11-02 10:30");
    let task = store.campaign_call_next(a, &holder, None, t3, lease).await.unwrap().unwrap();
    let last = store
        .campaign_call_record(a, task.campaign_id, task.member_id, &holder, &attempt(CallOutcome::NoAnswer, t3))
        .await
        .unwrap();
    assert_eq!((last.attempts, last.step_done), (3, true), "the third attempt is the last");
    assert_eq!(store.campaign_call_next(a, &holder, None, at("2026-11-03 12:00"), lease).await.unwrap(), None);
    let member = &store.campaign_members(a, created.id, None, 10).await.unwrap()[0];
    assert_eq!(
        (member.attempts, member.call_open, member.step, member.last_outcome),
        (3, false, 1, Some(CallOutcome::NoAnswer))
    );

    // A final outcome ends the step at once.
    let more = vec![
        store.customer_create(a, &profile("D000", "顧客 D", "コキャク", "090-2222-0000"), now()).await.unwrap().id,
    ];
    let mut second = campaign(more.clone(), vec![call_step(CallCondition::Everyone)]);
    second.holdout_fraction = 0.0;
    store.campaign_create(a, &second, now()).await.unwrap();
    store.campaign_run(a, now()).await.unwrap();
    let task = store.campaign_call_next(a, &holder, None, t3, lease).await.unwrap().unwrap();
    assert_eq!(task.customer_id, more[0]);
    let done = store
        .campaign_call_record(a, task.campaign_id, task.member_id, &holder, &attempt(CallOutcome::Ordered, t3))
        .await
        .unwrap();
    assert_eq!((done.attempts, done.step_done), (1, true));
    assert_eq!(done.contact.outcome, Some(Outcome::Ordered));
}

pub(crate) async fn campaign_results_facts_per_member(store: Arc<dyn Store>) {
    let a = tenant(&store, "acme").await;
    let ids = customers(&store, a, 10).await;
    let item = product(&store, a, "P1", ProductKind::Subscription, 3980).await;
    let order = |customer: CustomerId, when: &str, subscription: bool| NewOrder {
        external_id: None,
        customer_id: customer,
        ordered_at: at(when),
        channel: None,
        ad_medium: None,
        is_subscription: subscription,
        lines: vec![NewOrderLine { product_id: item.id, quantity: 1, amount: 3980 }],
    };
    // Everyone subscribed before the campaign.
    for id in &ids {
        store.order_create(a, &order(*id, "2026-10-01 10:00", true)).await.unwrap();
    }
    let mut new = campaign(ids.clone(), vec![call_step(CallCondition::Everyone)]);
    new.holdout_fraction = 0.3;
    let created = store.campaign_create(a, &new, now()).await.unwrap();
    let members = store.campaign_members(a, created.id, None, 100).await.unwrap();
    let treated: Vec<CustomerId> =
        members.iter().filter(|m| m.group == Group::Treatment).map(|m| m.customer_id).collect();
    let held: Vec<CustomerId> = members.iter().filter(|m| m.group == Group::Holdout).map(|m| m.customer_id).collect();
    assert_eq!((treated.len(), held.len()), (7, 3));
    // Treated customer 0 reached and ordered twice in the window; treated 1 orders after the
    // window; holdout 0 orders a subscription in the window.
    store.contact_create(a, &contact(treated[0], "2026-11-02 11:00", Some(Outcome::Resolved))).await.unwrap();
    store.order_create(a, &order(treated[0], "2026-11-03 10:00", false)).await.unwrap();
    store.order_create(a, &order(treated[0], "2026-11-04 10:00", true)).await.unwrap();
    store.order_create(a, &order(treated[1], "2027-03-01 10:00", false)).await.unwrap();
    store.order_create(a, &order(held[0], "2026-11-10 10:00", true)).await.unwrap();
    let no_answer = contact(treated[2], "2026-11-02 12:00", Some(Outcome::NoContact));
    store.contact_create(a, &no_answer).await.unwrap();

    let (campaign, facts) = store.campaign_results_facts(a, created.id, time::Duration::days(90)).await.unwrap();
    assert_eq!(campaign.id, created.id);
    assert_eq!(facts.len(), 10);
    let by_customer: std::collections::HashMap<CustomerId, CampaignMemberFacts> =
        members.iter().map(|m| m.customer_id).zip(facts.iter().copied()).collect();
    let t0 = by_customer[&treated[0]];
    assert_eq!(
        (t0.group, t0.contacted, t0.responded, t0.converted, t0.subscriber, t0.retained, t0.revenue),
        (Group::Treatment, true, true, true, true, true, 7960)
    );
    let t1 = by_customer[&treated[1]];
    assert_eq!((t1.converted, t1.revenue, t1.retained), (false, 0, false), "after the window");
    let t2 = by_customer[&treated[2]];
    assert_eq!((t2.contacted, t2.responded), (false, false), "an unanswered call reached nobody");
    let h0 = by_customer[&held[0]];
    assert_eq!((h0.group, h0.converted, h0.retained, h0.revenue), (Group::Holdout, true, true, 3980));
    assert!(facts.iter().all(|f| f.subscriber));
}

/// Due campaign emails reach the email outbox in the transaction that takes them: each once, with
/// its campaign and step and an HTML part (for the open pixel); a customer who withdrew email
/// consent after the step came due is taken and not queued; another tenant sees none of it.
pub(crate) async fn campaign_emails_go_to_the_outbox_once(store: Arc<dyn Store>) {
    let a = tenant(&store, "acme").await;
    let b = tenant(&store, "beta").await;
    let ids = customers(&store, a, 8).await;
    let steps = vec![CampaignStep::Email {
        subject: "ご案内".into(),
        body: "詳しくは https://shop.example.jp/a".into(),
    }];
    let mut new = campaign(ids.clone(), steps);
    new.holdout_fraction = 0.0;
    let created = store.campaign_create(a, &new, now()).await.unwrap();
    let report = store.campaign_run(a, now()).await.unwrap();
    assert_eq!(report.emails_due, 4, "the four who consent");
    // One of them withdraws consent before the hand-off.
    let withdrawn = ids[2];
    let mut customer = store.customer_get(a, withdrawn).await.unwrap();
    customer.profile.consent.email = false;
    store.customer_update(a, withdrawn, &customer.profile, now()).await.unwrap();

    assert_eq!(store.campaign_emails_queue(b, now(), 100).await.unwrap().taken, 0, "not the other tenant's");
    let batch = store.campaign_emails_queue(a, now(), 100).await.unwrap();
    assert_eq!((batch.taken, batch.queued, batch.refused.clone()), (4, 3, vec![withdrawn]));
    let again = store.campaign_emails_queue(a, now(), 100).await.unwrap();
    assert_eq!((again.taken, again.queued), (0, 0), "each due email once");
    let query = EmailQuery { customer_id: None, campaign_id: Some(created.id.0), limit: 100 };
    let queued = store.email_list(a, &query).await.unwrap();
    assert_eq!(queued.len(), 3);
    assert!(queued.iter().all(|m| m.campaign_step == Some(0) && m.customer_id != withdrawn));
    assert!(
        queued
            .iter()
            .all(|m| m.body_html.as_deref().is_some_and(|html| html.contains("<a href=\"https://shop.example.jp/a\"")))
    );
    assert!(store.email_list(b, &query).await.unwrap().is_empty());
}
