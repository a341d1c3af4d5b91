//! The four imports: customers, products, orders and contacts, each from CSV text to validated
//! records of `kimochi_domain::import`, with every bad cell reported by line and column.

use std::collections::{BTreeMap, HashMap};

use kimochi_domain::datetime::{parse_date, parse_datetime};
use kimochi_domain::import::{ContactImport, OrderImport, ProductImport};
use kimochi_domain::model::{MAX_ATTRIBUTES, MAX_QUANTITY, long_text, optional_short_text, parse_amount, short_text};
use kimochi_domain::normalize::{is_kana, normalize_text, to_katakana};
use kimochi_domain::prefecture::parse_prefecture;
use kimochi_domain::{
    Channel, Consent, CustomerProfile, Direction, Email, ExternalId, Gender, Outcome, PhoneNumber, ProductKind,
    ValidationError,
};
use time::OffsetDateTime;

use crate::columns::ImportKind;
use crate::error::FileError;
use crate::rows::{Parsed, RowReader, read_rows};

/// Most phone numbers and most email addresses one customer may carry (as
/// `CustomerProfile::validate` requires).
const MAX_CONTACT_POINTS: usize = 10;

/// Reads a customer file. One row is one customer; several phone or email columns, and several
/// values in one cell separated by `;` or `、`, all belong to that customer.
pub fn parse_customers(text: &str) -> Result<Parsed<CustomerProfile>, FileError> {
    let mut first_lines = FirstLines::default();
    read_rows(ImportKind::Customers, text, |row| {
        let external_id = row.required("external_id", ExternalId::parse);
        if let Some(external_id) = &external_id {
            first_lines.check(row, "external_id", external_id);
        }
        let name = row.required("name", |value| short_text("name", value));
        let kana = row.optional("kana", parse_kana);
        let phones = multi_valued(row, "phone", PhoneNumber::parse, |phone| phone.digits().to_owned());
        let emails = multi_valued(row, "email", Email::parse, |email| email.as_str().to_owned());
        let birth_date = row.optional("birth_date", |value| parse_date("birth_date", value));
        let gender = row.optional("gender", Gender::parse).unwrap_or(Gender::Unknown);
        let prefecture = row.optional("prefecture", parse_prefecture).map(str::to_owned);
        let address = row.optional("address", |value| short_text("address", value));
        let consent = Consent {
            phone: row.optional("consent_phone", |value| parse_bool("consent_phone", value)).unwrap_or(false),
            email: row.optional("consent_email", |value| parse_bool("consent_email", value)).unwrap_or(false),
            dm: row.optional("consent_dm", |value| parse_bool("consent_dm", value)).unwrap_or(false),
        };
        let do_not_call = row.optional("do_not_call", |value| parse_bool("do_not_call", value)).unwrap_or(false);
        let ad_medium = row.optional("ad_medium", |value| short_text("ad_medium", value));
        let mut attributes = BTreeMap::new();
        let cells: Vec<(&str, &str, &str)> = row.attributes().collect();
        for (column, key, value) in cells {
            if let Some(Some(value)) = row.parsed(column, value, |value| optional_short_text("attributes", Some(value)))
            {
                attributes.insert(key.to_owned(), value);
            }
        }
        debug_assert!(attributes.len() <= MAX_ATTRIBUTES, "the header check bounds attribute columns");

        let profile = CustomerProfile {
            external_id: Some(external_id?),
            name: name?,
            kana,
            birth_date,
            gender,
            prefecture,
            address,
            phones,
            emails,
            consent,
            do_not_call,
            ad_medium,
            attributes,
        };
        // The checks above cover every rule of `validate`; this keeps the two from drifting apart.
        if let Err(error) = profile.validate() {
            let column = row.column_name(validation_field(error.field));
            row.problem(column, &error.value, error.reason);
        }
        Some(profile)
    })
}

/// Reads a product file; one row is one product.
pub fn parse_products(text: &str) -> Result<Parsed<ProductImport>, FileError> {
    let mut first_lines = FirstLines::default();
    read_rows(ImportKind::Products, text, |row| {
        let external_id = row.required("external_id", ExternalId::parse);
        if let Some(external_id) = &external_id {
            first_lines.check(row, "external_id", external_id);
        }
        let name = row.required("name", |value| short_text("name", value));
        let kind = row.required("kind", ProductKind::parse);
        let price = row.required("price", |value| parse_amount("price", value));
        let category = row.optional("category", |value| short_text("category", value));
        Some(ProductImport { external_id: external_id?, name: name?, kind: kind?, category, price: price? })
    })
}

/// What every line of one order must agree on, and where it was first given.
struct OrderHead {
    line: u64,
    customer_external_id: ExternalId,
    ordered_at: OffsetDateTime,
    channel: Option<Channel>,
    ad_medium: Option<String>,
    is_subscription: bool,
}

/// Reads an order file. One row is one order line; rows sharing `external_id` are the lines of
/// one order and must agree on the customer, the time, the channel, the medium and the
/// subscription flag (a disagreement is reported on the later row).
pub fn parse_orders(text: &str) -> Result<Parsed<OrderImport>, FileError> {
    let mut heads: HashMap<ExternalId, OrderHead> = HashMap::new();
    read_rows(ImportKind::Orders, text, |row| {
        let external_id = row.required("external_id", ExternalId::parse);
        let customer_external_id = row.required("customer_external_id", ExternalId::parse);
        let ordered_at = row.required("ordered_at", |value| parse_datetime("ordered_at", value));
        let product_external_id = row.required("product_external_id", ExternalId::parse);
        // A file without a quantity column sells one of each; a blank cell means the same.
        let quantity = row.optional("quantity", parse_quantity).unwrap_or(1);
        let amount = row.required("amount", |value| parse_amount("amount", value));
        let channel = row.optional("channel", Channel::parse);
        let ad_medium = row.optional("ad_medium", |value| short_text("ad_medium", value));
        let is_subscription =
            row.optional("is_subscription", |value| parse_bool("is_subscription", value)).unwrap_or(false);

        let order = OrderImport {
            external_id: external_id?,
            customer_external_id: customer_external_id?,
            ordered_at: ordered_at?,
            product_external_id: product_external_id?,
            quantity,
            amount: amount?,
            channel,
            ad_medium,
            is_subscription,
        };
        if !row.problems.is_empty() {
            return None;
        }
        match heads.get(&order.external_id) {
            None => {
                heads.insert(
                    order.external_id.clone(),
                    OrderHead {
                        line: row.line,
                        customer_external_id: order.customer_external_id.clone(),
                        ordered_at: order.ordered_at,
                        channel: order.channel,
                        ad_medium: order.ad_medium.clone(),
                        is_subscription: order.is_subscription,
                    },
                );
            }
            Some(head) => check_same_order(row, head, &order),
        }
        Some(order)
    })
}

fn check_same_order(row: &mut RowReader<'_>, head: &OrderHead, order: &OrderImport) {
    let disagree = |row: &mut RowReader<'_>, field: &'static str, first: String| {
        let column = row.column_name(field);
        let value = row.cell(field).map_or("", |(_, value)| value);
        row.problem(column, value, format!("differs from line {} of the same order, which has {first:?}", head.line));
    };
    if order.customer_external_id != head.customer_external_id {
        disagree(row, "customer_external_id", head.customer_external_id.as_str().to_owned());
    }
    if order.ordered_at != head.ordered_at {
        disagree(row, "ordered_at", kimochi_domain::datetime::format_jst(head.ordered_at));
    }
    if order.channel != head.channel {
        disagree(row, "channel", head.channel.map(Channel::code).unwrap_or_default().to_owned());
    }
    if order.ad_medium != head.ad_medium {
        disagree(row, "ad_medium", head.ad_medium.clone().unwrap_or_default());
    }
    if order.is_subscription != head.is_subscription {
        disagree(row, "is_subscription", if head.is_subscription { "1" } else { "0" }.to_owned());
    }
}

/// Reads a contact file; one row is one contact. The text may span many lines inside quotes.
pub fn parse_contacts(text: &str) -> Result<Parsed<ContactImport>, FileError> {
    let mut first_lines = FirstLines::default();
    read_rows(ImportKind::Contacts, text, |row| {
        let external_id = row.required("external_id", ExternalId::parse);
        if let Some(external_id) = &external_id {
            first_lines.check(row, "external_id", external_id);
        }
        let customer_external_id = row.required("customer_external_id", ExternalId::parse);
        let channel = row.required("channel", Channel::parse);
        let direction = row.required("direction", Direction::parse);
        let started_at = row.required("started_at", |value| parse_datetime("started_at", value));
        let ended_at = row.optional("ended_at", |value| parse_datetime("ended_at", value));
        if let (Some(started_at), Some(ended_at), Some((column, value))) = (started_at, ended_at, row.cell("ended_at"))
        {
            if ended_at < started_at {
                row.problem(column, value, "is before started_at");
            } else if ended_at - started_at > time::Duration::days(1) {
                row.problem(column, value, "is more than a day after started_at");
            }
        }
        let reason = row.optional("reason", |value| short_text("reason", value));
        let outcome = row.optional("outcome", Outcome::parse);
        let text = row.optional("text", |value| long_text("text", value)).unwrap_or_default();
        let thread_external_id = row.optional("thread_external_id", ExternalId::parse);
        let own_thread = row
            .cell("thread_external_id")
            .filter(|_| thread_external_id.is_some() && thread_external_id == external_id);
        if let Some((column, value)) = own_thread {
            row.problem(column, value, "is the contact's own id; leave it blank for a contact that starts a thread");
        }
        let agent_login = row.optional("agent_login", |value| short_text("agent_login", value));
        Some(ContactImport {
            external_id: external_id?,
            customer_external_id: customer_external_id?,
            channel: channel?,
            direction: direction?,
            started_at: started_at?,
            ended_at,
            reason,
            outcome,
            text,
            thread_external_id,
            agent_login,
            tags: Default::default(),
        })
    })
}

/// The line each external id was first seen on, to report repeats. An id counts as seen even
/// when its row is bad otherwise: the file still names two records the same.
#[derive(Default)]
struct FirstLines(HashMap<ExternalId, u64>);

impl FirstLines {
    fn check(&mut self, row: &mut RowReader<'_>, field: &'static str, external_id: &ExternalId) {
        match self.0.get(external_id) {
            Some(first) => {
                let first = *first;
                let (column, value) = row.cell(field).unwrap_or((field, external_id.as_str()));
                row.problem(column, value, format!("repeats the id of line {first}"));
            }
            None => {
                self.0.insert(external_id.clone(), row.line);
            }
        }
    }
}

/// Reads every value of a repeatable column (`電話番号`, `携帯電話` …), each cell split on `;`,
/// `、` and friends, in column order, without repeats. Each bad value is its own problem.
fn multi_valued<T>(
    row: &mut RowReader<'_>,
    field: &'static str,
    parse: impl Fn(&str) -> Result<T, ValidationError>,
    identity: impl Fn(&T) -> String,
) -> Vec<T> {
    let cells: Vec<(&str, &str)> = row.cells(field).collect();
    let mut values: Vec<T> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (column, cell) in cells {
        let pieces: Vec<&str> =
            cell.split([';', '；', '、', ',', '，', '\n']).map(str::trim).filter(|piece| !piece.is_empty()).collect();
        for piece in &pieces {
            match parse(piece) {
                Ok(value) => {
                    let key = identity(&value);
                    if !seen.contains(&key) {
                        seen.push(key);
                        values.push(value);
                    }
                }
                Err(error) if pieces.len() > 1 => row.problem(column, cell, format!("{piece:?} {}", error.reason)),
                Err(error) => row.problem(column, cell, error.reason),
            }
        }
    }
    if values.len() > MAX_CONTACT_POINTS {
        let column = row.column_name(field);
        row.problem(column, "", format!("has {} values; a customer keeps at most {MAX_CONTACT_POINTS}", values.len()));
    }
    values
}

/// Maps a field `CustomerProfile::validate` names to the column that feeds it.
fn validation_field(field: &'static str) -> &'static str {
    match field {
        "phones" => "phone",
        "emails" => "email",
        other => other,
    }
}

/// A フリガナ cell: hiragana, katakana (full or half width) or a mix, stored as katakana.
fn parse_kana(value: &str) -> Result<String, ValidationError> {
    let kana = to_katakana(&short_text("kana", value)?);
    if !is_kana(&kana) {
        return Err(ValidationError::new("kana", value, "must be written in kana"));
    }
    Ok(kana)
}

/// A whole number of items, 1 to `MAX_QUANTITY`.
fn parse_quantity(value: &str) -> Result<i64, ValidationError> {
    let digits: String = normalize_text(value).chars().filter(|ch| *ch != ',').collect();
    let quantity: i64 = digits.parse().map_err(|_| ValidationError::new("quantity", value, "is not a whole number"))?;
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        return Err(ValidationError::new("quantity", value, format!("must be between 1 and {MAX_QUANTITY}")));
    }
    Ok(quantity)
}

/// The ways Japanese spreadsheets write yes and no: 1/0, はい/いいえ, 可/不可, 有/無, ○/×, 済 …
/// (a blank cell, handled by the caller, is no).
pub(crate) fn parse_bool(field: &'static str, value: &str) -> Result<bool, ValidationError> {
    const YES: &[&str] =
        &["1", "true", "yes", "y", "on", "はい", "可", "有", "あり", "有り", "○", "〇", "◯", "済", "同意", "許可"];
    const NO: &[&str] =
        &["0", "false", "no", "n", "off", "いいえ", "不可", "無", "なし", "無し", "×", "✕", "x", "-", "拒否", "否"];
    let wanted = normalize_text(value).to_lowercase();
    if YES.contains(&wanted.as_str()) {
        Ok(true)
    } else if NO.contains(&wanted.as_str()) || wanted.is_empty() {
        Ok(false)
    } else {
        Err(ValidationError::new(field, value, "is not yes or no (1/0, はい/いいえ, 可/不可, 有/無, ○/×)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Option<bool>) {
        assert_eq!(parse_bool("flag", input).ok(), expected, "parse_bool({input:?})");
    }

    #[test]
    fn booleans_in_japanese_spreadsheet_forms() {
        for yes in ["1", "１", "TRUE", "Yes", "y", "はい", "可", "有", "あり", "○", "〇", "済"] {
            check(yes, Some(true));
        }
        for no in ["0", "false", "NO", "n", "いいえ", "不可", "無", "なし", "×", "", "　"] {
            check(no, Some(false));
        }
        check("たぶん", None);
        check("2", None);
    }

    #[test]
    fn kana_is_stored_in_katakana() {
        assert_eq!(parse_kana("やまだ　たろう").ok().as_deref(), Some("ヤマダ タロウ"));
        assert_eq!(parse_kana("ﾔﾏﾀﾞ ﾀﾛｳ").ok().as_deref(), Some("ヤマダ タロウ"));
        assert!(parse_kana("山田").is_err());
    }

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity("３").ok(), Some(3));
        assert_eq!(parse_quantity("1,000").ok(), Some(1000));
        assert!(parse_quantity("0").is_err());
        assert!(parse_quantity("1.5").is_err());
    }
}
