//! The search index as its callers see it: tenant isolation, Japanese matching through words and
//! bigrams, filters, bounded and hostile queries, snippets, and the rebuild from a real store on
//! SQLite and PostgreSQL (a fresh database on `KIMOCHI_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`; a missing PostgreSQL fails loudly).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use kimochi_domain::*;
use kimochi_search::sync::{catch_up_contacts, reindex_tenant};
use kimochi_search::{IndexConfig, SearchError, SearchIndex, SearchQuery, VocQuery};
use kimochi_store::Store;
use sqlx::Connection;
use time::macros::datetime;

const A: TenantId = TenantId(1);
const B: TenantId = TenantId(2);

fn faq(id: i64, title: &str, body: &str) -> Faq {
    Faq {
        id: FaqId(id),
        title: title.to_owned(),
        body: body.to_owned(),
        category: None,
        tags: Vec::new(),
        updated_at: datetime!(2026-01-01 00:00 UTC),
    }
}

fn contact(
    id: i64,
    customer: i64,
    channel: Channel,
    at: time::OffsetDateTime,
    text: &str,
    kimochi: &[KimochiTag],
) -> Contact {
    Contact {
        id: ContactId(id),
        external_id: None,
        customer_id: CustomerId(customer),
        channel,
        direction: Direction::Inbound,
        started_at: at,
        ended_at: None,
        agent_id: None,
        reason: None,
        outcome: None,
        text: text.to_owned(),
        thread_id: ContactId(id),
        tags: ContactTags { polarity: None, kimochi: kimochi.to_vec(), crisis_words: 0, crisis: Vec::new() },
    }
}

fn q(text: &str) -> SearchQuery {
    SearchQuery { text: text.to_owned(), limit: 10 }
}

fn faq_ids(index: &SearchIndex, tenant: TenantId, text: &str) -> Vec<i64> {
    index.search_faq(tenant, &q(text)).unwrap().iter().map(|h| h.id.0).collect()
}

fn voc_ids(index: &SearchIndex, tenant: TenantId, query: &VocQuery) -> Vec<i64> {
    index.search_voc(tenant, query, &|t| t.to_owned()).unwrap().iter().map(|h| h.contact_id.0).collect()
}

fn voc(text: &str) -> VocQuery {
    VocQuery { search: q(text), ..VocQuery::default() }
}

fn sample_index() -> SearchIndex {
    let index = SearchIndex::in_memory().unwrap();
    index.put_faq(A, &faq(1, "定期便の解約方法", "マイページの「定期便の変更」から解約できます。")).unwrap();
    index.put_faq(A, &faq(2, "返品・交換について", "未開封の商品は到着後8日以内なら返品できます。")).unwrap();
    index
        .put_faq(
            A,
            &faq(3, "肌に合わない場合", "ピュアモイストローションが肌に合わなかった場合は使用を中止してください。"),
        )
        .unwrap();
    index.put_faq(B, &faq(4, "定期便の解約方法（B社）", "お電話で解約を承ります。")).unwrap();
    let march = datetime!(2026-03-10 10:00 UTC);
    let june = datetime!(2026-06-10 10:00 UTC);
    index
        .put_contacts(
            A,
            &[
                contact(
                    10,
                    100,
                    Channel::Phone,
                    march,
                    "ローションが肌に合わなくて赤くなりました",
                    &[KimochiTag::Dissatisfaction],
                ),
                contact(
                    11,
                    101,
                    Channel::Email,
                    june,
                    "解約したいです。効果が感じられない",
                    &[KimochiTag::ChurnIntent],
                ),
                contact(
                    12,
                    102,
                    Channel::Phone,
                    june,
                    "届いたローションとても良かったです",
                    &[KimochiTag::Satisfaction],
                ),
                contact(13, 103, Channel::Phone, june, "", &[]),
            ],
        )
        .unwrap();
    index
        .put_contacts(
            B,
            &[contact(20, 200, Channel::Phone, june, "ローションを解約したい", &[KimochiTag::ChurnIntent])],
        )
        .unwrap();
    index.commit().unwrap();
    index
}

#[test]
fn a_tenant_never_sees_another_tenants_documents() {
    let index = sample_index();
    assert_eq!(faq_ids(&index, A, "解約"), [1]);
    assert_eq!(faq_ids(&index, B, "解約"), [4]);
    let a: Vec<i64> = voc_ids(&index, A, &voc("ローション"));
    assert!(a.contains(&10) && a.contains(&12) && !a.contains(&20), "{a:?}");
    assert_eq!(voc_ids(&index, B, &voc("ローション")), [20]);
    // An unknown tenant sees nothing at all.
    assert!(faq_ids(&index, TenantId(99), "解約").is_empty());
    assert!(voc_ids(&index, TenantId(99), &voc("ローション")).is_empty());
    // FAQ and VOC are kept apart.
    assert!(!faq_ids(&index, A, "ローション").contains(&10));
}

#[test]
fn japanese_matches_through_base_forms_bigrams_and_width() {
    let index = sample_index();
    // 「合わない」 in the query, 「合わなかった」 in the article: same base form 合う.
    assert_eq!(faq_ids(&index, A, "肌に合わない"), [3]);
    // A product name the dictionary does not know, found by bigrams, in half-width kana.
    assert_eq!(faq_ids(&index, A, "ﾋﾟｭｱﾓｲｽﾄ"), [3]);
    // 「ない」 as an adjective in the query finds it as an auxiliary in the text.
    index.put_faq(A, &faq(5, "効果について", "説明書どおりに使っても効果が出ない場合")).unwrap();
    index.commit().unwrap();
    assert_eq!(faq_ids(&index, A, "説明書どおりに使っても効果がない"), [5]);
    // Several parts: all must match.
    assert_eq!(faq_ids(&index, A, "返品 未開封"), [2]);
    assert!(faq_ids(&index, A, "返品 ローション").is_empty());
    // The title weighs more than the body.
    let hits = index.search_faq(A, &q("解約")).unwrap();
    assert_eq!(hits[0].title, "定期便の解約方法");
}

#[test]
fn voc_filters_by_period_channel_and_kimochi() {
    let index = sample_index();
    let june = datetime!(2026-06-01 00:00 UTC).unix_timestamp();
    let mut query = voc("ローション");
    query.from = Some(june);
    assert_eq!(voc_ids(&index, A, &query), [12]);
    let mut query = voc("ローション");
    query.to = Some(june);
    assert_eq!(voc_ids(&index, A, &query), [10]);
    let mut query = voc("解約");
    query.channels = vec![Channel::Phone];
    assert!(voc_ids(&index, A, &query).is_empty());
    query.channels = vec![Channel::Phone, Channel::Email];
    assert_eq!(voc_ids(&index, A, &query), [11]);
    let mut query = voc("ローション");
    query.kimochi = vec![KimochiTag::Satisfaction];
    assert_eq!(voc_ids(&index, A, &query), [12]);
    let hits = index.search_voc(A, &query, &|t| t.to_owned()).unwrap();
    assert_eq!(hits[0].customer_id, CustomerId(102));
    assert_eq!(hits[0].channel, Some(Channel::Phone));
    assert_eq!(hits[0].kimochi, [KimochiTag::Satisfaction]);
}

#[test]
fn hostile_or_huge_queries_never_fail() {
    let index = sample_index();
    let huge = "解約".repeat(10_000);
    for text in [
        "",
        "   ",
        "\"",
        "title:解約",
        "解約 AND OR NOT",
        "*",
        "((((",
        "\\",
        "+-&&||!(){}[]^\"~*?:\\/",
        "解\u{200B}約\u{202E}",
        "<script>alert(1)</script>",
        "😀😀😀",
        "a\0b",
        huge.as_str(),
    ] {
        index.search_faq(A, &q(text)).unwrap();
        index.search_voc(A, &voc(text), &|t| t.to_owned()).unwrap();
    }
    // Zero-width characters do not hide a word.
    assert_eq!(faq_ids(&index, A, "解\u{200B}約"), [1]);
    // The limit is bounded.
    for id in 100..200 {
        index.put_faq(A, &faq(id, "よくある質問", "送料について")).unwrap();
    }
    index.commit().unwrap();
    let hits = index.search_faq(A, &SearchQuery { text: "送料".to_owned(), limit: 1_000 }).unwrap();
    assert_eq!(hits.len(), kimochi_search::MAX_LIMIT);
}

#[test]
fn snippets_mark_matches_and_masking_applies_first() {
    let index = sample_index();
    let hits = index.search_faq(A, &q("返品")).unwrap();
    assert_eq!(hits[0].title_snippet.to_html(), "<mark>返品</mark>・交換について");
    assert!(hits[0].snippet.to_html().contains("<mark>返品</mark>"));
    index
        .put_contacts(
            A,
            &[contact(30, 100, Channel::Phone, datetime!(2026-07-01 00:00 UTC), "<b>返金</b>は090-1234-5678まで", &[])],
        )
        .unwrap();
    index.commit().unwrap();
    let hits = index.search_voc(A, &voc("返金"), &|t| kimochi_text::mask_pii(t).text).unwrap();
    let html = hits[0].snippet.to_html();
    assert!(html.starts_with("&lt;b&gt;<mark>返金</mark>&lt;/b&gt;"), "{html}");
    assert!(!html.contains("1234"), "{html}");
}

#[test]
fn updates_and_deletes_are_seen() {
    let index = sample_index();
    index.put_faq(A, &faq(2, "返品・交換について", "開封後でも返品できます。")).unwrap();
    index.commit().unwrap();
    assert_eq!(faq_ids(&index, A, "未開封"), Vec::<i64>::new());
    assert_eq!(faq_ids(&index, A, "開封後"), [2]);
    index.delete_faq(A, FaqId(2));
    index.commit().unwrap();
    assert!(faq_ids(&index, A, "返品").is_empty());
    index.delete_customer(A, CustomerId(100)).unwrap();
    index.commit().unwrap();
    assert!(!voc_ids(&index, A, &voc("ローション")).contains(&10));
    // Deleting tenant A's customer 200 does not touch tenant B's customer 200.
    index.delete_customer(A, CustomerId(200)).unwrap();
    index.commit().unwrap();
    assert_eq!(voc_ids(&index, B, &voc("ローション")), [20]);
}

#[test]
fn a_folder_index_persists_and_is_locked_while_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let index = SearchIndex::open(dir.path(), IndexConfig::default()).unwrap();
        index.put_faq(A, &faq(1, "送料について", "全国一律です")).unwrap();
        index.commit().unwrap();
        let second = SearchIndex::open(dir.path(), IndexConfig::default());
        assert!(matches!(second, Err(SearchError::Locked(_))), "{second:?}");
    }
    let index = SearchIndex::open(dir.path(), IndexConfig::default()).unwrap();
    assert_eq!(faq_ids(&index, A, "送料"), [1]);
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name(case: &str) -> String {
    format!("kimochi_search_test_{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst), case)
}

async fn with_sqlite<F, Fut>(case: &str, body: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = std::env::temp_dir().join(unique_name(case));
    std::fs::create_dir_all(&dir).unwrap();
    let store = kimochi_store::open(&format!("sqlite://{}", dir.join("kimochi.db").display())).await.unwrap();
    body(store).await;
    let _ = std::fs::remove_dir_all(&dir);
}

async fn with_postgres<F, Fut>(case: &str, body: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let admin_url = std::env::var("KIMOCHI_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap_or_else(|error| {
        panic!("PostgreSQL is required for this test and is not reachable at {admin_url}: {error}")
    });
    let database = unique_name(case);
    sqlx::query(&format!("CREATE DATABASE {database}")).execute(&mut admin).await.unwrap();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    let store = kimochi_store::open(&format!("{base}/{database}")).await.unwrap();
    let outcome = tokio::spawn(body(store)).await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).execute(&mut admin).await.unwrap();
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

macro_rules! on_both_engines {
    ($($case:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread")] async fn $case() { super::with_sqlite(stringify!($case), super::$case).await; })+
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread")] async fn $case() { super::with_postgres(stringify!($case), super::$case).await; })+
        }
    };
}

on_both_engines!(rebuilds_from_the_store_and_catches_up_per_tenant);

async fn tenant_with_contact(store: &Arc<dyn Store>, slug: &str, text: &str) -> (TenantId, CustomerId) {
    let now = datetime!(2026-05-01 00:00 UTC);
    let tenant = store.tenant_create(&TenantSlug::parse(slug).unwrap(), slug, now).await.unwrap().id;
    let customer = store.customer_create(tenant, &CustomerProfile::named("佐藤 花子").unwrap(), now).await.unwrap().id;
    add_contact(store, tenant, customer, text).await;
    store
        .faq_create(
            tenant,
            &NewFaq {
                title: format!("{slug}の送料"), body: "全国一律です".to_owned(), category: None, tags: vec![]
            },
            now,
        )
        .await
        .unwrap();
    (tenant, customer)
}

async fn add_contact(store: &Arc<dyn Store>, tenant: TenantId, customer: CustomerId, text: &str) {
    let contact = NewContact {
        external_id: None,
        customer_id: customer,
        channel: Channel::Phone,
        direction: Direction::Inbound,
        started_at: datetime!(2026-05-01 10:00 UTC),
        ended_at: None,
        agent_id: None,
        reason: None,
        outcome: None,
        text: text.to_owned(),
        thread_of: None,
        tags: ContactTags::default(),
    };
    store.contact_create(tenant, &contact).await.unwrap();
}

async fn rebuilds_from_the_store_and_catches_up_per_tenant(store: Arc<dyn Store>) {
    let (a, customer_a) = tenant_with_contact(&store, "acme", "化粧水が届きません").await;
    let (b, _) = tenant_with_contact(&store, "beta", "化粧水を解約したい").await;
    let index = Arc::new(SearchIndex::in_memory().unwrap());
    let indexed = reindex_tenant(store.as_ref(), &index, a, &mut |_| {}).await.unwrap();
    assert_eq!((indexed.faq, indexed.contacts), (1, 1));
    assert_eq!(voc_ids(&index, a, &voc("化粧水")).len(), 1);
    assert!(voc_ids(&index, b, &voc("化粧水")).is_empty(), "tenant B was not rebuilt and must not see A's");
    assert_eq!(faq_ids(&index, a, "送料").len(), 1);
    // New contacts written to the store only (as an import does) are caught up.
    add_contact(&store, a, customer_a, "解約の方法を教えて").await;
    add_contact(&store, a, customer_a, "").await;
    let read = catch_up_contacts(store.as_ref(), &index, a, &mut |_| {}).await.unwrap();
    assert_eq!(read, 2);
    assert_eq!(voc_ids(&index, a, &voc("解約")).len(), 1);
    assert_eq!(catch_up_contacts(store.as_ref(), &index, a, &mut |_| {}).await.unwrap(), 0);
    // A rebuild drops what the store no longer has and leaves other tenants alone.
    reindex_tenant(store.as_ref(), &index, b, &mut |_| {}).await.unwrap();
    assert_eq!(voc_ids(&index, b, &voc("解約")).len(), 1);
    assert_eq!(voc_ids(&index, a, &voc("解約")).len(), 1);
    assert_eq!(index.count(a).unwrap(), 3);
}
