//! Loyalty matrix (ロイヤルティ・マトリクス, E1) and positive dormants (ポジティブ休眠, F13): which
//! customers keep buying, which of them also like the brand, who is one step away from true
//! loyalty, and which of the customers RFM writes off would still be glad to hear from us.
//!
//! # Two kinds of loyalty
//! The seed separates **behavioural** loyalty (行動面のロイヤルティ: keeps buying, often for price
//! or function, and leaves when something better comes) from **emotional** loyalty (感情面の
//! ロイヤルティ: trusts and likes the brand and recommends it). The matrix crosses the two
//! (after Dick & Basu's attitude × repeat-patronage grid):
//!
//! | code | label | behaviour | emotion | what to do |
//! | --- | --- | --- | --- | --- |
//! | `true_loyal` | 真のロイヤル顧客 | high | high | keep close: dedicated line, thanks, referral |
//! | `latent` | 潜在的ロイヤル | low | high | likes us but buys little: make buying easy |
//! | `spurious` | 見せかけのロイヤル | high | low | buys out of habit or price: at risk, learn why |
//! | `low` | 非ロイヤル | low | low | neither: ordinary promotions |
//!
//! ## Behavioural loyalty
//! The behavioural score is the mean of the customer's RFM recency and frequency levels
//! (1–5, 5 = best), so it rises with buying often *and* lately; money is left out because a
//! single large order is not loyalty. Behaviour is **high** when the score is at least
//! [`LoyaltyConfig::behavioural_high_min`] (default 3.5: e.g. R 4 and F 3, or R 3 and F 4), with
//! two overrides that follow the stage:
//! - an active subscriber (stage 定期) is behaviourally high whatever the score when
//!   [`LoyaltyConfig::subscriber_is_behavioural`] is set (default): receiving the product on a
//!   schedule *is* repeat buying, even when the subscription is young and F is still low;
//! - a dormant customer (stage 休眠) is never behaviourally high: RFM levels are relative, so in a
//!   tenant where most customers have lapsed a dormant customer can still score R 3, but
//!   "keeps buying" is exactly what they stopped doing.
//!
//! A customer **without purchases** (no RFM cell) has behavioural score 0 and
//! [`LoyaltyAssessment::behaviour_known`] false; they land in `latent` or `low`.
//!
//! ## Emotional loyalty
//! The emotional score is the net tone of what the customer said ([`KimochiSignals::tone`], in
//! [-1, 1]: positive contacts and advocacy against negative contacts, complaints, expectation
//! gaps and churn intent). Emotion is **high** when all of these hold (defaults in brackets):
//! - something with a tone was heard;
//! - tone ≥ [`LoyaltyConfig::emotional_min_tone`] (0.5: positives at least three times the
//!   negatives);
//! - advocacy (推奨・紹介) ≥ [`LoyaltyConfig::emotional_min_advocacy`] (1): the seed's emotional
//!   loyal customers spread the good word; liking without recommending is the near-loyal step
//!   below. A tenant whose contacts are not tagged for advocacy sets 0;
//! - complaints ≤ [`LoyaltyConfig::emotional_max_complaints`] (0).
//!
//! A customer of whom **nothing with a tone was heard** is treated as neutral (tone 0, so
//! emotion low) and [`LoyaltyAssessment::emotion_heard`] is false: a `spurious` customer who was
//! never heard is "we do not know why they buy", which is a reason to call, not a verdict.
//!
//! ## Near-loyal prospects (ロイヤル予備軍)
//! Customers one step from `true_loyal`, the ones the seed says to grow into emotional loyalty
//! ([`NearLoyalKind`]):
//! - `purchases_just_below`: emotion high, behaviour below the threshold by less than
//!   [`LoyaltyConfig::near_behavioural_margin`] (default 1.0 level, i.e. mean of R and F ≥ 2.5),
//!   not dormant;
//! - `no_advocacy_yet`: behaviour high, tone at or above the emotional minimum and complaints
//!   within the limit, but fewer advocacy signals than the emotional minimum.
//!
//! Excluded customers (stage 対象外) are assessed but never flagged near-loyal, since the flag is
//! used to build call lists.
//!
//! # Positive dormants (ポジティブ休眠)
//! The seed's win-back list: customers RFM writes off whose kimochi says they would still
//! answer. A customer is a positive dormant when
//! - they bought at least once, are not excluded and have no active subscription, and
//! - they are dormant (stage 休眠) **or** their RFM recency level is at most
//!   [`LoyaltyConfig::dormant_max_recency_level`] (default 2), and
//! - something was heard and it is positive: tone > 0 or at least one advocacy, and
//! - complaints ≤ [`LoyaltyConfig::dormant_max_complaints`] (default 0: the feature record does
//!   not say whether a complaint was resolved, so every complaint counts as unresolved), and
//! - no contact raised a crisis-word alert.
//!
//! They are ranked by a score in [0, 1], highest first (ties: more money spent, then lower
//! customer id):
//!
//! `score = 0.4 · (tone + 1) / 2 + 0.2 · [advocacy > 0] + 0.2 · min(purchase days, 5) / 5
//!          + 0.2 / (1 + consecutive unanswered calls)`
//!
//! warmth weighs most; a recommender, a repeat buyer and a customer who still picks up the
//! phone are each more likely to answer a win-back call.

use kimochi_domain::CustomerId;

use crate::features::{CustomerFeatures, KimochiSignals};
use crate::stage::Stage;

/// Thresholds of the loyalty matrix and the positive-dormant list; the defaults are the ones
/// documented in the module.
#[derive(Debug, Clone, PartialEq)]
pub struct LoyaltyConfig {
    /// Behaviour is high when the mean of the RFM R and F levels is at least this (1–5).
    pub behavioural_high_min: f64,
    /// A customer with high emotion whose behavioural score is below the threshold by less than
    /// this is a near-loyal prospect.
    pub near_behavioural_margin: f64,
    /// Whether an active subscriber counts as behaviourally high whatever their RFM.
    pub subscriber_is_behavioural: bool,
    /// Emotion is high only when the tone is at least this (-1–1).
    pub emotional_min_tone: f64,
    /// Emotion is high only with at least this many advocacy signals.
    pub emotional_min_advocacy: u32,
    /// Emotion is high only with at most this many complaints.
    pub emotional_max_complaints: u32,
    /// A purchasing customer whose RFM recency level is at most this counts as dormant for the
    /// positive-dormant list, whatever their stage.
    pub dormant_max_recency_level: u8,
    /// A positive dormant has at most this many complaints.
    pub dormant_max_complaints: u32,
}

impl Default for LoyaltyConfig {
    fn default() -> LoyaltyConfig {
        LoyaltyConfig {
            behavioural_high_min: 3.5,
            near_behavioural_margin: 1.0,
            subscriber_is_behavioural: true,
            emotional_min_tone: 0.5,
            emotional_min_advocacy: 1,
            emotional_max_complaints: 0,
            dormant_max_recency_level: 2,
            dormant_max_complaints: 0,
        }
    }
}

/// What was wrong with a [`LoyaltyConfig`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoyaltyError {
    /// A threshold was outside the range it is compared in, or not a number.
    #[error("loyalty configuration: {field} = {value} is outside {range}")]
    InvalidConfig { field: &'static str, value: f64, range: &'static str },
}

impl LoyaltyConfig {
    /// Checks every threshold against the range of the score it is compared with.
    pub fn validate(&self) -> Result<(), LoyaltyError> {
        let check = |field: &'static str, value: f64, low: f64, high: f64, range: &'static str| {
            if value.is_finite() && (low..=high).contains(&value) {
                Ok(())
            } else {
                Err(LoyaltyError::InvalidConfig { field, value, range })
            }
        };
        check("behavioural_high_min", self.behavioural_high_min, 1.0, 5.0, "[1, 5]")?;
        check("near_behavioural_margin", self.near_behavioural_margin, 0.0, 4.0, "[0, 4]")?;
        check("emotional_min_tone", self.emotional_min_tone, -1.0, 1.0, "[-1, 1]")?;
        check("dormant_max_recency_level", f64::from(self.dormant_max_recency_level), 0.0, 5.0, "[0, 5]")?;
        Ok(())
    }
}

/// The four quadrants of the loyalty matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LoyaltyQuadrant {
    /// 真のロイヤル顧客: keeps buying and likes the brand.
    TrueLoyal,
    /// 潜在的ロイヤル: likes the brand, buys little.
    Latent,
    /// 見せかけのロイヤル: keeps buying for habit or price; at risk when something better comes.
    Spurious,
    /// 非ロイヤル: neither.
    Low,
}

impl LoyaltyQuadrant {
    /// Every quadrant, in the order of [`LoyaltyQuadrant::index`].
    pub const ALL: [LoyaltyQuadrant; 4] =
        [LoyaltyQuadrant::TrueLoyal, LoyaltyQuadrant::Latent, LoyaltyQuadrant::Spurious, LoyaltyQuadrant::Low];

    /// The quadrant from its two halves.
    pub fn from_levels(behavioural_high: bool, emotional_high: bool) -> LoyaltyQuadrant {
        match (behavioural_high, emotional_high) {
            (true, true) => LoyaltyQuadrant::TrueLoyal,
            (false, true) => LoyaltyQuadrant::Latent,
            (true, false) => LoyaltyQuadrant::Spurious,
            (false, false) => LoyaltyQuadrant::Low,
        }
    }

    /// The stable code stored and used by the API.
    pub fn code(self) -> &'static str {
        match self {
            LoyaltyQuadrant::TrueLoyal => "true_loyal",
            LoyaltyQuadrant::Latent => "latent",
            LoyaltyQuadrant::Spurious => "spurious",
            LoyaltyQuadrant::Low => "low",
        }
    }

    /// Parses a stored code.
    pub fn from_code(code: &str) -> Option<LoyaltyQuadrant> {
        LoyaltyQuadrant::ALL.into_iter().find(|quadrant| quadrant.code() == code)
    }

    /// The Japanese label shown to people.
    pub fn label_ja(self) -> &'static str {
        match self {
            LoyaltyQuadrant::TrueLoyal => "真のロイヤル顧客",
            LoyaltyQuadrant::Latent => "潜在的ロイヤル",
            LoyaltyQuadrant::Spurious => "見せかけのロイヤル",
            LoyaltyQuadrant::Low => "非ロイヤル",
        }
    }

    /// One sentence for the karte: what the quadrant means and what to do.
    pub fn description_ja(self) -> &'static str {
        match self {
            LoyaltyQuadrant::TrueLoyal => {
                "継続して購入し、ブランドを好んで推奨もしている。特別な窓口や感謝の施策で関係を守る。"
            }
            LoyaltyQuadrant::Latent => "ブランドへの好意や推奨はあるが購入が少ない。購入のきっかけ作りが有効。",
            LoyaltyQuadrant::Spurious => {
                "継続購入しているが感情的な結びつきは弱い（習慣や価格が理由の可能性）。より良い他社商品が出ると離反しやすい。"
            }
            LoyaltyQuadrant::Low => "購入も好意もまだ弱い。通常のプロモーションの対象。",
        }
    }

    /// Position in [`LoyaltyQuadrant::ALL`].
    pub fn index(self) -> usize {
        match self {
            LoyaltyQuadrant::TrueLoyal => 0,
            LoyaltyQuadrant::Latent => 1,
            LoyaltyQuadrant::Spurious => 2,
            LoyaltyQuadrant::Low => 3,
        }
    }
}

impl std::fmt::Display for LoyaltyQuadrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a customer is one step from true loyalty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NearLoyalKind {
    /// Emotion high, behaviour just under the threshold.
    PurchasesJustBelow,
    /// Behaviour high and positive, but no advocacy yet.
    NoAdvocacyYet,
}

impl NearLoyalKind {
    /// Every kind, in the order of [`NearLoyalKind::index`].
    pub const ALL: [NearLoyalKind; 2] = [NearLoyalKind::PurchasesJustBelow, NearLoyalKind::NoAdvocacyYet];

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            NearLoyalKind::PurchasesJustBelow => "purchases_just_below",
            NearLoyalKind::NoAdvocacyYet => "no_advocacy_yet",
        }
    }

    /// Position in [`NearLoyalKind::ALL`].
    pub fn index(self) -> usize {
        match self {
            NearLoyalKind::PurchasesJustBelow => 0,
            NearLoyalKind::NoAdvocacyYet => 1,
        }
    }
}

/// A near-loyal flag (ロイヤル予備軍) with its reason in words.
#[derive(Debug, Clone, PartialEq)]
pub struct NearLoyal {
    pub kind: NearLoyalKind,
    /// The reason in Japanese, with the figures that put the customer here.
    pub reason: String,
}

/// Where one customer stands on the loyalty matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct LoyaltyAssessment {
    pub customer: CustomerId,
    pub quadrant: LoyaltyQuadrant,
    /// Mean of the RFM R and F levels (1–5); 0 without purchases.
    pub behavioural_score: f64,
    /// Net tone of what was heard (-1–1); 0 when nothing was heard.
    pub emotional_score: f64,
    /// Behaviour high after the stage overrides (subscriber, dormant).
    pub behavioural_high: bool,
    /// Emotion high by the tone, advocacy and complaint rules.
    pub emotional_high: bool,
    /// False for a customer without purchases: the behavioural score is a placeholder.
    pub behaviour_known: bool,
    /// False when nothing with a tone was heard: the emotion was taken as neutral.
    pub emotion_heard: bool,
    /// Set for a near-loyal prospect (ロイヤル予備軍).
    pub near_loyal: Option<NearLoyal>,
}

/// Places one customer on the loyalty matrix.
pub fn assess_loyalty(customer: &CustomerFeatures, config: &LoyaltyConfig) -> Result<LoyaltyAssessment, LoyaltyError> {
    config.validate()?;
    Ok(assess_validated(customer, config))
}

fn assess_validated(customer: &CustomerFeatures, config: &LoyaltyConfig) -> LoyaltyAssessment {
    let kimochi = &customer.kimochi;
    let behaviour_known = customer.rfm.is_some();
    let behavioural_score = customer.rfm.map_or(0.0, |cell| (f64::from(cell.r()) + f64::from(cell.f())) / 2.0);
    let behavioural_high = match customer.stage {
        Stage::Dormant => false,
        Stage::Subscription if config.subscriber_is_behavioural => true,
        _ => behaviour_known && behavioural_score >= config.behavioural_high_min,
    };

    let emotion_heard = kimochi.heard();
    let emotional_score = kimochi.tone();
    let warm = emotion_heard
        && emotional_score >= config.emotional_min_tone
        && kimochi.complaints <= config.emotional_max_complaints;
    let emotional_high = warm && kimochi.advocacy >= config.emotional_min_advocacy;

    let quadrant = LoyaltyQuadrant::from_levels(behavioural_high, emotional_high);
    let near_loyal = if customer.stage == Stage::Excluded {
        None
    } else if quadrant == LoyaltyQuadrant::Latent
        && behaviour_known
        && customer.stage != Stage::Dormant
        && behavioural_score >= config.behavioural_high_min - config.near_behavioural_margin
    {
        Some(NearLoyal {
            kind: NearLoyalKind::PurchasesJustBelow,
            reason: format!(
                "{}好意的（トーン{:+.2}）で、購買（R・F平均{:.1}）もロイヤルの基準{:.1}まであと少し",
                if kimochi.advocacy > 0 { "推奨の声があり" } else { "" },
                emotional_score,
                behavioural_score,
                config.behavioural_high_min
            ),
        })
    } else if quadrant == LoyaltyQuadrant::Spurious && warm {
        Some(NearLoyal {
            kind: NearLoyalKind::NoAdvocacyYet,
            reason: format!(
                "継続して購入しており声も好意的（トーン{:+.2}）だが、推奨・紹介の声はまだない（{}件）",
                emotional_score, kimochi.advocacy
            ),
        })
    } else {
        None
    };

    LoyaltyAssessment {
        customer: customer.customer,
        quadrant,
        behavioural_score,
        emotional_score,
        behavioural_high,
        emotional_high,
        behaviour_known,
        emotion_heard,
        near_loyal,
    }
}

/// Counts of the loyalty matrix over a set of customers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoyaltyMatrix {
    /// Customers per quadrant, indexed by [`LoyaltyQuadrant::index`].
    pub counts: [u64; 4],
    /// Customers per quadrant × stage; the stage index is its position in [`Stage::ALL`].
    pub by_stage: [[u64; 7]; 4],
    /// Near-loyal prospects per quadrant × kind ([`NearLoyalKind::index`]).
    pub near_loyal: [[u64; 2]; 4],
    /// Customers per quadrant of whom nothing with a tone was heard (emotion taken as neutral).
    pub emotion_unheard: [u64; 4],
    /// Customers per quadrant without purchases.
    pub behaviour_unknown: [u64; 4],
}

impl LoyaltyMatrix {
    /// Adds one assessed customer in `stage`.
    pub fn add(&mut self, assessment: &LoyaltyAssessment, stage: Stage) {
        let quadrant = assessment.quadrant.index();
        self.counts[quadrant] += 1;
        self.by_stage[quadrant][stage_index(stage)] += 1;
        if let Some(near_loyal) = &assessment.near_loyal {
            self.near_loyal[quadrant][near_loyal.kind.index()] += 1;
        }
        self.emotion_unheard[quadrant] += u64::from(!assessment.emotion_heard);
        self.behaviour_unknown[quadrant] += u64::from(!assessment.behaviour_known);
    }

    /// Customers in `quadrant`.
    pub fn count(&self, quadrant: LoyaltyQuadrant) -> u64 {
        self.counts[quadrant.index()]
    }

    /// Customers in `quadrant` and `stage`.
    pub fn count_in_stage(&self, quadrant: LoyaltyQuadrant, stage: Stage) -> u64 {
        self.by_stage[quadrant.index()][stage_index(stage)]
    }

    /// Near-loyal prospects of `kind` (all quadrants).
    pub fn near_loyal_count(&self, kind: NearLoyalKind) -> u64 {
        self.near_loyal.iter().map(|per_kind| per_kind[kind.index()]).sum()
    }

    /// Customers counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

fn stage_index(stage: Stage) -> usize {
    Stage::ALL.iter().position(|candidate| *candidate == stage).unwrap_or(Stage::ALL.len() - 1)
}

/// Every customer's assessment, in input order, and the matrix they add up to.
#[derive(Debug, Clone, PartialEq)]
pub struct LoyaltyReport {
    pub assessments: Vec<LoyaltyAssessment>,
    pub matrix: LoyaltyMatrix,
}

/// Assesses every customer and counts the matrix.
pub fn loyalty_report(customers: &[CustomerFeatures], config: &LoyaltyConfig) -> Result<LoyaltyReport, LoyaltyError> {
    config.validate()?;
    let mut matrix = LoyaltyMatrix::default();
    let assessments = customers
        .iter()
        .map(|customer| {
            let assessment = assess_validated(customer, config);
            matrix.add(&assessment, customer.stage);
            assessment
        })
        .collect();
    Ok(LoyaltyReport { assessments, matrix })
}

/// Why a positive dormant counts as dormant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DormantBasis {
    /// Stage 休眠.
    Stage,
    /// RFM recency level at or below the configured maximum (the level is carried).
    LowRecency(u8),
}

/// One customer of the win-back list most likely to answer.
#[derive(Debug, Clone, PartialEq)]
pub struct PositiveDormant {
    pub customer: CustomerId,
    pub basis: DormantBasis,
    /// The reason in Japanese, with the figures.
    pub why: String,
    /// Ranking score in [0, 1] (formula in the module documentation).
    pub score: f64,
}

/// The positive dormants among `customers`, best first (rules in the module documentation).
pub fn positive_dormants(
    customers: &[CustomerFeatures],
    config: &LoyaltyConfig,
) -> Result<Vec<PositiveDormant>, LoyaltyError> {
    config.validate()?;
    let mut found: Vec<(PositiveDormant, i64)> = customers
        .iter()
        .filter_map(|customer| positive_dormant(customer, config).map(|dormant| (dormant, customer.monetary)))
        .collect();
    found.sort_by(|(a, a_money), (b, b_money)| {
        b.score.total_cmp(&a.score).then(b_money.cmp(a_money)).then(a.customer.cmp(&b.customer))
    });
    Ok(found.into_iter().map(|(dormant, _)| dormant).collect())
}

fn positive_dormant(customer: &CustomerFeatures, config: &LoyaltyConfig) -> Option<PositiveDormant> {
    let kimochi = &customer.kimochi;
    let purchased = customer.rfm.is_some() || customer.purchase_days > 0;
    if !purchased || matches!(customer.stage, Stage::Excluded | Stage::Subscription) {
        return None;
    }
    let basis = match (customer.stage, customer.rfm) {
        (Stage::Dormant, _) => DormantBasis::Stage,
        (_, Some(cell)) if cell.r() <= config.dormant_max_recency_level => DormantBasis::LowRecency(cell.r()),
        _ => return None,
    };
    let tone = kimochi.tone();
    let positive = kimochi.heard() && (tone > 0.0 || kimochi.advocacy > 0);
    if !positive || kimochi.complaints > config.dormant_max_complaints || kimochi.crisis > 0 {
        return None;
    }
    let score = 0.4 * (tone + 1.0) / 2.0
        + 0.2 * f64::from(u8::from(kimochi.advocacy > 0))
        + 0.2 * f64::from(customer.purchase_days.min(5)) / 5.0
        + 0.2 / (1.0 + f64::from(customer.consecutive_no_contact));
    Some(PositiveDormant { customer: customer.customer, basis, why: dormant_reason(customer, basis, tone), score })
}

fn dormant_reason(customer: &CustomerFeatures, basis: DormantBasis, tone: f64) -> String {
    let kimochi: &KimochiSignals = &customer.kimochi;
    let since = customer.recency_days.map(|days| format!("最終購入から{days}日")).unwrap_or_default();
    let mut why = match basis {
        DormantBasis::Stage if since.is_empty() => "休眠中".to_string(),
        DormantBasis::Stage => format!("休眠中（{since}）"),
        DormantBasis::LowRecency(level) if since.is_empty() => format!("RFMのRが{level}"),
        DormantBasis::LowRecency(level) => format!("RFMのRが{level}（{since}）"),
    };
    why.push_str("だが、");
    let mut heard = Vec::new();
    if kimochi.positive_contacts > 0 {
        heard.push(format!("前向きな声{}件", kimochi.positive_contacts));
    }
    if kimochi.advocacy > 0 {
        heard.push(format!("推奨・紹介{}件", kimochi.advocacy));
    }
    why.push_str(&heard.join("・"));
    why.push_str(&format!("（トーン{tone:+.2}）"));
    if kimochi.complaints == 0 {
        why.push_str("でクレームなし");
    } else {
        why.push_str(&format!("、クレーム{}件", kimochi.complaints));
    }
    if customer.purchase_days >= 2 {
        why.push_str(&format!("。購入{}回の実績あり", customer.purchase_days));
    }
    if customer.consecutive_no_contact > 0 {
        why.push_str(&format!("。直近{}回は不通", customer.consecutive_no_contact));
    }
    why.push('。');
    why
}
