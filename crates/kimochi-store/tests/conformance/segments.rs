//! Conformance cases for segments (issue 6, migration 0009): every field family compiled to SQL
//! and run on both engines over a small known population, tenancy, paging, foreign products, and
//! saved segments; and email tracking events kept out of the call facts.

use kimochi_domain::segment::{NewSegment, SegmentRule};
use serde_json::json;

use super::*;

fn rule(value: serde_json::Value) -> SegmentRule {
    SegmentRule::from_json(&value).unwrap()
}

fn score_of(customer_id: CustomerId, stage: Stage, churn: f64, rfm_cell: u16) -> CustomerScore {
    CustomerScore {
        customer_id,
        as_of: time::macros::date!(2026 - 11 - 01),
        stage,
        rfm_cell: Some(rfm_cell),
        recency_days: Some(12),
        p_alive: Some(1.0 - churn),
        expected_purchases: None,
        expected_spend: None,
        clv: Some(20_000.0 * (1.0 - churn)),
        churn_probability: Some(churn),
        churn_level: Some(if churn >= 0.5 { ChurnLevel::High } else { ChurnLevel::Low }),
        churn_reasons: Vec::new(),
        loyalty: None,
        near_loyal: None,
        positive_dormant: false,
        cluster: None,
        cluster_label: None,
        repeat_alerts: Vec::new(),
        scored_at: now(),
    }
}

fn order_of(customer: CustomerId, ordered_at: &str, product: ProductId, amount: i64) -> NewOrder {
    NewOrder {
        external_id: None,
        customer_id: customer,
        ordered_at: at(ordered_at),
        channel: None,
        ad_medium: None,
        is_subscription: false,
        lines: vec![NewOrderLine { product_id: product, quantity: 1, amount }],
    }
}

fn note_of(customer: CustomerId, kind: KimochiKind, captured_at: &str) -> NewKimochiNote {
    NewKimochiNote {
        customer_id: customer,
        kind,
        text: "メモ".into(),
        captured_by: None,
        captured_at: at(captured_at),
        contact_id: None,
        product_id: None,
    }
}

struct Population {
    a: TenantId,
    b: TenantId,
    /// Subscriber, churn-prone, unmet expectation, two unanswered calls then an email opened.
    yamada: CustomerId,
    /// Dormant, listened well on a reached call tagged gratitude, has an email.
    sato: CustomerId,
    /// No orders, no scores, no phone consent, hung up last time.
    suzuki: CustomerId,
    product_a: ProductId,
    product_b: ProductId,
}

async fn population(store: &Arc<dyn Store>) -> Population {
    let a = tenant(store, "acme").await;
    let b = tenant(store, "beta").await;
    let product_a = product(store, a, "P1", ProductKind::Subscription, 3980).await.id;
    let other_a = product(store, a, "P2", ProductKind::Main, 5000).await.id;
    let product_b = product(store, b, "P1", ProductKind::Subscription, 3980).await.id;

    let mut yamada = profile("C1", "山田 花子", "ヤマダ ハナコ", "090-1111-0001");
    yamada.birth_date = Some(time::macros::date!(1980 - 05 - 01));
    yamada.prefecture = Some("東京都".into());
    let yamada = store.customer_create(a, &yamada, now()).await.unwrap().id;
    let mut sato = profile("C2", "佐藤 一郎", "サトウ イチロウ", "090-1111-0002");
    sato.emails = vec![Email::parse("sato@example.jp").unwrap()];
    sato.prefecture = Some("大阪府".into());
    let sato = store.customer_create(a, &sato, now()).await.unwrap().id;
    let mut suzuki = profile("C3", "鈴木 次郎", "スズキ ジロウ", "090-1111-0003");
    suzuki.consent.phone = false;
    suzuki.do_not_call = true;
    let suzuki = store.customer_create(a, &suzuki, now()).await.unwrap().id;
    let foreign =
        store.customer_create(b, &profile("C1", "他社 顧客", "タシャ", "090-1111-0009"), now()).await.unwrap();

    store.order_create(a, &order_of(yamada, "2026-10-20 09:00", product_a, 3980)).await.unwrap();
    store.order_create(a, &order_of(sato, "2026-06-01 09:00", other_a, 5000)).await.unwrap();
    store.order_create(b, &order_of(foreign.id, "2026-10-20 09:00", product_b, 3980)).await.unwrap();

    store.contact_create(a, &contact(yamada, "2026-10-25 10:00", Some(Outcome::NoContact))).await.unwrap();
    store.contact_create(a, &contact(yamada, "2026-10-28 10:00", Some(Outcome::NoContact))).await.unwrap();
    let opened = NewContact {
        channel: Channel::Email,
        ended_at: None,
        reason: None,
        text: String::new(),
        ..contact(yamada, "2026-10-30 10:00", Some(Outcome::Opened))
    };
    store.contact_create(a, &opened).await.unwrap();
    let mut thanked = contact(sato, "2026-10-10 10:00", Some(Outcome::Resolved));
    thanked.ended_at = Some(at("2026-10-10 10:02"));
    thanked.tags.kimochi = vec![KimochiTag::Gratitude];
    store.contact_create(a, &thanked).await.unwrap();
    store.contact_create(a, &contact(suzuki, "2026-10-29 10:00", Some(Outcome::HungUp))).await.unwrap();

    store.kimochi_note_create(a, &note_of(yamada, KimochiKind::Expectation, "2026-09-01 10:00")).await.unwrap();
    store.kimochi_note_create(a, &note_of(yamada, KimochiKind::Gap, "2026-10-01 10:00")).await.unwrap();
    store.kimochi_note_create(a, &note_of(sato, KimochiKind::Expectation, "2026-05-01 10:00")).await.unwrap();

    store
        .scores_write(a, &[score_of(yamada, Stage::Subscription, 0.8, 545), score_of(sato, Stage::Dormant, 0.2, 111)])
        .await
        .unwrap();
    store.scores_write(b, &[score_of(foreign.id, Stage::Subscription, 0.9, 545)]).await.unwrap();
    Population { a, b, yamada, sato, suzuki, product_a, product_b }
}

pub(crate) async fn segments_select_on_every_field_family(store: Arc<dyn Store>) {
    let p = population(&store).await;
    let members = |value: serde_json::Value| {
        let store = store.clone();
        let rule = rule(value);
        async move { store.segment_members(p.a, &rule, now(), None, 100).await.unwrap() }
    };
    let (yamada, sato, suzuki) = (p.yamada, p.sato, p.suzuki);
    let cases: Vec<(serde_json::Value, Vec<CustomerId>)> = vec![
        // Profile and consent.
        (json!({"field": "prefecture", "op": "in", "value": ["東京都", "大阪府"]}), vec![yamada, sato]),
        (json!({"field": "age", "op": "gte", "value": 46}), vec![yamada]),
        (json!({"field": "age", "op": "gt", "value": 46}), vec![]),
        (json!({"field": "age", "op": "eq", "value": 46}), vec![yamada]),
        (json!({"field": "has_email", "op": "eq", "value": true}), vec![sato]),
        (json!({"not": {"field": "consent_phone", "op": "eq", "value": true}}), vec![suzuki]),
        (json!({"field": "do_not_call", "op": "eq", "value": false}), vec![yamada, sato]),
        // Scores; an unscored customer fails a condition and passes its negation.
        (json!({"field": "stage", "op": "in", "value": ["subscription"]}), vec![yamada]),
        (json!({"not": {"field": "churn_probability", "op": "gte", "value": 0.5}}), vec![sato, suzuki]),
        (json!({"field": "churn_level", "op": "in", "value": ["high"]}), vec![yamada]),
        (json!({"field": "rfm_cell", "op": "in", "value": [111]}), vec![sato]),
        (json!({"field": "r_level", "op": "gte", "value": 5}), vec![yamada]),
        (json!({"field": "f_level", "op": "eq", "value": 4}), vec![yamada]),
        (json!({"field": "m_level", "op": "lte", "value": 1}), vec![sato]),
        (json!({"field": "clv", "op": "gt", "value": 10_000}), vec![sato]),
        (json!({"field": "p_alive", "op": "lt", "value": 0.5}), vec![yamada]),
        // Kimochi.
        (json!({"field": "unmet_expectation", "op": "eq", "value": true}), vec![yamada]),
        (json!({"field": "unmet_expectation", "op": "eq", "value": false}), vec![sato, suzuki]),
        (json!({"field": "kimochi_tag", "op": "in", "value": ["gratitude", "anger"], "days": 30}), vec![sato]),
        (json!({"field": "kimochi_tag", "op": "in", "value": ["gratitude"], "days": 7}), vec![]),
        (json!({"field": "kimochi_note", "op": "in", "value": ["expectation"]}), vec![yamada, sato]),
        (json!({"field": "kimochi_note", "op": "in", "value": ["expectation"], "days": 90}), vec![yamada]),
        // Orders: exactly 12 days since Yamada's order, 153 since Sato's.
        (json!({"field": "bought_product", "op": "in", "value": [p.product_a.0]}), vec![yamada]),
        (json!({"field": "days_since_last_order", "op": "gte", "value": 90}), vec![sato]),
        (json!({"field": "days_since_last_order", "op": "lte", "value": 12}), vec![yamada]),
        (json!({"field": "days_since_last_order", "op": "lt", "value": 12}), vec![]),
        (json!({"field": "order_count", "op": "eq", "value": 0}), vec![suzuki]),
        (json!({"field": "total_spend", "op": "gte", "value": 4000}), vec![sato]),
        // Contact history: the opened email neither counts as a call nor resets the streak.
        (json!({"field": "consecutive_no_contact", "op": "gte", "value": 2}), vec![yamada]),
        (json!({"field": "call_attempts", "op": "gte", "value": 2, "days": 30}), vec![yamada]),
        (json!({"field": "call_attempts", "op": "gte", "value": 1, "days": 3}), vec![suzuki]),
        (json!({"field": "last_call_outcome", "op": "in", "value": ["no_contact"]}), vec![yamada]),
        (json!({"field": "last_call_outcome", "op": "in", "value": ["hung_up"]}), vec![suzuki]),
        (json!({"field": "listened_well", "op": "eq", "value": true}), vec![sato]),
        // The example: churn-prone subscribers with an unmet expectation, unanswered twice.
        (
            json!({"all": [
                {"field": "stage", "op": "in", "value": ["subscription"]},
                {"field": "churn_probability", "op": "gte", "value": 0.5},
                {"field": "unmet_expectation", "op": "eq", "value": true},
                {"field": "consecutive_no_contact", "op": "gte", "value": 2},
            ]}),
            vec![yamada],
        ),
        (
            json!({"any": [
                {"field": "listened_well", "op": "eq", "value": true},
                {"not": {"field": "has_phone", "op": "eq", "value": true}},
                {"field": "last_call_outcome", "op": "in", "value": ["hung_up"]},
            ]}),
            vec![sato, suzuki],
        ),
    ];
    for (value, expected) in cases {
        let got = members(value.clone()).await;
        assert_eq!(got, expected, "{value}");
        let count = store.segment_count(p.a, &rule(value.clone()), now()).await.unwrap();
        assert_eq!(count, expected.len() as i64, "{value}");
    }

    // Tenancy: the other tenant's subscriber is not counted here, and theirs sees only theirs.
    let subscribers = rule(json!({"field": "stage", "op": "in", "value": ["subscription"]}));
    assert_eq!(store.segment_count(p.b, &subscribers, now()).await.unwrap(), 1);
    assert!(!store.segment_members(p.b, &subscribers, now(), None, 10).await.unwrap().contains(&yamada));
    // A product of another tenant is refused with the path of the node that names it.
    let foreign = rule(json!({"all": [
        {"field": "has_phone", "op": "eq", "value": true},
        {"field": "bought_product", "op": "in", "value": [p.product_b.0]},
    ]}));
    match store.segment_count(p.a, &foreign, now()).await {
        Err(StoreError::InvalidRule(error)) => assert_eq!(error.path, "all[1].value", "{error}"),
        other => panic!("{other:?}"),
    }

    // Paging in id order, and summaries for lists.
    let everyone = rule(json!({"field": "has_phone", "op": "eq", "value": true}));
    let first = store.segment_members(p.a, &everyone, now(), None, 2).await.unwrap();
    assert_eq!(first, vec![yamada, sato]);
    let rest = store.segment_members(p.a, &everyone, now(), Some(sato), 2).await.unwrap();
    assert_eq!(rest, vec![suzuki]);
    let summaries = store.segment_member_summaries(p.a, &everyone, now(), Some(yamada), 1).await.unwrap();
    assert_eq!(summaries.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["佐藤 一郎"]);
}

pub(crate) async fn email_events_do_not_count_as_calls(store: Arc<dyn Store>) {
    let p = population(&store).await;
    let stats = store.customer_stats(p.a, p.yamada).await.unwrap();
    assert_eq!(stats.consecutive_no_contact, 2, "an opened email must not reset the no-contact streak");
    assert_eq!(stats.last_outcome, Some(Outcome::NoContact), "an email event is not the last outcome");
    assert_eq!(stats.contact_count, 3);
    // A reached call does reset it; a later bounce does not start a new streak.
    store.contact_create(p.a, &contact(p.yamada, "2026-10-31 10:00", Some(Outcome::Resolved))).await.unwrap();
    let bounced =
        NewContact { channel: Channel::Email, ..contact(p.yamada, "2026-10-31 12:00", Some(Outcome::Bounced)) };
    store.contact_create(p.a, &bounced).await.unwrap();
    let stats = store.customer_stats(p.a, p.yamada).await.unwrap();
    assert_eq!((stats.consecutive_no_contact, stats.last_outcome), (0, Some(Outcome::Resolved)));
}

pub(crate) async fn saved_segments_crud(store: Arc<dyn Store>) {
    let p = population(&store).await;
    let user = store
        .user_create(
            p.a,
            &NewUser {
                login: "crm".into(),
                display_name: "CRM担当".into(),
                role: Role::Analyst,
                team_id: None,
                password_hash: "$argon2id$unused".into(),
            },
            now(),
        )
        .await
        .unwrap();
    let churn_prone = NewSegment {
        name: "  離反リスク高の定期顧客 ".into(),
        description: "定期で離反確率50%以上".into(),
        rule: rule(json!({"all": [
            {"field": "stage", "op": "in", "value": ["subscription"]},
            {"field": "churn_probability", "op": "gte", "value": 0.5},
        ]})),
    };
    let saved = store.segment_create(p.a, &churn_prone, Some(user.id), now()).await.unwrap();
    assert_eq!(saved.name, "離反リスク高の定期顧客");
    assert_eq!(saved.rule, churn_prone.rule);
    assert_eq!(saved.created_by, Some(user.id));
    assert_eq!(store.segment_get(p.a, saved.id).await.unwrap(), saved);
    // Names are unique per tenant; another tenant may use the same name.
    assert!(matches!(store.segment_create(p.a, &churn_prone, None, now()).await, Err(StoreError::Conflict(_))));
    let theirs = store.segment_create(p.b, &churn_prone, None, now()).await.unwrap();
    // Another tenant's id reads as not found everywhere.
    assert!(matches!(store.segment_get(p.a, theirs.id).await, Err(StoreError::NotFound("segment"))));
    assert!(matches!(store.segment_update(p.a, theirs.id, &churn_prone, now()).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.segment_delete(p.a, theirs.id).await, Err(StoreError::NotFound(_))));
    // Another tenant's user cannot be the author.
    let b_named = NewSegment { name: "別名".into(), ..churn_prone.clone() };
    assert!(store.segment_create(p.b, &b_named, Some(user.id), now()).await.is_err());
    // Bad names and foreign products are refused and nothing is written.
    let empty = NewSegment { name: " ".into(), ..churn_prone.clone() };
    assert!(matches!(store.segment_create(p.a, &empty, None, now()).await, Err(StoreError::Invalid(_))));
    let foreign = NewSegment {
        name: "他社商品".into(),
        rule: rule(json!({"field": "bought_product", "op": "in", "value": [p.product_b.0]})),
        ..churn_prone.clone()
    };
    assert!(matches!(store.segment_create(p.a, &foreign, None, now()).await, Err(StoreError::InvalidRule(_))));
    assert_eq!(store.segment_list(p.a).await.unwrap().len(), 1);

    let later = now() + time::Duration::hours(1);
    let changed = NewSegment {
        name: "購入者".into(),
        description: String::new(),
        rule: rule(json!({"field": "bought_product", "op": "in", "value": [p.product_a.0]})),
    };
    let updated = store.segment_update(p.a, saved.id, &changed, later).await.unwrap();
    assert_eq!((updated.name.as_str(), updated.updated_at, updated.created_at), ("購入者", later, now()));
    let listed = store.segment_list(p.a).await.unwrap();
    assert_eq!(listed.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["購入者"]);
    assert_eq!(store.segment_count(p.a, &listed[0].rule, now()).await.unwrap(), 1);
    store.segment_delete(p.a, saved.id).await.unwrap();
    assert!(store.segment_list(p.a).await.unwrap().is_empty());
    assert_eq!(store.segment_list(p.b).await.unwrap().len(), 1);
}

/// The stored contact-history facts (migration 0014) follow every write path, and a count back in
/// time replays the contacts of the customers with a newer call or tag than `as_of`.
pub(crate) async fn segment_facts_follow_every_write_path(store: Arc<dyn Store>) {
    let p = population(&store).await;
    let (a, yamada, sato, suzuki) = (p.a, p.yamada, p.sato, p.suzuki);
    let members = |value: serde_json::Value, as_of: OffsetDateTime| {
        let store = store.clone();
        let rule = rule(value);
        async move {
            let members = store.segment_members(a, &rule, as_of, None, 100).await.unwrap();
            let count = store.segment_count(a, &rule, as_of).await.unwrap();
            assert_eq!(count, members.len() as i64, "count and members of {rule:?} as of {as_of}");
            members
        }
    };
    let outcome = |code: &str| json!({"field": "last_call_outcome", "op": "in", "value": [code]});
    let listened = json!({"field": "listened_well", "op": "eq", "value": true});
    let not_listened = json!({"field": "listened_well", "op": "eq", "value": false});
    let gratitude = |days: i64| json!({"field": "kimochi_tag", "op": "in", "value": ["gratitude"], "days": days});

    // Back in time: before Yamada's second call and Suzuki's hang-up, before Sato's thanks.
    assert_eq!(members(outcome("no_contact"), at("2026-10-27 12:00")).await, vec![yamada]);
    assert_eq!(members(outcome("hung_up"), at("2026-10-27 12:00")).await, vec![]);
    assert_eq!(members(listened.clone(), at("2026-10-09 12:00")).await, vec![]);
    assert_eq!(members(not_listened.clone(), at("2026-10-09 12:00")).await, vec![yamada, sato, suzuki]);
    assert_eq!(members(gratitude(30), at("2026-10-05 12:00")).await, vec![]);
    assert_eq!(members(gratitude(3), at("2026-10-12 12:00")).await, vec![sato]);
    let attempts = |op: &str, n: i64| json!({"field": "call_attempts", "op": op, "value": n, "days": 2});
    assert_eq!(members(attempts("gte", 1), at("2026-10-26 12:00")).await, vec![yamada]);
    assert_eq!(members(attempts("lt", 1), at("2026-10-26 12:00")).await, vec![sato, suzuki]);

    // API contact: Sato hangs up; the last reached call (the thanked one) still listened well.
    store.contact_create(a, &contact(sato, "2026-10-31 10:00", Some(Outcome::HungUp))).await.unwrap();
    assert_eq!(members(outcome("hung_up"), now()).await, vec![sato, suzuki]);
    assert_eq!(members(listened.clone(), now()).await, vec![sato]);

    // Import: Suzuki's call reached and thanked, then re-imported as unanswered.
    let import = |outcome: Outcome, tags: Vec<KimochiTag>| ContactImport {
        external_id: ExternalId::parse("K-SUZUKI").unwrap(),
        customer_external_id: ExternalId::parse("C3").unwrap(),
        channel: Channel::Phone,
        direction: Direction::Outbound,
        started_at: at("2026-10-31 11:00"),
        ended_at: Some(at("2026-10-31 11:06")),
        reason: None,
        outcome: Some(outcome),
        text: "ありがとう".into(),
        thread_external_id: None,
        agent_login: None,
        tags: ContactTags { kimochi: tags, ..Default::default() },
    };
    let rows = [Line { line: 2, record: import(Outcome::Resolved, vec![KimochiTag::Gratitude]) }];
    store.import_contacts(a, &rows, ImportOptions::default()).await.unwrap();
    assert_eq!(members(outcome("resolved"), now()).await, vec![suzuki]);
    assert_eq!(members(listened.clone(), now()).await, vec![sato, suzuki]);
    assert_eq!(members(gratitude(7), now()).await, vec![suzuki]);
    let rows = [Line { line: 2, record: import(Outcome::NoContact, vec![]) }];
    assert_eq!(store.import_contacts(a, &rows, ImportOptions::default()).await.unwrap().updated, 1);
    assert_eq!(members(outcome("no_contact"), now()).await, vec![yamada, suzuki]);
    assert_eq!(members(listened.clone(), now()).await, vec![sato]);
    // A re-import keeps the tags the contact was stored with (the importer tags new text only).
    assert_eq!(members(gratitude(7), now()).await, vec![suzuki]);

    // Campaign call outcome: Yamada reached on the operator's list (no length, no tags).
    let created = store
        .campaign_create(
            a,
            &kimochi_domain::campaign::NewCampaign {
                name: "フォロー".into(),
                purpose: "テスト".into(),
                members: vec![yamada],
                holdout_fraction: 0.0,
                seed: 1,
                steps: vec![kimochi_domain::campaign::CampaignStep::Call {
                    condition: kimochi_domain::campaign::CallCondition::Everyone,
                    rules: Default::default(),
                }],
                hearing_set: None,
            },
            now(),
        )
        .await
        .unwrap();
    let daytime = at("2026-11-01 11:00");
    store.campaign_run(a, daytime).await.unwrap();
    let task =
        store.campaign_call_next(a, "user:1", None, daytime, time::Duration::minutes(15)).await.unwrap().unwrap();
    assert_eq!(task.customer_id, yamada);
    let attempt = kimochi_store::CallAttempt {
        outcome: kimochi_domain::campaign::CallOutcome::Reached,
        text: "折り返し不要".into(),
        tags: Default::default(),
        agent: None,
        at: daytime,
        hearing: None,
    };
    store.campaign_call_record(a, created.id, task.member_id, "user:1", &attempt).await.unwrap();
    let later = at("2026-11-02 09:00");
    assert_eq!(members(outcome("resolved"), later).await, vec![yamada]);
    assert_eq!(members(outcome("no_contact"), later).await, vec![suzuki]);
    assert_eq!(members(not_listened.clone(), later).await, vec![yamada, suzuki]);
    assert_eq!(
        members(json!({"field": "call_attempts", "op": "gte", "value": 3, "days": 30}), later).await,
        vec![yamada]
    );

    // Email tracking events are not calls: Yamada's last call stays the reached one.
    let opened = NewContact { channel: Channel::Email, ..contact(yamada, "2026-11-01 12:00", Some(Outcome::Clicked)) };
    store.contact_create(a, &opened).await.unwrap();
    assert_eq!(members(outcome("resolved"), later).await, vec![yamada]);

    // Bulk load: a new customer with an unanswered call and a thanked one.
    let mut chunk = BulkChunk::default();
    chunk.customers.push(profile("B1", "一括 太郎", "イッカツ", "090-2222-0001"));
    for (when, outcome, tags) in [
        ("2026-10-20 10:00", Outcome::Resolved, vec![KimochiTag::Gratitude]),
        ("2026-10-30 10:00", Outcome::NoContact, vec![]),
    ] {
        chunk.contacts.push(BulkContact {
            customer: 0,
            channel: Channel::Phone,
            direction: Direction::Outbound,
            started_at: at(when),
            ended_at: Some(at(when) + time::Duration::minutes(1)),
            agent_id: None,
            reason: None,
            outcome: Some(outcome),
            text: "架電".into(),
            thread_of: None,
            tags: ContactTags { kimochi: tags, ..Default::default() },
        });
    }
    // The same web visit twice (as a generator or an export may repeat it) is one visit.
    for _ in 0..2 {
        chunk.behavior_events.push(kimochi_domain::import::BulkBehaviorEvent {
            customer: 0,
            occurred_at: at("2026-10-31 09:00"),
            detail: kimochi_domain::import::BulkEventDetail::Web { url: "https://example.jp/bulk".into() },
        });
    }
    store.bulk_load(a, &chunk, now()).await.unwrap();
    let loaded = store.customer_search(a, &CustomerQuery { text: "B1".into(), limit: 5 }).await.unwrap()[0].id;
    let visits = |n: i64| json!({"field": "web_visits", "op": "gte", "value": n, "url": "/bulk", "days": 30});
    assert_eq!(members(visits(1), later).await, vec![loaded]);
    assert_eq!(members(visits(2), later).await, Vec::<CustomerId>::new());
    assert_eq!(members(outcome("no_contact"), later).await, vec![suzuki, loaded]);
    assert_eq!(members(listened.clone(), later).await, vec![sato, loaded]);
    assert_eq!(members(gratitude(30), later).await, vec![sato, suzuki, loaded]);
    assert_eq!(members(gratitude(5), later).await, vec![suzuki]);
}

/// The SQL that takes a database back to migration 16, for the backfill case below: the call
/// facts back in their own table, the segment row's columns and indexes gone.
pub(crate) const BEFORE_MIGRATION_17: &[&str] = &[
    "CREATE TABLE customer_call_facts AS SELECT tenant_id, customer_id, last_call_at, last_call_outcome, \
     last_reached_at, listened_well FROM customer_stats WHERE last_call_at IS NOT NULL",
    "DROP INDEX customer_stats_call_outcome",
    "DROP INDEX customer_stats_listened",
    "DROP INDEX customer_stats_last_call",
    "DROP INDEX customer_stats_do_not_call",
    "DROP INDEX customer_stats_no_contact",
    "CREATE INDEX customer_stats_no_contact ON customer_stats (tenant_id, consecutive_no_contact, expectation_notes, gap_notes)",
    "ALTER TABLE customer_stats DROP COLUMN consent_phone",
    "ALTER TABLE customer_stats DROP COLUMN consent_email",
    "ALTER TABLE customer_stats DROP COLUMN consent_dm",
    "ALTER TABLE customer_stats DROP COLUMN do_not_call",
    "ALTER TABLE customer_stats DROP COLUMN last_call_at",
    "ALTER TABLE customer_stats DROP COLUMN last_call_outcome",
    "ALTER TABLE customer_stats DROP COLUMN last_reached_at",
    "ALTER TABLE customer_stats DROP COLUMN listened_well",
    "DELETE FROM _sqlx_migrations WHERE version = 17",
];

/// The SQL that takes a database at migration 16 back to migration 13, for the backfill case
/// below (after [`BEFORE_MIGRATION_17`]).
pub(crate) const BEFORE_MIGRATION_14: &[&str] = &[
    "DROP TABLE customer_call_facts",
    "DROP TABLE customer_tag_facts",
    "DROP INDEX contacts_calls",
    "DROP INDEX customer_stats_no_contact",
    "DROP INDEX customer_stats_last_order",
    "DROP INDEX customer_scores_stage",
    "DROP INDEX customer_scores_dormant",
    "DELETE FROM _sqlx_migrations WHERE version = 14",
];

/// Migration 14 (or 17) on a database that already holds contacts: the facts are computed (or
/// moved into the segment row) when it is opened, so the counts read the same as on a database
/// that always had them, and the segment row's flags follow later profile changes.
pub(crate) async fn segment_facts_are_backfilled_by_migration_14(url: String, downgrade: impl AsyncFnOnce(&str)) {
    let store = kimochi_store::open(&url).await.unwrap();
    let p = population(&store).await;
    drop(store);
    downgrade(&url).await;
    let store = kimochi_store::open(&url).await.unwrap();
    let cases: Vec<(serde_json::Value, Vec<CustomerId>)> = vec![
        (json!({"field": "last_call_outcome", "op": "in", "value": ["no_contact"]}), vec![p.yamada]),
        (json!({"field": "listened_well", "op": "eq", "value": true}), vec![p.sato]),
        (json!({"field": "kimochi_tag", "op": "in", "value": ["gratitude"], "days": 30}), vec![p.sato]),
        (json!({"field": "unmet_expectation", "op": "eq", "value": true}), vec![p.yamada]),
        (json!({"field": "do_not_call", "op": "eq", "value": true}), vec![p.suzuki]),
        (
            json!({"all": [{"field": "consent_phone", "op": "eq", "value": false}, {"field": "last_call_outcome", "op": "in", "value": ["hung_up"]}]}),
            vec![p.suzuki],
        ),
    ];
    for (value, expected) in &cases {
        let rule = rule(value.clone());
        assert_eq!(&store.segment_members(p.a, &rule, now(), None, 10).await.unwrap(), expected, "{value}");
        assert_eq!(store.segment_count(p.a, &rule, now()).await.unwrap(), expected.len() as i64, "{value}");
    }
    // A profile change reaches the segment row in the same write.
    let mut yamada = store.customer_get(p.a, p.yamada).await.unwrap();
    yamada.profile.do_not_call = true;
    store.customer_update(p.a, p.yamada, &yamada.profile, now()).await.unwrap();
    for (value, expected) in [
        (json!({"field": "do_not_call", "op": "eq", "value": true}), vec![p.yamada, p.suzuki]),
        (json!({"not": {"field": "do_not_call", "op": "eq", "value": true}}), vec![p.sato]),
        (
            json!({"all": [{"field": "unmet_expectation", "op": "eq", "value": true}, {"field": "do_not_call", "op": "eq", "value": false}]}),
            vec![],
        ),
    ] {
        let rule = rule(value.clone());
        assert_eq!(store.segment_members(p.a, &rule, now(), None, 10).await.unwrap(), expected, "{value}");
        assert_eq!(store.segment_count(p.a, &rule, now()).await.unwrap(), expected.len() as i64, "{value}");
    }
}

fn choice_question(label: &str, options: &[&str], soft_attribute: &str) -> kimochi_domain::hearing::NewHearingQuestion {
    use kimochi_domain::hearing::{AnswerKind, NewHearingQuestion};
    NewHearingQuestion {
        id: None,
        label: label.into(),
        kind: AnswerKind::Choice { options: options.iter().map(|o| (*o).to_owned()).collect() },
        soft_attribute: soft_attribute.into(),
        hint: String::new(),
        weight: 10,
    }
}

/// Hearing answers (the latest per question or attribute, and the status), survey answers, web
/// visits and email engagement, over the population of `population` with answers and events
/// planted around `now()` (2026-11-01).
pub(crate) async fn segments_on_hearing_answers_and_behaviour(store: Arc<dyn Store>) {
    use kimochi_domain::behavior::{CustomerKey, EventDetail, EventImport};
    use kimochi_domain::hearing::{AnswerKind, AnswerValue, HearingCapture, NewHearingAnswer, NewHearingSet};
    let p = population(&store).await;
    let (yamada, sato, suzuki) = (p.yamada, p.sato, p.suzuki);
    let mut budget = choice_question("月の予算", &[], "monthly_budget");
    budget.kind = AnswerKind::Number { min: Some(0.0), max: None, unit: Some("円".into()) };
    let mut wedding = choice_question("ご結婚の予定日", &[], "wedding_date");
    wedding.kind = AnswerKind::Date;
    let mut family = choice_question("ご家族の様子", &[], "life_plan");
    family.kind = AnswerKind::Text { max_chars: 100 };
    let basic = NewHearingSet {
        name: "基本".into(),
        description: String::new(),
        default_inbound: true,
        questions: vec![
            choice_question("投資意欲", &["高い", "普通", "低い"], "investment_appetite"),
            budget,
            wedding,
            family,
        ],
    };
    let basic = store.hearing_set_create(p.a, &basic, now()).await.unwrap();
    let again = NewHearingSet {
        name: "再確認".into(),
        description: String::new(),
        default_inbound: false,
        questions: vec![choice_question("投資意欲（再確認）", &["高い", "低い"], "investment_appetite")],
    };
    let again = store.hearing_set_create(p.a, &again, now()).await.unwrap();
    let foreign = NewHearingSet {
        name: "他社".into(),
        description: String::new(),
        default_inbound: true,
        questions: vec![choice_question("投資意欲", &["高い"], "investment_appetite")],
    };
    let foreign = store.hearing_set_create(p.b, &foreign, now()).await.unwrap();
    let q = |i: usize| basic.questions[i].id.0;
    let date = |text: &str| AnswerValue::Date(kimochi_domain::datetime::parse_date("date", text).unwrap());
    let hear = |customer: CustomerId,
                when: &str,
                set: &kimochi_domain::hearing::HearingSet,
                lines: Vec<(usize, bool, Option<AnswerValue>)>| {
        let store = store.clone();
        let contact = contact(customer, when, Some(Outcome::Resolved));
        let capture = HearingCapture {
            set_id: set.id,
            answers: lines
                .into_iter()
                .map(|(i, asked, value)| NewHearingAnswer { question_id: set.questions[i].id, asked, value })
                .collect(),
        };
        async move { store.contact_create_with_hearing(p.a, &contact, &capture).await.unwrap() }
    };
    hear(
        yamada,
        "2026-09-01 10:00",
        &basic,
        vec![
            (0, true, Some(AnswerValue::Choice("低い".into()))),
            (1, true, Some(AnswerValue::Number(3000.0))),
            (2, true, Some(date("2027-03-01"))),
            (3, false, None),
        ],
    )
    .await;
    hear(yamada, "2026-10-01 10:00", &again, vec![(0, true, Some(AnswerValue::Choice("高い".into())))]).await;
    hear(
        sato,
        "2026-10-15 10:00",
        &basic,
        vec![
            (0, true, None),
            (1, true, Some(AnswerValue::Number(12000.0))),
            (2, true, Some(date("2026-06-01"))),
            (3, false, None),
        ],
    )
    .await;

    let by = |external_id: &str| CustomerKey::ExternalId(ExternalId::parse(external_id).unwrap());
    let survey = |key: &str, answer: &str| EventDetail::Survey {
        survey: "満足度調査".into(),
        question: key.into(),
        answer: answer.into(),
    };
    let web = |url: &str| EventDetail::Web { url: url.into(), referrer: None };
    let rows: Vec<Line<EventImport>> = [
        (by("C1"), "2026-10-20 10:00", survey("NPS", "10")),
        (by("C2"), "2026-10-20 10:00", survey("NPS", "3")),
        (by("C2"), "2026-05-01 10:00", survey("NPS", "9.5")),
        (by("C3"), "2026-10-20 10:00", survey("NPS", "n/a")),
        (by("C3"), "2026-10-21 10:00", survey("満足度", "とても良い")),
        (by("C1"), "2026-10-25 10:00", web("https://shop.example.jp/Pricing?x=1")),
        (by("C1"), "2026-10-26 10:00", web("https://shop.example.jp/Pricing?x=2")),
        (by("C1"), "2026-10-27 10:00", web("https://shop.example.jp/Pricing?x=3")),
        (by("C2"), "2026-10-30 10:00", web("https://shop.example.jp/pricing")),
        (by("C2"), "2026-10-30 11:00", web("https://shop.example.jp/100%_off")),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (customer, when, detail))| line(i as u64 + 2, EventImport { customer, occurred_at: at(when), detail }))
    .collect();
    assert_eq!(store.import_events(p.a, &rows, ImportOptions::default()).await.unwrap().inserted, 10);
    let clicked = NewContact {
        channel: Channel::Email,
        ended_at: None,
        reason: None,
        text: String::new(),
        ..contact(sato, "2026-08-01 10:00", Some(Outcome::Clicked))
    };
    store.contact_create(p.a, &clicked).await.unwrap();

    let cases: Vec<(serde_json::Value, Vec<CustomerId>)> = vec![
        // The latest answer to one question, or to any question of the attribute.
        (json!({"field": "hearing_choice", "op": "in", "value": ["低い"], "question": q(0)}), vec![yamada]),
        (
            json!({"field": "hearing_choice", "op": "in", "value": ["高い"], "attribute": "investment_appetite"}),
            vec![yamada],
        ),
        (json!({"field": "hearing_choice", "op": "in", "value": ["低い"], "attribute": "investment_appetite"}), vec![]),
        (
            json!({"not": {"field": "hearing_choice", "op": "in", "value": ["高い"], "attribute": "investment_appetite"}}),
            vec![sato, suzuki],
        ),
        // Answered, asked without an answer, not asked yet.
        (json!({"field": "hearing_status", "op": "in", "value": ["answered"], "question": q(0)}), vec![yamada]),
        (json!({"field": "hearing_status", "op": "in", "value": ["asked_unanswered"], "question": q(0)}), vec![sato]),
        (json!({"field": "hearing_status", "op": "in", "value": ["not_asked"], "question": q(0)}), vec![suzuki]),
        (
            json!({"field": "hearing_status", "op": "in", "value": ["not_asked"], "question": q(3)}),
            vec![yamada, sato, suzuki],
        ),
        (
            json!({"field": "hearing_status", "op": "in", "value": ["not_asked"], "attribute": "investment_appetite"}),
            vec![suzuki],
        ),
        // Numbers and dates (yamada's wedding is 120 days after 2026-11-01, sato's date is past).
        (json!({"field": "hearing_number", "op": "gte", "value": 5000, "question": q(1)}), vec![sato]),
        (json!({"field": "hearing_number", "op": "lt", "value": 5000, "question": q(1)}), vec![yamada]),
        (
            json!({"field": "hearing_number", "op": "lte", "value": 12000, "attribute": "monthly_budget"}),
            vec![yamada, sato],
        ),
        (
            json!({"all": [
                {"field": "hearing_days_until", "op": "gte", "value": 0, "attribute": "wedding_date"},
                {"field": "hearing_days_until", "op": "lte", "value": 182, "attribute": "wedding_date"},
            ]}),
            vec![yamada],
        ),
        (json!({"field": "hearing_days_until", "op": "eq", "value": 120, "question": q(2)}), vec![yamada]),
        (json!({"field": "hearing_days_until", "op": "gt", "value": 120, "question": q(2)}), vec![]),
        (json!({"field": "hearing_days_until", "op": "lt", "value": 0, "question": q(2)}), vec![sato]),
        // Survey answers: any answer in the window; only plain numbers compare.
        (json!({"field": "survey_answer", "op": "gte", "value": 9, "key": "NPS", "days": 90}), vec![yamada]),
        (json!({"field": "survey_answer", "op": "lte", "value": 5, "key": "NPS", "days": 90}), vec![sato]),
        (json!({"field": "survey_answer", "op": "lt", "value": 100, "key": "NPS", "days": 90}), vec![yamada, sato]),
        (json!({"field": "survey_answer", "op": "gte", "value": 9, "key": "NPS", "days": 365}), vec![yamada, sato]),
        (
            json!({"field": "survey_answer", "op": "in", "value": ["n/a", "とても良い"], "key": "NPS", "days": 30}),
            vec![suzuki],
        ),
        (
            json!({"field": "survey_answer", "op": "in", "value": ["とても良い"], "key": "満足度", "days": 30}),
            vec![suzuki],
        ),
        // Web visits: URL contains, ASCII case ignored, % and _ taken literally.
        (json!({"field": "web_visits", "op": "gte", "value": 3, "url": "/pricing", "days": 30}), vec![yamada]),
        (json!({"field": "web_visits", "op": "gte", "value": 1, "url": "/PRICING", "days": 30}), vec![yamada, sato]),
        (json!({"field": "web_visits", "op": "gte", "value": 1, "url": "/pricing", "days": 3}), vec![sato]),
        (json!({"field": "web_visits", "op": "eq", "value": 0, "url": "/pricing", "days": 30}), vec![suzuki]),
        (json!({"field": "web_visits", "op": "gte", "value": 1, "url": "_", "days": 30}), vec![sato]),
        (json!({"field": "web_visits", "op": "gte", "value": 1, "url": "0%", "days": 30}), vec![sato]),
        // Email engagement: email-channel contacts with the outcome in the window.
        (json!({"field": "email_event", "op": "in", "value": ["opened"], "days": 30}), vec![yamada]),
        (json!({"field": "email_event", "op": "in", "value": ["clicked"], "days": 30}), vec![]),
        (json!({"field": "email_event", "op": "in", "value": ["opened", "clicked"], "days": 120}), vec![yamada, sato]),
    ];
    for (value, expected) in cases {
        let rule = rule(value.clone());
        let got = store.segment_members(p.a, &rule, now(), None, 100).await.unwrap();
        assert_eq!(got, expected, "{value}");
        assert_eq!(store.segment_count(p.a, &rule, now()).await.unwrap(), expected.len() as i64, "{value}");
    }
    // Before the second answer was heard, yamada's latest appetite was 低い.
    let low =
        rule(json!({"field": "hearing_choice", "op": "in", "value": ["低い"], "attribute": "investment_appetite"}));
    assert_eq!(store.segment_members(p.a, &low, at("2026-09-15 09:00"), None, 10).await.unwrap(), vec![yamada]);

    // Refused, naming the node: another tenant's question, an unknown attribute, a test of the
    // wrong kind for the question, a choice that is not an option.
    let refused = [
        (
            json!({"all": [{"field": "has_phone", "op": "eq", "value": true},
            {"field": "hearing_choice", "op": "in", "value": ["高い"], "question": foreign.questions[0].id.0}]}),
            "all[1].question",
        ),
        (
            json!({"field": "hearing_status", "op": "in", "value": ["answered"], "attribute": "wedding_day"}),
            "attribute",
        ),
        (json!({"not": {"field": "hearing_number", "op": "gte", "value": 1, "question": q(0)}}), "not.field"),
        (json!({"field": "hearing_days_until", "op": "gte", "value": 1, "attribute": "monthly_budget"}), "field"),
        (json!({"field": "hearing_choice", "op": "in", "value": ["高い", "すごく高い"], "question": q(0)}), "value[1]"),
    ];
    for (value, path) in refused {
        match store.segment_count(p.a, &rule(value.clone()), now()).await {
            Err(StoreError::InvalidRule(error)) => assert_eq!(error.path, path, "{value}: {error}"),
            other => panic!("{value}: {other:?}"),
        }
    }
    // Tenant b's own question is fine there (and selects nobody: no answers).
    let theirs = rule(
        json!({"field": "hearing_status", "op": "in", "value": ["answered"], "question": foreign.questions[0].id.0}),
    );
    assert_eq!(store.segment_count(p.b, &theirs, now()).await.unwrap(), 0);
    let a_segment = NewSegment {
        name: "他社の質問".into(),
        description: String::new(),
        rule: rule(json!(
            {"field": "hearing_choice", "op": "in", "value": ["高い"], "question": foreign.questions[0].id.0}
        )),
    };
    assert!(matches!(store.segment_create(p.a, &a_segment, None, now()).await, Err(StoreError::InvalidRule(_))));
}

/// The demo's bulk loader writes hearing checklists (customer, operator and time taken from
/// their contact) and behavioural events, which the reports and segments then read.
pub(crate) async fn bulk_load_writes_hearing_answers_and_events(store: Arc<dyn Store>) {
    use kimochi_domain::hearing::{AnswerValue, NewHearingSet};
    use kimochi_domain::import::{BulkBehaviorEvent, BulkEventDetail, BulkHearingAnswer};
    let t = tenant(&store, "acme").await;
    let operator = NewUser {
        login: "op01".into(),
        display_name: "op01 さん".into(),
        role: Role::Agent,
        team_id: None,
        password_hash: "$argon2id$unused".into(),
    };
    let operator = store.user_create(t, &operator, now()).await.unwrap().id;
    let set = NewHearingSet {
        name: "基本".into(),
        description: String::new(),
        default_inbound: true,
        questions: vec![choice_question("投資意欲", &["高い", "低い"], "investment_appetite")],
    };
    let set = store.hearing_set_create(t, &set, now()).await.unwrap();
    let mut chunk = BulkChunk::default();
    for index in 0..2 {
        chunk.customers.push(profile(
            &format!("B{index}"),
            &format!("一括 {index}"),
            "イッカツ",
            &format!("090000000{index}"),
        ));
        chunk.contacts.push(BulkContact {
            customer: index,
            channel: Channel::Phone,
            direction: Direction::Inbound,
            started_at: at("2026-10-20 10:00"),
            ended_at: None,
            agent_id: Some(operator),
            reason: None,
            outcome: Some(Outcome::Resolved),
            text: "受電".into(),
            thread_of: None,
            tags: Default::default(),
        });
    }
    chunk.hearing_answers = vec![
        BulkHearingAnswer {
            contact: 0,
            set_id: set.id,
            question_id: set.questions[0].id,
            asked: true,
            value: Some(AnswerValue::Choice("高い".into())),
        },
        BulkHearingAnswer { contact: 1, set_id: set.id, question_id: set.questions[0].id, asked: false, value: None },
    ];
    chunk.behavior_events = vec![
        BulkBehaviorEvent {
            customer: 1,
            occurred_at: at("2026-10-25 10:00"),
            detail: BulkEventDetail::Web { url: "https://shop.example.jp/serum".into() },
        },
        BulkBehaviorEvent {
            customer: 1,
            occurred_at: at("2026-10-26 10:00"),
            detail: BulkEventDetail::Survey { survey: "定期便".into(), question: "NPS".into(), answer: "9".into() },
        },
    ];
    store.bulk_load(t, &chunk, now()).await.unwrap();
    let mut second = chunk.clone();
    for (index, customer) in second.customers.iter_mut().enumerate() {
        customer.external_id = Some(ExternalId::parse(&format!("B2-{index}")).unwrap());
        customer.phones = vec![PhoneNumber::parse(&format!("080000000{index}")).unwrap()];
    }
    store.bulk_load(t, &second, now()).await.unwrap();

    let high =
        rule(json!({"field": "hearing_choice", "op": "in", "value": ["高い"], "question": set.questions[0].id.0}));
    let members = store.segment_members(t, &high, now(), None, 10).await.unwrap();
    assert_eq!(members.len(), 2, "the first customer of each chunk");
    let first = members[0];
    let karte = store.karte(t, first, KarteLimits::default()).await.unwrap();
    let answers = store.hearing_answers_of_contact(t, karte.recent_contacts[0].id).await.unwrap();
    assert_eq!(answers.len(), 1);
    assert_eq!((answers[0].customer_id, answers[0].agent_id), (first, Some(operator)));
    assert_eq!(answers[0].answered_at, at("2026-10-20 10:00"));
    let rates = store.hearing_asked_rates(t, at("2026-10-01 00:00"), at("2026-11-01 00:00")).await.unwrap();
    assert_eq!(rates.iter().map(|r| (r.shown, r.asked, r.answered)).collect::<Vec<_>>(), [(4, 2, 2)]);
    let not_asked = rule(
        json!({"field": "hearing_status", "op": "in", "value": ["not_asked"], "attribute": "investment_appetite"}),
    );
    let visitors = rule(json!({"field": "web_visits", "op": "gte", "value": 1, "url": "serum", "days": 30}));
    let promoters = rule(json!({"field": "survey_answer", "op": "gte", "value": 9, "key": "NPS", "days": 30}));
    let quiet = store.segment_members(t, &not_asked, now(), None, 10).await.unwrap();
    assert_eq!(quiet.len(), 2);
    assert_eq!(store.segment_members(t, &visitors, now(), None, 10).await.unwrap(), quiet);
    assert_eq!(store.segment_members(t, &promoters, now(), None, 10).await.unwrap(), quiet);
    assert_eq!(store.behavior_event_list(t, quiet[0], 10).await.unwrap().len(), 2);
}
