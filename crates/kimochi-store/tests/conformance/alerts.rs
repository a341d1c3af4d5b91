//! Conformance cases for crisis words, alerts, webhook outbox and board counts (migration 0003).

use super::*;

fn crisis_word(phrase: &str, key: &str, severity: CrisisSeverity) -> NewCrisisWord {
    NewCrisisWord { phrase: phrase.into(), key: key.into(), severity, note: String::new() }
}

fn hit(phrase: &str, severity: CrisisSeverity, start: u32, end: u32) -> CrisisMatch {
    CrisisMatch { phrase: phrase.into(), severity, start, end }
}

/// A contact whose text engine found crisis words.
fn alarming(customer: CustomerId, started_at: &str, matches: Vec<CrisisMatch>) -> NewContact {
    let mut contact = contact(customer, started_at, None);
    contact.text = "訴えるぞ、最悪".into();
    contact.tags.crisis_words = matches.len() as u32;
    contact.tags.crisis = matches;
    contact
}

fn everything() -> AlertQuery {
    AlertQuery { since: None, unacknowledged_only: false, limit: 100 }
}

pub(crate) async fn crisis_words_are_per_tenant(store: Arc<dyn Store>) {
    let a = tenant(&store, "acme").await;
    let b = tenant(&store, "beta").await;
    let word =
        store.crisis_word_create(a, &crisis_word("返金しろ", "返金しろ", CrisisSeverity::High), now()).await.unwrap();
    assert_eq!((word.phrase.as_str(), word.severity), ("返金しろ", CrisisSeverity::High));
    // The same word spelled otherwise has the same key: refused with the field.
    let again = store.crisis_word_create(a, &crisis_word("返金 しろ！", "返金しろ", CrisisSeverity::Low), now()).await;
    assert!(matches!(again, Err(StoreError::Conflict(ref field)) if field == "phrase"), "{again:?}");
    // Another tenant may hold the same word.
    store.crisis_word_create(b, &crisis_word("返金しろ", "返金しろ", CrisisSeverity::Low), now()).await.unwrap();
    // Bad input is refused before anything is written.
    for (phrase, key, field) in [("  ", "", "phrase"), ("!!!", "", "phrase"), (&*"長".repeat(101), "長", "phrase")] {
        let refused = store.crisis_word_create(a, &crisis_word(phrase, key, CrisisSeverity::Low), now()).await;
        assert!(matches!(refused, Err(StoreError::Invalid(ref e)) if e.field == field), "{phrase:?}: {refused:?}");
    }
    let mut long_note = crisis_word("解約", "解約", CrisisSeverity::Low);
    long_note.note = "x".repeat(501);
    let refused = store.crisis_word_create(a, &long_note, now()).await;
    assert!(matches!(refused, Err(StoreError::Invalid(ref e)) if e.field == "note"), "{refused:?}");
    assert_eq!(store.crisis_word_list(a).await.unwrap().len(), 1);
    // Update and delete; another tenant's id is not found.
    let mut changed = crisis_word("返金しろ", "返金しろ", CrisisSeverity::Critical);
    changed.note = "法務へ連絡".into();
    let updated = store.crisis_word_update(a, word.id, &changed).await.unwrap();
    assert_eq!((updated.severity, updated.note.as_str()), (CrisisSeverity::Critical, "法務へ連絡"));
    assert!(matches!(store.crisis_word_update(b, word.id, &changed).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.crisis_word_get(b, word.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.crisis_word_delete(b, word.id).await, Err(StoreError::NotFound(_))));
    assert_eq!(store.crisis_word_get(a, word.id).await.unwrap(), updated);
    store.crisis_word_delete(a, word.id).await.unwrap();
    assert!(store.crisis_word_list(a).await.unwrap().is_empty());
    assert_eq!(store.crisis_word_list(b).await.unwrap().len(), 1);
}

pub(crate) async fn alerts_are_written_with_their_contacts(store: Arc<dyn Store>) {
    let a = tenant(&store, "acme").await;
    let b = tenant(&store, "beta").await;
    let customer =
        store.customer_create(a, &profile("C1", "山田 花子", "ヤマダ ハナコ", "0312345678"), now()).await.unwrap();
    let calm = store.contact_create(a, &contact(customer.id, "2026-10-01 10:00", None)).await.unwrap();
    assert_eq!(store.alert_of_contact(a, calm.id).await.unwrap(), None);
    let matches = vec![hit("訴える", CrisisSeverity::Critical, 0, 9), hit("最悪", CrisisSeverity::Medium, 15, 21)];
    let angry = store.contact_create(a, &alarming(customer.id, "2026-10-02 10:00", matches.clone())).await.unwrap();
    let alert = store.alert_of_contact(a, angry.id).await.unwrap().unwrap();
    assert_eq!((alert.contact_id, alert.customer_id), (angry.id, customer.id));
    assert_eq!(alert.severity, CrisisSeverity::Critical, "the highest of the words");
    assert_eq!(alert.matches, matches);
    assert_eq!(alert.acknowledged_at, None);
    assert_eq!(store.alert_get(a, alert.id).await.unwrap(), alert);
    // A contact that fails is not stored, and neither is an alert.
    let mut orphan = alarming(CustomerId(customer.id.0 + 1000), "2026-10-02 11:00", matches.clone());
    orphan.text = "x".into();
    assert!(store.contact_create(a, &orphan).await.is_err());
    assert_eq!(store.alert_list(a, &everything()).await.unwrap().len(), 1);
    // Imports raise alerts for the contacts they insert, once: importing again updates the
    // contact and leaves its alert alone.
    let rows = vec![Line {
        line: 2,
        record: ContactImport {
            external_id: ExternalId::parse("K1").unwrap(),
            customer_external_id: ExternalId::parse("C1").unwrap(),
            channel: Channel::Sns,
            direction: Direction::Inbound,
            started_at: at("2026-10-03 10:00"),
            ended_at: None,
            reason: None,
            outcome: None,
            text: "炎上させる".into(),
            thread_external_id: None,
            agent_login: None,
            tags: ContactTags {
                crisis_words: 1,
                crisis: vec![hit("炎上", CrisisSeverity::High, 0, 6)],
                ..Default::default()
            },
        },
    }];
    store.import_contacts(a, &rows, ImportOptions::default()).await.unwrap();
    store.import_contacts(a, &rows, ImportOptions::default()).await.unwrap();
    let listed = store.alert_list(a, &everything()).await.unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0].severity, CrisisSeverity::High, "newest first");
    assert_eq!(listed[1].id, alert.id);
    // Bulk loads (the demo) raise them too.
    let mut chunk = BulkChunk::default();
    chunk.customers.push(profile("B1", "一括 顧客", "イッカツ", "0900000001"));
    for (index, text) in ["ありがとう", "消費者センターに言う"].into_iter().enumerate() {
        let crisis =
            if index == 1 { vec![hit("消費者センター", CrisisSeverity::Critical, 0, 21)] } else { vec![] };
        chunk.contacts.push(BulkContact {
            customer: 0,
            channel: Channel::Phone,
            direction: Direction::Inbound,
            started_at: at("2026-10-04 10:00"),
            ended_at: None,
            agent_id: None,
            reason: None,
            outcome: None,
            text: text.into(),
            thread_of: None,
            tags: ContactTags { crisis_words: crisis.len() as u32, crisis, ..Default::default() },
        });
    }
    store.bulk_load(a, &chunk, now()).await.unwrap();
    let listed = store.alert_list(a, &everything()).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0].matches[0].phrase, "消費者センター");
    // Filters: since (stored time, the database's clock) and unacknowledged.
    let future = AlertQuery { since: Some(OffsetDateTime::now_utc() + time::Duration::hours(1)), ..everything() };
    assert!(store.alert_list(a, &future).await.unwrap().is_empty());
    let past = AlertQuery { since: Some(OffsetDateTime::now_utc() - time::Duration::hours(1)), ..everything() };
    assert_eq!(store.alert_list(a, &past).await.unwrap().len(), 3);
    // Acknowledge: the first stands; another tenant sees nothing of it.
    assert!(matches!(store.alert_acknowledge(b, alert.id, None, now()).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.alert_get(b, alert.id).await, Err(StoreError::NotFound(_))));
    assert!(store.alert_list(b, &everything()).await.unwrap().is_empty());
    assert_eq!(store.alert_of_contact(b, angry.id).await.unwrap(), None);
    let user = NewUser {
        login: "sv01".into(),
        display_name: "鈴木".into(),
        role: Role::Supervisor,
        team_id: None,
        password_hash: "$argon2id$x".into(),
    };
    let supervisor = store.user_create(a, &user, now()).await.unwrap();
    let foreign_user = store.user_create(b, &user, now()).await.unwrap();
    assert!(matches!(
        store.alert_acknowledge(a, alert.id, Some(foreign_user.id), now()).await,
        Err(StoreError::UnknownReference { .. })
    ));
    let acked = store.alert_acknowledge(a, alert.id, Some(supervisor.id), at("2026-11-01 09:05")).await.unwrap();
    assert_eq!((acked.acknowledged_by, acked.acknowledged_at), (Some(supervisor.id), Some(at("2026-11-01 09:05"))));
    let again = store.alert_acknowledge(a, alert.id, None, at("2026-11-01 10:00")).await.unwrap();
    assert_eq!(again.acknowledged_at, Some(at("2026-11-01 09:05")), "the first acknowledgement stands");
    let open = AlertQuery { unacknowledged_only: true, ..everything() };
    assert_eq!(store.alert_list(a, &open).await.unwrap().len(), 2);
    // Deleting the customer takes their alerts with them.
    store.customer_delete(a, customer.id).await.unwrap();
    assert_eq!(store.alert_list(a, &everything()).await.unwrap().len(), 1);
}

pub(crate) async fn webhook_outbox_retries_and_delivers_once(store: Arc<dyn Store>) {
    let a = tenant(&store, "acme").await;
    let b = tenant(&store, "beta").await;
    let hook = store.webhook_create(a, "http://127.0.0.1:9/hook", "secret", now()).await.unwrap();
    assert!(matches!(
        store.webhook_create(a, "http://127.0.0.1:9/hook", "other", now()).await,
        Err(StoreError::Conflict(ref field)) if field == "url"
    ));
    store.webhook_create(b, "http://127.0.0.1:9/b", "secret-b", now()).await.unwrap();
    let customer =
        store.customer_create(a, &profile("C1", "山田 花子", "ヤマダ ハナコ", "0312345678"), now()).await.unwrap();
    let angry = store
        .contact_create(
            a,
            &alarming(customer.id, "2026-10-02 10:00", vec![hit("訴える", CrisisSeverity::Critical, 0, 9)]),
        )
        .await
        .unwrap();
    let t0 = at("2026-11-01 09:00");
    let lease = time::Duration::seconds(60);
    let claimed = store.webhook_deliveries_claim(t0, lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 1, "one delivery: tenant b's webhook gets nothing of tenant a: {claimed:?}");
    let delivery = &claimed[0];
    assert_eq!((delivery.tenant_id, delivery.webhook_id, delivery.attempts), (a, hook.id, 0));
    assert_eq!((delivery.url.as_str(), delivery.secret.as_str()), ("http://127.0.0.1:9/hook", "secret"));
    assert_eq!(delivery.alert.contact_id, angry.id);
    // Leased: not handed out again while the attempt runs.
    assert!(store.webhook_deliveries_claim(t0, lease, 10).await.unwrap().is_empty());
    let retry_at = t0 + time::Duration::seconds(30);
    store
        .webhook_delivery_finish(
            delivery.id,
            &DeliveryOutcome::Failed { error: "connection refused".into(), retry_at: Some(retry_at) },
        )
        .await
        .unwrap();
    assert!(store.webhook_deliveries_claim(t0 + time::Duration::seconds(29), lease, 10).await.unwrap().is_empty());
    let retried = store.webhook_deliveries_claim(retry_at, lease, 10).await.unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].attempts, 1);
    store.webhook_delivery_finish(retried[0].id, &DeliveryOutcome::Delivered { at: retry_at }).await.unwrap();
    assert!(store.webhook_deliveries_claim(retry_at + time::Duration::days(1), lease, 10).await.unwrap().is_empty());
    let listed = store.webhook_list(a).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].1, WebhookCounts { delivered: 1, pending: 0, given_up: 0 });
    // Giving up leaves the row, counted, and never retried.
    let second = store
        .contact_create(
            a,
            &alarming(customer.id, "2026-10-03 10:00", vec![hit("最悪", CrisisSeverity::Medium, 15, 21)]),
        )
        .await
        .unwrap();
    let claimed = store.webhook_deliveries_claim(retry_at, lease, 10).await.unwrap();
    assert_eq!(claimed[0].alert.contact_id, second.id);
    store
        .webhook_delivery_finish(claimed[0].id, &DeliveryOutcome::Failed { error: "HTTP 500".into(), retry_at: None })
        .await
        .unwrap();
    assert!(store.webhook_deliveries_claim(retry_at + time::Duration::days(30), lease, 10).await.unwrap().is_empty());
    assert_eq!(store.webhook_list(a).await.unwrap()[0].1, WebhookCounts { delivered: 1, pending: 0, given_up: 1 });
    // Another tenant's webhook id is not found; deleting a webhook drops its outbox rows.
    assert!(matches!(store.webhook_delete(b, hook.id).await, Err(StoreError::NotFound(_))));
    store.webhook_delete(a, hook.id).await.unwrap();
    assert!(store.webhook_list(a).await.unwrap().is_empty());
}

pub(crate) async fn board_counts_today(store: Arc<dyn Store>) {
    let a = tenant(&store, "acme").await;
    let b = tenant(&store, "beta").await;
    let user = NewUser {
        login: "op01".into(),
        display_name: "佐藤".into(),
        role: Role::Agent,
        team_id: None,
        password_hash: "$argon2id$x".into(),
    };
    let operator = store.user_create(a, &user, now()).await.unwrap();
    let customer =
        store.customer_create(a, &profile("C1", "山田 花子", "ヤマダ ハナコ", "0312345678"), now()).await.unwrap();
    let other = store.customer_create(b, &profile("C1", "別 顧客", "ベツ", "0312345678"), now()).await.unwrap();
    for (when, agent, channel, reason) in [
        ("2026-11-01 09:00", Some(operator.id), Channel::Phone, Some("解約")),
        ("2026-11-01 10:00", Some(operator.id), Channel::Phone, Some("解約")),
        ("2026-11-01 11:00", None, Channel::Email, None),
        ("2026-10-31 11:00", Some(operator.id), Channel::Email, Some("解約")),
    ] {
        let mut new = contact(customer.id, when, None);
        new.agent_id = agent;
        new.channel = channel;
        new.reason = reason.map(Into::into);
        store.contact_create(a, &new).await.unwrap();
    }
    store.contact_create(b, &contact(other.id, "2026-11-01 09:00", None)).await.unwrap();
    let counts = store.board_counts(a, at("2026-11-01 00:00"), at("2026-11-02 00:00")).await.unwrap();
    assert_eq!(counts.contacts, 3);
    assert_eq!(counts.by_operator, vec![(Some("佐藤".to_owned()), 2), (None, 1)]);
    assert_eq!(counts.by_channel, vec![(Channel::Phone, 2), (Channel::Email, 1)]);
    assert_eq!(counts.by_reason, vec![(Some("解約".to_owned()), 2), (None, 1)]);
}
