//! The storage conformance suite: every case runs on SQLite (a fresh file) and on PostgreSQL (a
//! fresh database on `KIMOCHI_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`,
//! dropped afterwards). A missing PostgreSQL fails the PostgreSQL cases loudly; it is never skipped.

// Tests may panic on the unexpected and read the clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use kimochi_domain::datetime::parse_datetime;
use kimochi_domain::import::*;
use kimochi_domain::*;
use kimochi_store::*;
use sqlx::Connection;
use time::OffsetDateTime;

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name(case: &str) -> String {
    format!("kimochi_test_{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst), case)
}

async fn with_sqlite<F, Fut>(case: &str, body: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = std::env::temp_dir().join(unique_name(case));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("kimochi.db").display());
    let store = kimochi_store::open(&url).await.unwrap();
    body(store).await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn postgres_admin_url() -> String {
    std::env::var("KIMOCHI_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

async fn with_postgres<F, Fut>(case: &str, body: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let admin_url = postgres_admin_url();
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap_or_else(|error| {
        panic!("PostgreSQL is required for this test and is not reachable at {admin_url}: {error}")
    });
    let database = unique_name(case);
    sqlx::query(&format!("CREATE DATABASE {database}")).execute(&mut admin).await.unwrap();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    let store = kimochi_store::open(&format!("{base}/{database}")).await.unwrap();
    // Run the body in its own task so that a failed assertion still lets us drop the database.
    let outcome = tokio::spawn(body(store)).await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).execute(&mut admin).await.unwrap();
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// Declares each case once and runs it on both engines.
macro_rules! conformance {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $case() { super::with_sqlite(stringify!($case), super::$case).await; })+
        }
        mod postgres {
            $(#[tokio::test] async fn $case() { super::with_postgres(stringify!($case), super::$case).await; })+
        }
    };
}

conformance!(
    tenants_and_users,
    scoring_aggregates_and_scores,
    customers_crud_and_search,
    every_read_is_tenant_scoped,
    orders_keep_aggregates_current,
    contacts_threads_and_no_contact_streaks,
    karte_in_one_read,
    notes_and_faq,
    imports_are_idempotent_and_all_or_nothing,
    bulk_load_and_counts,
    sessions_tokens_and_audit,
    scores_page_by_rfm_cell,
    crisis_words_are_per_tenant,
    alerts_are_written_with_their_contacts,
    webhook_outbox_retries_and_delivers_once,
    board_counts_today,
    voc_reads_are_tenant_and_period_scoped,
    voc_reads_of_subscribers_stop_at_the_last_delivery,
    users_change_role_team_and_deactivate,
    stage_thresholds_are_per_tenant,
    email_enqueue_checks_consent_all_or_nothing,
    email_claim_send_retry_bounce_once,
    email_tracking_by_token,
    behavior_events_import_all_or_nothing_and_idempotent,
    campaign_snapshot_and_holdout_are_reproducible,
    campaign_steps_email_then_call_those_who_did_not_open,
    campaign_call_leases_are_exclusive_and_honour_consent,
    campaign_call_retries_spacing_attempts_and_hours,
    campaign_results_facts_per_member,
    campaign_emails_go_to_the_outbox_once,
    campaign_hearing_points_are_answered_with_the_call,
    segments_select_on_every_field_family,
    email_events_do_not_count_as_calls,
    segment_facts_follow_every_write_path,
    saved_segments_crud,
    segments_on_hearing_answers_and_behaviour,
    bulk_load_writes_hearing_answers_and_events,
    hearing_sets_crud_default_and_tenancy,
    hearing_answers_are_stored_with_their_contact,
    scoring_rows_read_in_id_ranges,
    scores_replace_whole_tenant_in_one_transaction,
    scores_follow_their_customers,
);

#[path = "conformance/alerts.rs"]
mod alerts;
use alerts::*;

#[path = "conformance/admin.rs"]
mod admin;
use admin::*;

#[path = "conformance/email.rs"]
mod email;
use email::*;
#[path = "conformance/campaigns.rs"]
mod campaigns;
use campaigns::*;
#[path = "conformance/segments.rs"]
mod segments;
use segments::*;
#[path = "conformance/hearing.rs"]
mod hearing;
use hearing::*;
#[path = "conformance/scores.rs"]
mod scores;
use scores::*;

fn at(text: &str) -> OffsetDateTime {
    parse_datetime("at", text).unwrap()
}

fn now() -> OffsetDateTime {
    at("2026-11-01 09:00")
}

async fn tenant(store: &Arc<dyn Store>, slug: &str) -> TenantId {
    store.tenant_create(&TenantSlug::parse(slug).unwrap(), slug, now()).await.unwrap().id
}

fn profile(external_id: &str, name: &str, kana: &str, phone: &str) -> CustomerProfile {
    let mut profile = CustomerProfile::named(name).unwrap();
    profile.external_id = Some(ExternalId::parse(external_id).unwrap());
    profile.kana = Some(kana.to_owned());
    profile.phones = vec![PhoneNumber::parse(phone).unwrap()];
    profile.consent.phone = true;
    profile
}

async fn product(
    store: &Arc<dyn Store>,
    tenant: TenantId,
    external_id: &str,
    kind: ProductKind,
    price: i64,
) -> Product {
    store
        .product_create(
            tenant,
            &NewProduct {
                external_id: Some(ExternalId::parse(external_id).unwrap()),
                name: format!("商品{external_id}"),
                kind,
                category: None,
                price,
            },
        )
        .await
        .unwrap()
}

fn contact(customer: CustomerId, started_at: &str, outcome: Option<Outcome>) -> NewContact {
    NewContact {
        external_id: None,
        customer_id: customer,
        channel: Channel::Phone,
        direction: Direction::Outbound,
        started_at: at(started_at),
        ended_at: Some(at(started_at) + time::Duration::minutes(5)),
        agent_id: None,
        reason: Some("定期便の案内".into()),
        outcome,
        text: "お客様より：乾燥が気にならなくなった".into(),
        thread_of: None,
        tags: Default::default(),
    }
}

async fn tenants_and_users(store: Arc<dyn Store>) {
    let acme = tenant(&store, "acme").await;
    let duplicate = store.tenant_create(&TenantSlug::parse("acme").unwrap(), "again", now()).await;
    assert!(matches!(duplicate, Err(StoreError::Conflict(_))), "{duplicate:?}");
    assert_eq!(store.tenant_by_slug("acme").await.unwrap().id, acme);
    assert!(matches!(store.tenant_by_slug("nope").await, Err(StoreError::NotFound("tenant"))));
    let team = store.team_create(acme, "ロイヤル窓口").await.unwrap();
    let user = NewUser {
        login: "op01".into(),
        display_name: "佐藤".into(),
        role: Role::Agent,
        team_id: Some(team.id),
        password_hash: "$argon2id$x".into(),
    };
    let created = store.user_create(acme, &user, now()).await.unwrap();
    assert_eq!(created.role, Role::Agent);
    assert!(matches!(store.user_create(acme, &user, now()).await, Err(StoreError::Conflict(_))));
    let credentials = store.user_credentials(acme, "op01").await.unwrap();
    assert_eq!(credentials.password_hash, "$argon2id$x");
    // Another tenant may use the same login, and cannot see this one's team.
    let other = tenant(&store, "other").await;
    let foreign_team = NewUser { team_id: Some(team.id), ..user.clone() };
    assert!(matches!(
        store.user_create(other, &foreign_team, now()).await,
        Err(StoreError::UnknownReference { field: "team_id" })
    ));
    store.user_create(other, &NewUser { team_id: None, ..user }, now()).await.unwrap();
    assert_eq!(store.user_list(acme).await.unwrap().len(), 1);
    assert!(matches!(store.user_get(other, created.id).await, Err(StoreError::NotFound("user"))));
    let slugs: Vec<String> = store.tenant_list().await.unwrap().into_iter().map(|t| t.slug.to_string()).collect();
    assert_eq!(slugs, vec!["acme", "other"]);
}

async fn customers_crud_and_search(store: Arc<dyn Store>) {
    let t = tenant(&store, "acme").await;
    let mut taro = profile("C001", "山田 太郎", "ヤマダ タロウ", "03-1234-5678");
    taro.emails = vec![Email::parse("Taro@Example.jp").unwrap()];
    taro.attributes.insert("肌タイプ".into(), "乾燥肌".into());
    let taro = store.customer_create(t, &taro, now()).await.unwrap();
    store.customer_create(t, &profile("C002", "山本 花子", "ヤマモト ハナコ", "090-1111-2222"), now()).await.unwrap();
    store.customer_create(t, &profile("C003", "佐藤 一郎", "サトウ イチロウ", "090-3333-4444"), now()).await.unwrap();

    let search = |text: &str| {
        let store = store.clone();
        let text = text.to_owned();
        async move {
            store
                .customer_search(t, &CustomerQuery { text, limit: 20 })
                .await
                .unwrap()
                .into_iter()
                .map(|s| s.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search("やまだ").await, vec!["山田 太郎"]);
    assert_eq!(search("ﾔﾏ").await, vec!["山田 太郎", "山本 花子"]);
    assert_eq!(search("山田　太郎").await, vec!["山田 太郎"]);
    assert_eq!(search("０３（１２３４）５６７８").await, vec!["山田 太郎"]);
    assert_eq!(search("+81 3-1234-5678").await, vec!["山田 太郎"]);
    // Phone searches list by number; name searches by kana.
    assert_eq!(search("090").await, vec!["山本 花子", "佐藤 一郎"]);
    assert_eq!(search("taro@example.JP").await, vec!["山田 太郎"]);
    assert_eq!(search("C003").await, vec!["佐藤 一郎"]);
    assert!(search("鈴木").await.is_empty());

    let got = store.customer_get(t, taro.id).await.unwrap();
    assert_eq!(got.profile.attributes.get("肌タイプ").map(String::as_str), Some("乾燥肌"));
    assert_eq!(got.profile.emails[0].as_str(), "Taro@example.jp");

    let mut changed = got.profile.clone();
    changed.phones = vec![PhoneNumber::parse("080-9999-0000").unwrap()];
    changed.do_not_call = true;
    store.customer_update(t, taro.id, &changed, now()).await.unwrap();
    assert!(search("03-1234").await.is_empty(), "the old phone must leave the index");
    assert_eq!(search("08099990000").await, vec!["山田 太郎"]);
    assert!(store.customer_get(t, taro.id).await.unwrap().profile.do_not_call);

    // Duplicate external id is a conflict, not a second customer.
    let duplicate = store.customer_create(t, &profile("C002", "別人", "ベツジン", "0311112222"), now()).await;
    assert!(matches!(duplicate, Err(StoreError::Conflict(_))), "{duplicate:?}");

    store.customer_delete(t, taro.id).await.unwrap();
    assert!(matches!(store.customer_get(t, taro.id).await, Err(StoreError::NotFound("customer"))));
    assert!(search("やまだ").await.is_empty());
}

async fn every_read_is_tenant_scoped(store: Arc<dyn Store>) {
    let a = tenant(&store, "tenant-a").await;
    let b = tenant(&store, "tenant-b").await;
    let customer =
        store.customer_create(a, &profile("C1", "山田 太郎", "ヤマダ タロウ", "0312345678"), now()).await.unwrap();
    let item = product(&store, a, "P1", ProductKind::Main, 3980).await;
    let order = store
        .order_create(
            a,
            &NewOrder {
                external_id: None,
                customer_id: customer.id,
                ordered_at: now(),
                channel: None,
                ad_medium: None,
                is_subscription: false,
                lines: vec![NewOrderLine { product_id: item.id, quantity: 1, amount: 3980 }],
            },
        )
        .await
        .unwrap();
    let call =
        store.contact_create(a, &contact(customer.id, "2026-10-01 10:00", Some(Outcome::Resolved))).await.unwrap();

    assert!(matches!(store.customer_get(b, customer.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.karte(b, customer.id, KarteLimits::default()).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.order_get(b, order.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.contact_get(b, call.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.product_get(b, item.id).await, Err(StoreError::NotFound(_))));
    assert!(store.customer_search(b, &CustomerQuery { text: "やまだ".into(), limit: 10 }).await.unwrap().is_empty());
    assert!(
        store.customer_search(b, &CustomerQuery { text: "0312345678".into(), limit: 10 }).await.unwrap().is_empty()
    );
    assert!(matches!(
        store.customer_update(b, customer.id, &customer.profile, now()).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(store.customer_delete(b, customer.id).await, Err(StoreError::NotFound(_))));
    // Writes in tenant b that point at tenant a's rows are refused.
    let b_customer =
        store.customer_create(b, &profile("C1", "佐藤 花子", "サトウ ハナコ", "0312345678"), now()).await.unwrap();
    let foreign_line = NewOrder {
        external_id: None,
        customer_id: b_customer.id,
        ordered_at: now(),
        channel: None,
        ad_medium: None,
        is_subscription: false,
        lines: vec![NewOrderLine { product_id: item.id, quantity: 1, amount: 1 }],
    };
    assert!(matches!(store.order_create(b, &foreign_line).await, Err(StoreError::UnknownReference { .. })));
    let mut foreign_thread = contact(b_customer.id, "2026-10-02 10:00", None);
    foreign_thread.thread_of = Some(call.id);
    assert!(matches!(
        store.contact_create(b, &foreign_thread).await,
        Err(StoreError::UnknownReference { field: "thread_of" })
    ));
    let note = NewKimochiNote {
        customer_id: customer.id,
        kind: KimochiKind::Expectation,
        text: "期待".into(),
        captured_by: None,
        captured_at: now(),
        contact_id: None,
        product_id: None,
    };
    assert!(matches!(store.kimochi_note_create(b, &note).await, Err(StoreError::NotFound(_))));
    // Tenant a's data is untouched by all of the above.
    assert_eq!(store.customer_stats(a, customer.id).await.unwrap().order_count, 1);
    assert_eq!(store.tenant_counts(b).await.unwrap(), TenantCounts { customers: 1, ..TenantCounts::default() });
}

async fn orders_keep_aggregates_current(store: Arc<dyn Store>) {
    let t = tenant(&store, "acme").await;
    let customer =
        store.customer_create(t, &profile("C1", "山田 太郎", "ヤマダ タロウ", "0312345678"), now()).await.unwrap();
    let trial = product(&store, t, "TRIAL", ProductKind::Trial, 1980).await;
    let main = product(&store, t, "MAIN", ProductKind::Main, 5980).await;
    assert_eq!(store.customer_stats(t, customer.id).await.unwrap(), CustomerStats::default());
    let order = |when: &str, lines: Vec<NewOrderLine>| NewOrder {
        external_id: None,
        customer_id: customer.id,
        ordered_at: at(when),
        channel: Some(Channel::Phone),
        ad_medium: Some("TV通販".into()),
        is_subscription: false,
        lines,
    };
    let created = store
        .order_create(
            t,
            &order("2026-03-01 10:00", vec![NewOrderLine { product_id: trial.id, quantity: 1, amount: 1980 }]),
        )
        .await
        .unwrap();
    assert_eq!(created.total_amount, 1980);
    assert_eq!(created.lines[0].product_kind, ProductKind::Trial);
    store
        .order_create(
            t,
            &order(
                "2026-05-01 10:00",
                vec![
                    NewOrderLine { product_id: main.id, quantity: 2, amount: 11960 },
                    NewOrderLine { product_id: trial.id, quantity: 1, amount: 0 },
                ],
            ),
        )
        .await
        .unwrap();
    // An order older than the others still moves the first-order date.
    store
        .order_create(
            t,
            &order("2026-01-15 10:00", vec![NewOrderLine { product_id: main.id, quantity: 1, amount: 5980 }]),
        )
        .await
        .unwrap();
    let stats = store.customer_stats(t, customer.id).await.unwrap();
    assert_eq!(stats.order_count, 3);
    assert_eq!(stats.total_amount, 1980 + 11960 + 5980);
    assert_eq!(stats.average_amount(), (1980 + 11960 + 5980) / 3);
    assert_eq!(stats.first_order_at, Some(at("2026-01-15 10:00")));
    assert_eq!(stats.last_order_at, Some(at("2026-05-01 10:00")));
    // Invalid orders write nothing.
    assert!(matches!(store.order_create(t, &order("2026-06-01", vec![])).await, Err(StoreError::Invalid(_))));
    assert!(matches!(
        store
            .order_create(t, &order("2026-06-01", vec![NewOrderLine { product_id: main.id, quantity: 1, amount: -5 }]))
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .order_create(
                t,
                &order("2026-06-01", vec![NewOrderLine { product_id: ProductId(999_999), quantity: 1, amount: 5 }])
            )
            .await,
        Err(StoreError::UnknownReference { .. })
    ));
    assert_eq!(store.customer_stats(t, customer.id).await.unwrap().order_count, 3);
    let listed = store.order_list(t, customer.id, 10).await.unwrap();
    assert_eq!(listed.iter().map(|o| o.lines.len()).collect::<Vec<_>>(), vec![2, 1, 1]);
}

async fn contacts_threads_and_no_contact_streaks(store: Arc<dyn Store>) {
    let t = tenant(&store, "acme").await;
    let customer =
        store.customer_create(t, &profile("C1", "山田 太郎", "ヤマダ タロウ", "0312345678"), now()).await.unwrap();
    let post = NewContact {
        channel: Channel::Sns,
        direction: Direction::Inbound,
        ..contact(customer.id, "2026-10-01 09:00", None)
    };
    let post = store.contact_create(t, &post).await.unwrap();
    assert_eq!(post.thread_id, post.id);
    for (when, outcome) in [
        ("2026-10-02 10:00", Outcome::NoContact),
        ("2026-10-03 10:00", Outcome::Busy),
        ("2026-10-04 10:00", Outcome::NoContact),
    ] {
        let mut attempt = contact(customer.id, when, Some(outcome));
        attempt.thread_of = Some(post.id);
        let created = store.contact_create(t, &attempt).await.unwrap();
        assert_eq!(created.thread_id, post.id, "a reply on another channel joins the thread");
    }
    let stats = store.customer_stats(t, customer.id).await.unwrap();
    assert_eq!(stats.consecutive_no_contact, 3);
    assert_eq!(stats.last_outcome, Some(Outcome::NoContact));
    assert_eq!(stats.contact_count, 4);
    assert_eq!(stats.last_contact_at, Some(at("2026-10-04 10:00")));
    let reached =
        store.contact_create(t, &contact(customer.id, "2026-10-05 10:00", Some(Outcome::Resolved))).await.unwrap();
    assert_eq!(reached.handling_seconds(), Some(300));
    let stats = store.customer_stats(t, customer.id).await.unwrap();
    assert_eq!(stats.consecutive_no_contact, 0);
    assert_eq!(stats.last_outcome, Some(Outcome::Resolved));
    let mut backwards = contact(customer.id, "2026-10-05 10:00", None);
    backwards.ended_at = Some(at("2026-10-05 09:00"));
    assert!(matches!(store.contact_create(t, &backwards).await, Err(StoreError::Invalid(_))));
    let listed = store.contact_list(t, customer.id, 2).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].id, reached.id);
}

async fn karte_in_one_read(store: Arc<dyn Store>) {
    let t = tenant(&store, "acme").await;
    let customer =
        store.customer_create(t, &profile("C1", "山田 花子", "ヤマダ ハナコ", "09012345678"), now()).await.unwrap();
    let main = product(&store, t, "MAIN", ProductKind::Subscription, 4980).await;
    for month in 1..=3 {
        store
            .order_create(
                t,
                &NewOrder {
                    external_id: None,
                    customer_id: customer.id,
                    ordered_at: at(&format!("2026-0{month}-10")),
                    channel: None,
                    ad_medium: None,
                    is_subscription: true,
                    lines: vec![NewOrderLine { product_id: main.id, quantity: 1, amount: 4980 }],
                },
            )
            .await
            .unwrap();
    }
    let call =
        store.contact_create(t, &contact(customer.id, "2026-04-01 10:00", Some(Outcome::Resolved))).await.unwrap();
    store
        .kimochi_note_create(
            t,
            &NewKimochiNote {
                customer_id: customer.id,
                kind: KimochiKind::Expectation,
                text: "乾燥小じわが気になり購入".into(),
                captured_by: None,
                captured_at: at("2026-01-10"),
                contact_id: None,
                product_id: Some(main.id),
            },
        )
        .await
        .unwrap();
    store
        .kimochi_note_create(
            t,
            &NewKimochiNote {
                customer_id: customer.id,
                kind: KimochiKind::Gap,
                text: "思ったほど潤わない".into(),
                captured_by: None,
                captured_at: at("2026-04-01 10:05"),
                contact_id: Some(call.id),
                product_id: None,
            },
        )
        .await
        .unwrap();
    store
        .handover_note_create(
            t,
            &NewHandoverNote {
                customer_id: customer.id,
                kind: HandoverKind::Caution,
                text: "17時以降に架電希望".into(),
                author_id: None,
                created_at: now(),
            },
        )
        .await
        .unwrap();

    let karte = store.karte(t, customer.id, KarteLimits::default()).await.unwrap();
    assert_eq!(karte.customer.profile.name, "山田 花子");
    assert_eq!(karte.stats.order_count, 3);
    assert_eq!(karte.purchases.len(), 1);
    let purchases = &karte.purchases[0];
    assert_eq!((purchases.order_count, purchases.quantity, purchases.total_amount), (3, 3, 14940));
    assert_eq!(purchases.first_at, at("2026-01-10"));
    assert_eq!(purchases.last_at, at("2026-03-10"));
    assert_eq!(karte.recent_orders.len(), 3);
    assert_eq!(karte.recent_orders[0].ordered_at, at("2026-03-10"));
    assert_eq!(karte.recent_contacts.len(), 1);
    assert_eq!(
        karte.kimochi.iter().map(|k| k.kind).collect::<Vec<_>>(),
        vec![KimochiKind::Gap, KimochiKind::Expectation]
    );
    assert_eq!(karte.handover_notes[0].kind, HandoverKind::Caution);
    let limited = store
        .karte(t, customer.id, KarteLimits { orders: 1, contacts: 0, kimochi_notes: 1, handover_notes: 0 })
        .await
        .unwrap();
    assert_eq!((limited.recent_orders.len(), limited.recent_contacts.len(), limited.kimochi.len()), (1, 0, 1));
}

async fn notes_and_faq(store: Arc<dyn Store>) {
    let t = tenant(&store, "acme").await;
    let other = tenant(&store, "other").await;
    let customer =
        store.customer_create(t, &profile("C1", "山田 花子", "ヤマダ ハナコ", "09012345678"), now()).await.unwrap();
    let empty = NewHandoverNote {
        customer_id: customer.id,
        kind: HandoverKind::Handover,
        text: "  ".into(),
        author_id: None,
        created_at: now(),
    };
    assert!(matches!(store.handover_note_create(t, &empty).await, Err(StoreError::Invalid(_))));
    let faq = NewFaq {
        title: "定期便の解約方法".into(),
        body: "お電話で承ります。".into(),
        category: Some("定期便".into()),
        tags: vec!["解約".into()],
    };
    let created = store.faq_create(t, &faq, now()).await.unwrap();
    assert_eq!(store.faq_get(t, created.id).await.unwrap().tags, vec!["解約"]);
    assert!(matches!(store.faq_get(other, created.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.faq_update(other, created.id, &faq, now()).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.faq_delete(other, created.id).await, Err(StoreError::NotFound(_))));
    let updated =
        store.faq_update(t, created.id, &NewFaq { title: "定期便の解約・休止".into(), ..faq }, now()).await.unwrap();
    assert_eq!(updated.title, "定期便の解約・休止");
    assert_eq!(store.faq_list(t).await.unwrap().len(), 1);
    store.faq_delete(t, created.id).await.unwrap();
    assert!(store.faq_list(t).await.unwrap().is_empty());
}

fn line<T>(line: u64, record: T) -> Line<T> {
    Line { line, record }
}

fn order_row(external_id: &str, customer: &str, product: &str, amount: i64) -> OrderImport {
    OrderImport {
        external_id: ExternalId::parse(external_id).unwrap(),
        customer_external_id: ExternalId::parse(customer).unwrap(),
        ordered_at: at("2026-02-01 10:00"),
        product_external_id: ExternalId::parse(product).unwrap(),
        quantity: 1,
        amount,
        channel: None,
        ad_medium: None,
        is_subscription: false,
    }
}

async fn imports_are_idempotent_and_all_or_nothing(store: Arc<dyn Store>) {
    let t = tenant(&store, "acme").await;
    let customers = vec![
        line(2, profile("C1", "山田 太郎", "ヤマダ タロウ", "0312345678")),
        line(3, profile("C2", "山本 花子", "ヤマモト ハナコ", "09011112222")),
    ];
    let report = store.import_customers(t, &customers, ImportOptions::default(), now()).await.unwrap();
    assert_eq!((report.inserted, report.updated), (2, 0));
    let mut renamed = customers.clone();
    renamed[1].record.name = "山本 華子".into();
    let report = store.import_customers(t, &renamed, ImportOptions::default(), now()).await.unwrap();
    assert_eq!((report.inserted, report.updated), (0, 2));
    assert_eq!(store.tenant_counts(t).await.unwrap().customers, 2);

    let products = vec![line(
        2,
        ProductImport {
            external_id: ExternalId::parse("P1").unwrap(),
            name: "美容液".into(),
            kind: ProductKind::Main,
            category: None,
            price: 5980,
        },
    )];
    store.import_products(t, &products, ImportOptions::default()).await.unwrap();

    // One bad row (unknown customer): nothing is written, every bad row is named.
    let orders = vec![
        line(2, order_row("O1", "C1", "P1", 5980)),
        line(3, order_row("O2", "C404", "P1", 5980)),
        line(4, order_row("O3", "C2", "P404", 100)),
    ];
    let Err(StoreError::ImportRejected(problems)) = store.import_orders(t, &orders, ImportOptions::default()).await
    else {
        panic!("expected a rejection")
    };
    assert_eq!(
        problems.iter().map(|p| (p.line, p.column.as_str())).collect::<Vec<_>>(),
        vec![(3, "customer_external_id"), (4, "product_external_id")]
    );
    assert_eq!(store.tenant_counts(t).await.unwrap().orders, 0);
    // A dry run checks and writes nothing.
    let dry = ImportOptions { mode: ImportMode::DryRun, ..ImportOptions::default() };
    let report = store.import_orders(t, &orders[..1], dry).await.unwrap();
    assert_eq!(report.inserted, 1);
    assert_eq!(store.tenant_counts(t).await.unwrap().orders, 0);
    // Skipping imports the good rows and reports the rest.
    let skip = ImportOptions { on_invalid: OnInvalid::Skip, ..ImportOptions::default() };
    let report = store.import_orders(t, &orders, skip).await.unwrap();
    assert_eq!((report.inserted, report.skipped, report.problems.len()), (1, 2, 2));
    // Re-importing an order with two lines replaces it.
    let two_lines = vec![line(2, order_row("O1", "C1", "P1", 5980)), line(3, order_row("O1", "C1", "P1", 1000))];
    let report = store.import_orders(t, &two_lines, ImportOptions::default()).await.unwrap();
    assert_eq!((report.inserted, report.updated), (0, 1));
    let c1 = store.customer_search(t, &CustomerQuery { text: "C1".into(), limit: 1 }).await.unwrap()[0].id;
    let stats = store.customer_stats(t, c1).await.unwrap();
    assert_eq!((stats.order_count, stats.total_amount), (1, 6980));

    let contacts = vec![
        line(
            2,
            ContactImport {
                external_id: ExternalId::parse("K1").unwrap(),
                customer_external_id: ExternalId::parse("C1").unwrap(),
                channel: Channel::Sns,
                direction: Direction::Inbound,
                started_at: at("2026-03-01 10:00"),
                ended_at: None,
                reason: None,
                outcome: None,
                text: "投稿".into(),
                thread_external_id: None,
                agent_login: None,
                tags: Default::default(),
            },
        ),
        line(
            3,
            ContactImport {
                external_id: ExternalId::parse("K2").unwrap(),
                customer_external_id: ExternalId::parse("C1").unwrap(),
                channel: Channel::Phone,
                direction: Direction::Outbound,
                started_at: at("2026-03-02 10:00"),
                ended_at: None,
                reason: None,
                outcome: Some(Outcome::Resolved),
                text: "電話で回答".into(),
                thread_external_id: Some(ExternalId::parse("K1").unwrap()),
                agent_login: None,
                tags: Default::default(),
            },
        ),
        line(
            4,
            ContactImport {
                external_id: ExternalId::parse("K3").unwrap(),
                customer_external_id: ExternalId::parse("C2").unwrap(),
                channel: Channel::Phone,
                direction: Direction::Inbound,
                started_at: at("2026-03-02 10:00"),
                ended_at: None,
                reason: None,
                outcome: None,
                text: "".into(),
                thread_external_id: None,
                agent_login: Some("ghost".into()),
                tags: Default::default(),
            },
        ),
    ];
    let Err(StoreError::ImportRejected(problems)) = store.import_contacts(t, &contacts, ImportOptions::default()).await
    else {
        panic!("expected a rejection")
    };
    assert_eq!(problems.iter().map(|p| (p.line, p.column.as_str())).collect::<Vec<_>>(), vec![(4, "agent_login")]);
    let report = store.import_contacts(t, &contacts[..2], ImportOptions::default()).await.unwrap();
    assert_eq!(report.inserted, 2);
    let report = store.import_contacts(t, &contacts[..2], ImportOptions::default()).await.unwrap();
    assert_eq!((report.inserted, report.updated), (0, 2));
    let listed = store.contact_list(t, c1, 10).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|c| c.thread_id == listed[1].id), "both contacts are one thread: {listed:?}");
}

async fn bulk_load_and_counts(store: Arc<dyn Store>) {
    let t = tenant(&store, "acme").await;
    let item = product(&store, t, "P1", ProductKind::Subscription, 4980).await;
    // A customer created the normal way first: bulk ids must not collide with it.
    store.customer_create(t, &profile("C0", "既存 顧客", "キソン コキャク", "0300000000"), now()).await.unwrap();
    let mut chunk = BulkChunk::default();
    for index in 0..3 {
        chunk.customers.push(profile(
            &format!("B{index}"),
            &format!("一括 {index}"),
            "イッカツ",
            &format!("090000000{index}"),
        ));
    }
    for (customer, when) in [(0, "2026-01-01"), (0, "2026-02-01"), (2, "2026-03-01")] {
        chunk.orders.push(BulkOrder {
            customer,
            ordered_at: at(when),
            channel: None,
            ad_medium: None,
            is_subscription: true,
            lines: vec![NewOrderLine { product_id: item.id, quantity: 1, amount: 4980 }],
        });
    }
    let bulk_contact = |customer, when: &str, outcome, thread_of| BulkContact {
        customer,
        channel: Channel::Phone,
        direction: Direction::Outbound,
        started_at: at(when),
        ended_at: None,
        agent_id: None,
        reason: None,
        outcome,
        text: "架電".into(),
        thread_of,
        tags: Default::default(),
    };
    chunk.contacts.push(bulk_contact(1, "2026-04-01", Some(Outcome::NoContact), None));
    chunk.contacts.push(bulk_contact(1, "2026-04-02", Some(Outcome::NoContact), Some(0)));
    chunk.kimochi_notes.push(BulkKimochiNote {
        customer: 1,
        kind: KimochiKind::Gap,
        text: "期待外れ".into(),
        captured_by: None,
        captured_at: at("2026-04-02"),
        contact: Some(1),
    });
    chunk.handover_notes.push(BulkHandoverNote {
        customer: 2,
        kind: HandoverKind::Caution,
        text: "丁寧に".into(),
        author_id: None,
        created_at: at("2026-04-02"),
    });
    store.bulk_load(t, &chunk, now()).await.unwrap();
    store.bulk_load(t, &chunk_with_new_ids(&chunk), now()).await.unwrap();
    assert_eq!(
        store.tenant_counts(t).await.unwrap(),
        TenantCounts { customers: 7, orders: 6, contacts: 4, kimochi_notes: 2 }
    );
    let hits = store.customer_search(t, &CustomerQuery { text: "0900000001".into(), limit: 5 }).await.unwrap();
    assert_eq!(hits.len(), 1);
    let karte = store.karte(t, hits[0].id, KarteLimits::default()).await.unwrap();
    assert_eq!(karte.stats.consecutive_no_contact, 2);
    assert_eq!(karte.recent_contacts[0].thread_id, karte.recent_contacts[1].id);
    assert_eq!(karte.kimochi[0].contact_id, Some(karte.recent_contacts[0].id));
    let first = store.customer_search(t, &CustomerQuery { text: "B0".into(), limit: 5 }).await.unwrap();
    let stats = store.customer_stats(t, first[0].id).await.unwrap();
    assert_eq!((stats.order_count, stats.total_amount), (2, 9960));
    // A normal write after a bulk load gets a fresh id.
    let after =
        store.customer_create(t, &profile("C9", "後 顧客", "アト コキャク", "0399999999"), now()).await.unwrap();
    assert_eq!(store.customer_get(t, after.id).await.unwrap().profile.name, "後 顧客");
}

fn chunk_with_new_ids(chunk: &BulkChunk) -> BulkChunk {
    let mut next = chunk.clone();
    for (index, customer) in next.customers.iter_mut().enumerate() {
        customer.external_id = Some(ExternalId::parse(&format!("B2-{index}")).unwrap());
        customer.phones = vec![PhoneNumber::parse(&format!("080000000{index}")).unwrap()];
    }
    next
}

async fn sessions_tokens_and_audit(store: Arc<dyn Store>) {
    let t = tenant(&store, "acme").await;
    let user = store
        .user_create(
            t,
            &NewUser {
                login: "sv".into(),
                display_name: "SV".into(),
                role: Role::Supervisor,
                team_id: None,
                password_hash: "h".into(),
            },
            now(),
        )
        .await
        .unwrap();
    store.session_create("hash-1", t, user.id, "csrf-1", now() + time::Duration::hours(8)).await.unwrap();
    let session = store.session_get("hash-1", now()).await.unwrap();
    assert_eq!((session.user.id, session.csrf_token.as_str()), (user.id, "csrf-1"));
    assert!(
        matches!(store.session_get("hash-1", now() + time::Duration::hours(9)).await, Err(StoreError::NotFound(_))),
        "expired"
    );
    store.session_delete("hash-1").await.unwrap();
    assert!(matches!(store.session_get("hash-1", now()).await, Err(StoreError::NotFound(_))));
    let token = store.api_token_create(t, Role::Analyst, "BI", "token-hash", now()).await.unwrap();
    assert_eq!(
        store.api_token_principal("token-hash").await.unwrap(),
        TokenPrincipal { token_id: token, tenant_id: t, role: Role::Analyst }
    );
    assert!(matches!(store.api_token_principal("other").await, Err(StoreError::NotFound(_))));
    store
        .audit_append(
            t,
            &AuditEntry {
                at: now(),
                actor: Actor::Token(token),
                action: "karte.read".into(),
                customer_id: Some(CustomerId(5)),
                detail: String::new(),
            },
        )
        .await
        .unwrap();
    store
        .audit_append(
            t,
            &AuditEntry {
                at: now(),
                actor: Actor::User(user.id),
                action: "customer.read".into(),
                customer_id: None,
                detail: "q".into(),
            },
        )
        .await
        .unwrap();
    let log = store.audit_list(t, 10).await.unwrap();
    assert_eq!(log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), vec!["customer.read", "karte.read"]);
    assert_eq!(log[1].actor, Actor::Token(token));
}

async fn scoring_aggregates_and_scores(store: Arc<dyn Store>) {
    let t = tenant(&store, "acme").await;
    let other = tenant(&store, "other").await;
    let customer =
        store.customer_create(t, &profile("C1", "山田 花子", "ヤマダ ハナコ", "09012345678"), now()).await.unwrap();
    // An ad medium with the characters a bulk text format must escape comes back as written.
    let mut quiet_profile = profile("C2", "佐藤 一郎", "サトウ イチロウ", "09012345679");
    quiet_profile.ad_medium = Some("雑誌\tA\\B\\N".into());
    let quiet = store.customer_create(t, &quiet_profile, now()).await.unwrap();
    store.customer_create(other, &profile("C1", "他社 顧客", "タシャ コキャク", "09012345670"), now()).await.unwrap();
    let trial = product(&store, t, "TRIAL", ProductKind::Trial, 1980).await;
    let subscription = product(&store, t, "SUB", ProductKind::Subscription, 5780).await;
    let order = |when: &str, product: &Product, amount: i64, is_subscription: bool| NewOrder {
        external_id: None,
        customer_id: customer.id,
        ordered_at: at(when),
        channel: Some(Channel::Phone),
        ad_medium: Some("TV通販".into()),
        is_subscription,
        lines: vec![NewOrderLine { product_id: product.id, quantity: 1, amount }],
    };
    // Two orders on one JST day (23:30 UTC on 02-28 is 08:30 on 03-01 in Japan) are one purchase day.
    store.order_create(t, &order("2026-03-01 10:00", &trial, 1980, false)).await.unwrap();
    store.order_create(t, &order("2026-03-01 08:30", &trial, 1000, false)).await.unwrap();
    for when in ["2026-04-01 06:00", "2026-05-01 06:00", "2026-06-01 06:00"] {
        store.order_create(t, &order(when, &subscription, 5780, true)).await.unwrap();
    }
    // A free sample is an order but not a purchase.
    let sample = product(&store, t, "SAMPLE", ProductKind::Sample, 0).await;
    store.order_create(t, &order("2026-02-01 10:00", &sample, 0, false)).await.unwrap();
    // Outbound calls: two unanswered, one reached; one escalated complaint; a gap note.
    store.contact_create(t, &contact(customer.id, "2026-06-10 10:00", Some(Outcome::Resolved))).await.unwrap();
    store.contact_create(t, &contact(customer.id, "2026-06-11 10:00", Some(Outcome::NoContact))).await.unwrap();
    store.contact_create(t, &contact(customer.id, "2026-06-12 10:00", Some(Outcome::Busy))).await.unwrap();
    let mut complaint = contact(customer.id, "2026-06-05 10:00", Some(Outcome::Escalated));
    complaint.direction = Direction::Inbound;
    complaint.reason = Some("クレーム".into());
    complaint.tags = ContactTags {
        crisis: Vec::new(),
        polarity: Some(Polarity::Negative),
        kimochi: vec![KimochiTag::Dissatisfaction, KimochiTag::ChurnIntent],
        crisis_words: 2,
    };
    store.contact_create(t, &complaint).await.unwrap();
    let mut praise = contact(customer.id, "2026-06-06 10:00", Some(Outcome::Resolved));
    (praise.direction, praise.channel) = (Direction::Inbound, Channel::Email);
    praise.tags = ContactTags {
        polarity: Some(Polarity::Positive),
        kimochi: vec![KimochiTag::Advocacy],
        crisis_words: 0,
        crisis: Vec::new(),
    };
    store.contact_create(t, &praise).await.unwrap();
    // The tags come back as stored.
    let listed = store.contact_list(t, customer.id, 10).await.unwrap();
    let stored = listed.iter().find(|c| c.started_at == at("2026-06-05 10:00")).unwrap();
    assert_eq!(stored.tags, complaint.tags);
    store
        .kimochi_note_create(
            t,
            &NewKimochiNote {
                customer_id: customer.id,
                kind: KimochiKind::Gap,
                text: "思っていたほどしっとりしない".into(),
                captured_by: None,
                captured_at: at("2026-06-10 10:05"),
                contact_id: None,
                product_id: None,
            },
        )
        .await
        .unwrap();

    let rows = store.scoring_rows(t, None, 10).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.customer_id).collect::<Vec<_>>(), vec![customer.id, quiet.id]);
    let row = &rows[0];
    assert_eq!(row.order_count, 6);
    assert_eq!((row.first_order_at, row.sample_orders), (Some(at("2026-02-01 10:00")), 1));
    assert_eq!(row.purchase_days, 4, "two orders on 2026-03-01 JST are one purchase day");
    assert_eq!(row.first_day_amount, 1980 + 1000);
    assert_eq!(row.total_amount, 1980 + 1000 + 3 * 5780);
    assert_eq!((row.trial_orders, row.subscription_kind_orders, row.main_orders), (2, 3, 0));
    assert_eq!(row.subscription_orders, 3);
    assert_eq!(row.first_subscription_at, Some(at("2026-04-01 06:00")));
    assert_eq!(row.last_subscription_at, Some(at("2026-06-01 06:00")));
    assert_eq!((row.outbound_attempts, row.outbound_reached, row.consecutive_no_contact), (3, 1, 2));
    assert_eq!((row.complaints, row.gap_notes), (1, 1));
    assert_eq!((row.positive_contacts, row.negative_contacts, row.advocacy), (1, 1, 1));
    assert_eq!((row.churn_intent, row.crisis), (1, 1));
    assert_eq!(row.ad_medium, None);
    let products: Vec<(ProductId, i64)> = row.products.iter().map(|p| (p.product_id, p.purchase_days)).collect();
    assert_eq!(products, vec![(trial.id, 1), (subscription.id, 3), (sample.id, 1)]);
    assert_eq!(
        (row.first_purchase_at, row.last_purchase_at),
        (Some(at("2026-03-01 08:30")), Some(at("2026-06-01 06:00")))
    );
    assert_eq!(rows[1].purchase_days, 0);
    assert_eq!(rows[1].ad_medium.as_deref(), Some("雑誌\tA\\B\\N"));
    assert!(rows[1].products.is_empty() && rows[1].first_order_at.is_none());
    // Paging by id, and nothing of another tenant.
    assert_eq!(store.scoring_rows(t, Some(customer.id), 10).await.unwrap().len(), 1);
    assert_eq!(store.scoring_rows(other, None, 10).await.unwrap().len(), 1);

    let as_of = time::macros::date!(2026 - 07 - 01);
    let score = CustomerScore {
        customer_id: customer.id,
        as_of,
        stage: Stage::Subscription,
        rfm_cell: Some(545),
        recency_days: Some(30),
        p_alive: Some(0.93),
        expected_purchases: Some(8.5),
        expected_spend: Some(5780.0),
        clv: Some(40_123.5),
        churn_probability: Some(0.31),
        churn_level: Some(ChurnLevel::High),
        churn_reasons: vec![ScoreReason {
            code: "expectation_gap".into(),
            text: "期待とのギャップあり(解約リスク 3.0倍)".into(),
            weight: 3.0,
        }],
        loyalty: Some(LoyaltyQuadrant::Spurious),
        near_loyal: None,
        positive_dormant: false,
        cluster: Some(2),
        cluster_label: Some("定期・不満あり".into()),
        repeat_alerts: vec![RepeatAlertScore {
            product_id: subscription.id,
            product_name: "商品SUB".into(),
            product_kind: ProductKind::Subscription,
            interval_days: 30,
            next_expected: time::macros::date!(2026 - 07 - 01),
            days_overdue: 0,
        }],
        scored_at: now(),
    };
    let mut bare = score.clone();
    bare.customer_id = quiet.id;
    bare.stage = Stage::NotPurchased;
    bare.rfm_cell = None;
    bare.p_alive = Some(f64::NAN);
    bare.churn_reasons.clear();
    bare.repeat_alerts.clear();
    store.scores_write(t, &[score.clone(), bare]).await.unwrap();
    assert_eq!(store.customer_score(t, customer.id).await.unwrap().as_ref(), Some(&score));
    let stored_bare = store.customer_score(t, quiet.id).await.unwrap().unwrap();
    assert_eq!(stored_bare.p_alive, None, "a NaN is stored as no value, never as a number");
    assert_eq!(stored_bare.stage, Stage::NotPurchased);
    // Rewriting replaces, and the karte carries the scores.
    let mut rescored = score.clone();
    rescored.churn_level = Some(ChurnLevel::Low);
    store.scores_write(t, &[rescored.clone()]).await.unwrap();
    let karte = store.karte(t, customer.id, KarteLimits::default()).await.unwrap();
    assert_eq!(karte.score, Some(rescored.clone()));
    // Text with the characters a bulk format must escape (tab, line breaks, backslash, \N)
    // comes back as written.
    let mut awkward = rescored.clone();
    awkward.cluster_label = Some("タブ\t改行\n復帰\r\\N \\ 終わり".into());
    awkward.near_loyal = Some("\\".into());
    awkward.churn_reasons[0].text = "理由\t\n\\".into();
    awkward.p_alive = Some(1e-300);
    awkward.clv = Some(-0.0);
    store.scores_write(t, &[awkward.clone()]).await.unwrap();
    assert_eq!(store.customer_score(t, customer.id).await.unwrap(), Some(awkward));
    store.scores_write(t, &[rescored.clone()]).await.unwrap();
    assert_eq!(
        store.karte(other, CustomerId(customer.id.0), KarteLimits::default()).await.ok().and_then(|k| k.score),
        None
    );
    assert_eq!(store.customer_score(other, customer.id).await.unwrap(), None);

    assert_eq!(store.score_run_latest(t).await.unwrap(), None);
    store.score_run_record(t, as_of, now(), 2, "{\"run\":1}").await.unwrap();
    let second = store.score_run_record(t, as_of, now(), 2, "{\"run\":2}").await.unwrap();
    assert_eq!(store.score_run_latest(t).await.unwrap(), Some(second));
    assert_eq!(store.score_run_latest(other).await.unwrap(), None);
}

async fn scores_page_by_rfm_cell(store: Arc<dyn Store>) {
    let t = tenant(&store, "acme").await;
    let other = tenant(&store, "other").await;
    let mut ids = Vec::new();
    for (index, name) in ["山田 花子", "佐藤 一郎", "鈴木 次郎"].iter().enumerate() {
        let profile = profile(&format!("C{index}"), name, "ヤマダ", &format!("0901234567{index}"));
        ids.push(store.customer_create(t, &profile, now()).await.unwrap().id);
    }
    let foreign =
        store.customer_create(other, &profile("C0", "他社 顧客", "タシャ", "09012345670"), now()).await.unwrap();
    let score = |customer_id: CustomerId, rfm_cell: Option<u16>| CustomerScore {
        customer_id,
        as_of: time::macros::date!(2026 - 07 - 01),
        stage: Stage::Repeater,
        rfm_cell,
        recency_days: Some(12),
        p_alive: Some(0.8),
        expected_purchases: None,
        expected_spend: None,
        clv: Some(12_000.0),
        churn_probability: None,
        churn_level: None,
        churn_reasons: Vec::new(),
        loyalty: Some(LoyaltyQuadrant::TrueLoyal),
        near_loyal: None,
        positive_dormant: false,
        cluster: None,
        cluster_label: None,
        repeat_alerts: Vec::new(),
        scored_at: now(),
    };
    // Customers 0 and 2 are in 545, customer 1 in 111; the other tenant's customer is in 545 too.
    store
        .scores_write(t, &[score(ids[0], Some(545)), score(ids[1], Some(111)), score(ids[2], Some(545))])
        .await
        .unwrap();
    store.scores_write(other, &[score(foreign.id, Some(545))]).await.unwrap();

    let page = store.scores_by_cell(t, 545, None, 10).await.unwrap();
    assert_eq!(page.iter().map(|(c, _)| c.id).collect::<Vec<_>>(), vec![ids[0], ids[2]]);
    let (summary, first) = &page[0];
    assert_eq!(summary.name, "山田 花子");
    assert_eq!(summary.phones[0].to_string(), "090-1234-5670");
    assert_eq!(first, &score(ids[0], Some(545)));
    // Paging: one at a time, then past the end.
    let one = store.scores_by_cell(t, 545, None, 1).await.unwrap();
    assert_eq!(one.len(), 1);
    let next = store.scores_by_cell(t, 545, Some(one[0].0.id), 1).await.unwrap();
    assert_eq!(next.iter().map(|(c, _)| c.id).collect::<Vec<_>>(), vec![ids[2]]);
    assert!(store.scores_by_cell(t, 545, Some(ids[2]), 10).await.unwrap().is_empty());
    assert_eq!(store.scores_by_cell(t, 111, None, 10).await.unwrap().len(), 1);
    assert!(store.scores_by_cell(t, 333, None, 10).await.unwrap().is_empty());
    // The other tenant sees only its own customer.
    let theirs = store.scores_by_cell(other, 545, None, 10).await.unwrap();
    assert_eq!(theirs.iter().map(|(c, _)| c.id).collect::<Vec<_>>(), vec![foreign.id]);
}

/// The topic churn drivers' reads: a subscriber's contacts from the first subscription
/// delivery up to, not including, the last (never the call that cancels), and the scored
/// subscribers with their deliveries and whether they left.
async fn voc_reads_of_subscribers_stop_at_the_last_delivery(store: Arc<dyn Store>) {
    let t = tenant(&store, "acme").await;
    let other = tenant(&store, "other").await;
    let item = product(&store, t, "SUB", ProductKind::Subscription, 3980).await;
    let mut ids = Vec::new();
    for (index, name) in ["山田 花子", "佐藤 一郎", "鈴木 次郎"].iter().enumerate() {
        let profile = profile(&format!("C{index}"), name, "ヤマダ", &format!("0901234567{index}"));
        ids.push(store.customer_create(t, &profile, now()).await.unwrap().id);
    }
    let foreign =
        store.customer_create(other, &profile("C0", "他社 顧客", "タシャ", "09012345670"), now()).await.unwrap();
    // Customers 0 and 1 subscribe: deliveries on 1 January, 1 February and 1 March; customer 2
    // never does.
    for customer in [ids[0], ids[1]] {
        for when in ["2026-01-01 09:00", "2026-02-01 09:00", "2026-03-01 09:00"] {
            let order = NewOrder {
                external_id: None,
                customer_id: customer,
                ordered_at: at(when),
                channel: Some(Channel::Phone),
                ad_medium: None,
                is_subscription: true,
                lines: vec![NewOrderLine { product_id: item.id, quantity: 1, amount: 3980 }],
            };
            store.order_create(t, &order).await.unwrap();
        }
    }
    let record = |customer: CustomerId, when: &str, direction: Direction, text: &str| {
        let mut new = contact(customer, when, None);
        new.direction = direction;
        new.text = text.to_owned();
        let store = store.clone();
        async move { store.contact_create(t, &new).await.unwrap() }
    };
    record(ids[0], "2025-12-20 10:00", Direction::Inbound, "申込み前").await;
    let first = record(ids[0], "2026-01-15 10:00", Direction::Inbound, "べたつく").await;
    let care = record(ids[0], "2026-02-10 10:00", Direction::Outbound, "フォローコール").await;
    record(ids[0], "2026-03-05 10:00", Direction::Inbound, "解約したい").await;
    let other_subscriber = record(ids[1], "2026-02-20 10:00", Direction::Inbound, "配送").await;
    record(ids[2], "2026-02-20 10:00", Direction::Inbound, "定期ではない").await;

    let all = VocPeriod { from: at("2000-01-01 00:00"), to: at("2027-01-01 00:00") };
    let texts = store.voc_texts(t, VocContacts::Subscribed, all, None, 100).await.unwrap();
    assert_eq!(texts.iter().map(|x| x.id).collect::<Vec<_>>(), vec![first.id, care.id, other_subscriber.id]);
    assert_eq!(texts[0].customer_id, ids[0]);
    assert_eq!(texts[2].customer_id, ids[1]);
    let early = VocPeriod { from: at("2000-01-01 00:00"), to: at("2026-02-01 00:00") };
    assert_eq!(store.voc_texts(t, VocContacts::Subscribed, early, None, 100).await.unwrap().len(), 1);
    assert!(store.voc_texts(other, VocContacts::Subscribed, all, None, 100).await.unwrap().is_empty());

    // Only scored subscribers are listed: customer 0 has left (scored dormant), customer 1 is
    // still subscribed, customer 2 never subscribed.
    assert!(store.voc_subscribers(t, None, 100).await.unwrap().is_empty(), "nothing scored yet");
    let score = |customer_id: CustomerId, stage: Stage| CustomerScore {
        customer_id,
        as_of: time::macros::date!(2026 - 07 - 01),
        stage,
        rfm_cell: None,
        recency_days: None,
        p_alive: None,
        expected_purchases: None,
        expected_spend: None,
        clv: None,
        churn_probability: None,
        churn_level: None,
        churn_reasons: Vec::new(),
        loyalty: None,
        near_loyal: None,
        positive_dormant: false,
        cluster: None,
        cluster_label: None,
        repeat_alerts: Vec::new(),
        scored_at: now(),
    };
    store
        .scores_write(
            t,
            &[score(ids[0], Stage::Dormant), score(ids[1], Stage::Subscription), score(ids[2], Stage::Repeater)],
        )
        .await
        .unwrap();
    store.scores_write(other, &[score(foreign.id, Stage::Subscription)]).await.unwrap();
    let subscribers = store.voc_subscribers(t, None, 100).await.unwrap();
    assert_eq!(
        subscribers,
        vec![
            SubscriberOutcome { customer_id: ids[0], deliveries: 3, churned: true },
            SubscriberOutcome { customer_id: ids[1], deliveries: 3, churned: false },
        ]
    );
    let after = store.voc_subscribers(t, Some(ids[0]), 1).await.unwrap();
    assert_eq!(after.iter().map(|s| s.customer_id).collect::<Vec<_>>(), vec![ids[1]]);
    assert!(store.voc_subscribers(other, None, 100).await.unwrap().is_empty(), "the foreign one never subscribed");
}

/// The VOC reads: sales-outcome and inbound texts paged by id, reasons per JST day, each within
/// the tenant and the period `[from, to)`.
async fn voc_reads_are_tenant_and_period_scoped(store: Arc<dyn Store>) {
    let acme = tenant(&store, "acme").await;
    let other = tenant(&store, "other").await;
    let customer = store
        .customer_create(acme, &profile("C1", "山田 花子", "ヤマダ ハナコ", "090-1111-2222"), now())
        .await
        .unwrap();
    let stranger = store
        .customer_create(other, &profile("C1", "佐藤 一郎", "サトウ イチロウ", "090-3333-4444"), now())
        .await
        .unwrap();
    let record = |tenant: TenantId,
                  customer: CustomerId,
                  started_at: &str,
                  direction: Direction,
                  outcome: Option<Outcome>,
                  reason: Option<&str>,
                  text: &str| {
        let mut new = contact(customer, started_at, outcome);
        new.direction = direction;
        new.reason = reason.map(str::to_owned);
        new.text = text.to_owned();
        let store = store.clone();
        async move { store.contact_create(tenant, &new).await.unwrap() }
    };
    let lost = record(
        acme,
        customer.id,
        "2026-03-01 10:00",
        Direction::Outbound,
        Some(Outcome::LostOrder),
        Some("本品のご案内"),
        "価格が高いとのこと",
    )
    .await;
    let won = record(
        acme,
        customer.id,
        "2026-03-02 10:00",
        Direction::Outbound,
        Some(Outcome::Ordered),
        Some("本品のご案内"),
        "定期便をお申込み",
    )
    .await;
    record(acme, customer.id, "2026-03-02 11:00", Direction::Outbound, Some(Outcome::NoContact), None, "不在").await;
    record(acme, customer.id, "2026-02-01 10:00", Direction::Outbound, Some(Outcome::LostOrder), None, "期間外").await;
    let late = record(
        acme,
        customer.id,
        "2026-03-01 23:30",
        Direction::Inbound,
        Some(Outcome::Resolved),
        Some("配送"),
        "届かない",
    )
    .await;
    record(
        acme,
        customer.id,
        "2026-03-02 00:30",
        Direction::Inbound,
        Some(Outcome::Resolved),
        Some("配送"),
        "まだ届かない",
    )
    .await;
    record(acme, customer.id, "2026-03-02 09:00", Direction::Inbound, None, None, "理由なし").await;
    record(
        acme,
        customer.id,
        "2026-03-31 23:59",
        Direction::Inbound,
        Some(Outcome::Ordered),
        Some("注文"),
        "注文したい",
    )
    .await;
    record(other, stranger.id, "2026-03-01 10:00", Direction::Outbound, Some(Outcome::LostOrder), None, "他テナント")
        .await;
    record(other, stranger.id, "2026-03-01 10:00", Direction::Inbound, None, Some("配送"), "他テナント").await;

    let march = VocPeriod { from: at("2026-03-01 00:00"), to: at("2026-04-01 00:00") };
    let sales = store.voc_texts(acme, VocContacts::SalesOutcomes, march, None, 100).await.unwrap();
    assert_eq!(sales.iter().map(|t| t.id).collect::<Vec<_>>(), vec![lost.id, won.id]);
    assert_eq!(sales[0].outcome, Some(Outcome::LostOrder));
    assert_eq!(sales[0].text, "価格が高いとのこと");
    assert_eq!(sales[1].outcome, Some(Outcome::Ordered));
    // Paging resumes after the last id.
    let first = store.voc_texts(acme, VocContacts::SalesOutcomes, march, None, 1).await.unwrap();
    let second = store.voc_texts(acme, VocContacts::SalesOutcomes, march, Some(first[0].id), 1).await.unwrap();
    let third = store.voc_texts(acme, VocContacts::SalesOutcomes, march, Some(second[0].id), 1).await.unwrap();
    assert_eq!((first[0].id, second[0].id, third.len()), (lost.id, won.id, 0));

    let inbound = store.voc_texts(acme, VocContacts::Inbound, march, None, 100).await.unwrap();
    assert_eq!(inbound.len(), 4);
    assert_eq!(inbound[0].id, late.id);
    assert!(inbound.iter().all(|t| t.text != "他テナント"));
    let other_sales = store.voc_texts(other, VocContacts::SalesOutcomes, march, None, 100).await.unwrap();
    assert_eq!(other_sales.len(), 1);
    assert_eq!(other_sales[0].text, "他テナント");

    // Reasons per JST day: 23:30 on 1 March is 1 March, 00:30 is 2 March.
    let days = store.voc_reason_days(acme, march, 1000).await.unwrap();
    let day = |d: &str| kimochi_domain::datetime::parse_date("d", d).unwrap();
    let expected = vec![
        ReasonDayCount { reason: Some("配送".into()), day: day("2026-03-01"), contacts: 1 },
        ReasonDayCount { reason: None, day: day("2026-03-02"), contacts: 1 },
        ReasonDayCount { reason: Some("配送".into()), day: day("2026-03-02"), contacts: 1 },
        ReasonDayCount { reason: Some("注文".into()), day: day("2026-03-31"), contacts: 1 },
    ];
    let mut sorted = days.clone();
    sorted.sort_by(|a, b| (a.day, &a.reason).cmp(&(b.day, &b.reason)));
    assert_eq!(sorted, expected);
    assert_eq!(store.voc_reason_days(acme, march, 2).await.unwrap().len(), 2, "the limit bounds the rows");
    let empty = VocPeriod { from: at("2025-01-01 00:00"), to: at("2025-02-01 00:00") };
    assert!(store.voc_reason_days(acme, empty, 1000).await.unwrap().is_empty());
    assert!(store.voc_texts(acme, VocContacts::Inbound, empty, None, 100).await.unwrap().is_empty());
    let other_days = store.voc_reason_days(other, march, 1000).await.unwrap();
    assert_eq!(other_days.len(), 1);
}

/// Migration 14's backfill and migration 17's move on both engines (cases of their own: they
/// reopen the database), from migration 13 and from 16.
#[tokio::test]
async fn sqlite_segment_facts_are_backfilled_by_migration_14() {
    sqlite_backfill("backfill_14", &[BEFORE_MIGRATION_17, BEFORE_MIGRATION_14]).await;
}

#[tokio::test]
async fn postgres_segment_facts_are_backfilled_by_migration_14() {
    postgres_backfill("backfill_14", &[BEFORE_MIGRATION_17, BEFORE_MIGRATION_14]).await;
}

#[tokio::test]
async fn sqlite_segment_row_is_filled_by_migration_17() {
    sqlite_backfill("backfill_17", &[BEFORE_MIGRATION_17]).await;
}

#[tokio::test]
async fn postgres_segment_row_is_filled_by_migration_17() {
    postgres_backfill("backfill_17", &[BEFORE_MIGRATION_17]).await;
}

async fn sqlite_backfill(name: &str, downgrade: &'static [&'static [&'static str]]) {
    let dir = std::env::temp_dir().join(unique_name(name));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("kimochi.db").display());
    segment_facts_are_backfilled_by_migration_14(url, async |url: &str| {
        let mut connection = sqlx::SqliteConnection::connect(url).await.unwrap();
        for sql in downgrade.iter().flat_map(|step| step.iter()) {
            sqlx::query(sql).execute(&mut connection).await.unwrap();
        }
    })
    .await;
    let _ = std::fs::remove_dir_all(&dir);
}

async fn postgres_backfill(name: &str, downgrade: &'static [&'static [&'static str]]) {
    let admin_url = postgres_admin_url();
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    let database = unique_name(name);
    sqlx::query(&format!("CREATE DATABASE {database}")).execute(&mut admin).await.unwrap();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    let url = format!("{base}/{database}");
    let outcome = tokio::spawn(segment_facts_are_backfilled_by_migration_14(url, async move |url: &str| {
        let mut connection = sqlx::PgConnection::connect(url).await.unwrap();
        for sql in downgrade.iter().flat_map(|step| step.iter()) {
            sqlx::query(sql).execute(&mut connection).await.unwrap();
        }
    }))
    .await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).execute(&mut admin).await.unwrap();
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}
