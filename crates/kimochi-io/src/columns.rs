//! The columns each import accepts, and how a file's header row is matched against them.
//! Japanese files name columns in many ways (`顧客ID`, `会員番号`, `ＴＥＬ`), so a header is
//! compared after folding width, case, spaces, underscores and hyphens, against the English name
//! and a list of Japanese aliases.

use csv::StringRecord;
use kimochi_domain::model::short_text;
use kimochi_domain::normalize::normalize_text;

use crate::error::FileError;

/// What an import file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportKind {
    Customers,
    Products,
    Orders,
    Contacts,
    /// Behavioural data (issue 6, T1): survey answers, web visits, email opens and clicks.
    SurveyEvents,
    WebEvents,
    EmailEvents,
}

/// One column an import understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSpec {
    /// The English name, also the header the exports write.
    pub name: &'static str,
    /// Other headers that mean the same, Japanese first.
    pub aliases: &'static [&'static str],
    /// A file without this column is refused as a whole.
    pub required: bool,
    /// The column may appear several times (e.g. `電話番号` and `携帯電話`); every one is read.
    pub repeatable: bool,
}

const fn column(name: &'static str, aliases: &'static [&'static str]) -> ColumnSpec {
    ColumnSpec { name, aliases, required: false, repeatable: false }
}

const fn required(name: &'static str, aliases: &'static [&'static str]) -> ColumnSpec {
    ColumnSpec { name, aliases, required: true, repeatable: false }
}

const fn repeatable(name: &'static str, aliases: &'static [&'static str]) -> ColumnSpec {
    ColumnSpec { name, aliases, required: false, repeatable: true }
}

pub(crate) const CUSTOMER_COLUMNS: &[ColumnSpec] = &[
    required("external_id", &["顧客ID", "顧客番号", "会員ID", "会員番号", "顧客コード"]),
    required("name", &["氏名", "名前", "顧客名", "お名前"]),
    column("kana", &["フリガナ", "ふりがな", "カナ", "氏名カナ", "氏名(カナ)", "氏名フリガナ"]),
    repeatable("phone", &["電話番号", "電話", "TEL", "携帯電話", "携帯電話番号", "携帯", "携帯番号", "自宅電話番号"]),
    repeatable("email", &["メールアドレス", "メール", "Eメール", "e-mail", "mail"]),
    column("birth_date", &["生年月日", "誕生日"]),
    column("gender", &["性別"]),
    column("prefecture", &["都道府県"]),
    column("address", &["住所"]),
    column("consent_phone", &["電話同意", "架電同意"]),
    column("consent_email", &["メール同意", "メルマガ", "メルマガ同意", "メルマガ購読"]),
    column("consent_dm", &["DM同意", "DM可否"]),
    column("do_not_call", &["架電禁止", "電話禁止", "DNC"]),
    column("ad_medium", &["広告媒体", "媒体", "流入元"]),
];

/// The read-only aggregates a customer export appends after the profile. The customer import
/// skips exactly these, so that an exported file can be edited and imported again.
pub const CUSTOMER_AGGREGATE_COLUMNS: &[&str] = &[
    "order_count",
    "total_amount",
    "first_order_at",
    "last_order_at",
    "last_contact_at",
    "last_outcome",
    "consecutive_no_contact",
    "contact_count",
];

pub(crate) const PRODUCT_COLUMNS: &[ColumnSpec] = &[
    required("external_id", &["商品ID", "商品コード", "商品番号"]),
    required("name", &["商品名"]),
    required("kind", &["商品区分", "種別", "区分"]),
    required("price", &["価格", "単価", "販売価格"]),
    column("category", &["カテゴリ", "カテゴリー", "商品カテゴリ"]),
];

pub(crate) const ORDER_COLUMNS: &[ColumnSpec] = &[
    required("external_id", &["注文ID", "注文番号", "受注番号", "受注ID"]),
    required("customer_external_id", &["顧客ID", "顧客番号", "会員ID", "会員番号"]),
    required("ordered_at", &["注文日", "注文日時", "受注日", "受注日時", "購入日"]),
    required("product_external_id", &["商品ID", "商品コード", "商品番号"]),
    column("quantity", &["数量", "個数"]),
    required("amount", &["金額", "注文金額", "小計", "購入金額"]),
    column("channel", &["受注チャネル", "チャネル", "経路"]),
    column("ad_medium", &["広告媒体", "媒体"]),
    column("is_subscription", &["定期", "定期フラグ", "定期購入"]),
];

pub(crate) const CONTACT_COLUMNS: &[ColumnSpec] = &[
    required("external_id", &["対応ID", "履歴ID", "問い合わせID", "応対ID"]),
    required("customer_external_id", &["顧客ID", "顧客番号", "会員ID", "会員番号"]),
    required("channel", &["チャネル", "受付チャネル", "媒体"]),
    required("direction", &["方向", "受発信", "受発信区分", "インアウト"]),
    required("started_at", &["開始日時", "対応日時", "受付日時", "日時"]),
    column("ended_at", &["終了日時"]),
    column("reason", &["問い合わせ理由", "コールリーズン", "用件", "理由", "問い合わせ種別"]),
    column("outcome", &["結果", "対応結果"]),
    column("text", &["内容", "対応内容", "お客様の声", "VOC", "本文"]),
    column("thread_external_id", &["スレッドID", "元対応ID", "関連対応ID"]),
    column("agent_login", &["担当者", "オペレーター", "担当者ID"]),
];

/// How an events row names its customer: the first of these it fills.
macro_rules! customer_key_columns {
    () => {
        [
            column("customer_external_id", &["顧客ID", "顧客番号", "会員ID", "会員番号", "顧客コード", "customer_id"]),
            column("email", &["メールアドレス", "メール", "Eメール", "e-mail", "mail"]),
            column("phone", &["電話番号", "電話", "TEL", "携帯電話", "携帯電話番号", "携帯番号"]),
        ]
    };
}

pub(crate) const SURVEY_EVENT_COLUMNS: &[ColumnSpec] = &{
    let [a, b, c] = customer_key_columns!();
    [
        a,
        b,
        c,
        required("survey", &["アンケート", "アンケート名", "調査名"]),
        required("question", &["設問", "質問", "設問ID"]),
        required("answer", &["回答"]),
        required("answered_at", &["回答日時", "日時", "time", "occurred_at"]),
    ]
};

pub(crate) const WEB_EVENT_COLUMNS: &[ColumnSpec] = &{
    let [a, b, c] = customer_key_columns!();
    [
        a,
        b,
        c,
        required("url", &["ページURL", "アクセスURL", "ページ"]),
        required("accessed_at", &["アクセス日時", "日時", "time", "occurred_at"]),
        column("referrer", &["リファラー", "参照元", "referer"]),
    ]
};

pub(crate) const EMAIL_EVENT_COLUMNS: &[ColumnSpec] = &{
    let [a, b, c] = customer_key_columns!();
    [
        a,
        b,
        c,
        required("event", &["イベント", "種別"]),
        required("occurred_at", &["日時", "発生日時", "time"]),
        column("url", &["クリックURL", "リンク"]),
        column("campaign", &["キャンペーン", "配信名", "campaign_label"]),
    ]
};

impl ImportKind {
    pub const ALL: [ImportKind; 4] =
        [ImportKind::Customers, ImportKind::Products, ImportKind::Orders, ImportKind::Contacts];

    /// The columns this import understands, in the order exports write them.
    pub fn columns(self) -> &'static [ColumnSpec] {
        match self {
            ImportKind::Customers => CUSTOMER_COLUMNS,
            ImportKind::Products => PRODUCT_COLUMNS,
            ImportKind::Orders => ORDER_COLUMNS,
            ImportKind::Contacts => CONTACT_COLUMNS,
            ImportKind::SurveyEvents => SURVEY_EVENT_COLUMNS,
            ImportKind::WebEvents => WEB_EVENT_COLUMNS,
            ImportKind::EmailEvents => EMAIL_EVENT_COLUMNS,
        }
    }

    /// Whether `attr:<key>` / `属性:<key>` columns become custom attributes.
    pub fn accepts_attributes(self) -> bool {
        self == ImportKind::Customers
    }

    /// Columns that are recognised and skipped (the aggregates of a customer export).
    pub fn ignored_columns(self) -> &'static [&'static str] {
        match self {
            ImportKind::Customers => CUSTOMER_AGGREGATE_COLUMNS,
            _ => &[],
        }
    }
}

/// How a header is compared: `ＴＥＬ`, `tel` and `T E L` match, as do `External ID` and
/// `external_id`.
pub(crate) fn column_key(header: &str) -> String {
    normalize_text(header).to_lowercase().chars().filter(|ch| !matches!(ch, ' ' | '_' | '-')).collect()
}

/// What one column of a file is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ColumnRole {
    Field(&'static str),
    Attribute(String),
    Ignored,
    /// A column with a blank header; Excel leaves these behind. Its cells must be blank.
    Unnamed,
}

#[derive(Debug, Clone)]
pub(crate) struct HeaderColumn {
    /// The header as the file writes it, for messages.
    pub written: String,
    pub role: ColumnRole,
}

/// A file's header row, matched to the columns of its import kind.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub columns: Vec<HeaderColumn>,
}

impl Header {
    pub fn resolve(kind: ImportKind, record: &StringRecord) -> Result<Header, FileError> {
        let specs = kind.columns();
        let mut columns: Vec<HeaderColumn> = Vec::with_capacity(record.len());
        for written in record.iter() {
            let role = column_role(kind, written)?;
            let duplicate_of = columns.iter().find(|earlier| match (&earlier.role, &role) {
                (ColumnRole::Field(a), ColumnRole::Field(b)) => {
                    a == b && !specs.iter().any(|spec| spec.name == *a && spec.repeatable)
                }
                (ColumnRole::Attribute(a), ColumnRole::Attribute(b)) => a == b,
                (ColumnRole::Ignored, ColumnRole::Ignored) => column_key(&earlier.written) == column_key(written),
                _ => false,
            });
            if let Some(earlier) = duplicate_of {
                let column = match &role {
                    ColumnRole::Attribute(key) => format!("attr:{key}"),
                    ColumnRole::Field(name) => (*name).to_owned(),
                    _ => written.to_owned(),
                };
                return Err(FileError::DuplicateColumn {
                    column,
                    first: earlier.written.clone(),
                    second: written.to_owned(),
                });
            }
            columns.push(HeaderColumn { written: written.to_owned(), role });
        }
        for spec in specs.iter().filter(|spec| spec.required) {
            if !columns.iter().any(|column| column.role == ColumnRole::Field(spec.name)) {
                let found: Vec<&str> = columns.iter().map(|column| column.written.as_str()).collect();
                return Err(FileError::MissingColumn {
                    column: spec.name,
                    aliases: spec.aliases.join(", "),
                    found: found.join(", "),
                });
            }
        }
        let attributes = columns.iter().filter(|column| matches!(column.role, ColumnRole::Attribute(_))).count();
        if attributes > kimochi_domain::model::MAX_ATTRIBUTES {
            return Err(FileError::InvalidColumn {
                column: "attr:".to_owned(),
                reason: format!(
                    "the file has {attributes} attribute columns; a customer holds at most {}",
                    kimochi_domain::model::MAX_ATTRIBUTES
                ),
            });
        }
        Ok(Header { columns })
    }
}

fn column_role(kind: ImportKind, written: &str) -> Result<ColumnRole, FileError> {
    let key = column_key(written);
    if key.is_empty() {
        return Ok(ColumnRole::Unnamed);
    }
    for spec in kind.columns() {
        if key == column_key(spec.name) || spec.aliases.iter().any(|alias| key == column_key(alias)) {
            return Ok(ColumnRole::Field(spec.name));
        }
    }
    if kind.ignored_columns().iter().any(|ignored| key == column_key(ignored)) {
        return Ok(ColumnRole::Ignored);
    }
    if kind.accepts_attributes() {
        let normalized = normalize_text(written);
        let attribute =
            normalized.split_once(':').filter(|(prefix, _)| matches!(column_key(prefix).as_str(), "attr" | "属性"));
        if let Some((_, attribute_key)) = attribute {
            return short_text("attributes", attribute_key).map(ColumnRole::Attribute).map_err(|error| {
                FileError::InvalidColumn {
                    column: written.to_owned(),
                    reason: format!("the attribute name {}", error.reason),
                }
            });
        }
    }
    Err(FileError::UnknownColumn { column: written.to_owned(), accepted: accepted_columns(kind) })
}

/// `external_id (顧客ID, 顧客番号), name (氏名, …), …`, for the unknown-column message.
fn accepted_columns(kind: ImportKind) -> String {
    let mut accepted: Vec<String> =
        kind.columns().iter().map(|spec| format!("{} ({})", spec.name, spec.aliases.join(", "))).collect();
    if kind.accepts_attributes() {
        accepted.push("attr:<name> (属性:<name>) for custom attributes".to_owned());
    }
    accepted.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(kind: ImportKind, header: &str, expected: Result<ColumnRole, &str>) {
        let got = column_role(kind, header).map_err(|error| error.to_string());
        match (&got, &expected) {
            (Ok(got), Ok(expected)) => assert_eq!(got, expected, "column_role({header:?})"),
            (Err(got), Err(expected)) => {
                assert!(got.contains(expected), "column_role({header:?}) = {got}")
            }
            _ => panic!("column_role({header:?}) = {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn headers_match_names_and_aliases_loosely() {
        use ColumnRole::*;
        let customers = ImportKind::Customers;
        check(customers, "external_id", Ok(Field("external_id")));
        check(customers, "External ID", Ok(Field("external_id")));
        check(customers, "顧客ＩＤ", Ok(Field("external_id")));
        check(customers, " 会員番号 ", Ok(Field("external_id")));
        check(customers, "ＴＥＬ", Ok(Field("phone")));
        check(customers, "氏名（カナ）", Ok(Field("kana")));
        check(customers, "E-Mail", Ok(Field("email")));
        check(customers, "attr:肌質", Ok(Attribute("肌質".to_owned())));
        check(customers, "属性：肌質", Ok(Attribute("肌質".to_owned())));
        check(customers, "order_count", Ok(Ignored));
        check(customers, "", Ok(Unnamed));
        check(customers, "attr:", Err("the attribute name is empty"));
        check(customers, "好きな色", Err("\"好きな色\" is unknown; accepted columns are external_id (顧客ID"));
        check(ImportKind::Orders, "attr:肌質", Err("is unknown"));
        check(ImportKind::Orders, "order_count", Err("is unknown"));
        check(ImportKind::Contacts, "媒体", Ok(Field("channel")));
        check(ImportKind::Orders, "媒体", Ok(Field("ad_medium")));
    }

    #[test]
    fn no_two_columns_of_a_kind_share_a_header() {
        for kind in ImportKind::ALL {
            // Within one column, an alias may fold to its name (`e-mail` is `email`).
            let mut keys: Vec<String> = kind
                .columns()
                .iter()
                .flat_map(|spec| {
                    let mut own: Vec<String> =
                        std::iter::once(spec.name).chain(spec.aliases.iter().copied()).map(column_key).collect();
                    own.sort();
                    own.dedup();
                    own
                })
                .chain(kind.ignored_columns().iter().copied().map(column_key))
                .collect();
            let count = keys.len();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), count, "{kind:?} has a header that means two columns");
        }
    }
}
