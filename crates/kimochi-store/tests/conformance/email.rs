//! Conformance cases for the email outbox (issue 6, migration 0012): consent-checked enqueue,
//! leased claims, sent/retry/bounce with their contacts, and tracking by token.

use kimochi_domain::mail::*;

use super::*;

async fn mail_customer(
    store: &Arc<dyn Store>,
    tenant: TenantId,
    external_id: &str,
    email: Option<&str>,
    consent: bool,
) -> CustomerId {
    let mut profile = profile(external_id, "山田 花子", "ヤマダ ハナコ", "090-1234-5678");
    profile.emails = email.map(|e| vec![Email::parse(e).unwrap()]).unwrap_or_default();
    profile.consent.email = consent;
    store.customer_create(tenant, &profile, now()).await.unwrap().id
}

fn new_email(customer: CustomerId, subject: &str) -> NewEmail {
    NewEmail {
        customer_id: customer,
        campaign_id: Some(7),
        campaign_step: Some(1),
        subject: subject.into(),
        body_text: "いつもありがとうございます。https://shop.example.jp/a をご覧ください。".into(),
        body_html: Some("<p><a href=\"https://shop.example.jp/b?x=1&amp;y=2\">b</a></p>".into()),
    }
}

async fn outcomes(store: &Arc<dyn Store>, tenant: TenantId, customer: CustomerId) -> Vec<Outcome> {
    let mut contacts = store.contact_list(tenant, customer, 50).await.unwrap();
    contacts.sort_by_key(|c| c.id);
    contacts
        .iter()
        .inspect(|c| assert_eq!((c.channel, c.direction), (Channel::Email, Direction::Outbound)))
        .filter_map(|c| c.outcome)
        .collect()
}

pub(crate) async fn email_enqueue_checks_consent_all_or_nothing(store: Arc<dyn Store>) {
    let a = tenant(&store, "acme").await;
    let b = tenant(&store, "beta").await;
    let ok = mail_customer(&store, a, "C1", Some("hanako@example.jp"), true).await;
    let no_consent = mail_customer(&store, a, "C2", Some("taro@example.jp"), false).await;
    let no_address = mail_customer(&store, a, "C3", None, true).await;
    let foreign = mail_customer(&store, b, "C1", Some("b@example.jp"), true).await;

    let batch = [
        new_email(ok, "ご案内"),
        new_email(no_consent, "ご案内"),
        new_email(no_address, "ご案内"),
        new_email(foreign, "ご案内"),
        new_email(ok, ""),
    ];
    let Err(StoreError::ImportRejected(problems)) = store.email_enqueue(a, &batch, now()).await else {
        panic!("a batch with refused rows must be refused");
    };
    let found: Vec<(u64, &str)> = problems.iter().map(|p| (p.line, p.column.as_str())).collect();
    assert_eq!(found, [(2, "consent_email"), (3, "email"), (4, "customer_id"), (5, "subject")]);
    assert!(
        store.email_list(a, &EmailQuery { limit: 50, ..EmailQuery::default() }).await.unwrap().is_empty(),
        "nothing queued"
    );

    let ids = store.email_enqueue(a, &[new_email(ok, "秋のご案内")], now()).await.unwrap();
    assert_eq!(ids.len(), 1);
    let message = store.email_get(a, ids[0]).await.unwrap();
    assert_eq!(message.status, EmailStatus::Queued);
    assert_eq!(message.to_address, "hanako@example.jp");
    assert_eq!(message.links, ["https://shop.example.jp/a", "https://shop.example.jp/b?x=1&y=2"]);
    assert_eq!((message.campaign_id, message.campaign_step), (Some(7), Some(1)));
    assert!(message.message_id.ends_with("@kimochi"));
    // Another tenant's id reads as not found; lists filter by customer and campaign.
    assert!(matches!(store.email_get(b, ids[0]).await, Err(StoreError::NotFound(_))));
    let by_customer = EmailQuery { customer_id: Some(ok), campaign_id: None, limit: 10 };
    assert_eq!(store.email_list(a, &by_customer).await.unwrap().len(), 1);
    let other_campaign = EmailQuery { customer_id: None, campaign_id: Some(8), limit: 10 };
    assert!(store.email_list(a, &other_campaign).await.unwrap().is_empty());
    assert!(store.email_list(b, &by_customer).await.unwrap().is_empty());
}

pub(crate) async fn email_claim_send_retry_bounce_once(store: Arc<dyn Store>) {
    let a = tenant(&store, "acme").await;
    let c1 = mail_customer(&store, a, "C1", Some("one@example.jp"), true).await;
    let c2 = mail_customer(&store, a, "C2", Some("two@example.jp"), true).await;
    let c3 = mail_customer(&store, a, "C3", Some("three@example.jp"), true).await;
    let ids =
        store.email_enqueue(a, &[new_email(c1, "一"), new_email(c2, "二"), new_email(c3, "三")], now()).await.unwrap();
    let lease = time::Duration::minutes(1);

    let claimed = store.email_claim(now(), lease, 10).await.unwrap();
    assert_eq!(claimed.iter().map(|c| c.message.id).collect::<Vec<_>>(), ids);
    assert!(
        claimed.iter().all(|c| c.tenant_id == a && c.token.len() == 32 && c.message.status == EmailStatus::Sending)
    );
    assert_ne!(claimed[0].token, claimed[1].token);
    // Leased: not handed out again while the lease runs.
    assert!(store.email_claim(now(), lease, 10).await.unwrap().is_empty());

    let sent_at = now() + time::Duration::seconds(5);
    store.email_finish(a, ids[0], &EmailSendOutcome::Sent { at: sent_at }).await.unwrap();
    let retry_at = now() + time::Duration::minutes(10);
    let retry = EmailSendOutcome::Retry { error: "421 try later".into(), retry_at: Some(retry_at), at: sent_at };
    store.email_finish(a, ids[1], &retry).await.unwrap();
    store
        .email_finish(a, ids[2], &EmailSendOutcome::Bounced { error: "550 no such user".into(), at: sent_at })
        .await
        .unwrap();
    // A second finish (a sender whose lease ran out) records nothing twice.
    store.email_finish(a, ids[0], &EmailSendOutcome::Sent { at: sent_at }).await.unwrap();

    let first = store.email_get(a, ids[0]).await.unwrap();
    assert_eq!(
        (first.status, first.sent_at, first.attempts, first.next_attempt_at),
        (EmailStatus::Sent, Some(sent_at), 1, None)
    );
    assert_eq!(outcomes(&store, a, c1).await, [Outcome::Sent]);
    let second = store.email_get(a, ids[1]).await.unwrap();
    assert_eq!(
        (second.status, second.next_attempt_at, second.last_error.as_deref()),
        (EmailStatus::Queued, Some(retry_at), Some("421 try later"))
    );
    assert!(outcomes(&store, a, c2).await.is_empty(), "a retry is not a contact");
    assert_eq!(store.email_get(a, ids[2]).await.unwrap().status, EmailStatus::Bounced);
    assert_eq!(outcomes(&store, a, c3).await, [Outcome::Bounced]);
    assert_eq!(store.customer_stats(a, c1).await.unwrap().contact_count, 1, "aggregates follow the contact");
    // Email events neither end nor count as a no-contact streak, nor become the last outcome.
    for when in ["2026-10-01 10:00", "2026-10-02 10:00"] {
        store.contact_create(a, &contact(c2, when, Some(Outcome::NoContact))).await.unwrap();
    }
    let mut c2_retry = store.email_enqueue(a, &[new_email(c2, "再")], at("2026-10-03 10:00")).await.unwrap();
    let claimed_c2 = store.email_claim(at("2026-10-03 10:00"), lease, 10).await.unwrap();
    assert_eq!(claimed_c2.len(), 1);
    let c2_sent = c2_retry.pop().unwrap();
    store.email_finish(a, c2_sent, &EmailSendOutcome::Sent { at: at("2026-10-03 10:00") }).await.unwrap();
    let stats = store.customer_stats(a, c2).await.unwrap();
    assert_eq!(
        (stats.consecutive_no_contact, stats.last_outcome, stats.contact_count),
        (2, Some(Outcome::NoContact), 3)
    );

    // The retry comes due; an expired lease hands a message out again (at least once).
    assert!(store.email_claim(now() + time::Duration::minutes(5), lease, 10).await.unwrap().is_empty());
    let again = store.email_claim(retry_at, lease, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].message.id, ids[1]);
    let after_lease = store.email_claim(retry_at + time::Duration::minutes(2), lease, 10).await.unwrap();
    assert_eq!(after_lease.len(), 1, "an expired lease is claimed again");
    assert_eq!(after_lease[0].message.message_id, again[0].message.message_id, "the same Message-ID on every attempt");
    let give_up = EmailSendOutcome::Retry { error: "connection refused".into(), retry_at: None, at: retry_at };
    store.email_finish(a, ids[1], &give_up).await.unwrap();
    assert_eq!(store.email_get(a, ids[1]).await.unwrap().status, EmailStatus::Failed);

    // Consent withdrawn after the enqueue: never handed to the sender.
    let later = store.email_enqueue(a, &[new_email(c1, "再送")], now()).await.unwrap();
    let mut profile = store.customer_get(a, c1).await.unwrap().profile;
    profile.consent.email = false;
    store.customer_update(a, c1, &profile, now()).await.unwrap();
    assert!(store.email_claim(now() + time::Duration::hours(1), lease, 10).await.unwrap().is_empty());
    assert_eq!(store.email_get(a, later[0]).await.unwrap().status, EmailStatus::Failed);
}

pub(crate) async fn email_tracking_by_token(store: Arc<dyn Store>) {
    let a = tenant(&store, "acme").await;
    let c1 = mail_customer(&store, a, "C1", Some("one@example.jp"), true).await;
    let ids = store.email_enqueue(a, &[new_email(c1, "ご案内")], now()).await.unwrap();
    let claimed = store.email_claim(now(), time::Duration::minutes(1), 10).await.unwrap();
    let token = claimed[0].token.clone();
    store.email_finish(a, ids[0], &EmailSendOutcome::Sent { at: now() }).await.unwrap();

    // Forged, malformed and unknown tokens, and a link the message does not have: not found,
    // nothing recorded.
    for bad in ["", "x", "../../etc", &token.to_uppercase(), &"0".repeat(32), &format!("{token}0")] {
        assert!(
            matches!(store.email_track(bad, TrackEvent::Open, now()).await, Err(StoreError::NotFound(_))),
            "{bad:?}"
        );
    }
    assert!(matches!(store.email_track(&token, TrackEvent::Click(2), now()).await, Err(StoreError::NotFound("link"))));
    assert_eq!(outcomes(&store, a, c1).await, [Outcome::Sent]);

    // Opens: one per hour.
    let open = store.email_track(&token, TrackEvent::Open, now()).await.unwrap();
    assert_eq!((open.tenant_id, open.customer_id, open.recorded), (a, c1, true));
    assert!(!store.email_track(&token, TrackEvent::Open, now() + time::Duration::minutes(59)).await.unwrap().recorded);
    assert!(store.email_track(&token, TrackEvent::Open, now() + time::Duration::minutes(61)).await.unwrap().recorded);

    // Clicks redirect to the message's own link n.
    let click = store.email_track(&token, TrackEvent::Click(1), now()).await.unwrap();
    assert_eq!(click.redirect_to.as_deref(), Some("https://shop.example.jp/b?x=1&y=2"));

    // One-click unsubscribe withdraws email consent, once.
    assert!(store.email_track(&token, TrackEvent::Unsubscribe, now()).await.unwrap().recorded);
    assert!(!store.email_track(&token, TrackEvent::Unsubscribe, now()).await.unwrap().recorded);
    assert!(!store.customer_get(a, c1).await.unwrap().profile.consent.email);
    assert_eq!(
        outcomes(&store, a, c1).await,
        [Outcome::Sent, Outcome::Opened, Outcome::Opened, Outcome::Clicked, Outcome::Unsubscribed]
    );
    let message = store.email_get(a, ids[0]).await.unwrap();
    assert_eq!(
        (message.opened_at, message.clicked_at, message.unsubscribed_at),
        (Some(now()), Some(now()), Some(now()))
    );
    // A new email to the unsubscribed customer is refused.
    assert!(matches!(
        store.email_enqueue(a, &[new_email(c1, "再送")], now()).await,
        Err(StoreError::ImportRejected(_))
    ));
}

fn event(
    line_no: u64,
    customer: kimochi_domain::behavior::CustomerKey,
    when: &str,
    detail: kimochi_domain::behavior::EventDetail,
) -> Line<kimochi_domain::behavior::EventImport> {
    line(line_no, kimochi_domain::behavior::EventImport { customer, occurred_at: at(when), detail })
}

pub(crate) async fn behavior_events_import_all_or_nothing_and_idempotent(store: Arc<dyn Store>) {
    use kimochi_domain::behavior::{CustomerKey, EventDetail, EventKind};
    let a = tenant(&store, "acme").await;
    let b = tenant(&store, "beta").await;
    let c1 = mail_customer(&store, a, "C1", Some("Hanako@Example.jp"), true).await;
    mail_customer(&store, b, "C2", Some("b@example.jp"), true).await;
    let by_id = CustomerKey::ExternalId(ExternalId::parse("C1").unwrap());
    let by_email = CustomerKey::Email(Email::parse("hanako@example.jp").unwrap());
    let by_phone = CustomerKey::Phone(PhoneNumber::parse("090-1234-5678").unwrap());
    let survey =
        EventDetail::Survey { survey: "満足度".into(), question: "Q1".into(), answer: "とても良い".into() };
    let web = EventDetail::Web { url: "https://shop.example.jp/skincare".into(), referrer: None };
    let click = EventDetail::Email {
        event: Outcome::Clicked,
        url: Some("https://shop.example.jp/x".into()),
        campaign: Some("秋".into()),
    };
    let foreign = CustomerKey::ExternalId(ExternalId::parse("C2").unwrap());
    let rows = vec![
        event(2, by_id.clone(), "2026-10-01 10:00", survey.clone()),
        event(3, by_email.clone(), "2026-10-02 10:00", web.clone()),
        event(4, by_phone.clone(), "2026-10-03 10:00", click.clone()),
        event(5, foreign, "2026-10-03 10:00", web.clone()),
    ];
    // Another tenant's customer is not found: the whole file is refused.
    let Err(StoreError::ImportRejected(problems)) = store.import_events(a, &rows, ImportOptions::default()).await
    else {
        panic!("a file with a bad row must be refused");
    };
    assert_eq!(problems.iter().map(|p| (p.line, p.column.as_str())).collect::<Vec<_>>(), [(5, "customer_external_id")]);
    assert!(store.behavior_event_list(a, c1, 10).await.unwrap().is_empty());
    assert!(store.contact_list(a, c1, 10).await.unwrap().is_empty());

    // A dry run checks and writes nothing; then the good rows go in.
    let good = &rows[..3];
    let dry = ImportOptions { mode: ImportMode::DryRun, ..ImportOptions::default() };
    assert_eq!(store.import_events(a, good, dry).await.unwrap().inserted, 3);
    assert!(store.behavior_event_list(a, c1, 10).await.unwrap().is_empty());
    assert_eq!(store.import_events(a, good, ImportOptions::default()).await.unwrap().inserted, 3);
    let events = store.behavior_event_list(a, c1, 10).await.unwrap();
    let kinds: Vec<(EventKind, &str, &str, Option<&str>)> =
        events.iter().map(|e| (e.kind, e.key.as_str(), e.value.as_str(), e.url.as_deref())).collect();
    assert_eq!(
        kinds,
        [
            (EventKind::Web, "", "", Some("https://shop.example.jp/skincare")),
            (EventKind::Survey, "Q1", "とても良い", None)
        ]
    );
    assert_eq!(events[1].attributes.get("survey").map(String::as_str), Some("満足度"));
    let contacts = store.contact_list(a, c1, 10).await.unwrap();
    assert_eq!(contacts.len(), 1);
    assert_eq!(
        (contacts[0].channel, contacts[0].direction, contacts[0].outcome),
        (Channel::Email, Direction::Outbound, Some(Outcome::Clicked))
    );
    assert!(contacts[0].text.contains("https://shop.example.jp/x"), "{}", contacts[0].text);
    assert_eq!(store.customer_stats(a, c1).await.unwrap().contact_count, 1);

    // The same file again adds nothing.
    assert_eq!(store.import_events(a, good, ImportOptions::default()).await.unwrap().inserted, 0);
    assert_eq!(store.behavior_event_list(a, c1, 10).await.unwrap().len(), 2);
    assert_eq!(store.contact_list(a, c1, 10).await.unwrap().len(), 1);
    // The other tenant sees none of it.
    assert!(store.behavior_event_list(b, c1, 10).await.unwrap().is_empty());
}
