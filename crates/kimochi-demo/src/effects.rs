//! The planted effects (仕込んだ効果): the causal rules the generator follows and that later
//! analytics must rediscover. One constant, [`PLANTED`], holds every number, so the generator,
//! the tests and `docs/demo-data.md` cannot drift apart.

/// The advertising medium (広告媒体) a customer came from (F10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AdMedium {
    /// TV shopping programme (TV通販).
    TvShopping,
    /// Newspaper advertisement (新聞広告).
    Newspaper,
    /// Display and search advertising (Web広告).
    WebAd,
    /// Affiliate sites (アフィリエイト).
    Affiliate,
    /// Magazine advertorial (雑誌).
    Magazine,
    /// Social-media advertising (SNS広告).
    SnsAd,
    /// Word of mouth from an existing customer (紹介).
    Referral,
}

impl AdMedium {
    pub const ALL: [AdMedium; 7] = [
        AdMedium::TvShopping,
        AdMedium::Newspaper,
        AdMedium::WebAd,
        AdMedium::Affiliate,
        AdMedium::Magazine,
        AdMedium::SnsAd,
        AdMedium::Referral,
    ];

    /// The label stored in `ad_medium` on profiles and orders.
    pub fn label(self) -> &'static str {
        match self {
            AdMedium::TvShopping => "TV通販",
            AdMedium::Newspaper => "新聞広告",
            AdMedium::WebAd => "Web広告",
            AdMedium::Affiliate => "アフィリエイト",
            AdMedium::Magazine => "雑誌",
            AdMedium::SnsAd => "SNS広告",
            AdMedium::Referral => "紹介",
        }
    }

    pub fn from_label(label: &str) -> Option<AdMedium> {
        AdMedium::ALL.into_iter().find(|medium| medium.label() == label)
    }

    /// Position in [`AdMedium::ALL`] and in the per-medium arrays of [`PlantedEffects`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Why a trial customer declined the main product on the outbound proposal call (失注理由, K4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LostOrderReason {
    /// Following the instructions did not work (説明書どおりに使っても効果が出ない): the finding
    /// of seed 000 that was fed back to product and promotion.
    InstructionsDidNotWork,
    /// Too expensive (価格が高い).
    TooExpensive,
    /// The product did not suit the skin (肌に合わない).
    SkinDidNotSuit,
    /// Already uses another company's product (他社製品を使っている).
    UsesOtherBrand,
    /// Does not need it now (今は必要ない).
    NotNeededNow,
    /// The family was against it (家族に反対された).
    FamilyOpposed,
}

impl LostOrderReason {
    pub const ALL: [LostOrderReason; 6] = [
        LostOrderReason::InstructionsDidNotWork,
        LostOrderReason::TooExpensive,
        LostOrderReason::SkinDidNotSuit,
        LostOrderReason::UsesOtherBrand,
        LostOrderReason::NotNeededNow,
        LostOrderReason::FamilyOpposed,
    ];

    pub fn label_ja(self) -> &'static str {
        match self {
            LostOrderReason::InstructionsDidNotWork => "説明書どおりに使っても効果が出ない",
            LostOrderReason::TooExpensive => "価格が高い",
            LostOrderReason::SkinDidNotSuit => "肌に合わない",
            LostOrderReason::UsesOtherBrand => "他社製品を使っている",
            LostOrderReason::NotNeededNow => "今は必要ない",
            LostOrderReason::FamilyOpposed => "家族に反対された",
        }
    }

    /// Substrings of which every lost-order text with this reason contains at least one, and
    /// no lost-order text with another reason contains any: a keyword classifier recovers the
    /// reason exactly, while the phrasings still vary.
    pub fn markers(self) -> &'static [&'static str] {
        match self {
            LostOrderReason::InstructionsDidNotWork => &["説明書", "書いてある通り", "案内どおり", "記載の使用量"],
            LostOrderReason::TooExpensive => &["価格が", "値段が", "予算", "お金が"],
            LostOrderReason::SkinDidNotSuit => &["肌に合わ", "かゆみ", "赤み", "ピリピリ"],
            LostOrderReason::UsesOtherBrand => &["他社", "デパート", "ドラッグストア", "いつもの化粧品"],
            LostOrderReason::NotNeededNow => &["必要ない", "いらない", "様子を見"],
            LostOrderReason::FamilyOpposed => &["反対", "家族に相談", "無駄遣い"],
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Every number the generator plants. Hazards are per monthly delivery cycle of a subscription
/// (定期便): before each delivery after the first, the subscriber cancels with probability
/// [`PlantedEffects::monthly_churn`].
#[derive(Debug, Clone, PartialEq)]
pub struct PlantedEffects {
    /// Monthly churn hazard of a subscriber with no other effect, from a medium with factor 1.
    pub base_monthly_churn: f64,
    /// Effect 1: factor on the hazard when the expectation was not met (a `Gap` kimochi note).
    pub expectation_unmet_churn: f64,
    /// Effect 3: factor on the hazard per ad medium, indexed by [`AdMedium::index`].
    pub medium_churn: [f64; 7],
    /// Effect 4: factor on the hazard for advocates (「友達にも勧めました」).
    pub advocate_churn: f64,
    /// Effect 5: factor on the hazard after a streak of at least
    /// [`PlantedEffects::no_contact_streak_min`] consecutive no-contact outbound attempts.
    pub no_contact_streak_churn: f64,
    /// Length of a no-contact streak that counts for effect 5 (T2: "3 consecutive no-contacts").
    pub no_contact_streak_min: usize,
    /// Effect 2: share of lost orders per reason, in per cent, indexed by [`LostOrderReason::index`].
    pub lost_order_reason_percent: [u32; 6],
    /// Share of acquired customers per medium, in per mille, indexed by [`AdMedium::index`].
    pub medium_per_mille: [u32; 7],
    /// Share of buyers whose expectation will not be met.
    pub expectation_unmet_share: f64,
    /// Share of converted buyers (main product or subscription) with met expectations who
    /// become advocates; referred customers use [`PlantedEffects::advocate_share_referral`].
    pub advocate_share: f64,
    pub advocate_share_referral: f64,
    /// Share of customers reachable by phone who never pick up (their outbound attempts end in
    /// a no-contact streak).
    pub unreachable_share: f64,
}

/// The effects this crate plants; see `docs/demo-data.md`.
pub const PLANTED: PlantedEffects = PlantedEffects {
    base_monthly_churn: 0.02,
    expectation_unmet_churn: 3.0,
    medium_churn: [1.5, 0.9, 1.2, 1.3, 1.0, 1.1, 0.6],
    advocate_churn: 0.5,
    no_contact_streak_churn: 2.0,
    no_contact_streak_min: 3,
    lost_order_reason_percent: [30, 22, 14, 14, 12, 8],
    medium_per_mille: [220, 180, 200, 120, 60, 130, 90],
    expectation_unmet_share: 0.22,
    advocate_share: 0.30,
    advocate_share_referral: 0.45,
    unreachable_share: 0.12,
};

impl PlantedEffects {
    pub fn medium_churn_factor(&self, medium: AdMedium) -> f64 {
        self.medium_churn[medium.index()]
    }

    /// The monthly churn hazard of a subscriber with these traits.
    pub fn monthly_churn(
        &self,
        medium: AdMedium,
        expectation_unmet: bool,
        advocate: bool,
        no_contact_streak: bool,
    ) -> f64 {
        let mut hazard = self.base_monthly_churn * self.medium_churn_factor(medium);
        if expectation_unmet {
            hazard *= self.expectation_unmet_churn;
        }
        if advocate {
            hazard *= self.advocate_churn;
        }
        if no_contact_streak {
            hazard *= self.no_contact_streak_churn;
        }
        hazard.min(0.95)
    }

    /// Share of lost orders with this reason, between 0 and 1.
    pub fn lost_order_share(&self, reason: LostOrderReason) -> f64 {
        let total: u32 = self.lost_order_reason_percent.iter().sum();
        f64::from(self.lost_order_reason_percent[reason.index()]) / f64::from(total)
    }
}
