//! What the templates read: display-ready values built from the API's JSON shapes (so masking
//! is exactly the API's), with dates in Asia/Tokyo and numbers formatted for people. Templates
//! only print these and loop over them; no logic hides in the HTML.

use kimochi_domain::{Channel, Direction, Outcome, Role};

use super::PageUser;
use super::assets;
use super::i18n::{Lang, Strings};
use crate::json::{ContactJson, CustomerSummaryJson, KarteJson, ScoresJson};

/// A link of the navigation.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// What every full page shares: language, who is logged in, navigation, asset URLs.
#[derive(Debug, Clone)]
pub struct Layout {
    pub t: &'static Strings,
    pub lang_code: &'static str,
    pub title: String,
    pub logged_in: bool,
    pub user_name: String,
    pub role_label: String,
    pub csrf: String,
    /// `hx-headers` of the body: htmx sends the CSRF token with every request it makes.
    pub hx_headers: String,
    pub nav: Vec<NavItem>,
    pub lang_switch_href: String,
    pub lang_switch_code: &'static str,
    pub css: String,
    pub js: String,
    pub htmx: String,
    pub icon: String,
}

impl Layout {
    pub fn new(user: &PageUser, title: String) -> Layout {
        let t = user.t();
        let mut nav = vec![NavItem {
            href: "/agent",
            label: t.nav_search,
            current: user.path.starts_with("/agent")
                && !user.path.starts_with("/agent/calls")
                && !user.path.starts_with("/agent/prospects"),
        }];
        // Campaigns (issue 6): the call list for those who call, the campaigns for analytics.
        if super::campaigns::calls_in_nav(user.role()) {
            nav.push(NavItem {
                href: "/agent/calls",
                label: user.lang.campaign().nav_calls,
                current: user.path.starts_with("/agent/calls"),
            });
        }
        if matches!(user.role(), Role::Analyst | Role::Supervisor | Role::Admin) {
            nav.push(NavItem {
                href: "/analyst/campaigns",
                label: user.lang.campaign().nav_campaigns,
                current: user.path.starts_with("/analyst/campaigns"),
            });
        }
        if matches!(user.role(), Role::Analyst | Role::Supervisor | Role::Admin) {
            nav.push(NavItem {
                href: "/analyst/rfm",
                label: t.nav_rfm,
                current: user.path.starts_with("/analyst/rfm"),
            });
            nav.push(NavItem {
                href: "/analyst/voc/lost-orders",
                label: user.lang.analyst().nav_voc,
                current: user.path.starts_with("/analyst/voc") || user.path.starts_with("/analyst/segments"),
            });
            nav.push(NavItem {
                href: "/analyst/targets",
                label: user.lang.targets().nav,
                current: user.path.starts_with("/analyst/targets"),
            });
        }
        // Hearing points (issue 6): the prospect list for everyone, the asked rates for leads.
        nav.push(NavItem {
            href: "/agent/prospects",
            label: user.lang.hearing().nav_prospects,
            current: user.path.starts_with("/agent/prospects"),
        });
        if matches!(user.role(), Role::Analyst | Role::Supervisor | Role::Admin) {
            nav.push(NavItem {
                href: "/supervisor/hearing",
                label: user.lang.hearing().nav_asked_rates,
                current: user.path.starts_with("/supervisor/hearing"),
            });
        }
        if matches!(user.role(), Role::Supervisor | Role::Admin) {
            nav.push(NavItem {
                href: "/supervisor",
                label: t.nav_board,
                current: user.path.starts_with("/supervisor") && !user.path.starts_with("/supervisor/hearing"),
            });
        }
        if user.role().may_administer() {
            nav.push(NavItem {
                href: "/admin/users",
                label: user.lang.admin().nav_admin,
                current: user.path.starts_with("/admin"),
            });
        }
        let csrf = user.principal.csrf_token.clone().unwrap_or_default();
        let other = user.lang.other();
        let kept: Vec<&str> =
            user.query.split('&').filter(|pair| !pair.is_empty() && !pair.starts_with("lang=")).collect();
        let mut lang_switch_href = format!("{}?", user.path);
        for pair in kept {
            lang_switch_href.push_str(pair);
            lang_switch_href.push('&');
        }
        lang_switch_href.push_str("lang=");
        lang_switch_href.push_str(other.code());
        Layout {
            t,
            lang_code: user.lang.code(),
            title,
            logged_in: true,
            user_name: user.principal.display_name.clone(),
            role_label: user.lang.role(user.role()),
            hx_headers: serde_json::json!({ "x-csrf-token": csrf }).to_string(),
            csrf,
            nav,
            lang_switch_href,
            lang_switch_code: other.code(),
            ..Layout::assets(user.lang)
        }
    }

    /// The layout of a page shown without a session (errors).
    pub fn anonymous(lang: Lang, title: String) -> Layout {
        Layout { title, ..Layout::assets(lang) }
    }

    fn assets(lang: Lang) -> Layout {
        Layout {
            t: lang.strings(),
            lang_code: lang.code(),
            title: String::new(),
            logged_in: false,
            user_name: String::new(),
            role_label: String::new(),
            csrf: String::new(),
            hx_headers: "{}".to_owned(),
            nav: Vec::new(),
            lang_switch_href: String::new(),
            lang_switch_code: lang.other().code(),
            css: assets::url("app.css"),
            js: assets::url("app.js"),
            htmx: assets::url("htmx.min.js"),
            icon: assets::url("favicon.svg"),
        }
    }
}

/// A labelled value.
#[derive(Debug, Clone)]
pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

fn fact(label: &'static str, value: impl Into<String>) -> Fact {
    Fact { label, value: value.into() }
}

/// A choice of a select or radio group.
#[derive(Debug, Clone)]
pub struct Choice {
    pub code: &'static str,
    pub label: String,
    pub selected: bool,
}

/// `2026-10-31T14:05:00+09:00` (how the JSON shapes write JST) as `2026-10-31 14:05`.
pub fn short_time(text: &str) -> String {
    text.get(..16).map_or_else(|| text.to_owned(), |minutes| minutes.replacen('T', " ", 1))
}

/// Only the JST day of such a timestamp: `2026-10-31`.
pub fn short_date(text: &str) -> String {
    text.get(..10).unwrap_or(text).to_owned()
}

fn optional_time(text: Option<&String>, t: &Strings) -> String {
    text.map_or_else(|| t.none.to_owned(), |text| short_time(text))
}

/// Yen with thousands separators: `¥40,124`.
pub fn yen(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + 4);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if amount < 0 { format!("-¥{out}") } else { format!("¥{out}") }
}

fn yen_f64(amount: f64) -> String {
    // Scores are finite by construction (the store refuses NaN); yen are shown whole.
    yen(amount.round() as i64)
}

/// A probability as a percentage: `93%`, or `0.4%` below one percent.
pub fn percent(probability: f64) -> String {
    let value = probability * 100.0;
    if value > 0.0 && value < 1.0 { format!("{value:.1}%") } else { format!("{value:.0}%") }
}

fn or_none(value: Option<&String>, t: &Strings) -> String {
    value.filter(|v| !v.is_empty()).cloned().unwrap_or_else(|| t.none.to_owned())
}

/// One row of a customer list.
#[derive(Debug, Clone)]
pub struct CustomerRow {
    pub id: i64,
    pub external_id: String,
    pub name: String,
    pub kana: String,
    pub phones: String,
    pub emails: String,
    pub prefecture: String,
    pub birth_year: String,
    pub last_contact: String,
}

impl CustomerRow {
    pub fn new(summary: &CustomerSummaryJson, t: &Strings) -> CustomerRow {
        CustomerRow {
            id: summary.id,
            external_id: or_none(summary.external_id.as_ref(), t),
            name: summary.name.clone(),
            kana: or_none(summary.kana.as_ref(), t),
            phones: if summary.phones.is_empty() { t.none.to_owned() } else { summary.phones.join(", ") },
            emails: if summary.emails.is_empty() { t.none.to_owned() } else { summary.emails.join(", ") },
            prefecture: or_none(summary.prefecture.as_ref(), t),
            birth_year: summary.birth_year.map_or_else(|| t.none.to_owned(), |y| y.to_string()),
            last_contact: optional_time(summary.last_contact_at.as_ref(), t),
        }
    }
}

/// A dated note (caution, handover).
#[derive(Debug, Clone)]
pub struct NoteView {
    pub when: String,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct KimochiView {
    pub kind: &'static str,
    pub kind_label: String,
    pub when: String,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct PurchaseView {
    pub product: String,
    pub kind: String,
    pub orders: i64,
    pub quantity: i64,
    pub total: String,
    pub first: String,
    pub last: String,
}

#[derive(Debug, Clone)]
pub struct ContactView {
    pub id: i64,
    pub when: String,
    pub channel: String,
    pub direction: String,
    pub reason: String,
    pub outcome: String,
    pub text: String,
    /// What the text engine heard: polarity and kimochi kinds, as labels.
    pub tags: Vec<String>,
    /// `positive`, `negative`, `neutral` or `mixed` for the polarity badge's class; empty if none.
    pub polarity: &'static str,
    pub crisis_words: u32,
}

impl ContactView {
    pub fn new(contact: &ContactJson, lang: Lang) -> ContactView {
        let t = lang.strings();
        ContactView {
            id: contact.id,
            when: short_time(&contact.started_at),
            channel: lang.channel(contact.channel),
            direction: lang.direction(contact.direction),
            reason: or_none(contact.reason.as_ref(), t),
            outcome: contact.outcome.map_or_else(|| t.none.to_owned(), |code| lang.outcome(code)),
            text: contact.text.clone(),
            tags: contact
                .polarity
                .iter()
                .map(|code| lang.polarity(code))
                .chain(contact.kimochi.iter().map(|code| lang.kimochi_tag(code)))
                .collect(),
            polarity: contact.polarity.unwrap_or(""),
            crisis_words: contact.crisis_words,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ThreadView {
    pub id: i64,
    pub channels: String,
    pub last_at: String,
    pub contacts: Vec<ContactView>,
}

#[derive(Debug, Clone)]
pub struct ScoresView {
    pub as_of: String,
    pub facts: Vec<Fact>,
    /// `low`, `medium` or `high`, for the badge's class; empty when unknown.
    pub churn_code: &'static str,
    pub churn_label: String,
    pub churn_reasons: Vec<String>,
    pub near_loyal: Option<String>,
    pub positive_dormant: bool,
    pub repeat_alerts: Vec<String>,
}

impl ScoresView {
    pub fn new(scores: &ScoresJson, lang: Lang) -> ScoresView {
        let t = lang.strings();
        let none = || t.none.to_owned();
        let facts = vec![
            fact(t.stage, lang.vocab(scores.stage.code, scores.stage.label)),
            fact(t.rfm_cell, scores.rfm_cell.map_or_else(none, |c| c.to_string())),
            fact(t.recency_days, scores.recency_days.map_or_else(none, |d| format!("{d} {}", t.days))),
            fact(t.clv, scores.clv.map_or_else(none, yen_f64)),
            fact(t.p_alive, scores.p_alive.map_or_else(none, percent)),
            fact(t.loyalty, scores.loyalty.as_ref().map_or_else(none, |q| lang.vocab(q.code, q.label))),
            fact(t.customer_type, scores.cluster_label.clone().unwrap_or_else(none)),
        ];
        let churn_label = match (&scores.churn_level, scores.churn_probability) {
            (Some(level), Some(p)) => format!("{}（{}）", lang.vocab(level.code, level.label), percent(p)),
            (Some(level), None) => lang.vocab(level.code, level.label),
            (None, Some(p)) => percent(p),
            (None, None) => none(),
        };
        ScoresView {
            as_of: scores.as_of.clone(),
            facts,
            churn_code: scores.churn_level.as_ref().map_or("", |level| level.code),
            churn_label,
            churn_reasons: scores.churn_reasons.iter().map(|r| r.text.clone()).collect(),
            near_loyal: scores.near_loyal.clone(),
            positive_dormant: scores.positive_dormant,
            repeat_alerts: scores
                .repeat_alerts
                .iter()
                .map(|a| {
                    format!(
                        "{} — {} {} {} · {} {} · {} {}",
                        a.product_name,
                        t.repeat_alert_line,
                        a.interval_days,
                        t.days,
                        t.repeat_next,
                        a.next_expected,
                        a.days_overdue,
                        t.repeat_overdue
                    )
                })
                .collect(),
        }
    }
}

/// The whole karte, ready to print.
#[derive(Debug, Clone)]
pub struct KarteView {
    pub id: i64,
    pub name: String,
    pub kana: String,
    pub masked: bool,
    pub do_not_call: bool,
    pub profile: Vec<Fact>,
    pub consent: Vec<Fact>,
    pub stats: Vec<Fact>,
    pub cautions: Vec<NoteView>,
    pub handovers: Vec<NoteView>,
    pub scores: Option<ScoresView>,
    pub purchases: Vec<PurchaseView>,
    pub kimochi: Vec<KimochiView>,
    pub threads: Vec<ThreadView>,
    /// The expectation-gap chart and, with churn intent, the retention points.
    pub gap: super::gap::GapView,
}

impl KarteView {
    pub fn new(karte: &KarteJson, lang: Lang) -> KarteView {
        let t = lang.strings();
        let customer = &karte.customer;
        let join = |list: &[String]| if list.is_empty() { t.none.to_owned() } else { list.join(", ") };
        let mut profile = vec![
            fact(t.col_external_id, or_none(customer.external_id.as_ref(), t)),
            fact(t.col_phone, join(&customer.phones)),
            fact(t.col_email, join(&customer.emails)),
            fact(t.birth_date, or_none(customer.birth_date.as_ref(), t)),
            fact(
                t.gender,
                kimochi_domain::Gender::from_code(customer.gender)
                    .map_or_else(|| customer.gender.to_owned(), |g| lang.vocab(g.code(), g.label_ja())),
            ),
            fact(t.col_prefecture, or_none(customer.prefecture.as_ref(), t)),
            fact(t.address, or_none(customer.address.as_ref(), t)),
            fact(t.ad_medium, or_none(customer.ad_medium.as_ref(), t)),
        ];
        for (key, value) in &customer.attributes {
            profile.push(Fact { label: "", value: format!("{key}: {value}") });
        }
        let yes_no = |flag: bool| if flag { t.yes.to_owned() } else { t.no.to_owned() };
        let consent = vec![
            fact(t.consent_phone, yes_no(customer.consent.phone)),
            fact(t.consent_email, yes_no(customer.consent.email)),
            fact(t.consent_dm, yes_no(customer.consent.dm)),
        ];
        let stats = vec![
            fact(t.order_count, karte.stats.order_count.to_string()),
            fact(t.total_amount, yen(karte.stats.total_amount)),
            fact(t.last_order, optional_time(karte.stats.last_order_at.as_ref(), t)),
            fact(t.col_last_contact, optional_time(karte.stats.last_contact_at.as_ref(), t)),
        ];
        let note = |when: &str, text: &str| NoteView { when: short_time(when), text: text.to_owned() };
        KarteView {
            id: customer.id,
            name: customer.name.clone(),
            kana: or_none(customer.kana.as_ref(), t),
            masked: customer.masked,
            do_not_call: customer.do_not_call,
            profile,
            consent,
            stats,
            cautions: karte.cautions.iter().map(|n| note(&n.created_at, &n.text)).collect(),
            handovers: karte.handover_notes.iter().map(|n| note(&n.created_at, &n.text)).collect(),
            scores: karte.scores.as_ref().map(|s| ScoresView::new(s, lang)),
            purchases: karte
                .purchases
                .iter()
                .map(|p| PurchaseView {
                    product: p.product_name.clone(),
                    kind: kimochi_domain::ProductKind::from_code(p.product_kind)
                        .map_or_else(|| p.product_kind.to_owned(), |k| lang.vocab(k.code(), k.label_ja())),
                    orders: p.order_count,
                    quantity: p.quantity,
                    total: yen(p.total_amount),
                    first: short_date(&p.first_at),
                    last: short_date(&p.last_at),
                })
                .collect(),
            kimochi: karte
                .kimochi_timeline
                .iter()
                .map(|k| KimochiView {
                    kind: k.kind,
                    kind_label: lang.kimochi_kind(k.kind),
                    when: short_time(&k.captured_at),
                    text: k.text.clone(),
                })
                .collect(),
            threads: karte
                .threads
                .iter()
                .map(|thread| ThreadView {
                    id: thread.thread_id,
                    channels: thread.channels.iter().map(|c| lang.channel(c)).collect::<Vec<_>>().join(" → "),
                    last_at: short_time(&thread.last_at),
                    contacts: thread.contacts.iter().map(|c| ContactView::new(c, lang)).collect(),
                })
                .collect(),
            gap: super::gap::GapView::new(&karte.expectation_gap, lang),
        }
    }
}

/// The choices of the contact form, inbound by phone preselected (the common case).
pub struct ContactChoices {
    pub channels: Vec<Choice>,
    pub directions: Vec<Choice>,
    pub outcomes: Vec<Choice>,
    /// Kinds of the karte's kimochi-note form.
    pub kimochi_kinds: Vec<Choice>,
}

impl ContactChoices {
    pub fn new(lang: Lang) -> ContactChoices {
        ContactChoices {
            channels: Channel::ALL
                .iter()
                .map(|c| Choice {
                    code: c.code(),
                    label: lang.vocab(c.code(), c.label_ja()),
                    selected: *c == Channel::Phone,
                })
                .collect(),
            directions: Direction::ALL
                .iter()
                .map(|d| Choice {
                    code: d.code(),
                    label: lang.vocab(d.code(), d.label_ja()),
                    selected: *d == Direction::Inbound,
                })
                .collect(),
            outcomes: Outcome::ALL
                .iter()
                .filter(|o| !o.is_email_event())
                .map(|o| Choice { code: o.code(), label: lang.vocab(o.code(), o.label_ja()), selected: false })
                .collect(),
            kimochi_kinds: kimochi_domain::KimochiKind::ALL
                .iter()
                .map(|k| Choice { code: k.code(), label: lang.vocab(k.code(), k.label_ja()), selected: false })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_times_for_people() {
        assert_eq!(yen(0), "¥0");
        assert_eq!(yen(999), "¥999");
        assert_eq!(yen(40_124), "¥40,124");
        assert_eq!(yen(1_234_567), "¥1,234,567");
        assert_eq!(yen(-5_000), "-¥5,000");
        assert_eq!(percent(0.931), "93%");
        assert_eq!(percent(0.004), "0.4%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(short_time("2026-10-31T14:05:00+09:00"), "2026-10-31 14:05");
        assert_eq!(short_time("bad"), "bad");
        assert_eq!(short_date("2026-10-31T14:05:00+09:00"), "2026-10-31");
    }
}
