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
    store.bulk_load(a, &chunk, now()).await.unwrap();
    let loaded = store.customer_search(a, &CustomerQuery { text: "B1".into(), limit: 5 }).await.unwrap()[0].id;
    assert_eq!(members(outcome("no_contact"), later).await, vec![suzuki, loaded]);
    assert_eq!(members(listened.clone(), later).await, vec![sato, loaded]);
    assert_eq!(members(gratitude(30), later).await, vec![sato, suzuki, loaded]);
    assert_eq!(members(gratitude(5), later).await, vec![suzuki]);
}

/// The SQL that takes a database back to migration 13, for the backfill case below.
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

/// Migration 14 on a database that already holds contacts: the facts are computed when it is
/// opened, so the counts read the same as on a database that always had them.
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
    ];
    for (value, expected) in cases {
        let rule = rule(value.clone());
        assert_eq!(store.segment_members(p.a, &rule, now(), None, 10).await.unwrap(), expected, "{value}");
        assert_eq!(store.segment_count(p.a, &rule, now()).await.unwrap(), expected.len() as i64, "{value}");
    }
}
