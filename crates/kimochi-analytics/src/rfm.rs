//! RFM analysis (RFM分析, F12): recency, frequency and monetary value scored 1–5 each by
//! equal-count (quintile) binning, giving every customer one of 125 cells from 111 to 555.
//!
//! Scores are relative: a customer's R is where their last purchase ranks among the customers
//! scored together (one tenant, one "as of" date), not a fixed threshold in days. That keeps the
//! cells equally populated whatever the tenant's business rhythm, which is what a marketer needs
//! to compare segments, at the price of a score that moves when other customers move.
//!
//! # Binning
//! The customers are sorted once per dimension, worst first (oldest last purchase, fewest
//! orders, least money), and the customer at 0-based rank `i` of `n` gets the level
//! `floor((i + ½) · 5 / n) + 1`. Taking the middle of each rank rather than its start makes
//! the levels symmetric: reversing the order turns every level `l` into `6 − l`, so with fewer
//! than five customers the best is as far from 5 as the worst is from 1 (one customer scores 3,
//! two score 2 and 4, three score 1, 3 and 5). When `n` is a multiple of 5 it is the plain
//! quintile; otherwise the levels differ in size by at most one customer.
//!
//! Equal values are handled by the [`TieRule`].

use std::fmt;

use time::Date;

/// Number of levels per dimension.
pub const LEVELS: u8 = 5;

/// Number of RFM cells: 5 × 5 × 5.
pub const CELL_COUNT: usize = 125;

/// What a caller knows about one customer's purchases, summarised up to the "as of" date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RfmInput<Id> {
    /// The customer; any ordered id (a [`kimochi_domain::CustomerId`], or the text id of an
    /// analyst's CSV). Its order breaks ties, so the result never depends on the input order.
    pub customer: Id,
    /// Day of the last purchase (in JST for stored orders).
    pub last_purchase: Date,
    /// Number of purchases (orders, or purchase days: whatever the caller counts, consistently).
    pub frequency: u64,
    /// Money spent in yen. Negative values (net refunds) are allowed and simply rank lowest.
    pub monetary: i64,
}

/// How customers with equal values are binned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TieRule {
    /// Sort by the value, then by customer id, and bin by rank: levels stay equal-count even
    /// when values tie, and among equal values the customer with the larger id gets the higher
    /// level. The default, because most customers buy once: with their frequencies kept
    /// together F would use only two or three of its five levels.
    #[default]
    SplitByRank,
    /// Never split equal values across levels: every customer of a run of equal values gets
    /// the level of the first (lowest-ranked) of them. Levels may be empty or uneven; if all
    /// customers have the same value they all share the level of rank 0 (1 when there are at
    /// least three customers).
    KeepTiesTogether,
}

/// How a tenant wants its RFM scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RfmConfig {
    /// Applied to all three dimensions.
    pub tie_rule: TieRule,
}

/// What was wrong with an RFM input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RfmError {
    /// A purchase after the "as of" date means the summary was built for a later date.
    #[error("customer at position {index} last purchased on {last_purchase}, after the as-of date {as_of}")]
    PurchaseAfterAsOf { index: usize, last_purchase: Date, as_of: Date },
    /// The same customer twice: tie-breaking by id would depend on the input order.
    #[error("customers at positions {first_index} and {second_index} have the same id")]
    DuplicateCustomer { first_index: usize, second_index: usize },
}

/// One cell of the 125, such as 555 (best on all three) or 111.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RfmCell {
    r: u8,
    f: u8,
    m: u8,
}

impl RfmCell {
    /// A cell from its three levels, each 1..=5.
    pub fn new(r: u8, f: u8, m: u8) -> Option<RfmCell> {
        let valid = |level: u8| (1..=LEVELS).contains(&level);
        (valid(r) && valid(f) && valid(m)).then_some(RfmCell { r, f, m })
    }

    /// A cell from its three-digit code, e.g. 534.
    pub fn from_code(code: u16) -> Option<RfmCell> {
        if code >= 1000 {
            return None;
        }
        let digit = |d: u16| u8::try_from(d % 10).ok();
        RfmCell::new(digit(code / 100)?, digit(code / 10)?, digit(code)?)
    }

    /// Position among the 125 cells, 0 for 111 up to 124 for 555, in code order.
    pub fn index(self) -> usize {
        (usize::from(self.r) - 1) * 25 + (usize::from(self.f) - 1) * 5 + (usize::from(self.m) - 1)
    }

    /// The cell at `index` in code order (the inverse of [`RfmCell::index`]).
    pub fn from_index(index: usize) -> Option<RfmCell> {
        let level = |i: usize| u8::try_from(i % 5 + 1).ok();
        if index >= CELL_COUNT {
            return None;
        }
        RfmCell::new(level(index / 25)?, level(index / 5)?, level(index)?)
    }

    /// All 125 cells, 111 first, 555 last.
    pub fn all() -> impl Iterator<Item = RfmCell> {
        (0..CELL_COUNT).filter_map(RfmCell::from_index)
    }

    /// The three digits as a number, e.g. 534.
    pub fn code(self) -> u16 {
        u16::from(self.r) * 100 + u16::from(self.f) * 10 + u16::from(self.m)
    }

    /// Recency level, 5 = most recent.
    pub fn r(self) -> u8 {
        self.r
    }

    /// Frequency level, 5 = most frequent.
    pub fn f(self) -> u8 {
        self.f
    }

    /// Monetary level, 5 = most money.
    pub fn m(self) -> u8 {
        self.m
    }
}

impl fmt::Display for RfmCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.code().fmt(f)
    }
}

/// The scores of one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RfmScore<Id> {
    pub customer: Id,
    /// Whole days from the last purchase to the "as of" date; 0 when bought that day.
    pub recency_days: i64,
    pub frequency: u64,
    pub monetary: i64,
    /// The three levels: R 5 = most recent, F 5 = most frequent, M 5 = most money.
    pub cell: RfmCell,
}

/// Scores every customer; the result is in the order of `inputs`.
///
/// O(n log n): one sort by id (for tie-breaking) and one sort per dimension. An empty input
/// gives an empty result.
pub fn rfm_scores<Id: Ord + Clone>(
    inputs: &[RfmInput<Id>],
    as_of: Date,
    config: &RfmConfig,
) -> Result<Vec<RfmScore<Id>>, RfmError> {
    if let Some(index) = inputs.iter().position(|input| input.last_purchase > as_of) {
        return Err(RfmError::PurchaseAfterAsOf { index, last_purchase: inputs[index].last_purchase, as_of });
    }

    // Ranking by id once lets each dimension sort plain (key, id rank) pairs, which is both
    // deterministic and much faster than comparing generic ids inside every dimension's sort.
    let mut by_id: Vec<usize> = (0..inputs.len()).collect();
    by_id.sort_unstable_by(|&a, &b| inputs[a].customer.cmp(&inputs[b].customer));
    if let Some(pair) = by_id.windows(2).find(|pair| inputs[pair[0]].customer == inputs[pair[1]].customer) {
        let (first_index, second_index) = (pair[0].min(pair[1]), pair[0].max(pair[1]));
        return Err(RfmError::DuplicateCustomer { first_index, second_index });
    }

    let r = levels(&by_id, |i| inputs[i].last_purchase, config.tie_rule);
    let f = levels(&by_id, |i| inputs[i].frequency, config.tie_rule);
    let m = levels(&by_id, |i| inputs[i].monetary, config.tie_rule);

    Ok(inputs
        .iter()
        .enumerate()
        .map(|(i, input)| RfmScore {
            customer: input.customer.clone(),
            recency_days: (as_of - input.last_purchase).whole_days(),
            frequency: input.frequency,
            monetary: input.monetary,
            cell: RfmCell { r: r[i], f: f[i], m: m[i] },
        })
        .collect())
}

/// Levels 1..=5 for one dimension, indexed like the input; larger keys are better.
fn levels<K: Ord + Copy>(by_id: &[usize], key: impl Fn(usize) -> K, tie_rule: TieRule) -> Vec<u8> {
    let n = by_id.len();
    let mut ranked: Vec<(K, usize)> = by_id.iter().enumerate().map(|(id_rank, &i)| (key(i), id_rank)).collect();
    // Id ranks are unique, so the unstable sort is fully determined.
    ranked.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));

    let mut levels = vec![0_u8; n];
    let mut run_level = 0_u8;
    for (rank, &(value, id_rank)) in ranked.iter().enumerate() {
        let starts_run = rank == 0 || ranked[rank - 1].0 != value;
        let level = match tie_rule {
            TieRule::SplitByRank => level_of_rank(rank, n),
            TieRule::KeepTiesTogether => {
                if starts_run {
                    run_level = level_of_rank(rank, n);
                }
                run_level
            }
        };
        levels[by_id[id_rank]] = level;
    }
    levels
}

/// `floor((rank + ½) · 5 / n) + 1`, in integers: `(2·rank + 1) · 5 / (2n) + 1`.
fn level_of_rank(rank: usize, n: usize) -> u8 {
    let numerator = (2 * rank as u128 + 1) * u128::from(LEVELS);
    let level = numerator / (2 * n as u128) + 1;
    // rank < n keeps the quotient below 5; the fallback only guards the arithmetic.
    u8::try_from(level).unwrap_or(LEVELS).min(LEVELS)
}

/// How many customers fall in each of the 125 cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RfmReport {
    counts: [u64; CELL_COUNT],
}

impl RfmReport {
    pub fn from_scores<Id>(scores: &[RfmScore<Id>]) -> RfmReport {
        let mut counts = [0_u64; CELL_COUNT];
        for score in scores {
            counts[score.cell.index()] += 1;
        }
        RfmReport { counts }
    }

    /// Customers in `cell`.
    pub fn count(&self, cell: RfmCell) -> u64 {
        self.counts[cell.index()]
    }

    /// Every cell with its count, 111 first, including the empty ones.
    pub fn cells(&self) -> impl Iterator<Item = (RfmCell, u64)> + '_ {
        RfmCell::all().map(|cell| (cell, self.counts[cell.index()]))
    }

    /// How many of the 125 cells hold at least one customer.
    pub fn filled_cells(&self) -> usize {
        self.counts.iter().filter(|&&count| count > 0).count()
    }

    /// Customers scored.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}
