//! Morphological analysis (形態素解析): the MeCab algorithm — a lattice of dictionary and
//! unknown words, best path by Viterbi over word and connection costs — on IPADIC.
//!
//! It follows MeCab's rules for unknown words (`char.def` invoke/group/length, grouping up to 24
//! characters) and skips whitespace between words, so on the same dictionary it segments like
//! MeCab; `bench/text/tokenize.py` measures the agreement.

use crate::dict::{Dictionary, Entry, Feature, PartOfSpeech};

/// MeCab's `max-grouping-size`: longer runs of one character class are not made one word.
const MAX_GROUPING_CHARS: usize = 24;

/// A word of the analysed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'d> {
    /// Byte range in the analysed text.
    pub start: usize,
    pub end: usize,
    /// Base form (原形) when it differs from the surface (`良く` → `良い`); see [`Token::base`].
    pub base_form: Option<&'d str>,
    pub feature: &'d Feature,
    /// Not in the dictionary (未知語).
    pub unknown: bool,
}

impl<'d> Token<'d> {
    /// The surface in `text`, the text that was analysed.
    pub fn surface<'t>(&self, text: &'t str) -> &'t str {
        text.get(self.start..self.end).unwrap_or("")
    }

    /// The base form (原形): the dictionary's, or the surface when they are the same or the
    /// word is unknown.
    pub fn base<'t>(&self, text: &'t str) -> &'t str
    where
        'd: 't,
    {
        self.base_form.unwrap_or_else(|| self.surface(text))
    }

    pub fn part_of_speech(&self) -> PartOfSpeech {
        self.feature.part_of_speech
    }
}

#[derive(Debug, Clone, Copy)]
struct Node {
    start: u32,
    end: u32,
    ctx: u16,
    feature: u16,
    base_start: u32,
    base_len: u32,
    unknown: bool,
    total: i32,
    prev: u32,
    /// Next node ending at the same position (intrusive list, avoids a Vec per position).
    next_same_end: u32,
}

const NONE: u32 = u32::MAX;

/// Reusable buffers, so that analysing many short texts does not allocate per call.
#[derive(Debug, Default)]
pub struct Scratch {
    nodes: Vec<Node>,
    ends: Vec<u32>,
    path: Vec<u32>,
    memo: Vec<(u16, i32, u32)>,
}

/// Segments `text` into tokens with base forms and parts of speech.
pub fn tokenize<'d>(dictionary: &'d Dictionary, text: &str, scratch: &mut Scratch) -> Vec<Token<'d>> {
    let mut tokens = Vec::new();
    tokenize_into(dictionary, text, scratch, &mut tokens);
    tokens
}

/// Like [`tokenize`], appending to `tokens` (cleared first).
pub fn tokenize_into<'d>(dictionary: &'d Dictionary, text: &str, scratch: &mut Scratch, tokens: &mut Vec<Token<'d>>) {
    tokens.clear();
    if text.is_empty() {
        return;
    }
    let Scratch { nodes, ends, path, memo } = scratch;
    nodes.clear();
    ends.clear();
    ends.resize(text.len() + 1, NONE);
    // The BOS node ends at 0.
    nodes.push(Node {
        start: 0,
        end: 0,
        ctx: 0,
        feature: 0,
        base_start: 0,
        base_len: 0,
        unknown: false,
        total: 0,
        prev: NONE,
        next_same_end: NONE,
    });
    ends[0] = 0;
    let mut eos: Option<(i32, u32)> = None;

    for position in 0..=text.len() {
        if ends[position] == NONE || !text.is_char_boundary(position) {
            continue;
        }
        let begin = skip_spaces(dictionary, text, position);
        if begin == text.len() {
            let best = best_previous(dictionary, nodes, ends[position], 0);
            if eos.is_none_or(|(cost, _)| best.0 < cost) {
                eos = Some(best);
            }
            continue;
        }
        let rest = &text[begin..];
        let left_head = ends[position];
        let mut found_word = false;
        // Many words starting here share a context id: their best predecessor is the same.
        memo.clear();
        dictionary.common_prefixes(rest, |len, entries| {
            found_word = true;
            for entry in entries {
                let best = match memo.iter().find(|m| m.0 == entry.ctx) {
                    Some(&(_, cost, prev)) => (cost, prev),
                    None => {
                        let best = best_previous(dictionary, nodes, left_head, entry.ctx);
                        memo.push((entry.ctx, best.0, best.1));
                        best
                    }
                };
                push_node(nodes, ends, best, begin, begin + len, entry, false);
            }
        });

        let Some(first) = rest.chars().next() else { continue };
        let class = dictionary.char_class(first);
        let category = &dictionary.categories[usize::from(class.category)];
        if found_word && !category.invoke {
            continue;
        }
        let first_len = first.len_utf8();
        let mut added_unknown = false;
        let mut group_end = None;
        if category.group {
            let mut end = first_len;
            let mut chars = 1;
            for c in rest[first_len..].chars() {
                if dictionary.char_class(c).mask & class.mask == 0 {
                    break;
                }
                end += c.len_utf8();
                chars += 1;
                if chars > MAX_GROUPING_CHARS + 1 {
                    break;
                }
            }
            if chars <= MAX_GROUPING_CHARS + 1 {
                for entry in &category.unknown {
                    add_node(dictionary, nodes, ends, left_head, begin, begin + end, entry, true);
                }
                added_unknown = true;
            }
            group_end = Some(end);
        }
        let mut end = first_len;
        let mut iter = rest[first_len..].chars();
        for _ in 0..category.length {
            if Some(end) != group_end {
                for entry in &category.unknown {
                    add_node(dictionary, nodes, ends, left_head, begin, begin + end, entry, true);
                }
                added_unknown = true;
            }
            match iter.next() {
                Some(c) if dictionary.char_class(c).mask & class.mask != 0 => end += c.len_utf8(),
                _ => break,
            }
        }
        if !found_word && !added_unknown {
            for entry in &category.unknown {
                add_node(dictionary, nodes, ends, left_head, begin, begin + first_len, entry, true);
            }
            if category.unknown.is_empty() {
                // A category without unknown entries would leave a hole in the lattice.
                let fallback = Entry { ctx: 0, cost: 0, feature: 0, base_start: 0, base_len: 0 };
                add_node(dictionary, nodes, ends, left_head, begin, begin + first_len, &fallback, true);
            }
        }
    }

    let Some((_, mut node)) = eos else { return };
    path.clear();
    while node != NONE && node != 0 {
        path.push(node);
        node = nodes[node as usize].prev;
    }
    for &index in path.iter().rev() {
        let n = &nodes[index as usize];
        let (start, end) = (n.start as usize, n.end as usize);
        let base_form = (n.base_len > 0)
            .then(|| dictionary.bases.get(n.base_start as usize..(n.base_start + n.base_len) as usize))
            .flatten();
        tokens.push(Token {
            start,
            end,
            base_form,
            feature: &dictionary.features[usize::from(n.feature)],
            unknown: n.unknown,
        });
    }
}

#[inline]
fn skip_spaces(dictionary: &Dictionary, text: &str, mut position: usize) -> usize {
    let Some(space) = dictionary.space_category else { return position };
    for c in text[position..].chars() {
        if dictionary.char_class(c).category != space {
            break;
        }
        position += c.len_utf8();
    }
    position
}

#[inline]
fn best_previous(dictionary: &Dictionary, nodes: &[Node], mut head: u32, right_ctx: u16) -> (i32, u32) {
    let mut best = (i32::MAX, NONE);
    while head != NONE {
        let left = &nodes[head as usize];
        let cost = left.total.saturating_add(dictionary.connection(left.ctx, right_ctx));
        if cost < best.0 {
            best = (cost, head);
        }
        head = left.next_same_end;
    }
    best
}

#[allow(clippy::too_many_arguments)]
#[inline]
fn add_node(
    dictionary: &Dictionary,
    nodes: &mut Vec<Node>,
    ends: &mut [u32],
    left_head: u32,
    start: usize,
    end: usize,
    entry: &Entry,
    unknown: bool,
) {
    let best = best_previous(dictionary, nodes, left_head, entry.ctx);
    push_node(nodes, ends, best, start, end, entry, unknown);
}

#[inline]
fn push_node(
    nodes: &mut Vec<Node>,
    ends: &mut [u32],
    (cost, prev): (i32, u32),
    start: usize,
    end: usize,
    entry: &Entry,
    unknown: bool,
) {
    let index = nodes.len() as u32;
    nodes.push(Node {
        start: start as u32,
        end: end as u32,
        ctx: entry.ctx,
        feature: entry.feature,
        base_start: entry.base_start,
        base_len: entry.base_len,
        unknown,
        total: cost.saturating_add(entry.cost),
        prev,
        next_same_end: ends[end],
    });
    ends[end] = index;
}
