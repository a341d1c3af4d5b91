//! Customer types (顧客タイプのクラスタリング, K3): k-means on standardized behavioural and kimochi
//! features, with the number of types chosen by silhouette and every type described in words a
//! marketer understands, so campaigns can be run per type (One to One engagement).
//!
//! # Features
//! Each customer is a point of [`FEATURE_COUNT`] coordinates ([`ClusterFeature`]), transformed so
//! that a few very large customers do not decide the types on their own:
//!
//! | feature | value | missing |
//! | --- | --- | --- |
//! | `monetary` 購入金額 | ln(1 + yen), negatives as 0 | — |
//! | `purchase_days` 購入回数 | ln(1 + distinct purchase days) | — |
//! | `recency` 最終購入からの日数 | days | no purchase |
//! | `tenure` 初回購入からの日数 | days | no purchase |
//! | `p_alive` 継続見込み | BG/NBD P(alive), 0–1 | not scored |
//! | `tone` 声のトーン | [`KimochiSignals::tone`](crate::features::KimochiSignals::tone), 0 when nothing heard | — |
//! | `gap` 期待とのギャップ | ln(1 + gap notes) | — |
//! | `advocacy` 推奨・紹介 | ln(1 + advocacy signals) | — |
//! | `complaints` クレーム | ln(1 + complaints) | — |
//! | `subscriber` 定期購入 | 1 with an active subscription, else 0 | — |
//! | `unreachable` 不通 | ln(1 + trailing unanswered calls) | — |
//!
//! Every feature is standardized to a z-score with the mean and standard deviation over all
//! customers that have it; a missing value is set to z = 0 (neither high nor low), and a feature
//! that does not vary is 0 for everyone. A NaN or infinite P(alive) is an error
//! ([`ClusterError::NonFiniteFeature`]): it means the scoring upstream went wrong.
//!
//! # Fitting
//! - **Sample.** k-means is fitted on at most [`ClusterConfig::fit_sample`] customers (default
//!   50,000): those with the smallest hash of (customer id, seed), so the sample is the same
//!   whatever order the customers come in. Everyone is then assigned to the nearest centre.
//! - **k-means++.** Greedy k-means++ seeding (at each step 2 + ⌊ln k⌋ candidates drawn with
//!   probability proportional to the squared distance, keeping the one that lowers the total
//!   squared distance most), then Lloyd iterations until no point changes cluster or
//!   [`ClusterConfig::max_iterations`] (default 100). An empty cluster is given the point
//!   farthest from its centre. Randomness comes from a SplitMix64 generator seeded with
//!   [`ClusterConfig::seed`] and k, so the result is the same for the same input and seed.
//! - **Choosing k.** Every k from [`ClusterConfig::k_min`] to [`ClusterConfig::k_max`] (default
//!   2..=8, capped at the number of distinct points) is fitted, and the k with the highest mean
//!   **silhouette** wins (ties: the smaller k). The silhouette of a customer is (b − a) / max(a,
//!   b), a being the mean distance to the others of their own cluster and b the mean distance to
//!   the nearest other cluster (0 for a customer alone in their cluster); it is computed on the
//!   first [`ClusterConfig::silhouette_sample`] customers of the fit sample (default 5,000), in
//!   Euclidean distance on z-scores. Set `k_min = k_max` to impose k.
//! - **Degenerate input.** No customers is an error ([`ClusterError::NoCustomers`]). When the
//!   fit sample has a single distinct point (one customer, or everyone identical) the result is
//!   one cluster holding everyone, named 「単一の顧客層」, with no silhouette scores.
//!
//! # Descriptions
//! Clusters are numbered by size, largest first. Each is described from the mean z-score of its
//! members on every feature: features with |z| ≥ [`ClusterConfig::describe_min_z`] (default 0.5
//! standard deviations) are "defining", strongest first. The name joins the short tags of the
//! two strongest (e.g. 「高頻度・好意的」), and the sentence chains up to four of them (e.g.
//! 「購入回数が多く、最近購入しており、前向きな声が多い。」). A cluster whose members mostly never
//! bought (mean purchase days under 0.5) reads 「未購入」 rather than "buys little". A cluster
//! with no defining feature is 「平均的な顧客層」. The mean of every feature in its original unit
//! (yen, days, counts, share of subscribers) is given beside the z-scores.

use kimochi_domain::CustomerId;

use crate::features::CustomerFeatures;

/// Number of clustering features.
pub const FEATURE_COUNT: usize = 11;

/// Largest k that can be asked for.
pub const MAX_K: usize = 32;

/// One clustering feature (the table in the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClusterFeature {
    Monetary,
    PurchaseDays,
    Recency,
    Tenure,
    PAlive,
    Tone,
    Gap,
    Advocacy,
    Complaints,
    Subscriber,
    Unreachable,
}

impl ClusterFeature {
    /// Every feature, in coordinate order.
    pub const ALL: [ClusterFeature; FEATURE_COUNT] = [
        ClusterFeature::Monetary,
        ClusterFeature::PurchaseDays,
        ClusterFeature::Recency,
        ClusterFeature::Tenure,
        ClusterFeature::PAlive,
        ClusterFeature::Tone,
        ClusterFeature::Gap,
        ClusterFeature::Advocacy,
        ClusterFeature::Complaints,
        ClusterFeature::Subscriber,
        ClusterFeature::Unreachable,
    ];

    /// Coordinate of the feature.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            ClusterFeature::Monetary => "monetary",
            ClusterFeature::PurchaseDays => "purchase_days",
            ClusterFeature::Recency => "recency",
            ClusterFeature::Tenure => "tenure",
            ClusterFeature::PAlive => "p_alive",
            ClusterFeature::Tone => "tone",
            ClusterFeature::Gap => "gap",
            ClusterFeature::Advocacy => "advocacy",
            ClusterFeature::Complaints => "complaints",
            ClusterFeature::Subscriber => "subscriber",
            ClusterFeature::Unreachable => "unreachable",
        }
    }

    /// The Japanese label, with the unit of [`FeatureProfile::mean`].
    pub fn label_ja(self) -> &'static str {
        match self {
            ClusterFeature::Monetary => "購入金額（円）",
            ClusterFeature::PurchaseDays => "購入回数（日数）",
            ClusterFeature::Recency => "最終購入からの日数",
            ClusterFeature::Tenure => "初回購入からの日数",
            ClusterFeature::PAlive => "継続見込み（0〜1）",
            ClusterFeature::Tone => "声のトーン（-1〜1）",
            ClusterFeature::Gap => "期待とのギャップ（件）",
            ClusterFeature::Advocacy => "推奨・紹介（件）",
            ClusterFeature::Complaints => "クレーム（件）",
            ClusterFeature::Subscriber => "定期購入中の割合",
            ClusterFeature::Unreachable => "連続不通（回）",
        }
    }

    /// Wording when the cluster is high (`true`) or low on the feature: short tag for the name,
    /// the clause in its continuative form (連用形) to chain, and in its final form.
    fn wording(self, high: bool) -> (&'static str, &'static str, &'static str) {
        match (self, high) {
            (ClusterFeature::Monetary, true) => ("高額購入", "購入金額が大きく", "購入金額が大きい"),
            (ClusterFeature::Monetary, false) => ("少額購入", "購入金額が小さく", "購入金額が小さい"),
            (ClusterFeature::PurchaseDays, true) => ("高頻度", "購入回数が多く", "購入回数が多い"),
            (ClusterFeature::PurchaseDays, false) => ("購入少", "購入回数が少なく", "購入回数が少ない"),
            (ClusterFeature::Recency, true) => ("購入途絶", "しばらく購入しておらず", "しばらく購入していない"),
            (ClusterFeature::Recency, false) => ("最近購入", "最近も購入しており", "最近も購入している"),
            (ClusterFeature::Tenure, true) => ("長年の顧客", "付き合いが長く", "付き合いが長い"),
            (ClusterFeature::Tenure, false) => ("新しい顧客", "付き合いが浅く", "付き合いが浅い"),
            (ClusterFeature::PAlive, true) => ("継続見込み高", "今後も購入が見込め", "今後も購入が見込める"),
            (ClusterFeature::PAlive, false) => ("離脱懸念", "離脱の可能性が高く", "離脱の可能性が高い"),
            (ClusterFeature::Tone, true) => ("好意的", "前向きな声が多く", "前向きな声が多い"),
            (ClusterFeature::Tone, false) => ("否定的", "否定的な声が多く", "否定的な声が多い"),
            (ClusterFeature::Gap, true) => ("期待ギャップ", "期待とのギャップの声があり", "期待とのギャップの声がある"),
            (ClusterFeature::Gap, false) => {
                ("ギャップ少", "期待とのギャップの声が少なく", "期待とのギャップの声が少ない")
            }
            (ClusterFeature::Advocacy, true) => ("推奨者", "推奨・紹介の声があり", "推奨・紹介の声がある"),
            (ClusterFeature::Advocacy, false) => ("推奨少", "推奨・紹介の声が少なく", "推奨・紹介の声が少ない"),
            (ClusterFeature::Complaints, true) => ("クレームあり", "クレームがあり", "クレームがある"),
            (ClusterFeature::Complaints, false) => ("クレーム少", "クレームが少なく", "クレームが少ない"),
            (ClusterFeature::Subscriber, true) => ("定期会員", "定期購入中で", "定期購入中"),
            (ClusterFeature::Subscriber, false) => ("非定期", "定期購入をしておらず", "定期購入をしていない"),
            (ClusterFeature::Unreachable, true) => ("不通", "電話がつながりにくく", "電話がつながりにくい"),
            (ClusterFeature::Unreachable, false) => ("連絡可", "電話がつながりやすく", "電話がつながりやすい"),
        }
    }
}

/// How the customers are clustered; the defaults are documented in the module.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterConfig {
    /// Seed of the random generator (sample, k-means++).
    pub seed: u64,
    /// Smallest k tried (at least 2).
    pub k_min: usize,
    /// Largest k tried (at most [`MAX_K`]).
    pub k_max: usize,
    /// Customers k-means is fitted on, at most.
    pub fit_sample: usize,
    /// Customers the silhouette is computed on, at most.
    pub silhouette_sample: usize,
    /// Lloyd iterations, at most.
    pub max_iterations: usize,
    /// A feature defines a cluster when the members' mean z-score is at least this far from 0.
    pub describe_min_z: f64,
    /// Threads the fits for the different k run on (each k has its own generator, so the result
    /// does not depend on it). Default 1.
    pub threads: usize,
}

impl Default for ClusterConfig {
    fn default() -> ClusterConfig {
        ClusterConfig {
            seed: 0,
            k_min: 2,
            k_max: 8,
            fit_sample: 50_000,
            silhouette_sample: 5_000,
            max_iterations: 100,
            describe_min_z: 0.5,
            threads: 1,
        }
    }
}

/// What stopped the clustering.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClusterError {
    /// There was nobody to cluster.
    #[error("no customers to cluster")]
    NoCustomers,
    /// A feature was NaN or infinite; `index` is the customer's position in the input.
    #[error("customer {customer} (input position {index}): feature {} is {value}, not a finite number", feature.code())]
    NonFiniteFeature { index: usize, customer: CustomerId, feature: ClusterFeature, value: f64 },
    /// The configuration was not usable.
    #[error("clustering configuration: {0}")]
    InvalidConfig(&'static str),
}

/// One feature of one cluster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureProfile {
    pub feature: ClusterFeature,
    /// Mean over the members that have the feature, in its original unit (see
    /// [`ClusterFeature::label_ja`]); `None` when no member has it.
    pub mean: Option<f64>,
    /// Mean z-score of the members (missing values count as 0).
    pub z: f64,
}

/// One customer type.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// 0 for the largest cluster, then by decreasing size.
    pub id: usize,
    /// Short Japanese name, e.g. 「高頻度・好意的」.
    pub name_ja: String,
    /// One Japanese sentence describing the type.
    pub description_ja: String,
    /// Members among all customers.
    pub size: usize,
    /// Share of all customers (0–1).
    pub share: f64,
    /// Every feature, in [`ClusterFeature::ALL`] order.
    pub profile: Vec<FeatureProfile>,
    /// The features with |z| ≥ `describe_min_z`, strongest first.
    pub defining: Vec<FeatureProfile>,
}

impl Cluster {
    /// The profile of one feature.
    pub fn feature(&self, feature: ClusterFeature) -> FeatureProfile {
        self.profile[feature.index()]
    }
}

/// Quality of one candidate k.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KScore {
    pub k: usize,
    /// Mean silhouette on the silhouette sample (-1–1, higher is better).
    pub silhouette: f64,
    /// Sum of squared distances to the centres over the fit sample.
    pub inertia: f64,
}

/// The customer types and who belongs to which.
#[derive(Debug, Clone, PartialEq)]
pub struct Clustering {
    /// The chosen number of clusters.
    pub k: usize,
    /// Clusters, largest first. Only clusters with members are listed: a fitted centre that no
    /// customer of the whole population is nearest to (possible only when the fit stopped at
    /// `max_iterations`) is dropped, so there can be fewer than `k`.
    pub clusters: Vec<Cluster>,
    /// The cluster id of every customer, in input order.
    pub assignments: Vec<usize>,
    /// Every k tried, ascending (empty for a single cluster).
    pub k_scores: Vec<KScore>,
    /// Customers the centres were fitted on.
    pub fit_sample_size: usize,
    /// Customers the silhouette was computed on.
    pub silhouette_sample_size: usize,
}

/// Clusters `customers` into types (method in the module documentation).
pub fn cluster_customers(customers: &[CustomerFeatures], config: &ClusterConfig) -> Result<Clustering, ClusterError> {
    validate(config)?;
    if customers.is_empty() {
        return Err(ClusterError::NoCustomers);
    }
    let scaler = Scaler::fit(customers)?;

    let sample = fit_sample(customers, config);
    let points: Vec<Point> = sample.iter().map(|&index| scaler.z(&scaler.raw(&customers[index]))).collect();

    let distinct = distinct_up_to(&points, config.k_max);
    if distinct < 2 {
        return Ok(finish(customers, &scaler, &points[..1], Vec::new(), sample.len(), 0, config));
    }
    let k_high = config.k_max.min(distinct);
    let k_low = config.k_min.min(k_high);

    let fit = |k: usize| {
        let mut rng = SplitMix64::new(mix(config.seed ^ mix(k as u64)));
        (k, kmeans(&points, k, config.max_iterations, &mut rng))
    };
    // Thread t fits every `threads`-th k from k_low + t: larger k cost more, so each thread gets
    // small and large ones.
    let threads = config.threads.clamp(1, k_high - k_low + 1);
    let mut fits: Vec<(usize, KMeans)> = if threads == 1 {
        (k_low..=k_high).map(fit).collect()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let fit = &fit;
                    scope.spawn(move || (k_low + t..=k_high).step_by(threads).map(fit).collect::<Vec<_>>())
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|handle| handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect()
        })
    };
    fits.sort_by_key(|(k, _)| *k);
    let silhouette_size = points.len().min(config.silhouette_sample);
    let labelings: Vec<&[usize]> = fits.iter().map(|(_, fit)| &fit.labels[..silhouette_size]).collect();
    let silhouettes = mean_silhouettes(&points, silhouette_size, &labelings, k_high);

    let k_scores: Vec<KScore> = fits
        .iter()
        .zip(&silhouettes)
        .map(|((k, fit), &silhouette)| KScore { k: *k, silhouette, inertia: fit.inertia })
        .collect();
    let mut best = 0;
    for (position, score) in k_scores.iter().enumerate() {
        if score.silhouette > k_scores[best].silhouette {
            best = position;
        }
    }
    let (k, fit) = &fits[best];
    debug_assert_eq!(fit.centres.len(), *k);
    Ok(finish(customers, &scaler, &fit.centres, k_scores, sample.len(), silhouette_size, config))
}

fn validate(config: &ClusterConfig) -> Result<(), ClusterError> {
    if config.k_min < 2 || config.k_max < config.k_min || config.k_max > MAX_K {
        return Err(ClusterError::InvalidConfig("k must satisfy 2 ≤ k_min ≤ k_max ≤ 32 (MAX_K)"));
    }
    if config.fit_sample < 2 || config.silhouette_sample < 2 {
        return Err(ClusterError::InvalidConfig("the fit and silhouette samples need at least 2 customers"));
    }
    if !(config.describe_min_z.is_finite() && config.describe_min_z >= 0.0) {
        return Err(ClusterError::InvalidConfig("describe_min_z must be a non-negative number"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Features and standardization

/// A customer's features: (clustering value, value in the original unit), `None` when missing.
type RawFeatures = [Option<(f64, f64)>; FEATURE_COUNT];

fn raw_features(customer: &CustomerFeatures, log_counts: &LogCounts) -> RawFeatures {
    let kimochi = &customer.kimochi;
    let count = |n: u32| Some((log_counts.get(n), f64::from(n)));
    let days = |days: Option<i64>| days.map(|days| (days as f64, days as f64));
    let monetary = customer.monetary.max(0) as f64;
    [
        Some((monetary.ln_1p(), customer.monetary as f64)),
        count(customer.purchase_days),
        days(customer.recency_days),
        days(customer.tenure_days),
        customer.p_alive.map(|p| (p, p)),
        Some((kimochi.tone(), kimochi.tone())),
        count(kimochi.gap_notes),
        count(kimochi.advocacy),
        count(kimochi.complaints),
        Some(if customer.active_subscriber { (1.0, 1.0) } else { (0.0, 0.0) }),
        count(customer.consecutive_no_contact),
    ]
}

/// ln(1 + n) looked up for the small counts nearly every customer has: the two passes over a
/// million customers would otherwise spend much of their time in the logarithm.
struct LogCounts([f64; 64]);

impl LogCounts {
    fn new() -> LogCounts {
        LogCounts(std::array::from_fn(|n| (n as f64).ln_1p()))
    }

    fn get(&self, n: u32) -> f64 {
        self.0.get(n as usize).copied().unwrap_or_else(|| f64::from(n).ln_1p())
    }
}

/// Means and standard deviations of the clustering values over the customers that have them.
struct Scaler {
    mean: [f64; FEATURE_COUNT],
    inverse_std: [f64; FEATURE_COUNT],
    log_counts: LogCounts,
}

impl Scaler {
    fn fit(customers: &[CustomerFeatures]) -> Result<Scaler, ClusterError> {
        let log_counts = LogCounts::new();
        // Shifted sums (by the first value seen) keep the variance accurate when values are
        // large and close together, e.g. days since an old launch.
        let mut shift: [Option<f64>; FEATURE_COUNT] = [None; FEATURE_COUNT];
        let mut count = [0.0f64; FEATURE_COUNT];
        let mut sum = [0.0f64; FEATURE_COUNT];
        let mut sum_squares = [0.0f64; FEATURE_COUNT];
        for (index, customer) in customers.iter().enumerate() {
            let raw = raw_features(customer, &log_counts);
            for (feature, value) in raw.iter().enumerate() {
                let Some((value, original)) = *value else { continue };
                if !value.is_finite() {
                    return Err(ClusterError::NonFiniteFeature {
                        index,
                        customer: customer.customer,
                        feature: ClusterFeature::ALL[feature],
                        value: original,
                    });
                }
                let shifted = value - *shift[feature].get_or_insert(value);
                count[feature] += 1.0;
                sum[feature] += shifted;
                sum_squares[feature] += shifted * shifted;
            }
        }
        let mut mean = [0.0; FEATURE_COUNT];
        let mut inverse_std = [0.0; FEATURE_COUNT];
        for feature in 0..FEATURE_COUNT {
            if count[feature] == 0.0 {
                continue;
            }
            let shifted_mean = sum[feature] / count[feature];
            let variance = (sum_squares[feature] / count[feature] - shifted_mean * shifted_mean).max(0.0);
            mean[feature] = shift[feature].unwrap_or(0.0) + shifted_mean;
            let std = variance.sqrt();
            // A feature that does not vary (up to rounding) separates nobody: weight 0.
            let scale = mean[feature].abs().max(1.0);
            inverse_std[feature] = if std > 1e-9 * scale { 1.0 / std } else { 0.0 };
        }
        Ok(Scaler { mean, inverse_std, log_counts })
    }

    fn raw(&self, customer: &CustomerFeatures) -> RawFeatures {
        raw_features(customer, &self.log_counts)
    }

    fn z(&self, raw: &RawFeatures) -> Point {
        let mut z = [0.0; FEATURE_COUNT];
        for feature in 0..FEATURE_COUNT {
            if let Some((value, _)) = raw[feature] {
                z[feature] = (value - self.mean[feature]) * self.inverse_std[feature];
            }
        }
        z
    }
}

/// Indices of the fit sample: the customers with the smallest hash of (id, seed), in hash order.
fn fit_sample(customers: &[CustomerFeatures], config: &ClusterConfig) -> Vec<usize> {
    let salt = mix(config.seed.wrapping_add(0x5EED));
    let mut keyed: Vec<(u64, usize)> =
        customers.iter().enumerate().map(|(index, customer)| (mix(customer.customer.0 as u64 ^ salt), index)).collect();
    if keyed.len() > config.fit_sample {
        keyed.select_nth_unstable(config.fit_sample);
        keyed.truncate(config.fit_sample);
    }
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, index)| index).collect()
}

// ---------------------------------------------------------------------------------------------
// k-means

/// A customer as k-means sees them: z-scores.
type Point = [f64; FEATURE_COUNT];

/// Number of distinct points, counted up to `limit` (enough to bound k).
fn distinct_up_to(points: &[Point], limit: usize) -> usize {
    let mut distinct: Vec<&Point> = Vec::new();
    for point in points {
        if !distinct.contains(&point) {
            distinct.push(point);
            if distinct.len() >= limit {
                break;
            }
        }
    }
    distinct.len()
}

fn squared_distance(a: &Point, b: &Point) -> f64 {
    // Four running sums instead of one chain of additions: the distance is the inner loop of
    // every step, and independent sums let the processor overlap them.
    let mut partial = [0.0; 4];
    for (index, (x, y)) in a.iter().zip(b).enumerate() {
        partial[index % 4] += (x - y) * (x - y);
    }
    (partial[0] + partial[1]) + (partial[2] + partial[3])
}

/// Index of the nearest centre (the first on ties) and the squared distance to it.
fn nearest(point: &Point, centres: &[Point]) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (index, centre) in centres.iter().enumerate() {
        let distance = squared_distance(point, centre);
        if distance < best.1 {
            best = (index, distance);
        }
    }
    best
}

struct KMeans {
    centres: Vec<Point>,
    /// Nearest centre of every point of the fit sample.
    labels: Vec<usize>,
    inertia: f64,
}

fn kmeans(points: &[Point], k: usize, max_iterations: usize, rng: &mut SplitMix64) -> KMeans {
    let n = points.len();
    let mut centres = kmeans_plus_plus(points, k, rng);
    let mut labels = vec![usize::MAX; n];
    let mut distances = vec![0.0; n];
    for _ in 0..max_iterations.max(1) {
        let mut changed = false;
        for index in 0..n {
            let (label, distance) = nearest(&points[index], &centres);
            changed |= labels[index] != label;
            labels[index] = label;
            distances[index] = distance;
        }
        if !changed {
            break;
        }
        let mut sums = vec![[0.0; FEATURE_COUNT]; k];
        let mut counts = vec![0usize; k];
        for (point, &label) in points.iter().zip(&labels) {
            counts[label] += 1;
            for (total, value) in sums[label].iter_mut().zip(point) {
                *total += value;
            }
        }
        for (cluster, centre) in centres.iter_mut().enumerate() {
            if counts[cluster] == 0 {
                // The point worst served by its centre starts the empty cluster; taking it out
                // of the running keeps two empty clusters from grabbing the same point.
                let farthest = (0..n).max_by(|&a, &b| distances[a].total_cmp(&distances[b]).then(b.cmp(&a)));
                if let Some(farthest) = farthest {
                    *centre = points[farthest];
                    distances[farthest] = 0.0;
                }
            } else {
                let count = counts[cluster] as f64;
                for (value, total) in centre.iter_mut().zip(&sums[cluster]) {
                    *value = total / count;
                }
            }
        }
    }
    // Labels and inertia against the final centres.
    let mut inertia = 0.0;
    for (point, label) in points.iter().zip(labels.iter_mut()) {
        let (nearest_label, distance) = nearest(point, &centres);
        *label = nearest_label;
        inertia += distance;
    }
    KMeans { centres, labels, inertia }
}

/// Greedy k-means++ seeding (Arthur & Vassilvitskii 2007, with the candidate trials of
/// scikit-learn): `points` has at least `k` distinct rows.
fn kmeans_plus_plus(points: &[Point], k: usize, rng: &mut SplitMix64) -> Vec<Point> {
    let n = points.len();
    let mut centres = Vec::with_capacity(k);
    let first = points[rng.below(n)];
    centres.push(first);
    let mut closest: Vec<f64> = points.iter().map(|point| squared_distance(point, &first)).collect();
    let trials = 2 + (k as f64).ln().floor() as usize;
    let mut candidate_closest = vec![0.0; n];
    let mut best_closest = vec![0.0; n];
    for _ in 1..k {
        let total: f64 = closest.iter().sum();
        if total <= 0.0 {
            break;
        }
        let mut best: Option<(usize, f64)> = None;
        for _ in 0..trials {
            let target = rng.unit() * total;
            let mut running = 0.0;
            let mut candidate = n - 1;
            for (index, distance) in closest.iter().enumerate() {
                running += distance;
                if running > target && *distance > 0.0 {
                    candidate = index;
                    break;
                }
            }
            let row = &points[candidate];
            let mut potential = 0.0;
            for ((slot, point), current) in candidate_closest.iter_mut().zip(points).zip(&closest) {
                *slot = current.min(squared_distance(point, row));
                potential += *slot;
            }
            if best.is_none_or(|(_, best_potential)| potential < best_potential) {
                best = Some((candidate, potential));
                std::mem::swap(&mut best_closest, &mut candidate_closest);
            }
        }
        if let Some((chosen, _)) = best {
            centres.push(points[chosen]);
            std::mem::swap(&mut closest, &mut best_closest);
        }
    }
    // Fewer distinct points than k (not expected: k is capped by the distinct count): repeat
    // the last centre so the shape stays k × features; Lloyd's empty-cluster rule moves it.
    while centres.len() < k {
        let last = centres[centres.len() - 1];
        centres.push(last);
    }
    centres
}

/// Mean silhouette of each labelling of the first `size` points, in one pass over the pairs
/// (the distances do not depend on k, so they are computed once).
fn mean_silhouettes(points: &[Point], size: usize, labelings: &[&[usize]], k_max: usize) -> Vec<f64> {
    let labelings_count = labelings.len();
    // sums[(labeling · size + point) · k_max + cluster] = Σ distance from point to the cluster.
    let mut sums = vec![0.0; labelings_count * size * k_max];
    let mut distances = vec![0.0; size];
    for i in 0..size {
        // Each pair once: the distances from i to the later points, added to i's sums (kept in
        // a small local array) and to each later point's sum for i's cluster (a strided walk).
        let point_i = &points[i];
        for (distance, point_j) in distances[i + 1..].iter_mut().zip(&points[i + 1..size]) {
            *distance = squared_distance(point_i, point_j).sqrt();
        }
        for (labeling_index, labels) in labelings.iter().enumerate() {
            let labeling_sums = &mut sums[labeling_index * size * k_max..(labeling_index + 1) * size * k_max];
            let label_i = labels[i];
            let mut own = [0.0f64; MAX_K];
            for j in (i + 1)..size {
                own[labels[j]] += distances[j];
                labeling_sums[j * k_max + label_i] += distances[j];
            }
            for (total, value) in labeling_sums[i * k_max..(i + 1) * k_max].iter_mut().zip(&own) {
                *total += value;
            }
        }
    }
    labelings
        .iter()
        .enumerate()
        .map(|(labeling_index, labels)| {
            let mut sizes = vec![0usize; k_max];
            for &label in labels.iter() {
                sizes[label] += 1;
            }
            let mut total = 0.0;
            for (i, &own) in labels.iter().enumerate() {
                if sizes[own] <= 1 {
                    continue;
                }
                let point_sums = &sums[(labeling_index * size + i) * k_max..][..k_max];
                let a = point_sums[own] / (sizes[own] - 1) as f64;
                let b = (0..k_max)
                    .filter(|&cluster| cluster != own && sizes[cluster] > 0)
                    .map(|cluster| point_sums[cluster] / sizes[cluster] as f64)
                    .fold(f64::INFINITY, f64::min);
                let spread = a.max(b);
                if b.is_finite() && spread > 0.0 {
                    total += (b - a) / spread;
                }
            }
            total / size.max(1) as f64
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Assignment and descriptions

/// Assigns every customer to the nearest centre, numbers the clusters by size and describes them.
fn finish(
    customers: &[CustomerFeatures],
    scaler: &Scaler,
    centres: &[Point],
    k_scores: Vec<KScore>,
    fit_sample_size: usize,
    silhouette_sample_size: usize,
    config: &ClusterConfig,
) -> Clustering {
    let k = centres.len();
    let mut assignments = Vec::with_capacity(customers.len());
    let mut sizes = vec![0usize; k];
    let mut z_sums = vec![[0.0f64; FEATURE_COUNT]; k];
    let mut original_sums = vec![[0.0f64; FEATURE_COUNT]; k];
    let mut original_counts = vec![[0usize; FEATURE_COUNT]; k];
    for customer in customers {
        let raw = scaler.raw(customer);
        let z = scaler.z(&raw);
        let (cluster, _) = nearest(&z, centres);
        assignments.push(cluster);
        sizes[cluster] += 1;
        for feature in 0..FEATURE_COUNT {
            z_sums[cluster][feature] += z[feature];
            if let Some((_, original)) = raw[feature] {
                original_sums[cluster][feature] += original;
                original_counts[cluster][feature] += 1;
            }
        }
    }

    // Largest first; equal sizes keep the fitted order, which is fixed by the seed.
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(a.cmp(&b)));
    let mut new_id = vec![0; k];
    for (id, &old) in order.iter().enumerate() {
        new_id[old] = id;
    }
    for assignment in &mut assignments {
        *assignment = new_id[*assignment];
    }

    let total = customers.len() as f64;
    let clusters = order
        .iter()
        .enumerate()
        .filter(|(_, old)| sizes[**old] > 0)
        .map(|(id, &old)| {
            let size = sizes[old];
            let profile: Vec<FeatureProfile> = ClusterFeature::ALL
                .iter()
                .map(|&feature| {
                    let f = feature.index();
                    let count = original_counts[old][f];
                    FeatureProfile {
                        feature,
                        mean: (count > 0).then(|| original_sums[old][f] / count as f64),
                        z: z_sums[old][f] / size as f64,
                    }
                })
                .collect();
            let mut defining: Vec<FeatureProfile> =
                profile.iter().copied().filter(|feature| feature.z.abs() >= config.describe_min_z.max(1e-9)).collect();
            defining.sort_by(|a, b| b.z.abs().total_cmp(&a.z.abs()).then(a.feature.cmp(&b.feature)));
            let (name_ja, description_ja) = if k == 1 {
                (
                    "単一の顧客層".to_string(),
                    "顧客の特徴がほぼ同じ（または1人だけ）で、タイプに分けられない。".to_string(),
                )
            } else {
                describe(&defining)
            };
            Cluster { id, name_ja, description_ja, size, share: size as f64 / total, profile, defining }
        })
        .collect();

    Clustering { k, clusters, assignments, k_scores, fit_sample_size, silhouette_sample_size }
}

fn describe(defining: &[FeatureProfile]) -> (String, String) {
    if defining.is_empty() {
        return ("平均的な顧客層".to_string(), "どの特徴も全体の平均に近い。".to_string());
    }
    let wordings: Vec<_> = defining
        .iter()
        .take(4)
        .map(|profile| match profile.feature {
            // "Buys little" would mislead about customers who mostly never bought.
            ClusterFeature::PurchaseDays if profile.z < 0.0 && profile.mean.is_some_and(|mean| mean < 0.5) => {
                ("未購入", "まだ購入がなく", "まだ購入がない")
            }
            feature => feature.wording(profile.z > 0.0),
        })
        .collect();
    let name = wordings.iter().take(2).map(|(tag, _, _)| *tag).collect::<Vec<_>>().join("・");
    let mut sentence = String::new();
    for (position, (_, continuative, final_form)) in wordings.iter().enumerate() {
        if position + 1 == wordings.len() {
            sentence.push_str(final_form);
            sentence.push('。');
        } else {
            sentence.push_str(continuative);
            sentence.push('、');
        }
    }
    (name, sentence)
}

// ---------------------------------------------------------------------------------------------
// Randomness

/// SplitMix64 (Steele, Lea & Flood 2014): small, fast and good enough for seeding k-means.
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        finalize(self.state)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in 0..n (n > 0); the modulo bias is negligible for n far below 2⁶⁴.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn finalize(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A stateless hash of one word (the SplitMix64 output function of `x`).
fn mix(x: u64) -> u64 {
    finalize(x.wrapping_add(0x9E37_79B9_7F4A_7C15))
}
