//! Kimochi tagging (気持ちのタグ付け): lexicon phrases matched on base forms, then negation,
//! intensifiers, hedges, questions, operator formulas and the two combination rules (gap,
//! purchase motive), each result explained by the spans and rules that produced it.

use std::collections::HashMap;

use serde::Serialize;

use crate::dict::{Dictionary, PartOfSpeech};
use crate::lexicon::{Kimochi, Lexicon, Tag};
use crate::normalize::{Normalized, normalize};
use crate::tokenize::{Scratch, Token, tokenize_into};

/// How far (in tokens) a negation may follow the phrase it reverses.
const NEGATION_WINDOW: usize = 8;
/// How far (in tokens) an intensifier may precede its phrase.
const INTENSIFIER_WINDOW: usize = 3;
/// Case and binding particles that patterns may skip (「効果を感じる」 ≈ 「効果が感じる」).
const MAX_SKIPPED: usize = 2;
/// How far (in tokens) a gap contrast may follow what was expected.
const GAP_WINDOW: usize = 8;

/// Overall polarity of an utterance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Polarity {
    Positive,
    Negative,
    Neutral,
    Mixed,
}

impl Polarity {
    pub fn code(self) -> &'static str {
        match self {
            Polarity::Positive => "positive",
            Polarity::Negative => "negative",
            Polarity::Neutral => "neutral",
            Polarity::Mixed => "mixed",
        }
    }
}

/// Why a tag was given: where in the original text, and by which rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Span {
    /// The kimochi kind, or `positive`/`negative` for polarity-only phrases.
    pub tag: &'static str,
    /// Byte offsets into the original text (UTF-8), `start..end`.
    pub start: usize,
    pub end: usize,
    /// `text[start..end]`.
    pub surface: String,
    /// The lexicon line and modifiers: `kimochi.tsv:12 満足 +negation → dissatisfaction`.
    pub rule: String,
    /// Contribution to the polarity score before normalisation.
    pub weight: f32,
}

/// The analysis of one utterance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub polarity: Polarity,
    /// In [-1, 1]: (positive − negative) / max(positive + negative, 1).
    pub score: f32,
    /// Kinds found, in [`Kimochi::ALL`] order, without repeats.
    pub kimochi: Vec<Kimochi>,
    pub spans: Vec<Span>,
}

struct Pattern {
    bases: Vec<String>,
    tags: Vec<(Tag, f32, String)>,
    phrase: String,
}

/// The engine: dictionary plus compiled lexicon. Build once, share by reference.
pub struct Analyzer<'d> {
    dictionary: &'d Dictionary,
    patterns: Vec<Pattern>,
    by_first_base: HashMap<String, Vec<usize>>,
}

impl std::fmt::Debug for Analyzer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer").field("patterns", &self.patterns.len()).finish()
    }
}

/// Tokens a pattern may skip between its words: case and binding particles, and the polite
/// 「ます」 (so 「続けられない」 also matches 「続けられません」).
fn skippable(token: &Token<'_>, base: &str) -> bool {
    match token.part_of_speech() {
        PartOfSpeech::Particle => {
            matches!(token.feature.pos[1].as_str(), "格助詞" | "係助詞")
                && matches!(base, "が" | "を" | "に" | "へ" | "で" | "と" | "は" | "も")
        }
        PartOfSpeech::AuxiliaryVerb => base == "ます",
        _ => false,
    }
}

/// The base form used for matching: the negative auxiliaries 「ん」「ぬ」 read as 「ない」.
fn match_base<'t>(token: &Token<'t>, text: &'t str) -> &'t str {
    let base = token.base(text);
    if token.part_of_speech() == PartOfSpeech::AuxiliaryVerb && matches!(base, "ん" | "ぬ") { "ない" } else { base }
}

fn is_sentence_end(surface: &str) -> bool {
    matches!(surface, "。" | "!" | "?" | "." | "．")
}

impl<'d> Analyzer<'d> {
    /// Compiles `lexicon` against `dictionary`: each phrase is analysed once, here.
    pub fn new(dictionary: &'d Dictionary, lexicon: &Lexicon) -> Analyzer<'d> {
        let mut scratch = Scratch::default();
        let mut tokens = Vec::new();
        let mut patterns: Vec<Pattern> = Vec::new();
        let mut index: HashMap<Vec<String>, usize> = HashMap::new();
        for entry in &lexicon.entries {
            let normalized = normalize(&entry.phrase);
            tokenize_into(dictionary, &normalized.text, &mut scratch, &mut tokens);
            let text = normalized.text.as_str();
            let content: Vec<String> =
                tokens.iter().filter(|t| !skippable(t, t.base(text))).map(|t| match_base(t, text).to_owned()).collect();
            let bases = if content.is_empty() {
                tokens.iter().map(|t| match_base(t, text).to_owned()).collect()
            } else {
                content
            };
            if bases.is_empty() {
                continue;
            }
            let id = *index.entry(bases.clone()).or_insert_with(|| {
                patterns.push(Pattern { bases, tags: Vec::new(), phrase: entry.phrase.clone() });
                patterns.len() - 1
            });
            // Two spellings of one phrase (「かもしれない」「かもしれません」) must not count twice.
            if !patterns[id].tags.iter().any(|t| t.0 == entry.tag) {
                patterns[id].tags.push((entry.tag, entry.weight, entry.origin.clone()));
            }
        }
        let mut by_first_base: HashMap<String, Vec<usize>> = HashMap::new();
        for (id, pattern) in patterns.iter().enumerate() {
            by_first_base.entry(pattern.bases[0].clone()).or_default().push(id);
        }
        for ids in by_first_base.values_mut() {
            ids.sort_by_key(|&id| std::cmp::Reverse(patterns[id].bases.len()));
        }
        Analyzer { dictionary, patterns, by_first_base }
    }

    pub fn dictionary(&self) -> &'d Dictionary {
        self.dictionary
    }

    /// Analyses one utterance (bounded to [`crate::normalize::MAX_INPUT_BYTES`]).
    pub fn analyze(&self, text: &str) -> Analysis {
        let mut scratch = Scratch::default();
        self.analyze_with(text, &mut scratch)
    }

    /// Like [`Analyzer::analyze`], reusing buffers across calls.
    pub fn analyze_with(&self, text: &str, scratch: &mut Scratch) -> Analysis {
        let normalized = normalize(text);
        let mut tokens = Vec::new();
        tokenize_into(self.dictionary, &normalized.text, scratch, &mut tokens);
        let run = Run { analyzer: self, text, normalized: &normalized, tokens: &tokens };
        run.tag()
    }

    /// Finds the longest pattern starting at token `i`: (pattern id, end token exclusive).
    fn longest_match(&self, bases: &[&str], skip: &[bool], i: usize) -> Option<(usize, usize)> {
        let ids = self.by_first_base.get(bases[i])?;
        let mut best: Option<(usize, usize)> = None;
        for &id in ids {
            let pattern = &self.patterns[id];
            let mut j = i;
            let mut ok = true;
            for base in &pattern.bases[1..] {
                let mut next = j + 1;
                let mut skipped = 0;
                while next < bases.len() && skip[next] && bases[next] != base && skipped < MAX_SKIPPED {
                    next += 1;
                    skipped += 1;
                }
                if next < bases.len() && bases[next] == base {
                    j = next;
                } else {
                    ok = false;
                    break;
                }
            }
            if ok && best.is_none_or(|(_, end)| j + 1 > end) {
                best = Some((id, j + 1));
            }
        }
        best
    }
}

struct Match {
    start: usize,
    end: usize,
    pattern: usize,
}

struct Run<'a, 'd> {
    analyzer: &'a Analyzer<'d>,
    text: &'a str,
    normalized: &'a Normalized,
    tokens: &'a [Token<'d>],
}

/// What follows a phrase and changes what it claims.
#[derive(Debug, Default)]
struct Follow {
    negations: usize,
    /// Token after the last negation (the span then covers it).
    end: usize,
    /// 「合うかどうか」「効くのか」: asked, not claimed.
    embedded_question: bool,
    /// 「しっとりすると書いてあった」: someone else's words.
    reported: bool,
    /// 「きれいになれば」「効いたら」: a condition, not an experience.
    hypothetical: bool,
    /// 「よかったのに」: said only to contrast with what follows.
    contrasted: bool,
}

/// A phrase's effect after modifiers.
struct Effect {
    tag: Tag,
    weight: f32,
    start: usize,
    end: usize,
    rule: String,
}

impl Run<'_, '_> {
    fn base(&self, i: usize) -> &str {
        self.tokens[i].base(&self.normalized.text)
    }

    fn surface(&self, i: usize) -> &str {
        self.tokens[i].surface(&self.normalized.text)
    }

    fn tag(&self) -> Analysis {
        let n = self.tokens.len();
        let text = self.normalized.text.as_str();
        let bases: Vec<&str> = self.tokens.iter().map(|t| match_base(t, text)).collect();
        let skip: Vec<bool> = self.tokens.iter().map(|t| skippable(t, t.base(text))).collect();
        let mut matches: Vec<Match> = Vec::new();
        let mut owner: Vec<Option<usize>> = vec![None; n];
        let mut i = 0;
        while i < n {
            if let Some((pattern, end)) = self.analyzer.longest_match(&bases, &skip, i) {
                for slot in &mut owner[i..end] {
                    *slot = Some(matches.len());
                }
                matches.push(Match { start: i, end, pattern });
                i = end;
            } else {
                i += 1;
            }
        }

        // Sentences: token ranges ending at 。!? — questions, hedges and formulas apply per sentence.
        let mut sentence_of = vec![0usize; n];
        let mut sentences: Vec<(usize, usize)> = Vec::new();
        let mut start = 0;
        for (i, sentence) in sentence_of.iter_mut().enumerate() {
            *sentence = sentences.len();
            if is_sentence_end(self.surface(i)) || i + 1 == n {
                sentences.push((start, i + 1));
                start = i + 1;
            }
        }
        // Which modifier tags each sentence holds, and its hedge factor: one pass over the
        // matches, so thousands of short sentences cost no more than one long one.
        let mut sentence_tags: Vec<Vec<Tag>> = vec![Vec::new(); sentences.len()];
        let mut hedges: Vec<f32> = vec![1.0; sentences.len()];
        for m in &matches {
            let s = sentence_of[m.start];
            for &(tag, weight, _) in &self.analyzer.patterns[m.pattern].tags {
                if tag == Tag::Hedge {
                    hedges[s] *= weight;
                }
                if !sentence_tags[s].contains(&tag) {
                    sentence_tags[s].push(tag);
                }
            }
        }
        for hedge in &mut hedges {
            *hedge = hedge.max(0.3);
        }
        let has_tag = |s: usize, tag: Tag| sentence_tags[s].contains(&tag);
        let questions: Vec<bool> =
            (0..sentences.len()).map(|s| self.is_question(sentences[s]) && !has_tag(s, Tag::Rhetorical)).collect();
        let rituals: Vec<bool> = (0..sentences.len()).map(|s| has_tag(s, Tag::Ritual)).collect();
        let purchase_motive: Vec<bool> = (0..sentences.len())
            .map(|s| has_tag(s, Tag::Purchase) && (has_tag(s, Tag::Motive) || has_tag(s, Tag::Concern)))
            .collect();
        let any_purchase_motive = purchase_motive.iter().any(|&b| b);
        let expectation_anywhere = matches
            .iter()
            .any(|m| self.analyzer.patterns[m.pattern].tags.iter().any(|t| t.0 == Tag::Kind(Kimochi::Expectation)));

        let mut effects: Vec<Effect> = Vec::new();
        for (m_index, m) in matches.iter().enumerate() {
            let pattern = &self.analyzer.patterns[m.pattern];
            let s = sentence_of[m.start];
            let follow = self.follow(m.end, &owner, &matches);
            let negated = follow.negations % 2 == 1;
            let negation_end = follow.end;
            let intensity = self.intensity_before(m.start, m_index, &matches);
            for (tag, weight, origin) in &pattern.tags {
                let mut rule = format!("{origin} 「{}」", pattern.phrase);
                let mut weight = *weight * intensity;
                if intensity != 1.0 {
                    rule.push_str(&format!(" ×{intensity} intensifier"));
                }
                let evaluative = matches!(
                    tag,
                    Tag::Kind(Kimochi::Satisfaction | Kimochi::Dissatisfaction | Kimochi::Gap | Kimochi::Advocacy)
                        | Tag::Positive
                        | Tag::Negative
                );
                if evaluative && (questions[s] || follow.embedded_question || follow.reported || follow.hypothetical) {
                    // 「効きますか?」「合うかどうか」「と書いてあった」「なれば」: not a claim.
                    continue;
                }
                if *tag == Tag::Kind(Kimochi::Expectation) && questions[s] {
                    continue;
                }
                if follow.contrasted && matches!(tag, Tag::Kind(Kimochi::Satisfaction) | Tag::Positive) && !negated {
                    continue;
                }
                if *tag == Tag::Kind(Kimochi::Gratitude) && rituals[s] {
                    continue;
                }
                let mut tag = *tag;
                let mut end = m.end;
                if tag == Tag::Concern {
                    // 「〜か気になる」 is a worry, 「〜のが気になる」 a complaint, 「気になって注文した」
                    // a motive; 「気にならなくなった」 a relief.
                    let before = |k: usize| (m.start >= k).then(|| bases[m.start - k]);
                    tag = if negated {
                        Tag::Kind(Kimochi::Satisfaction)
                    } else if before(1) == Some("か") {
                        Tag::Kind(Kimochi::Anxiety)
                    } else if before(1) == Some("が") && before(2) == Some("の") {
                        Tag::Kind(Kimochi::Dissatisfaction)
                    } else if purchase_motive[s]
                        || any_purchase_motive
                        || has_tag(s, Tag::Motive)
                        || expectation_anywhere
                    {
                        Tag::Kind(Kimochi::Expectation)
                    } else {
                        Tag::Kind(Kimochi::Anxiety)
                    };
                    weight = match tag {
                        Tag::Kind(Kimochi::Satisfaction) => 0.6,
                        Tag::Kind(Kimochi::Dissatisfaction) => -0.6,
                        Tag::Kind(Kimochi::Expectation) => 0.0,
                        _ => weight,
                    };
                    rule.push_str(&format!(" → {}", tag.code()));
                    if negated {
                        end = negation_end;
                    }
                } else if negated && weight_bearing(tag) {
                    let (flipped, new_weight) = negate(tag, weight);
                    end = negation_end;
                    rule.push_str(&format!(" +negation → {}", flipped.map_or("none", Tag::code)));
                    match flipped {
                        Some(f) => {
                            tag = f;
                            weight = new_weight;
                        }
                        None => continue,
                    }
                }
                if !weight_bearing(tag) {
                    continue;
                }
                let h = hedges[s];
                if h != 1.0 {
                    weight *= h;
                    rule.push_str(&format!(" ×{h} hedge"));
                }
                effects.push(Effect { tag, weight, start: m.start, end, rule });
            }
        }

        // Combination rules.
        for (a_index, a) in matches.iter().enumerate() {
            let tags = &self.analyzer.patterns[a.pattern].tags;
            if let Some((_, _, origin)) = tags.iter().find(|t| t.0 == Tag::GapReference) {
                let contrast = matches[a_index + 1..]
                    .iter()
                    .take(5)
                    .find_map(|b| {
                        let tag = self.analyzer.patterns[b.pattern].tags.iter().find(|t| t.0 == Tag::GapContrast)?;
                        (b.start <= a.end + GAP_WINDOW).then_some((
                            b.end,
                            self.analyzer.patterns[b.pattern].phrase.as_str(),
                            tag.1,
                        ))
                    })
                    .or_else(|| self.conjunctive_contrast_after(a.end).map(|end| (end, "が/けど", 0.0)));
                if let Some((contrast_end, contrast_phrase, direction)) = contrast
                    && !questions[sentence_of[a.start]]
                {
                    let rule = format!(
                        "{origin} 「{}」 + 「{contrast_phrase}」 gap rule",
                        self.analyzer.patterns[a.pattern].phrase
                    );
                    let felt = if direction < 0.0 {
                        Some(Kimochi::Dissatisfaction)
                    } else if direction > 0.0 {
                        Some(Kimochi::Satisfaction)
                    } else {
                        None
                    };
                    if let Some(kind) = felt {
                        effects.push(Effect {
                            tag: Tag::Kind(kind),
                            weight: direction,
                            start: a.start,
                            end: contrast_end,
                            rule: format!("{rule} → {}", kind.code()),
                        });
                    }
                    effects.push(Effect {
                        tag: Tag::Kind(Kimochi::Gap),
                        weight: 0.0,
                        start: a.start,
                        end: contrast_end,
                        rule,
                    });
                }
            }
            if tags.iter().any(|t| t.0 == Tag::Purchase) && purchase_motive[sentence_of[a.start]] {
                effects.push(Effect {
                    tag: Tag::Kind(Kimochi::Expectation),
                    weight: 0.0,
                    start: a.start,
                    end: a.end,
                    rule: format!(
                        "「{}」 with a motive: purchase-motive rule",
                        self.analyzer.patterns[a.pattern].phrase
                    ),
                });
            }
        }

        // 「ご丁寧にありがとうございます」: mild praise of the service inside thanks is the reason
        // for the thanks, not a separate satisfaction.
        let mut thanked = vec![false; sentences.len()];
        for effect in effects.iter().filter(|e| e.tag == Tag::Kind(Kimochi::Gratitude)) {
            thanked[sentence_of[effect.start]] = true;
        }
        for effect in &mut effects {
            if effect.tag == Tag::Kind(Kimochi::Satisfaction)
                && effect.weight.abs() < 1.0
                && thanked[sentence_of[effect.start]]
            {
                effect.tag = Tag::Positive;
                effect.rule.push_str(" (reason for thanks)");
            }
        }

        self.finish(effects)
    }

    /// 「期待していましたが」「思っていたのですが」: a conjunctive 「が」「けど」「のに」 right after
    /// what was expected (auxiliaries and 「のです」 in between) contrasts with it. Returns the
    /// token after the particle.
    fn conjunctive_contrast_after(&self, end: usize) -> Option<usize> {
        let mut i = end;
        while i < self.tokens.len() && i < end + 4 {
            let token = &self.tokens[i];
            let base = self.base(i);
            if token.part_of_speech() == PartOfSpeech::Particle && token.feature.pos[1] == "接続助詞" {
                return matches!(base, "が" | "けど" | "けれど" | "けれども" | "のに").then_some(i + 1);
            }
            let passes = token.part_of_speech() == PartOfSpeech::AuxiliaryVerb || matches!(base, "の" | "ん");
            if !passes {
                return None;
            }
            i += 1;
        }
        None
    }

    fn is_question(&self, (start, end): (usize, usize)) -> bool {
        let mut i = end;
        while i > start {
            i -= 1;
            let surface = self.surface(i);
            if surface == "?" {
                return true;
            }
            if self.tokens[i].part_of_speech() == PartOfSpeech::Symbol || surface == "!" {
                continue;
            }
            return self.tokens[i].part_of_speech() == PartOfSpeech::Particle
                && matches!(self.base(i), "か" | "かな" | "かしら");
        }
        false
    }

    /// Reads the tokens after a phrase ending at token `end`: negations and what else turns
    /// the phrase from a claim into something else.
    fn follow(&self, end: usize, owner: &[Option<usize>], matches: &[Match]) -> Follow {
        let mut follow = Follow { end, ..Follow::default() };
        let mut i = end;
        while i < self.tokens.len() && i < end + NEGATION_WINDOW {
            if let Some(m) = owner[i] {
                let tags = &self.analyzer.patterns[matches[m].pattern].tags;
                if tags.iter().any(|t| t.0 == Tag::Negator) {
                    follow.negations += 1;
                    i = matches[m].end;
                    follow.end = i;
                    continue;
                }
                if self.base(i) != "のに" {
                    break;
                }
            }
            let token = &self.tokens[i];
            let base = self.base(i);
            let pos = token.part_of_speech();
            let pos2 = token.feature.pos[1].as_str();
            let negator = matches!(base, "ない" | "ぬ" | "ん" | "ず" | "ねえ" | "無い")
                && matches!(pos, PartOfSpeech::AuxiliaryVerb | PartOfSpeech::Adjective);
            if negator {
                follow.negations += 1;
                follow.end = i + 1;
            } else if pos == PartOfSpeech::Particle && base == "か" {
                follow.embedded_question = true;
                return follow;
            } else if pos == PartOfSpeech::Particle
                && base == "と"
                && token.feature.pos[2] == "引用"
                && i + 1 < self.tokens.len()
                && matches!(self.base(i + 1), "書く" | "言う" | "聞く" | "いう" | "謳う" | "宣伝")
            {
                follow.reported = true;
                return follow;
            } else if (pos == PartOfSpeech::Particle && base == "ば") || token.feature.conjugation_form == "仮定形"
            {
                follow.hypothetical = true;
                return follow;
            } else if base == "のに" {
                follow.contrasted = true;
                return follow;
            } else {
                let passes = match pos {
                    PartOfSpeech::AuxiliaryVerb | PartOfSpeech::Adverb => true,
                    PartOfSpeech::Verb => {
                        pos2 == "非自立"
                            || matches!(base, "する" | "できる" | "なる" | "ござる" | "れる" | "られる" | "ある")
                    }
                    PartOfSpeech::Particle => {
                        pos2 == "係助詞"
                            || (pos2 == "接続助詞" && matches!(base, "て" | "で"))
                            || (pos2 == "格助詞" && matches!(base, "が" | "に"))
                    }
                    // 「の」 only before 「か」 (「効くのか」).
                    PartOfSpeech::Noun => {
                        (pos2 == "非自立" && matches!(base, "わけ" | "訳" | "つもり" | "よう"))
                            || (base == "の" && i + 1 < self.tokens.len() && self.base(i + 1) == "か")
                    }
                    PartOfSpeech::Adjective => pos2 == "非自立",
                    _ => false,
                };
                if !passes {
                    break;
                }
            }
            i += 1;
        }
        follow
    }

    /// Product of the intensifiers that end at most [`INTENSIFIER_WINDOW`] tokens before `start`.
    fn intensity_before(&self, start: usize, m_index: usize, matches: &[Match]) -> f32 {
        let mut factor = 1.0;
        for previous in matches[..m_index].iter().rev() {
            if previous.end + INTENSIFIER_WINDOW < start {
                break;
            }
            for (tag, weight, _) in &self.analyzer.patterns[previous.pattern].tags {
                if *tag == Tag::Intensifier {
                    factor *= weight;
                }
            }
        }
        factor
    }

    fn finish(&self, effects: Vec<Effect>) -> Analysis {
        let (mut positive, mut negative) = (0.0f32, 0.0f32);
        let mut kimochi: Vec<Kimochi> = Vec::new();
        let mut spans = Vec::with_capacity(effects.len());
        for effect in effects {
            if effect.weight > 0.0 {
                positive += effect.weight;
            } else {
                negative -= effect.weight;
            }
            if let Tag::Kind(kind) = effect.tag
                && !kimochi.contains(&kind)
            {
                kimochi.push(kind);
            }
            let start_byte = self.tokens[effect.start].start;
            let end_byte = self.tokens[effect.end - 1].end;
            let (start, end) = self.normalized.original_range(start_byte, end_byte);
            spans.push(Span {
                tag: effect.tag.code(),
                start,
                end,
                surface: self.text.get(start..end).unwrap_or("").to_owned(),
                rule: effect.rule,
                weight: effect.weight,
            });
        }
        kimochi.sort();
        let total = positive + negative;
        let score = ((positive - negative) / total.max(1.0)).clamp(-1.0, 1.0);
        let polarity = if total < 0.15 {
            Polarity::Neutral
        } else if positive >= 0.15 && negative >= 0.15 && positive.min(negative) >= 0.3 * positive.max(negative) {
            Polarity::Mixed
        } else if positive > negative {
            Polarity::Positive
        } else {
            Polarity::Negative
        };
        Analysis { polarity, score, kimochi, spans }
    }
}

/// Tags that become part of the result (the rest only modify others).
fn weight_bearing(tag: Tag) -> bool {
    matches!(tag, Tag::Kind(_) | Tag::Positive | Tag::Negative)
}

/// What a phrase means when negated (「満足していない」 → dissatisfaction, 「心配ない」 → nothing).
fn negate(tag: Tag, weight: f32) -> (Option<Tag>, f32) {
    match tag {
        Tag::Kind(Kimochi::Satisfaction) => (Some(Tag::Kind(Kimochi::Dissatisfaction)), -0.8 * weight.abs()),
        Tag::Kind(Kimochi::Dissatisfaction) => (Some(Tag::Kind(Kimochi::Satisfaction)), 0.6 * weight.abs()),
        // 「許せません」「話になりません」: anger phrases keep their meaning under negation.
        Tag::Kind(Kimochi::Anger) => (Some(tag), weight),
        Tag::Kind(Kimochi::Advocacy) => (Some(Tag::Kind(Kimochi::Dissatisfaction)), -0.5 * weight.abs()),
        Tag::Positive => (Some(Tag::Negative), -0.8 * weight.abs()),
        Tag::Negative => (Some(Tag::Positive), 0.6 * weight.abs()),
        _ => (None, 0.0),
    }
}
