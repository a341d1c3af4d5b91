//! Customer types (K3) as callers see them: planted, well-separated groups of customers are
//! recovered with the right k and described by the feature that defines them; the same seed
//! gives the same answer; degenerate input gives an error or one documented cluster.

use kimochi_analytics::cluster::{ClusterConfig, ClusterError, ClusterFeature, Clustering, cluster_customers};
use kimochi_analytics::features::{CustomerFeatures, KimochiSignals};
use kimochi_analytics::rfm::RfmCell;
use kimochi_analytics::stage::Stage;
use kimochi_domain::CustomerId;

/// A tiny deterministic generator for the planted data (a 64-bit LCG, high bits).
struct Lcg(u64);

impl Lcg {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `centre` ± `spread` (a fraction of it).
    fn around(&mut self, centre: f64, spread: f64) -> f64 {
        centre * (1.0 + spread * (2.0 * self.unit() - 1.0))
    }

    fn between(&mut self, low: u32, high: u32) -> u32 {
        low + (self.unit() * f64::from(high - low + 1)) as u32
    }
}

fn base(id: i64) -> CustomerFeatures {
    CustomerFeatures {
        customer: CustomerId(id),
        stage: Stage::Repeater,
        rfm: RfmCell::new(3, 3, 3),
        recency_days: Some(30),
        purchase_days: 3,
        monetary: 10_000,
        tenure_days: Some(300),
        p_alive: Some(0.5),
        expected_purchases: None,
        clv: None,
        active_subscriber: false,
        subscription_orders: 0,
        lapsed_subscriber: false,
        overdue_days: None,
        consecutive_no_contact: 0,
        outbound_attempts: 0,
        outbound_reached: 0,
        ad_medium: None,
        kimochi: KimochiSignals::default(),
    }
}

/// The planted groups, each defined above all by one feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    /// Big, frequent, recent buyers who recommend us.
    Advocates,
    /// Lapsed buyers who complained.
    Complainers,
    /// Subscribers of whom nothing was heard.
    Subscribers,
    /// Recent one-time buyers who do not pick up the phone.
    Unreachable,
}

const GROUPS: [Group; 4] = [Group::Advocates, Group::Complainers, Group::Subscribers, Group::Unreachable];

impl Group {
    fn defining(self) -> (ClusterFeature, &'static str) {
        match self {
            Group::Advocates => (ClusterFeature::Advocacy, "推奨・紹介"),
            Group::Complainers => (ClusterFeature::Complaints, "クレーム"),
            Group::Subscribers => (ClusterFeature::Subscriber, "定期購入中"),
            Group::Unreachable => (ClusterFeature::Unreachable, "電話がつながりにく"),
        }
    }

    fn customer(self, id: i64, rng: &mut Lcg) -> CustomerFeatures {
        let mut c = base(id);
        let (monetary, days, recency, tenure, p_alive) = match self {
            Group::Advocates => (80_000.0, 12.0, 10.0, 900.0, 0.95),
            Group::Complainers => (15_000.0, 3.0, 200.0, 500.0, 0.2),
            Group::Subscribers => (30_000.0, 6.0, 20.0, 200.0, 0.9),
            Group::Unreachable => (3_000.0, 1.0, 60.0, 60.0, 0.6),
        };
        c.monetary = rng.around(monetary, 0.1) as i64;
        c.purchase_days = (rng.around(days, 0.1).round() as u32).max(1);
        c.recency_days = Some(rng.around(recency, 0.1) as i64);
        c.tenure_days = Some(rng.around(tenure, 0.1) as i64);
        c.p_alive = Some(rng.around(p_alive, 0.05).min(1.0));
        match self {
            Group::Advocates => {
                c.kimochi.positive_contacts = rng.between(3, 6);
                c.kimochi.advocacy = rng.between(2, 4);
            }
            Group::Complainers => {
                c.stage = Stage::Dormant;
                c.kimochi.negative_contacts = rng.between(2, 4);
                c.kimochi.complaints = rng.between(2, 4);
            }
            Group::Subscribers => {
                c.stage = Stage::Subscription;
                c.active_subscriber = true;
            }
            Group::Unreachable => {
                c.stage = Stage::MainProduct;
                c.consecutive_no_contact = rng.between(4, 6);
                c.outbound_attempts = c.consecutive_no_contact;
            }
        }
        c
    }
}

/// `per_group` customers of each of the four planted groups, interleaved, ids 1.., and each
/// one's group.
fn planted(per_group: usize) -> (Vec<CustomerFeatures>, Vec<Group>) {
    planted_groups(&GROUPS, per_group)
}

fn planted_groups(planted: &[Group], per_group: usize) -> (Vec<CustomerFeatures>, Vec<Group>) {
    let mut rng = Lcg(42);
    let mut customers = Vec::new();
    let mut groups = Vec::new();
    for i in 0..per_group {
        for (g, group) in planted.iter().enumerate() {
            let id = (i * planted.len() + g + 1) as i64;
            customers.push(group.customer(id, &mut rng));
            groups.push(*group);
        }
    }
    (customers, groups)
}

/// For every planted group, the cluster holding most of it and that share; asserts that the
/// share is at least 95% and that no two groups share a cluster.
fn group_clusters(clustering: &Clustering, groups: &[Group]) -> Vec<(Group, usize)> {
    let mut planted: Vec<Group> = Vec::new();
    for group in groups {
        if !planted.contains(group) {
            planted.push(*group);
        }
    }
    let mut found = Vec::new();
    for group in planted.iter().copied() {
        let mut counts = vec![0usize; clustering.clusters.len()];
        let mut members = 0;
        for (assignment, g) in clustering.assignments.iter().zip(groups) {
            if *g == group {
                counts[*assignment] += 1;
                members += 1;
            }
        }
        let (cluster, count) = counts.iter().enumerate().max_by_key(|(_, count)| **count).unwrap();
        let share = *count as f64 / members as f64;
        assert!(share >= 0.95, "{group:?}: only {share} in cluster {cluster}");
        found.push((group, cluster));
    }
    let mut clusters: Vec<usize> = found.iter().map(|(_, cluster)| *cluster).collect();
    clusters.sort_unstable();
    clusters.dedup();
    assert_eq!(clusters.len(), planted.len(), "each group has its own cluster: {found:?}");
    found
}

#[test]
fn planted_groups_are_recovered_and_described() {
    let (customers, groups) = planted(300);
    let clustering = cluster_customers(&customers, &ClusterConfig::default()).unwrap();

    assert_eq!(clustering.k, 4, "{:?}", clustering.k_scores);
    let ks: Vec<usize> = clustering.k_scores.iter().map(|score| score.k).collect();
    assert_eq!(ks, (2..=8).collect::<Vec<_>>());
    let best = clustering.k_scores.iter().map(|score| score.silhouette).fold(f64::MIN, f64::max);
    let chosen = clustering.k_scores.iter().find(|score| score.k == 4).unwrap();
    assert_eq!(chosen.silhouette, best, "k is the one with the highest silhouette");
    assert!(chosen.silhouette > 0.5, "well separated: {}", chosen.silhouette);

    assert_eq!(clustering.assignments.len(), customers.len());
    assert_eq!(clustering.clusters.iter().map(|cluster| cluster.size).sum::<usize>(), customers.len());
    for (id, cluster) in clustering.clusters.iter().enumerate() {
        assert_eq!(cluster.id, id);
        assert_eq!(cluster.size, clustering.assignments.iter().filter(|a| **a == id).count());
        if id > 0 {
            assert!(cluster.size <= clustering.clusters[id - 1].size, "largest first");
        }
    }

    for (group, cluster) in group_clusters(&clustering, &groups) {
        let cluster = &clustering.clusters[cluster];
        let (feature, phrase) = group.defining();
        let profile = cluster.feature(feature);
        assert!(profile.z > 1.0, "{group:?}: z of {feature:?} is {}", profile.z);
        assert!(
            cluster.defining.iter().take(4).any(|defining| defining.feature == feature),
            "{group:?}: {:?}",
            cluster.defining
        );
        assert!(cluster.description_ja.contains(phrase), "{group:?}: {}", cluster.description_ja);
        assert!(cluster.description_ja.ends_with('。'), "{}", cluster.description_ja);
        assert!(!cluster.name_ja.is_empty());
    }

    // Means in original units.
    let subscribers = clustering.clusters.iter().find(|c| c.feature(ClusterFeature::Subscriber).z > 1.0).unwrap();
    assert_eq!(subscribers.feature(ClusterFeature::Subscriber).mean, Some(1.0));
    let monetary = subscribers.feature(ClusterFeature::Monetary).mean.unwrap();
    assert!((27_000.0..=33_000.0).contains(&monetary), "{monetary}");
    let advocates = clustering.clusters.iter().find(|c| c.feature(ClusterFeature::Advocacy).z > 1.0).unwrap();
    let advocacy = advocates.feature(ClusterFeature::Advocacy).mean.unwrap();
    assert!((2.0..=4.0).contains(&advocacy), "{advocacy}");
    assert!(advocates.name_ja.contains('・'), "two strongest features: {}", advocates.name_ja);
}

#[test]
fn k_follows_the_number_of_planted_groups() {
    let cases: [&[Group]; 3] = [
        &[Group::Advocates, Group::Complainers],
        &[Group::Complainers, Group::Subscribers, Group::Unreachable],
        &GROUPS,
    ];
    for planted in cases {
        let (customers, groups) = planted_groups(planted, 150);
        let clustering = cluster_customers(&customers, &ClusterConfig::default()).unwrap();
        assert_eq!(clustering.k, planted.len(), "{planted:?}: {:?}", clustering.k_scores);
        group_clusters(&clustering, &groups);
    }
}

#[test]
fn same_seed_same_answer_whatever_the_input_order() {
    let (customers, _) = planted(100);
    let config = ClusterConfig { seed: 7, ..ClusterConfig::default() };
    let first = cluster_customers(&customers, &config).unwrap();
    let second = cluster_customers(&customers, &config).unwrap();
    assert_eq!(first, second);

    let mut reversed = customers.clone();
    reversed.reverse();
    let backward = cluster_customers(&reversed, &config).unwrap();
    assert_eq!(backward.k, first.k);
    let mut backward_assignments = backward.assignments.clone();
    backward_assignments.reverse();
    assert_eq!(backward_assignments, first.assignments, "the same customers, the same clusters");
    let names = |clustering: &Clustering| clustering.clusters.iter().map(|c| c.name_ja.clone()).collect::<Vec<_>>();
    assert_eq!(names(&backward), names(&first));

    // Another seed still finds the same planted types.
    let other = cluster_customers(&customers, &ClusterConfig { seed: 12_345, ..ClusterConfig::default() }).unwrap();
    assert_eq!(other.k, 4);
}

#[test]
fn fitting_on_a_sample_assigns_everyone() {
    let (customers, groups) = planted(250);
    let config = ClusterConfig { fit_sample: 300, silhouette_sample: 200, ..ClusterConfig::default() };
    let clustering = cluster_customers(&customers, &config).unwrap();
    assert_eq!(clustering.fit_sample_size, 300);
    assert_eq!(clustering.silhouette_sample_size, 200);
    assert_eq!(clustering.k, 4);
    assert_eq!(clustering.assignments.len(), 1_000);
    group_clusters(&clustering, &groups);
}

#[test]
fn k_can_be_imposed() {
    let (customers, _) = planted(50);
    let config = ClusterConfig { k_min: 3, k_max: 3, ..ClusterConfig::default() };
    let clustering = cluster_customers(&customers, &config).unwrap();
    assert_eq!(clustering.k, 3);
    assert_eq!(clustering.clusters.len(), 3);
    assert_eq!(clustering.k_scores.len(), 1);
}

#[test]
fn no_customers_is_an_error() {
    assert_eq!(cluster_customers(&[], &ClusterConfig::default()), Err(ClusterError::NoCustomers));
}

#[test]
fn one_customer_or_identical_customers_make_one_cluster() {
    let one = cluster_customers(&[base(1)], &ClusterConfig::default()).unwrap();
    assert_eq!(one.k, 1);
    assert_eq!(one.assignments, [0]);
    assert_eq!(one.clusters.len(), 1);
    assert_eq!(one.clusters[0].size, 1);
    assert_eq!(one.clusters[0].name_ja, "単一の顧客層");
    assert!(one.k_scores.is_empty());
    assert_eq!(one.clusters[0].feature(ClusterFeature::Monetary).mean, Some(10_000.0));

    // Identical but for the id.
    let same: Vec<CustomerFeatures> = (1..=200).map(base).collect();
    let clustering = cluster_customers(&same, &ClusterConfig::default()).unwrap();
    assert_eq!(clustering.k, 1);
    assert_eq!(clustering.clusters[0].size, 200);
    assert!(clustering.assignments.iter().all(|a| *a == 0));
    assert!(clustering.clusters[0].profile.iter().all(|profile| profile.z == 0.0));
}

#[test]
fn two_distinct_points_cap_k_at_two() {
    let mut customers: Vec<CustomerFeatures> = (1..=10).map(base).collect();
    for customer in &mut customers[5..] {
        customer.kimochi.complaints = 3;
    }
    let clustering = cluster_customers(&customers, &ClusterConfig::default()).unwrap();
    assert_eq!(clustering.k, 2);
    assert_eq!(clustering.k_scores.len(), 1);
    assert_eq!(clustering.assignments[..5], [clustering.assignments[0]; 5]);
    assert_eq!(clustering.assignments[5..], [clustering.assignments[5]; 5]);
    assert_ne!(clustering.assignments[0], clustering.assignments[5]);
    let complainers = &clustering.clusters[clustering.assignments[5]];
    assert!(complainers.description_ja.contains("クレームがある"), "{}", complainers.description_ja);
}

#[test]
fn customers_without_purchases_are_clustered_with_missing_values_neutral() {
    let (mut customers, _) = planted(30);
    for (index, customer) in customers.iter_mut().enumerate().take(20) {
        customer.rfm = None;
        customer.recency_days = None;
        customer.tenure_days = None;
        customer.p_alive = None;
        customer.purchase_days = 0;
        customer.monetary = 0;
        customer.stage = Stage::NotPurchased;
        customer.customer = CustomerId(10_000 + index as i64);
    }
    let clustering = cluster_customers(&customers, &ClusterConfig::default()).unwrap();
    assert_eq!(clustering.assignments.len(), customers.len());
    for cluster in &clustering.clusters {
        for profile in &cluster.profile {
            assert!(profile.z.is_finite(), "{profile:?}");
            assert!(profile.mean.is_none_or(f64::is_finite), "{profile:?}");
        }
    }
}

#[test]
fn a_cluster_of_prospects_reads_as_not_purchased() {
    let (mut customers, _) = planted_groups(&[Group::Advocates, Group::Subscribers], 100);
    for id in 1..=100 {
        let mut prospect = base(1_000 + id);
        prospect.stage = Stage::NotPurchased;
        prospect.rfm = None;
        prospect.recency_days = None;
        prospect.tenure_days = None;
        prospect.p_alive = None;
        prospect.purchase_days = 0;
        prospect.monetary = 0;
        customers.push(prospect);
    }
    let clustering = cluster_customers(&customers, &ClusterConfig::default()).unwrap();
    assert_eq!(clustering.k, 3, "{:?}", clustering.k_scores);
    let prospects = &clustering.clusters[clustering.assignments[customers.len() - 1]];
    assert_eq!(prospects.size, 100);
    assert!(prospects.name_ja.contains("未購入"), "{}", prospects.name_ja);
    assert!(prospects.description_ja.contains("まだ購入がな"), "{}", prospects.description_ja);
    assert_eq!(prospects.feature(ClusterFeature::Recency).mean, None, "nobody has a last purchase");
    assert_eq!(prospects.feature(ClusterFeature::Recency).z, 0.0, "missing counts as neither high nor low");
}

#[test]
fn non_finite_features_are_an_error() {
    for value in [f64::NAN, f64::INFINITY] {
        let mut customers: Vec<CustomerFeatures> = (1..=5).map(base).collect();
        customers[3].p_alive = Some(value);
        match cluster_customers(&customers, &ClusterConfig::default()) {
            Err(ClusterError::NonFiniteFeature { index, customer, feature, .. }) => {
                assert_eq!((index, customer, feature), (3, CustomerId(4), ClusterFeature::PAlive));
            }
            other => panic!("{value}: expected an error, got {other:?}"),
        }
    }
}

#[test]
fn invalid_configuration_is_an_error() {
    let customers: Vec<CustomerFeatures> = (1..=5).map(base).collect();
    let configs = [
        ClusterConfig { k_min: 1, ..ClusterConfig::default() },
        ClusterConfig { k_min: 5, k_max: 4, ..ClusterConfig::default() },
        ClusterConfig { k_max: 33, ..ClusterConfig::default() },
        ClusterConfig { fit_sample: 1, ..ClusterConfig::default() },
        ClusterConfig { describe_min_z: f64::NAN, ..ClusterConfig::default() },
    ];
    for config in configs {
        assert!(matches!(cluster_customers(&customers, &config), Err(ClusterError::InvalidConfig(_))), "{config:?}");
    }
}
