//! Words that separate two groups of texts — lost-order (失注) against won contacts — by the
//! weighted log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008,
//! "Fightin' Words", §3.5). The prior shrinks rare words toward no difference, so a word said
//! once in a lost call does not outrank one said in forty.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::dict::PartOfSpeech;
use crate::normalize::normalize;
use crate::tagger::Analyzer;
use crate::tokenize::{Scratch, tokenize};

/// How strong the prior is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogOddsConfig {
    /// Total prior count α₀, spread over words in proportion to their background frequency.
    /// Larger values shrink rare words more. Monroe et al. use the size of a background
    /// corpus; 500 suits groups of a few hundred to a few thousand utterances.
    pub prior_total: f64,
    /// Words seen fewer times than this in both groups together are left out.
    pub min_count: u64,
}

impl Default for LogOddsConfig {
    fn default() -> Self {
        LogOddsConfig { prior_total: 500.0, min_count: 2 }
    }
}

/// One word's statistic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TermScore {
    pub term: String,
    pub count_a: u64,
    pub count_b: u64,
    /// Log-odds ratio of the word in group A against group B, with the prior.
    pub delta: f64,
    /// Its approximate variance.
    pub variance: f64,
    /// `delta / sqrt(variance)`: above 1.96 the word leans to A at about 95 %.
    pub z: f64,
}

/// Weighted log-odds of every word in `a` against `b`, most A-leaning first. `background`
/// gives the prior's word frequencies; `None` uses `a` and `b` together.
pub fn weighted_log_odds(
    a: &HashMap<String, u64>,
    b: &HashMap<String, u64>,
    background: Option<&HashMap<String, u64>>,
    config: LogOddsConfig,
) -> Vec<TermScore> {
    let vocabulary: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let count = |m: &HashMap<String, u64>, w: &str| m.get(w).copied().unwrap_or(0);
    let background_count = |w: &str| match background {
        Some(bg) => count(bg, w),
        None => count(a, w) + count(b, w),
    };
    let background_total: u64 = match background {
        Some(bg) => bg.values().sum(),
        None => a.values().sum::<u64>() + b.values().sum::<u64>(),
    };
    let (n_a, n_b) = (a.values().sum::<u64>() as f64, b.values().sum::<u64>() as f64);
    let alpha_0 = config.prior_total.max(f64::MIN_POSITIVE);
    let mut scores = Vec::new();
    for word in vocabulary {
        let (y_a, y_b) = (count(a, word), count(b, word));
        if y_a + y_b < config.min_count {
            continue;
        }
        // Every word keeps a little prior mass, so a word absent from the background still
        // gets a finite log-odds.
        let share = (background_count(word) as f64 + 0.5) / (background_total as f64 + 0.5);
        let alpha = alpha_0 * share;
        let (ya, yb) = (y_a as f64, y_b as f64);
        let log_odds_a = ((ya + alpha) / (n_a + alpha_0 - ya - alpha)).ln();
        let log_odds_b = ((yb + alpha) / (n_b + alpha_0 - yb - alpha)).ln();
        let delta = log_odds_a - log_odds_b;
        let variance = 1.0 / (ya + alpha) + 1.0 / (yb + alpha);
        scores.push(TermScore {
            term: word.clone(),
            count_a: y_a,
            count_b: y_b,
            delta,
            variance,
            z: delta / variance.sqrt(),
        });
    }
    scores.sort_by(|x, y| y.z.total_cmp(&x.z).then_with(|| x.term.cmp(&y.term)));
    scores
}

/// Content words of `text` as base forms (nouns, verbs, adjectives, adverbs; no numbers,
/// pronouns or dependent words), for counting with [`weighted_log_odds`].
pub fn content_terms(analyzer: &Analyzer<'_>, text: &str) -> Vec<String> {
    let normalized = normalize(text);
    let mut scratch = Scratch::default();
    let tokens = tokenize(analyzer.dictionary(), &normalized.text, &mut scratch);
    tokens
        .iter()
        .filter(|t| {
            let pos2 = t.feature.pos[1].as_str();
            match t.part_of_speech() {
                PartOfSpeech::Noun => !matches!(pos2, "数" | "代名詞" | "非自立" | "接尾" | "副詞可能"),
                PartOfSpeech::Verb | PartOfSpeech::Adjective => pos2 == "自立",
                PartOfSpeech::Adverb => true,
                _ => false,
            }
        })
        .map(|t| t.base(&normalized.text).to_owned())
        .filter(|base| !matches!(base.as_str(), "する" | "いる" | "ある" | "なる" | "ない" | "できる" | "思う"))
        .collect()
}

/// Counts [`content_terms`] over many texts.
pub fn count_terms<'a>(analyzer: &Analyzer<'_>, texts: impl IntoIterator<Item = &'a str>) -> HashMap<String, u64> {
    let mut counts = HashMap::new();
    for text in texts {
        for term in content_terms(analyzer, text) {
            *counts.entry(term).or_insert(0) += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, u64)]) -> HashMap<String, u64> {
        pairs.iter().map(|&(w, c)| (w.to_owned(), c)).collect()
    }

    #[test]
    fn frequent_differences_outrank_rare_ones() {
        let lost = counts(&[("高い", 40), ("珍しい", 1), ("商品", 100), ("電話", 50)]);
        let won = counts(&[("高い", 5), ("商品", 100), ("電話", 50), ("安心", 30)]);
        let scores = weighted_log_odds(&lost, &won, None, LogOddsConfig { min_count: 1, ..LogOddsConfig::default() });
        assert_eq!(scores[0].term, "高い");
        assert_eq!(scores.last().unwrap().term, "安心");
        let rare = scores.iter().find(|s| s.term == "珍しい").unwrap();
        assert!(rare.z.abs() < 1.0, "{rare:?}");
        let even = scores.iter().find(|s| s.term == "商品").unwrap();
        assert!(even.z.abs() < 1.0, "{even:?}");
    }

    #[test]
    fn swapping_the_groups_negates_the_statistic() {
        let a = counts(&[("x", 12), ("y", 3), ("z", 7)]);
        let b = counts(&[("x", 2), ("y", 9), ("z", 7)]);
        let ab = weighted_log_odds(&a, &b, None, LogOddsConfig::default());
        let ba = weighted_log_odds(&b, &a, None, LogOddsConfig::default());
        for s in &ab {
            let t = ba.iter().find(|t| t.term == s.term).unwrap();
            assert!((s.z + t.z).abs() < 1e-9 && (s.variance - t.variance).abs() < 1e-9);
        }
    }

    #[test]
    fn matches_the_formula_by_hand() {
        // Two words, background = both groups: x 10+0, y 0+10; α0 = 20 → α_x = α_y ≈ 10.
        let a = counts(&[("x", 10), ("y", 0)]);
        let b = counts(&[("x", 0), ("y", 10)]);
        let scores = weighted_log_odds(&a, &b, None, LogOddsConfig { prior_total: 20.0, min_count: 1 });
        let x = scores.iter().find(|s| s.term == "x").unwrap();
        let alpha: f64 = 20.0 * 10.5 / 20.5;
        let expected = ((10.0 + alpha) / (10.0 + 20.0 - 10.0 - alpha)).ln() - (alpha / (10.0 + 20.0 - alpha)).ln();
        assert!((x.delta - expected).abs() < 1e-12, "{} {expected}", x.delta);
        assert!((x.variance - (1.0 / (10.0 + alpha) + 1.0 / alpha)).abs() < 1e-12);
    }
}
