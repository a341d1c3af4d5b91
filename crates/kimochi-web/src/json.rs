//! The API's JSON shapes. Domain types are not the API: these structs are what clients see and
//! send, converted here, with personal data masked for roles that must not see it (B5).

use std::collections::BTreeMap;

use kimochi_domain::datetime::{format_date, format_jst, parse_date, parse_datetime};
use kimochi_domain::model::{optional_short_text, short_text};
use kimochi_domain::*;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

fn ts(at: OffsetDateTime) -> String {
    format_jst(at)
}

fn optional_ts(at: Option<OffsetDateTime>) -> Option<String> {
    at.map(format_jst)
}

#[derive(Debug, Serialize)]
pub struct ConsentJson {
    pub phone: bool,
    pub email: bool,
    pub dm: bool,
}

#[derive(Debug, Serialize)]
pub struct CustomerJson {
    pub id: i64,
    pub external_id: Option<String>,
    pub name: String,
    pub kana: Option<String>,
    pub birth_date: Option<String>,
    pub gender: &'static str,
    pub prefecture: Option<String>,
    pub address: Option<String>,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub consent: ConsentJson,
    pub do_not_call: bool,
    pub ad_medium: Option<String>,
    pub attributes: BTreeMap<String, String>,
    pub created_at: String,
    pub updated_at: String,
    /// True when personal fields were masked for the caller's role.
    pub masked: bool,
}

impl CustomerJson {
    pub fn new(customer: &Customer, role: Role) -> CustomerJson {
        let profile = &customer.profile;
        let clear = role.sees_personal_data();
        CustomerJson {
            id: customer.id.0,
            external_id: profile.external_id.as_ref().map(|e| e.as_str().to_owned()),
            name: profile.name.clone(),
            kana: profile.kana.clone(),
            birth_date: profile.birth_date.map(
                |d| {
                    if clear { format_date(d) } else { format!("{:04}-**-**", d.year()) }
                },
            ),
            gender: profile.gender.code(),
            prefecture: profile.prefecture.clone(),
            address: if clear { profile.address.clone() } else { profile.address.as_ref().map(|_| "***".to_owned()) },
            phones: profile.phones.iter().map(|p| if clear { p.to_string() } else { p.masked() }).collect(),
            emails: profile.emails.iter().map(|e| if clear { e.to_string() } else { e.masked() }).collect(),
            consent: ConsentJson { phone: profile.consent.phone, email: profile.consent.email, dm: profile.consent.dm },
            do_not_call: profile.do_not_call,
            ad_medium: profile.ad_medium.clone(),
            attributes: profile.attributes.clone(),
            created_at: ts(customer.created_at),
            updated_at: ts(customer.updated_at),
            masked: !clear,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CustomerSummaryJson {
    pub id: i64,
    pub external_id: Option<String>,
    pub name: String,
    pub kana: Option<String>,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub prefecture: Option<String>,
    pub birth_year: Option<i32>,
    pub last_contact_at: Option<String>,
}

impl CustomerSummaryJson {
    pub fn new(summary: &kimochi_store::CustomerSummary, role: Role) -> CustomerSummaryJson {
        let clear = role.sees_personal_data();
        CustomerSummaryJson {
            id: summary.id.0,
            external_id: summary.external_id.as_ref().map(|e| e.as_str().to_owned()),
            name: summary.name.clone(),
            kana: summary.kana.clone(),
            phones: summary.phones.iter().map(|p| if clear { p.to_string() } else { p.masked() }).collect(),
            emails: summary.emails.iter().map(|e| if clear { e.to_string() } else { e.masked() }).collect(),
            prefecture: summary.prefecture.clone(),
            birth_year: summary.birth_date.map(|d| d.year()),
            last_contact_at: optional_ts(summary.last_contact_at),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    #[serde(default)]
    pub phone: bool,
    #[serde(default)]
    pub email: bool,
    #[serde(default)]
    pub dm: bool,
}

/// A customer as a client sends it (create, or full replacement on update).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    pub external_id: Option<String>,
    pub name: String,
    pub kana: Option<String>,
    pub birth_date: Option<String>,
    pub gender: Option<String>,
    pub prefecture: Option<String>,
    pub address: Option<String>,
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub emails: Vec<String>,
    #[serde(default)]
    pub consent: ConsentInput,
    #[serde(default)]
    pub do_not_call: bool,
    pub ad_medium: Option<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

impl CustomerInput {
    pub fn into_profile(self) -> Result<CustomerProfile, ValidationError> {
        let mut profile = CustomerProfile::named(&self.name)?;
        profile.external_id =
            self.external_id.as_deref().filter(|s| !s.trim().is_empty()).map(ExternalId::parse).transpose()?;
        profile.kana = match self.kana.as_deref().map(kimochi_domain::normalize::to_katakana) {
            Some(kana) if kana.is_empty() => None,
            Some(kana) if !kimochi_domain::normalize::is_kana(&kana) => {
                return Err(ValidationError::new("kana", &kana, "must be written in kana"));
            }
            other => other,
        };
        profile.birth_date = self
            .birth_date
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|d| parse_date("birth_date", d))
            .transpose()?;
        profile.gender = self.gender.as_deref().map(Gender::parse).transpose()?.unwrap_or(Gender::Unknown);
        profile.prefecture = self
            .prefecture
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(kimochi_domain::prefecture::parse_prefecture)
            .transpose()?
            .map(str::to_owned);
        profile.address = optional_short_text("address", self.address.as_deref())?;
        profile.phones = self.phones.iter().map(|p| PhoneNumber::parse(p)).collect::<Result<_, _>>()?;
        profile.emails = self.emails.iter().map(|e| Email::parse(e)).collect::<Result<_, _>>()?;
        profile.consent = Consent { phone: self.consent.phone, email: self.consent.email, dm: self.consent.dm };
        profile.do_not_call = self.do_not_call;
        profile.ad_medium = optional_short_text("ad_medium", self.ad_medium.as_deref())?;
        profile.attributes = self.attributes;
        profile.validate()?;
        Ok(profile)
    }
}

#[derive(Debug, Serialize)]
pub struct StatsJson {
    pub first_order_at: Option<String>,
    pub last_order_at: Option<String>,
    pub order_count: i64,
    pub total_amount: i64,
    pub average_amount: i64,
    pub last_contact_at: Option<String>,
    pub last_outcome: Option<&'static str>,
    pub consecutive_no_contact: i64,
    pub contact_count: i64,
}

impl From<&CustomerStats> for StatsJson {
    fn from(stats: &CustomerStats) -> Self {
        StatsJson {
            first_order_at: optional_ts(stats.first_order_at),
            last_order_at: optional_ts(stats.last_order_at),
            order_count: stats.order_count,
            total_amount: stats.total_amount,
            average_amount: stats.average_amount(),
            last_contact_at: optional_ts(stats.last_contact_at),
            last_outcome: stats.last_outcome.map(Outcome::code),
            consecutive_no_contact: stats.consecutive_no_contact,
            contact_count: stats.contact_count,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ProductJson {
    pub id: i64,
    pub external_id: Option<String>,
    pub name: String,
    pub kind: &'static str,
    pub category: Option<String>,
    pub price: i64,
}

impl From<&Product> for ProductJson {
    fn from(product: &Product) -> Self {
        ProductJson {
            id: product.id.0,
            external_id: product.external_id.as_ref().map(|e| e.as_str().to_owned()),
            name: product.name.clone(),
            kind: product.kind.code(),
            category: product.category.clone(),
            price: product.price,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    pub external_id: Option<String>,
    pub name: String,
    pub kind: String,
    pub category: Option<String>,
    pub price: i64,
}

impl ProductInput {
    pub fn into_new(self) -> Result<NewProduct, ValidationError> {
        Ok(NewProduct {
            external_id: self.external_id.as_deref().map(ExternalId::parse).transpose()?,
            name: short_text("name", &self.name)?,
            kind: ProductKind::parse(&self.kind)?,
            category: optional_short_text("category", self.category.as_deref())?,
            price: check_amount("price", self.price)?,
        })
    }
}

#[derive(Debug, Serialize)]
pub struct OrderLineJson {
    pub product_id: i64,
    pub product_name: String,
    pub product_kind: &'static str,
    pub quantity: i64,
    pub amount: i64,
}

#[derive(Debug, Serialize)]
pub struct OrderJson {
    pub id: i64,
    pub external_id: Option<String>,
    pub customer_id: i64,
    pub ordered_at: String,
    pub channel: Option<&'static str>,
    pub ad_medium: Option<String>,
    pub is_subscription: bool,
    pub total_amount: i64,
    pub lines: Vec<OrderLineJson>,
}

impl From<&Order> for OrderJson {
    fn from(order: &Order) -> Self {
        OrderJson {
            id: order.id.0,
            external_id: order.external_id.as_ref().map(|e| e.as_str().to_owned()),
            customer_id: order.customer_id.0,
            ordered_at: ts(order.ordered_at),
            channel: order.channel.map(Channel::code),
            ad_medium: order.ad_medium.clone(),
            is_subscription: order.is_subscription,
            total_amount: order.total_amount,
            lines: order
                .lines
                .iter()
                .map(|l| OrderLineJson {
                    product_id: l.product_id.0,
                    product_name: l.product_name.clone(),
                    product_kind: l.product_kind.code(),
                    quantity: l.quantity,
                    amount: l.amount,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderLineInput {
    pub product_id: i64,
    #[serde(default = "one")]
    pub quantity: i64,
    pub amount: i64,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    pub external_id: Option<String>,
    pub ordered_at: Option<String>,
    pub channel: Option<String>,
    pub ad_medium: Option<String>,
    #[serde(default)]
    pub is_subscription: bool,
    pub lines: Vec<OrderLineInput>,
}

impl OrderInput {
    pub fn into_new(self, customer_id: CustomerId, now: OffsetDateTime) -> Result<NewOrder, ValidationError> {
        let order = NewOrder {
            external_id: self.external_id.as_deref().map(ExternalId::parse).transpose()?,
            customer_id,
            ordered_at: self.ordered_at.as_deref().map(|t| parse_datetime("ordered_at", t)).transpose()?.unwrap_or(now),
            channel: self.channel.as_deref().map(Channel::parse).transpose()?,
            ad_medium: optional_short_text("ad_medium", self.ad_medium.as_deref())?,
            is_subscription: self.is_subscription,
            lines: self
                .lines
                .into_iter()
                .map(|l| NewOrderLine { product_id: ProductId(l.product_id), quantity: l.quantity, amount: l.amount })
                .collect(),
        };
        order.validate()?;
        Ok(order)
    }
}

#[derive(Debug, Serialize)]
pub struct ContactJson {
    pub id: i64,
    pub external_id: Option<String>,
    pub customer_id: i64,
    pub channel: &'static str,
    pub direction: &'static str,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub handling_seconds: Option<i64>,
    pub agent_id: Option<i64>,
    pub reason: Option<String>,
    pub outcome: Option<&'static str>,
    pub text: String,
    pub thread_id: i64,
    /// What the text engine heard: overall polarity (null when not analysed), kimochi kinds,
    /// crisis words matched.
    pub polarity: Option<&'static str>,
    pub kimochi: Vec<&'static str>,
    pub crisis_words: u32,
}

/// Free text as a role may read it: phone numbers, emails and card-like numbers written inside it
/// are masked for roles that do not see personal data, as the profile's own fields are.
pub fn text_for(text: String, role: Role) -> String {
    if role.sees_personal_data() { text } else { kimochi_text::mask_pii(&text).text }
}

impl ContactJson {
    /// The contact as `role` may read it (see [`text_for`]).
    pub fn for_role(mut self, role: Role) -> ContactJson {
        self.text = text_for(self.text, role);
        self
    }
}

impl KimochiJson {
    /// The note as `role` may read it (see [`text_for`]).
    pub fn for_role(mut self, role: Role) -> KimochiJson {
        self.text = text_for(self.text, role);
        self
    }
}

impl HandoverJson {
    /// The note as `role` may read it (see [`text_for`]).
    pub fn for_role(mut self, role: Role) -> HandoverJson {
        self.text = text_for(self.text, role);
        self
    }
}

impl From<&Contact> for ContactJson {
    fn from(contact: &Contact) -> Self {
        ContactJson {
            id: contact.id.0,
            external_id: contact.external_id.as_ref().map(|e| e.as_str().to_owned()),
            customer_id: contact.customer_id.0,
            channel: contact.channel.code(),
            direction: contact.direction.code(),
            started_at: ts(contact.started_at),
            ended_at: optional_ts(contact.ended_at),
            handling_seconds: contact.handling_seconds(),
            agent_id: contact.agent_id.map(|a| a.0),
            reason: contact.reason.clone(),
            outcome: contact.outcome.map(Outcome::code),
            text: contact.text.clone(),
            thread_id: contact.thread_id.0,
            polarity: contact.tags.polarity.map(|p| p.code()),
            kimochi: contact.tags.kimochi.iter().map(|k| k.code()).collect(),
            crisis_words: contact.tags.crisis_words,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub external_id: Option<String>,
    pub channel: String,
    pub direction: String,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub reason: Option<String>,
    pub outcome: Option<String>,
    #[serde(default)]
    pub text: String,
    pub thread_of: Option<i64>,
    /// The hearing-point checklist of this contact (issue 6), stored in its transaction.
    #[serde(default)]
    pub hearing: Option<crate::hearing::HearingInput>,
}

impl ContactInput {
    pub fn into_new(
        self,
        customer_id: CustomerId,
        agent_id: Option<UserId>,
        now: OffsetDateTime,
    ) -> Result<NewContact, ValidationError> {
        let contact = NewContact {
            external_id: self.external_id.as_deref().map(ExternalId::parse).transpose()?,
            customer_id,
            channel: Channel::parse(&self.channel)?,
            direction: Direction::parse(&self.direction)?,
            started_at: self.started_at.as_deref().map(|t| parse_datetime("started_at", t)).transpose()?.unwrap_or(now),
            ended_at: self.ended_at.as_deref().map(|t| parse_datetime("ended_at", t)).transpose()?,
            agent_id,
            reason: optional_short_text("reason", self.reason.as_deref())?,
            outcome: self.outcome.as_deref().map(Outcome::parse).transpose()?,
            text: long_text("text", &self.text)?,
            thread_of: self.thread_of.map(ContactId),
            tags: Default::default(),
        };
        contact.validate()?;
        Ok(contact)
    }
}

#[derive(Debug, Serialize)]
pub struct KimochiJson {
    pub id: i64,
    pub customer_id: i64,
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub text: String,
    pub captured_by: Option<i64>,
    pub captured_at: String,
    pub contact_id: Option<i64>,
    pub product_id: Option<i64>,
}

impl From<&KimochiNote> for KimochiJson {
    fn from(note: &KimochiNote) -> Self {
        KimochiJson {
            id: note.id.0,
            customer_id: note.customer_id.0,
            kind: note.kind.code(),
            kind_label: note.kind.label_ja(),
            text: note.text.clone(),
            captured_by: note.captured_by.map(|u| u.0),
            captured_at: ts(note.captured_at),
            contact_id: note.contact_id.map(|c| c.0),
            product_id: note.product_id.map(|p| p.0),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KimochiInput {
    pub kind: String,
    pub text: String,
    pub captured_at: Option<String>,
    pub contact_id: Option<i64>,
    pub product_id: Option<i64>,
}

impl KimochiInput {
    pub fn into_new(
        self,
        customer_id: CustomerId,
        captured_by: Option<UserId>,
        now: OffsetDateTime,
    ) -> Result<NewKimochiNote, ValidationError> {
        Ok(NewKimochiNote {
            customer_id,
            kind: KimochiKind::parse(&self.kind)?,
            text: long_text("text", &self.text)?,
            captured_by,
            captured_at: self
                .captured_at
                .as_deref()
                .map(|t| parse_datetime("captured_at", t))
                .transpose()?
                .unwrap_or(now),
            contact_id: self.contact_id.map(ContactId),
            product_id: self.product_id.map(ProductId),
        })
    }
}

#[derive(Debug, Serialize)]
pub struct HandoverJson {
    pub id: i64,
    pub customer_id: i64,
    pub kind: &'static str,
    pub text: String,
    pub author_id: Option<i64>,
    pub created_at: String,
}

impl From<&HandoverNote> for HandoverJson {
    fn from(note: &HandoverNote) -> Self {
        HandoverJson {
            id: note.id.0,
            customer_id: note.customer_id.0,
            kind: note.kind.code(),
            text: note.text.clone(),
            author_id: note.author_id.map(|u| u.0),
            created_at: ts(note.created_at),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoverInput {
    pub kind: String,
    pub text: String,
}

#[derive(Debug, Serialize)]
pub struct FaqJson {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub category: Option<String>,
    pub tags: Vec<String>,
    pub updated_at: String,
}

impl From<&Faq> for FaqJson {
    fn from(faq: &Faq) -> Self {
        FaqJson {
            id: faq.id.0,
            title: faq.title.clone(),
            body: faq.body.clone(),
            category: faq.category.clone(),
            tags: faq.tags.clone(),
            updated_at: ts(faq.updated_at),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaqInput {
    pub title: String,
    pub body: String,
    pub category: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

impl FaqInput {
    pub fn into_new(self) -> Result<NewFaq, ValidationError> {
        Ok(NewFaq {
            title: short_text("title", &self.title)?,
            body: long_text("body", &self.body)?,
            category: optional_short_text("category", self.category.as_deref())?,
            tags: self.tags.iter().map(|t| short_text("tags", t)).collect::<Result<_, _>>()?,
        })
    }
}

#[derive(Debug, Serialize)]
pub struct PurchasesJson {
    pub product_id: i64,
    pub product_name: String,
    pub product_kind: &'static str,
    pub order_count: i64,
    pub quantity: i64,
    pub total_amount: i64,
    pub first_at: String,
    pub last_at: String,
}

/// Contacts of one thread, oldest first, across whatever channels it crossed (F3).
#[derive(Debug, Serialize)]
pub struct ThreadJson {
    pub thread_id: i64,
    pub channels: Vec<&'static str>,
    pub last_at: String,
    pub contacts: Vec<ContactJson>,
}

#[derive(Debug, Serialize)]
pub struct KarteJson {
    pub customer: CustomerJson,
    pub stats: StatsJson,
    /// Cautions (注意事項) to show as a banner before anything else.
    pub cautions: Vec<HandoverJson>,
    pub handover_notes: Vec<HandoverJson>,
    pub purchases: Vec<PurchasesJson>,
    pub recent_orders: Vec<OrderJson>,
    /// Recent contacts grouped by thread, the thread with the latest contact first.
    pub threads: Vec<ThreadJson>,
    /// Kimochi notes oldest first: expectation → experiences → gap.
    pub kimochi_timeline: Vec<KimochiJson>,
    /// The latest scores (`kimochi analyze`); null before the first run that saw the customer.
    pub scores: Option<ScoresJson>,
    /// The expectation-gap timeline (as `GET /customers/{id}/kimochi-timeline`).
    pub expectation_gap: crate::timeline::KimochiTimelineJson,
}

/// A code with the label people read.
#[derive(Debug, Serialize)]
pub struct LabelledJson {
    pub code: &'static str,
    pub label: &'static str,
}

#[derive(Debug, Serialize)]
pub struct ReasonJson {
    pub code: String,
    pub text: String,
    pub weight: f64,
}

#[derive(Debug, Serialize)]
pub struct RepeatAlertJson {
    pub product_id: i64,
    pub product_name: String,
    pub product_kind: &'static str,
    pub interval_days: i64,
    pub next_expected: String,
    pub days_overdue: i64,
}

/// A customer's scores as the karte shows them.
#[derive(Debug, Serialize)]
pub struct ScoresJson {
    pub as_of: String,
    pub stage: LabelledJson,
    /// RFM cell 111–555 (5 = best).
    pub rfm_cell: Option<u16>,
    pub recency_days: Option<i64>,
    pub p_alive: Option<f64>,
    pub expected_purchases: Option<f64>,
    pub expected_spend: Option<f64>,
    pub clv: Option<f64>,
    pub churn_probability: Option<f64>,
    pub churn_level: Option<LabelledJson>,
    pub churn_reasons: Vec<ReasonJson>,
    pub loyalty: Option<LabelledJson>,
    pub near_loyal: Option<String>,
    pub positive_dormant: bool,
    pub cluster: Option<u32>,
    pub cluster_label: Option<String>,
    pub repeat_alerts: Vec<RepeatAlertJson>,
    pub scored_at: String,
}

impl From<&CustomerScore> for ScoresJson {
    fn from(score: &CustomerScore) -> Self {
        ScoresJson {
            as_of: kimochi_domain::datetime::format_date(score.as_of),
            stage: LabelledJson { code: score.stage.code(), label: score.stage.label_ja() },
            rfm_cell: score.rfm_cell,
            recency_days: score.recency_days,
            p_alive: score.p_alive,
            expected_purchases: score.expected_purchases,
            expected_spend: score.expected_spend,
            clv: score.clv,
            churn_probability: score.churn_probability,
            churn_level: score.churn_level.map(|level| LabelledJson { code: level.code(), label: level.label_ja() }),
            churn_reasons: score
                .churn_reasons
                .iter()
                .map(|r| ReasonJson { code: r.code.clone(), text: r.text.clone(), weight: r.weight })
                .collect(),
            loyalty: score.loyalty.map(|q| LabelledJson { code: q.code(), label: q.label_ja() }),
            near_loyal: score.near_loyal.clone(),
            positive_dormant: score.positive_dormant,
            cluster: score.cluster,
            cluster_label: score.cluster_label.clone(),
            repeat_alerts: score
                .repeat_alerts
                .iter()
                .map(|a| RepeatAlertJson {
                    product_id: a.product_id.0,
                    product_name: a.product_name.clone(),
                    product_kind: a.product_kind.code(),
                    interval_days: a.interval_days,
                    next_expected: kimochi_domain::datetime::format_date(a.next_expected),
                    days_overdue: a.days_overdue,
                })
                .collect(),
            scored_at: ts(score.scored_at),
        }
    }
}

impl KarteJson {
    pub fn new(karte: &Karte, role: Role) -> KarteJson {
        let mut threads: Vec<ThreadJson> = Vec::new();
        // recent_contacts are newest first, so threads come out ordered by their latest contact.
        for contact in &karte.recent_contacts {
            match threads.iter_mut().find(|t| t.thread_id == contact.thread_id.0) {
                Some(thread) => {
                    thread.contacts.insert(0, ContactJson::from(contact).for_role(role));
                    if !thread.channels.contains(&contact.channel.code()) {
                        thread.channels.push(contact.channel.code());
                    }
                }
                None => threads.push(ThreadJson {
                    thread_id: contact.thread_id.0,
                    channels: vec![contact.channel.code()],
                    last_at: ts(contact.started_at),
                    contacts: vec![ContactJson::from(contact).for_role(role)],
                }),
            }
        }
        let (cautions, handovers): (Vec<&HandoverNote>, Vec<&HandoverNote>) =
            karte.handover_notes.iter().partition(|n| n.kind == HandoverKind::Caution);
        KarteJson {
            customer: CustomerJson::new(&karte.customer, role),
            stats: StatsJson::from(&karte.stats),
            cautions: cautions.into_iter().map(|n| HandoverJson::from(n).for_role(role)).collect(),
            handover_notes: handovers.into_iter().map(|n| HandoverJson::from(n).for_role(role)).collect(),
            purchases: karte
                .purchases
                .iter()
                .map(|p| PurchasesJson {
                    product_id: p.product_id.0,
                    product_name: p.product_name.clone(),
                    product_kind: p.product_kind.code(),
                    order_count: p.order_count,
                    quantity: p.quantity,
                    total_amount: p.total_amount,
                    first_at: ts(p.first_at),
                    last_at: ts(p.last_at),
                })
                .collect(),
            recent_orders: karte.recent_orders.iter().map(OrderJson::from).collect(),
            threads,
            kimochi_timeline: karte.kimochi.iter().rev().map(|k| KimochiJson::from(k).for_role(role)).collect(),
            scores: karte.score.as_ref().map(ScoresJson::from),
            expectation_gap: crate::timeline::KimochiTimelineJson::new(karte, role, crate::now()),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct UserJson {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub role: &'static str,
    pub team_id: Option<i64>,
}

impl From<&User> for UserJson {
    fn from(user: &User) -> Self {
        UserJson {
            id: user.id.0,
            login: user.login.clone(),
            display_name: user.display_name.clone(),
            role: user.role.code(),
            team_id: user.team_id.map(|t| t.0),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct AuditJson {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub customer_id: Option<i64>,
    pub detail: String,
}

impl From<&AuditEntry> for AuditJson {
    fn from(entry: &AuditEntry) -> Self {
        let actor = match entry.actor {
            Actor::User(id) => format!("user:{id}"),
            Actor::Token(id) => format!("token:{id}"),
            Actor::Cli => "cli".to_owned(),
        };
        AuditJson {
            at: ts(entry.at),
            actor,
            action: entry.action.clone(),
            customer_id: entry.customer_id.map(|c| c.0),
            detail: entry.detail.clone(),
        }
    }
}
