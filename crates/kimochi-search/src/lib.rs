//! kimochi-search: full-text search over FAQ articles and voice-of-customer (VOC) texts in
//! Japanese, on tantivy. Each text is indexed twice: as words from kimochi-text's IPADIC
//! analyzer (base forms, so 「合わなかった」 finds 「合う」) and as character bigrams, so product
//! names the dictionary does not know and partial words are still found. Every document carries
//! its tenant, kind (FAQ or VOC), time, channel and kimochi kinds as filter fields.
//!
//! Invariants: every query is built here and always requires the caller's tenant, so no search
//! can see another tenant's documents; query text is never parsed as query syntax (it only
//! goes through the same tokenizers as the documents), so no input can make a query fail; query
//! length and hit count are bounded. The index is derived data: [`sync`] rebuilds it from the
//! store at any time.

pub mod analysis;
pub mod snippet;
pub mod sync;

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use kimochi_domain::{Channel, Contact, ContactId, CustomerId, Faq, FaqId, KimochiTag, TenantId};
use kimochi_text::{Dictionary, Scratch, normalize};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term};

pub use snippet::{Fragment, Snippet};

/// Longest query text, in characters; longer queries are refused by the callers and cut here.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most whitespace-separated parts of a query that are used; the rest are ignored.
pub const MAX_QUERY_PARTS: usize = 8;
/// Most hits one query returns.
pub const MAX_LIMIT: usize = 50;
/// Characters in a snippet.
pub const SNIPPET_CHARS: usize = 120;
/// Memory the index writer may use before it flushes a segment.
const WRITER_MEMORY_BYTES: usize = 64 * 1024 * 1024;

const KIND_FAQ: &str = "faq";
const KIND_VOC: &str = "voc";

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(
        "the search index at {0} is in use by another kimochi process (a running `kimochi serve`?): stop it, or give this command its own --search-index"
    )]
    Locked(PathBuf),
    #[error(
        "the search index at {0} was built by another version of kimochi: delete that folder and run `kimochi search reindex`"
    )]
    SchemaChanged(PathBuf),
    #[error("creating the search index folder {path}: {source}")]
    Folder { path: PathBuf, source: std::io::Error },
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("the Japanese analyzer could not start: {0}")]
    Text(#[from] kimochi_text::DictionaryError),
    #[error(transparent)]
    Store(#[from] kimochi_store::StoreError),
    #[error("search index task: {0}")]
    Task(String),
}

pub type Result<T, E = SearchError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy)]
struct Fields {
    key: Field,
    kind: Field,
    tenant: Field,
    id: Field,
    customer: Field,
    at: Field,
    channel: Field,
    kimochi: Field,
    title: Field,
    title_bigrams: Field,
    body: Field,
    body_bigrams: Field,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let words = |stored: bool| {
        let options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default().set_tokenizer(analysis::WORDS).set_index_option(IndexRecordOption::WithFreqs),
        );
        if stored { options.set_stored() } else { options }
    };
    let bigrams = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analysis::BIGRAMS)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        key: builder.add_text_field("key", STRING),
        kind: builder.add_text_field("kind", STRING),
        tenant: builder.add_i64_field("tenant", INDEXED | FAST),
        id: builder.add_i64_field("id", INDEXED | STORED | FAST),
        customer: builder.add_i64_field("customer", INDEXED | STORED),
        at: builder.add_i64_field("at", INDEXED | STORED | FAST),
        channel: builder.add_text_field("channel", STRING | STORED),
        kimochi: builder.add_text_field("kimochi", STRING | STORED),
        title: builder.add_text_field("title", words(true)),
        title_bigrams: builder.add_text_field("title_bigrams", bigrams.clone()),
        body: builder.add_text_field("body", words(true)),
        body_bigrams: builder.add_text_field("body_bigrams", bigrams),
    };
    (builder.build(), fields)
}

/// How the writer runs.
#[derive(Debug, Clone, Copy)]
pub struct IndexConfig {
    /// Indexing threads (tantivy's); 1 keeps a shared server responsive, more rebuild faster.
    pub threads: usize,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig { threads: 1 }
    }
}

/// The search index of one kimochi process: it holds the writer (and so the folder's lock) for
/// its lifetime. Blocking: call it from `spawn_blocking` in async code.
pub struct SearchIndex {
    path: Option<PathBuf>,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    /// Per tenant, the highest contact id read from the store by this process, text or not:
    /// contacts without text leave no document, and would otherwise be read again every time.
    contacts_read: Mutex<std::collections::HashMap<TenantId, i64>>,
    fields: Fields,
    dictionary: &'static Dictionary,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").field("path", &self.path).finish_non_exhaustive()
    }
}

/// The folder of the index for a database URL when none is configured: beside the SQLite file
/// (`data/kimochi.db` → `data/kimochi.db.search`), or `data/search-index` for PostgreSQL.
pub fn default_index_dir(db_url: &str) -> PathBuf {
    match db_url.strip_prefix("sqlite://").or_else(|| db_url.strip_prefix("sqlite:")) {
        Some(file) => {
            let file = file.split('?').next().unwrap_or(file);
            PathBuf::from(format!("{file}.search"))
        }
        None => PathBuf::from("data/search-index"),
    }
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it (and the folder) when missing.
    pub fn open(dir: &Path, config: IndexConfig) -> Result<SearchIndex> {
        std::fs::create_dir_all(dir).map_err(|source| SearchError::Folder { path: dir.to_owned(), source })?;
        let (schema, fields) = schema();
        let directory = tantivy::directory::MmapDirectory::open(dir)
            .map_err(|e| SearchError::Index(tantivy::TantivyError::from(e)))?;
        let index = Index::open_or_create(directory, schema.clone()).map_err(|error| match error {
            tantivy::TantivyError::SchemaError(_) => SearchError::SchemaChanged(dir.to_owned()),
            other => SearchError::Index(other),
        })?;
        if index.schema() != schema {
            return Err(SearchError::SchemaChanged(dir.to_owned()));
        }
        SearchIndex::with_index(Some(dir.to_owned()), index, fields, config)
    }

    /// An index in memory, for tests and for a server started without a folder.
    pub fn in_memory() -> Result<SearchIndex> {
        let (schema, fields) = schema();
        SearchIndex::with_index(None, Index::create_in_ram(schema), fields, IndexConfig::default())
    }

    fn with_index(path: Option<PathBuf>, index: Index, fields: Fields, config: IndexConfig) -> Result<SearchIndex> {
        let dictionary = Dictionary::embedded()?;
        index.tokenizers().register(analysis::WORDS, analysis::WordTokenizer::new(dictionary));
        index.tokenizers().register(analysis::BIGRAMS, analysis::BigramTokenizer);
        let writer = index
            .writer_with_num_threads(config.threads.max(1), WRITER_MEMORY_BYTES * config.threads.max(1))
            .map_err(|error| match (&error, &path) {
                (tantivy::TantivyError::LockFailure(..), Some(path)) => SearchError::Locked(path.clone()),
                _ => SearchError::Index(error),
            })?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(SearchIndex {
            path,
            reader,
            writer: Mutex::new(writer),
            contacts_read: Mutex::default(),
            fields,
            dictionary,
        })
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        // A panic while holding the writer leaves it usable: tantivy's operations are atomic
        // per commit, and uncommitted work is simply lost (the sync re-adds it).
        self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn key(tenant: TenantId, kind: &str, id: i64) -> String {
        format!("{}/{kind}/{id}", tenant.0)
    }

    /// Adds or replaces an FAQ article (not yet visible: see [`SearchIndex::commit`]).
    pub fn put_faq(&self, tenant: TenantId, faq: &Faq) -> Result<()> {
        let f = &self.fields;
        let key = SearchIndex::key(tenant, KIND_FAQ, faq.id.0);
        let mut doc = TantivyDocument::default();
        doc.add_text(f.key, &key);
        doc.add_text(f.kind, KIND_FAQ);
        doc.add_i64(f.tenant, tenant.0);
        doc.add_i64(f.id, faq.id.0);
        doc.add_i64(f.at, kimochi_domain::datetime::to_unix(faq.updated_at));
        doc.add_text(f.title, &faq.title);
        doc.add_text(f.title_bigrams, &faq.title);
        doc.add_text(f.body, &faq.body);
        doc.add_text(f.body_bigrams, &faq.body);
        // Category and tags are found like words of the body; only the first body value is shown.
        for extra in faq.category.iter().chain(&faq.tags) {
            doc.add_text(f.body, extra);
            doc.add_text(f.body_bigrams, extra);
        }
        let writer = self.writer();
        writer.delete_term(Term::from_field_text(f.key, &key));
        writer.add_document(doc)?;
        Ok(())
    }

    /// Removes an FAQ article.
    pub fn delete_faq(&self, tenant: TenantId, id: FaqId) {
        self.writer().delete_term(Term::from_field_text(self.fields.key, &SearchIndex::key(tenant, KIND_FAQ, id.0)));
    }

    /// Adds or replaces contacts' VOC texts; contacts without text are skipped.
    pub fn put_contacts(&self, tenant: TenantId, contacts: &[Contact]) -> Result<()> {
        let f = &self.fields;
        let writer = self.writer();
        for contact in contacts {
            let key = SearchIndex::key(tenant, KIND_VOC, contact.id.0);
            writer.delete_term(Term::from_field_text(f.key, &key));
            if contact.text.trim().is_empty() {
                continue;
            }
            let mut doc = TantivyDocument::default();
            doc.add_text(f.key, &key);
            doc.add_text(f.kind, KIND_VOC);
            doc.add_i64(f.tenant, tenant.0);
            doc.add_i64(f.id, contact.id.0);
            doc.add_i64(f.customer, contact.customer_id.0);
            doc.add_i64(f.at, kimochi_domain::datetime::to_unix(contact.started_at));
            doc.add_text(f.channel, contact.channel.code());
            for kind in &contact.tags.kimochi {
                doc.add_text(f.kimochi, kind.code());
            }
            doc.add_text(f.body, &contact.text);
            doc.add_text(f.body_bigrams, &contact.text);
            writer.add_document(doc)?;
        }
        Ok(())
    }

    /// Removes a customer's VOC texts (the customer was deleted).
    pub fn delete_customer(&self, tenant: TenantId, customer: CustomerId) -> Result<()> {
        let f = &self.fields;
        let query = BooleanQuery::new(vec![
            (Occur::Must, term_query(Term::from_field_i64(f.tenant, tenant.0))),
            (Occur::Must, term_query(Term::from_field_i64(f.customer, customer.0))),
        ]);
        self.writer().delete_query(Box::new(query))?;
        Ok(())
    }

    /// Removes every document of a tenant (before a rebuild).
    pub fn delete_tenant(&self, tenant: TenantId) -> Result<()> {
        self.contacts_read.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&tenant);
        self.writer().delete_query(term_query(Term::from_field_i64(self.fields.tenant, tenant.0)))?;
        Ok(())
    }

    /// Removes a tenant's FAQ articles (before they are all put again).
    fn delete_tenant_faq(&self, tenant: TenantId) -> Result<()> {
        let f = &self.fields;
        let query = BooleanQuery::new(vec![
            (Occur::Must, term_query(Term::from_field_i64(f.tenant, tenant.0))),
            (Occur::Must, term_query(Term::from_field_text(f.kind, KIND_FAQ))),
        ]);
        self.writer().delete_query(Box::new(query))?;
        Ok(())
    }

    /// Makes everything written so far durable and visible to searches.
    pub fn commit(&self) -> Result<()> {
        self.writer().commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Where a catch-up of a tenant's contacts resumes: after the highest contact id indexed
    /// or read.
    pub fn contacts_resume_after(&self, tenant: TenantId) -> Result<i64> {
        let indexed = self.last_contact_id(tenant)?.map_or(0, |id| id.0);
        let read = self.contacts_read.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&tenant).copied();
        Ok(indexed.max(read.unwrap_or(0)))
    }

    /// Records that a tenant's contacts up to `id` were read (see [`SearchIndex::contacts_resume_after`]).
    pub fn contacts_read_up_to(&self, tenant: TenantId, id: ContactId) {
        let mut read = self.contacts_read.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = read.entry(tenant).or_insert(0);
        *entry = (*entry).max(id.0);
    }

    /// The highest contact id indexed for a tenant.
    pub fn last_contact_id(&self, tenant: TenantId) -> Result<Option<ContactId>> {
        let f = &self.fields;
        let query = BooleanQuery::new(vec![
            (Occur::Must, term_query(Term::from_field_i64(f.tenant, tenant.0))),
            (Occur::Must, term_query(Term::from_field_text(f.kind, KIND_VOC))),
        ]);
        let searcher = self.reader.searcher();
        let top = searcher.search(&query, &TopDocs::with_limit(1).order_by_fast_field::<i64>("id", Order::Desc))?;
        Ok(top.first().map(|(id, _)| ContactId(*id)))
    }

    /// Documents of a tenant (FAQ and VOC), for reports and tests.
    pub fn count(&self, tenant: TenantId) -> Result<usize> {
        let query = term_query(Term::from_field_i64(self.fields.tenant, tenant.0));
        Ok(self.reader.searcher().search(&query, &tantivy::collector::Count)?)
    }

    /// Searches a tenant's FAQ articles.
    pub fn search_faq(&self, tenant: TenantId, query: &SearchQuery) -> Result<Vec<FaqHit>> {
        let Some(text) = self.text_query(&query.text) else { return Ok(Vec::new()) };
        let f = &self.fields;
        let filters = vec![self.tenant_kind(tenant, KIND_FAQ)];
        let searcher = self.reader.searcher();
        let top = self.top(&searcher, &text, &filters, query.limit())?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let title = first_text(&doc, f.title);
            let body = first_text(&doc, f.body);
            hits.push(FaqHit {
                id: FaqId(first_i64(&doc, f.id)),
                title_snippet: snippet::snippet(&title, &text.needles, SNIPPET_CHARS),
                snippet: snippet::snippet(&body, &text.needles, SNIPPET_CHARS),
                title,
                score,
            });
        }
        Ok(hits)
    }

    /// Searches a tenant's VOC texts. `mask` is applied to each text before its snippet is cut
    /// (personal data for roles without access).
    pub fn search_voc(&self, tenant: TenantId, query: &VocQuery, mask: &dyn Fn(&str) -> String) -> Result<Vec<VocHit>> {
        let Some(text) = self.text_query(&query.search.text) else { return Ok(Vec::new()) };
        let f = &self.fields;
        let mut filters = vec![self.tenant_kind(tenant, KIND_VOC)];
        if query.from.is_some() || query.to.is_some() {
            let bound = |at: Option<i64>, included: bool| match at {
                Some(at) if included => Bound::Included(Term::from_field_i64(f.at, at)),
                Some(at) => Bound::Excluded(Term::from_field_i64(f.at, at)),
                None => Bound::Unbounded,
            };
            filters.push(Box::new(RangeQuery::new(bound(query.from, true), bound(query.to, false))) as Box<dyn Query>);
        }
        if !query.channels.is_empty() {
            filters.push(any_of(query.channels.iter().map(|c| Term::from_field_text(f.channel, c.code()))));
        }
        if !query.kimochi.is_empty() {
            filters.push(any_of(query.kimochi.iter().map(|k| Term::from_field_text(f.kimochi, k.code()))));
        }
        let searcher = self.reader.searcher();
        let top = self.top(&searcher, &text, &filters, query.search.limit())?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            hits.push(self.voc_hit(&searcher, address, score, &text.needles, mask)?);
        }
        Ok(hits)
    }

    fn voc_hit(
        &self,
        searcher: &tantivy::Searcher,
        address: DocAddress,
        score: f32,
        needles: &[String],
        mask: &dyn Fn(&str) -> String,
    ) -> Result<VocHit> {
        let f = &self.fields;
        let doc: TantivyDocument = searcher.doc(address)?;
        let body = mask(&first_text(&doc, f.body));
        Ok(VocHit {
            contact_id: ContactId(first_i64(&doc, f.id)),
            customer_id: CustomerId(first_i64(&doc, f.customer)),
            at: kimochi_domain::datetime::from_unix(first_i64(&doc, f.at)),
            channel: Channel::from_code(&first_text(&doc, f.channel)),
            kimochi: doc.get_all(f.kimochi).filter_map(|v| v.as_str()).filter_map(KimochiTag::from_code).collect(),
            snippet: snippet::snippet(&body, needles, SNIPPET_CHARS),
            score,
        })
    }

    fn tenant_kind(&self, tenant: TenantId, kind: &str) -> Box<dyn Query> {
        Box::new(BooleanQuery::new(vec![
            (Occur::Must, term_query(Term::from_field_i64(self.fields.tenant, tenant.0))),
            (Occur::Must, term_query(Term::from_field_text(self.fields.kind, kind))),
        ]))
    }

    /// The text part of a query: every whitespace-separated part must match, either as words
    /// (all its words, in title or body) or as a phrase of bigrams (the part as written, after
    /// normalisation). Title matches weigh double. `None` when nothing searchable is left.
    fn text_query(&self, text: &str) -> Option<TextQuery> {
        let f = &self.fields;
        let bounded: String = text.chars().take(MAX_QUERY_CHARS).collect();
        let normalized = normalize(&bounded);
        let mut scratch = Scratch::default();
        let mut parts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut word_parts: Option<Vec<(Occur, Box<dyn Query>)>> = Some(Vec::new());
        let mut needles = Vec::new();
        for part in normalized.text.split_whitespace().take(MAX_QUERY_PARTS) {
            let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            let words = analysis::words(self.dictionary, part, &mut scratch);
            if !words.is_empty() {
                let all_words = words
                    .iter()
                    .map(|word| {
                        let either: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
                            (Occur::Should, boosted(term_query(Term::from_field_text(f.title, &word.text)), 2.0)),
                            (Occur::Should, term_query(Term::from_field_text(f.body, &word.text))),
                        ]));
                        (Occur::Must, either)
                    })
                    .collect();
                let all_words: Box<dyn Query> = Box::new(BooleanQuery::new(all_words));
                if let Some(word_parts) = &mut word_parts {
                    word_parts.push((Occur::Must, all_words.box_clone()));
                }
                alternatives.push((Occur::Should, all_words));
                for word in &words {
                    if let Some(surface) = part.get(word.offset_from..word.offset_to) {
                        needles.push(surface.to_owned());
                    }
                }
            } else {
                word_parts = None;
            }
            let grams = analysis::bigrams(part);
            if !grams.is_empty() {
                alternatives.push((Occur::Should, boosted(phrase(f.title_bigrams, &grams), 2.0)));
                alternatives.push((Occur::Should, phrase(f.body_bigrams, &grams)));
                needles.push(part.to_owned());
            }
            if !alternatives.is_empty() {
                parts.push((Occur::Must, Box::new(BooleanQuery::new(alternatives))));
            }
        }
        if parts.is_empty() {
            return None;
        }
        // Longest first, so that a snippet marks 「解約方法」 whole rather than 「解約」 then 「方法」.
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        needles.dedup();
        let words_only = word_parts.filter(|p| !p.is_empty()).map(|p| Box::new(BooleanQuery::new(p)) as Box<dyn Query>);
        Some(TextQuery { query: Box::new(BooleanQuery::new(parts)), words_only, needles })
    }
}

struct TextQuery {
    /// Words or bigram phrases.
    query: Box<dyn Query>,
    /// Words only, when every part has words: tried first, because on common words (「美容液」
    /// in a third of a million texts) the phrase alternatives cost several times more and rarely
    /// add to a full first page.
    words_only: Option<Box<dyn Query>>,
    needles: Vec<String>,
}

impl SearchIndex {
    /// The best `limit` documents for `text` within `filters`: words first, then words or
    /// phrases when words alone do not fill the page.
    fn top(
        &self,
        searcher: &tantivy::Searcher,
        text: &TextQuery,
        filters: &[Box<dyn Query>],
        limit: usize,
    ) -> Result<Vec<(f32, DocAddress)>> {
        let filtered =
            |query: &dyn Query| with_filters(query.box_clone(), filters.iter().map(|f| f.box_clone()).collect());
        if let Some(words) = &text.words_only {
            let top = searcher.search(&filtered(words.as_ref()), &TopDocs::with_limit(limit))?;
            if top.len() >= limit {
                return Ok(top);
            }
        }
        Ok(searcher.search(&filtered(text.query.as_ref()), &TopDocs::with_limit(limit))?)
    }
}

fn term_query(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
}

fn boosted(query: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(query, boost))
}

fn phrase(field: Field, grams: &[tantivy::tokenizer::Token]) -> Box<dyn Query> {
    if let [only] = grams {
        return term_query(Term::from_field_text(field, &only.text));
    }
    let first = grams[0].position;
    Box::new(PhraseQuery::new_with_offset(
        grams.iter().map(|g| (g.position - first, Term::from_field_text(field, &g.text))).collect(),
    ))
}

fn any_of(terms: impl Iterator<Item = Term>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(terms.map(|t| (Occur::Should, term_query(t))).collect()))
}

/// The text query, scored, restricted by filters that do not score.
fn with_filters(text: Box<dyn Query>, filters: Vec<Box<dyn Query>>) -> BooleanQuery {
    let mut clauses = vec![(Occur::Must, text)];
    for filter in filters {
        clauses.push((Occur::Must, boosted(filter, 0.0)));
    }
    BooleanQuery::new(clauses)
}

fn first_text(doc: &TantivyDocument, field: Field) -> String {
    doc.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_owned()
}

fn first_i64(doc: &TantivyDocument, field: Field) -> i64 {
    doc.get_first(field).and_then(|v| v.as_i64()).unwrap_or_default()
}

/// What to look for.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub text: String,
    /// Hits wanted; 0 means 10, more than [`MAX_LIMIT`] means [`MAX_LIMIT`].
    pub limit: usize,
}

impl SearchQuery {
    fn limit(&self) -> usize {
        match self.limit {
            0 => 10,
            n => n.min(MAX_LIMIT),
        }
    }
}

/// A VOC search: text and filters. Times are Unix seconds, `from` included, `to` excluded.
#[derive(Debug, Clone, Default)]
pub struct VocQuery {
    pub search: SearchQuery,
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Any of these channels (none: all).
    pub channels: Vec<Channel>,
    /// Any of these kimochi kinds (none: all).
    pub kimochi: Vec<KimochiTag>,
}

#[derive(Debug, Clone)]
pub struct FaqHit {
    pub id: FaqId,
    pub title: String,
    pub title_snippet: Snippet,
    pub snippet: Snippet,
    pub score: f32,
}

#[derive(Debug, Clone)]
pub struct VocHit {
    pub contact_id: ContactId,
    pub customer_id: CustomerId,
    pub at: time::OffsetDateTime,
    pub channel: Option<Channel>,
    pub kimochi: Vec<KimochiTag>,
    pub snippet: Snippet,
    pub score: f32,
}
