//! The closed vocabularies of the domain: roles, genders, product kinds, channels, directions,
//! outcomes, kimochi kinds, handover kinds. Each has a stable code (stored and sent over the API),
//! a Japanese label (shown to people), and the aliases an import file may use.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::normalize::normalize_text;

macro_rules! vocabulary {
    (
        $(#[$doc:meta])*
        $name:ident, field = $field:literal {
            $( $(#[$vdoc:meta])* $variant:ident = $code:literal, $ja:literal $(, $alias:literal)* ; )+
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code stored in the database and used by the API.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// The Japanese label shown to people.
            pub fn label_ja(self) -> &'static str {
                match self { $($name::$variant => $ja,)+ }
            }

            /// Parses a code, a Japanese label or a known alias, ignoring width and case.
            pub fn parse(input: &str) -> Result<$name, ValidationError> {
                let wanted = normalize_text(input).to_lowercase();
                $(
                    if wanted == $code || wanted == normalize_text($ja).to_lowercase()
                        $(|| wanted == normalize_text($alias).to_lowercase())*
                    {
                        return Ok($name::$variant);
                    }
                )+
                let codes: Vec<&str> = $name::ALL.iter().map(|v| v.code()).collect();
                Err(ValidationError::new($field, input, format!("is not one of {}", codes.join(", "))))
            }

            /// Parses a stored code; the database only ever holds codes, so anything else is a
            /// corrupted row and is reported as such by the caller.
            pub fn from_code(code: &str) -> Option<$name> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

vocabulary! {
    /// What a person may do. Personal data is masked for roles that do not need it (B5).
    Role, field = "role" {
        /// Operator (オペレーター): handles contacts, sees the customer's personal data.
        Agent = "agent", "オペレーター", "operator", "op";
        /// Supervisor (SV): monitors, takes escalations.
        Supervisor = "supervisor", "スーパーバイザー", "sv";
        /// Analyst / marketer (CRM担当): sees masked personal data only.
        Analyst = "analyst", "アナリスト", "crm担当", "marketer";
        /// Administrator: tenants, users, settings.
        Admin = "admin", "管理者", "administrator";
    }
}

impl Role {
    /// Whether this role sees phone numbers, emails, addresses and birth dates in clear.
    pub fn sees_personal_data(self) -> bool {
        !matches!(self, Role::Analyst)
    }

    /// Whether this role may write customer data (contacts, notes, orders, profiles).
    pub fn may_write_customers(self) -> bool {
        !matches!(self, Role::Analyst)
    }

    /// Whether this role may manage users, teams, FAQ and settings.
    pub fn may_administer(self) -> bool {
        matches!(self, Role::Admin)
    }
}

vocabulary! {
    /// Gender (性別) as the customer gave it.
    Gender, field = "gender" {
        Female = "female", "女性", "女", "f", "woman", "2";
        Male = "male", "男性", "男", "m", "man", "1";
        Other = "other", "その他", "x";
        Unknown = "unknown", "不明", "未回答", "0", "";
    }
}

vocabulary! {
    /// Kind of product: the single-product mail-order funnel runs sample → trial → main → subscription.
    ProductKind, field = "kind" {
        /// Free or near-free sample (サンプル).
        Sample = "sample", "サンプル", "試供品";
        /// Trial size (トライアル).
        Trial = "trial", "トライアル", "お試し", "sample/trial";
        /// The main product bought outright (本商品).
        Main = "main", "本商品", "本品", "通常品";
        /// A subscription / regular delivery (定期).
        Subscription = "subscription", "定期", "定期便", "定期購入";
        Other = "other", "その他";
    }
}

vocabulary! {
    /// Channel of a contact or an order (F2: one history across all of them).
    Channel, field = "channel" {
        Phone = "phone", "電話", "tel", "call";
        Email = "email", "メール", "mail", "e-mail";
        Fax = "fax", "FAX", "ファックス", "ファクス";
        WebForm = "web_form", "Webフォーム", "web", "フォーム", "お問い合わせフォーム", "webform";
        Chat = "chat", "チャット";
        Sns = "sns", "SNS", "twitter", "x", "instagram", "facebook", "line";
        Letter = "letter", "手紙", "はがき", "郵便", "post";
        Visit = "visit", "来店", "訪問", "店頭";
    }
}

vocabulary! {
    /// Inbound (受信) or outbound (発信).
    Direction, field = "direction" {
        Inbound = "inbound", "受信", "in", "インバウンド", "入電";
        Outbound = "outbound", "発信", "out", "アウトバウンド", "架電";
    }
}

vocabulary! {
    /// How a contact ended (T2: lists filter on these).
    Outcome, field = "outcome" {
        Resolved = "resolved", "解決", "完了", "対応完了";
        Ordered = "ordered", "受注", "注文";
        /// Lost order (失注): the customer said no; the reason is in the text (K4).
        LostOrder = "lost_order", "失注", "lost";
        /// No one answered (不通).
        NoContact = "no_contact", "不通", "不在", "no_answer";
        Busy = "busy", "話中", "話し中";
        /// The customer hung up at once (ガチャ切り).
        HungUp = "hung_up", "切断", "ガチャ切り", "hangup";
        Callback = "callback", "折り返し", "再架電";
        Escalated = "escalated", "エスカレーション", "エスカレ";
        /// Email tracking (F6): an email was handed to the mail server.
        Sent = "sent", "送信済み", "送信";
        /// Email tracking: the open pixel was fetched.
        Opened = "opened", "開封";
        /// Email tracking: a tracked link was followed.
        Clicked = "clicked", "クリック";
        /// Email tracking: the one-click unsubscribe was used.
        Unsubscribed = "unsubscribed", "配信停止";
        /// Email tracking: the mail server refused the message for good.
        Bounced = "bounced", "不達", "バウンス";
    }
}

impl Outcome {
    /// Whether the attempt reached nobody; these count towards consecutive no-contacts (T2).
    pub fn is_no_contact(self) -> bool {
        matches!(self, Outcome::NoContact | Outcome::Busy)
    }

    /// Outcomes recorded by email tracking, never chosen by an operator logging a conversation.
    pub fn is_email_event(self) -> bool {
        matches!(self, Outcome::Sent | Outcome::Opened | Outcome::Clicked | Outcome::Unsubscribed | Outcome::Bounced)
    }
}

vocabulary! {
    /// Kind of kimochi note (キモチデータ): what the customer expected, felt and intends (K1, S1).
    KimochiKind, field = "kind" {
        /// Purchase trigger and expectation (購入動機・期待).
        Expectation = "expectation", "期待", "trigger", "購入動機", "きっかけ";
        /// Experience after buying (使用感・体験).
        Experience = "experience", "体験", "使用感";
        /// Gap between expectation and reality (期待とのギャップ).
        Gap = "gap", "ギャップ", "期待とのギャップ";
        /// Preference (好み).
        Preference = "preference", "好み", "嗜好";
        /// Life event or life plan (ライフイベント).
        LifeEvent = "life_event", "ライフイベント", "ライフプラン";
        /// Potential (ポテンシャル): signs of a future purchase or investment appetite.
        Potential = "potential", "ポテンシャル", "見込み";
        /// Concern or worry (悩み・不安), e.g. skin concerns for cosmetics.
        Concern = "concern", "悩み", "不安", "懸念";
    }
}

vocabulary! {
    /// Kind of note left for the next operator (F14).
    HandoverKind, field = "kind" {
        /// Handover (引き継ぎ): what was promised or is pending.
        Handover = "handover", "引き継ぎ", "申し送り";
        /// Caution (注意事項): how to treat this customer, shown as a banner.
        Caution = "caution", "注意", "注意事項";
    }
}

vocabulary! {
    /// Customer stage (顧客ステージ, F11), in order of precedence: the rules that assign it are
    /// in `kimochi_analytics::stage`.
    Stage, field = "stage" {
        /// Excluded (対象外): do not contact, blacklisted, or otherwise outside every list.
        Excluded = "excluded", "対象外";
        /// Subscription (定期): has an active subscription.
        Subscription = "subscription", "定期";
        /// Dormant (休眠): bought once, nothing for a long time.
        Dormant = "dormant", "休眠";
        /// Repeater (リピーター): bought the main product more than once.
        Repeater = "repeater", "リピーター";
        /// Main product (本商品購入): bought the main product once.
        MainProduct = "main", "本商品購入";
        /// Trial (トライアル): bought only the trial size.
        Trial = "trial", "トライアル";
        /// Not purchased (未購入): a prospect, or samples only.
        NotPurchased = "not_purchased", "未購入";
    }
}

vocabulary! {
    /// How likely a customer is to leave soon (離反リスク, T3).
    ChurnLevel, field = "churn_level" {
        Low = "low", "低";
        Medium = "medium", "中";
        High = "high", "高";
    }
}

vocabulary! {
    /// Quadrant of the loyalty matrix (ロイヤルティ, E1): behavioural × emotional loyalty.
    LoyaltyQuadrant, field = "loyalty" {
        /// Buys often and recently, and feels good about it.
        TrueLoyal = "true_loyal", "真のロイヤル顧客";
        /// Feels good but buys little: the prospects to grow.
        Latent = "latent", "潜在的ロイヤル";
        /// Buys out of habit or price, without attachment: at risk.
        Spurious = "spurious", "見せかけのロイヤル";
        /// Neither.
        Low = "low", "非ロイヤル";
    }
}

vocabulary! {
    /// Overall tone of a contact's text, as the text engine read it.
    Polarity, field = "polarity" {
        Positive = "positive", "ポジティブ";
        Negative = "negative", "ネガティブ";
        Neutral = "neutral", "ニュートラル";
        /// Both positive and negative feelings.
        Mixed = "mixed", "混在";
    }
}

vocabulary! {
    /// A feeling the text engine found in a contact (キモチタグ): explainable, from the lexicons.
    KimochiTag, field = "kimochi" {
        /// Expectation, purchase motive (期待・購入動機).
        Expectation = "expectation", "期待";
        Satisfaction = "satisfaction", "満足";
        Dissatisfaction = "dissatisfaction", "不満";
        Anxiety = "anxiety", "不安";
        Anger = "anger", "怒り";
        Gratitude = "gratitude", "感謝";
        /// Intent to cancel or leave (解約・離反の意向).
        ChurnIntent = "churn_intent", "解約意向";
        /// Recommends the product to others (推奨).
        Advocacy = "advocacy", "推奨";
        /// Gap between expectation and reality (期待とのギャップ).
        Gap = "gap", "ギャップ";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_labels_and_aliases() {
        assert_eq!(Outcome::parse("失注").unwrap(), Outcome::LostOrder);
        assert_eq!(Outcome::parse("lost_order").unwrap(), Outcome::LostOrder);
        assert_eq!(Channel::parse("ＦＡＸ").unwrap(), Channel::Fax);
        assert_eq!(Channel::parse("Webフォーム").unwrap(), Channel::WebForm);
        assert_eq!(Direction::parse("受信").unwrap(), Direction::Inbound);
        assert_eq!(Gender::parse("女性").unwrap(), Gender::Female);
        assert_eq!(ProductKind::parse("定期").unwrap(), ProductKind::Subscription);
        assert_eq!(Role::parse("Analyst").unwrap(), Role::Analyst);
    }

    #[test]
    fn unknown_values_name_the_choices() {
        let error = Outcome::parse("maybe").unwrap_err();
        assert_eq!(error.field, "outcome");
        assert!(error.reason.contains("lost_order"), "{error}");
    }

    #[test]
    fn codes_round_trip() {
        for kind in KimochiKind::ALL {
            assert_eq!(KimochiKind::from_code(kind.code()), Some(*kind));
        }
        for outcome in Outcome::ALL {
            assert_eq!(Outcome::from_code(outcome.code()), Some(*outcome));
        }
    }
}
