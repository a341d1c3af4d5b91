//! The fixed kimochi drivers of churn: each a yes/no reading of a customer's features, with a
//! stable code, a Japanese label and the sentence shown on the karte.

use crate::features::CustomerFeatures;

/// A kimochi signal that may raise or lower churn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KimochiDriver {
    /// Expectation gap (期待とのギャップ): at least one gap note.
    ExpectationGap,
    /// Advocate (推奨意向): recommended the product to others at least once.
    Advocate,
    /// Unreachable (連続不通): three or more unanswered outbound attempts in a row, or three or
    /// more attempts of which none reached the customer.
    Unreachable,
    /// Complaint (クレーム): at least one complaint.
    Complaint,
    /// Churn intent (解約の意向): said they want to cancel or leave.
    ChurnIntent,
    /// Negative tone (否定的な応対): more contacts tagged negative than positive.
    NegativeTone,
}

impl KimochiDriver {
    pub const COUNT: usize = 6;

    /// Every kimochi driver, in the order of their bits.
    pub const ALL: [KimochiDriver; Self::COUNT] = [
        KimochiDriver::ExpectationGap,
        KimochiDriver::Advocate,
        KimochiDriver::Unreachable,
        KimochiDriver::Complaint,
        KimochiDriver::ChurnIntent,
        KimochiDriver::NegativeTone,
    ];

    /// Unanswered attempts that make a customer unreachable.
    pub const UNREACHABLE_ATTEMPTS: u32 = 3;

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn code(self) -> &'static str {
        match self {
            KimochiDriver::ExpectationGap => "expectation_gap",
            KimochiDriver::Advocate => "advocate",
            KimochiDriver::Unreachable => "unreachable",
            KimochiDriver::Complaint => "complaint",
            KimochiDriver::ChurnIntent => "churn_intent",
            KimochiDriver::NegativeTone => "negative_tone",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            KimochiDriver::ExpectationGap => "期待とのギャップ",
            KimochiDriver::Advocate => "推奨意向",
            KimochiDriver::Unreachable => "連続不通",
            KimochiDriver::Complaint => "クレーム",
            KimochiDriver::ChurnIntent => "解約の意向",
            KimochiDriver::NegativeTone => "否定的な応対",
        }
    }

    /// Whether the customer has this driver.
    pub fn applies(self, features: &CustomerFeatures) -> bool {
        let kimochi = &features.kimochi;
        match self {
            KimochiDriver::ExpectationGap => kimochi.gap_notes > 0,
            KimochiDriver::Advocate => kimochi.advocacy > 0,
            KimochiDriver::Unreachable => {
                features.consecutive_no_contact >= Self::UNREACHABLE_ATTEMPTS
                    || (features.outbound_attempts >= Self::UNREACHABLE_ATTEMPTS && features.outbound_reached == 0)
            }
            KimochiDriver::Complaint => kimochi.complaints > 0,
            KimochiDriver::ChurnIntent => kimochi.churn_intent > 0,
            KimochiDriver::NegativeTone => kimochi.negative_contacts > kimochi.positive_contacts,
        }
    }

    /// The count the karte sentence quotes.
    pub(crate) fn count(self, features: &CustomerFeatures) -> u32 {
        let kimochi = &features.kimochi;
        match self {
            KimochiDriver::ExpectationGap => kimochi.gap_notes,
            KimochiDriver::Advocate => kimochi.advocacy,
            KimochiDriver::Unreachable => {
                if features.consecutive_no_contact >= Self::UNREACHABLE_ATTEMPTS {
                    features.consecutive_no_contact
                } else {
                    features.outbound_attempts
                }
            }
            KimochiDriver::Complaint => kimochi.complaints,
            KimochiDriver::ChurnIntent => kimochi.churn_intent,
            KimochiDriver::NegativeTone => kimochi.negative_contacts,
        }
    }

    /// The karte sentence, e.g. 「期待とのギャップあり(解約リスク 3.0倍)」.
    pub fn sentence_ja(self, count: u32, relative_risk: f64) -> String {
        let what = match self {
            KimochiDriver::ExpectationGap => "期待とのギャップあり".to_owned(),
            KimochiDriver::Advocate => "推奨意向あり".to_owned(),
            KimochiDriver::Unreachable => format!("{count}回連続で不通"),
            KimochiDriver::Complaint => format!("クレーム{count}件"),
            KimochiDriver::ChurnIntent => "解約の意向あり".to_owned(),
            KimochiDriver::NegativeTone => format!("否定的な応対{count}件"),
        };
        format!("{what}(解約リスク {relative_risk:.1}倍)")
    }

    /// The customer's kimochi drivers as bits (bit i = `ALL[i]`).
    pub(crate) fn mask(features: &CustomerFeatures) -> u8 {
        let mut mask = 0;
        for driver in Self::ALL {
            if driver.applies(features) {
                mask |= 1 << driver.index();
            }
        }
        mask
    }
}

/// The code of a medium driver: `medium:<name>`, `medium:unknown` without a medium.
pub(crate) fn medium_code(medium: Option<&str>) -> String {
    format!("medium:{}", medium.unwrap_or("unknown"))
}

/// The label of a medium driver: 広告媒体 <name>, 広告媒体不明 without a medium.
pub(crate) fn medium_label(medium: Option<&str>) -> String {
    match medium {
        Some(name) => format!("広告媒体 {name}"),
        None => "広告媒体不明".to_owned(),
    }
}
