//! The IPADIC dictionary: words, connection costs and character classes, loaded from the
//! packed files in `dict/ipadic/` (embedded in the binary, or read from a folder).
//!
//! The packed form is produced by `dict/pack_ipadic.py` from Debian's `mecab-ipadic` source, so
//! nothing is downloaded at build or run time. Loading decompresses and indexes about 392,000
//! entries; do it once per process ([`Dictionary::embedded`] caches it).

use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;

use flate2::read::GzDecoder;

/// What to run when the packed dictionary is missing or damaged.
pub const DICTIONARY_FIX: &str =
    "regenerate it with `apt-get install -y mecab-ipadic && python3 crates/kimochi-text/dict/pack_ipadic.py`";

const EMBEDDED_LEX: &[u8] = include_bytes!("../dict/ipadic/lex.tsv.gz");
const EMBEDDED_MATRIX: &[u8] = include_bytes!("../dict/ipadic/matrix.bin.gz");
const EMBEDDED_FEATS: &str = include_str!("../dict/ipadic/feats.tsv");
const EMBEDDED_CHAR_DEF: &str = include_str!("../dict/ipadic/char.def");
const EMBEDDED_UNK_DEF: &str = include_str!("../dict/ipadic/unk.def");
const EMBEDDED_DIR: &str = "crates/kimochi-text/dict/ipadic (embedded)";

/// The dictionary could not be loaded: which file, where in it, and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("IPADIC dictionary {path}{}: {reason}; {DICTIONARY_FIX}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct DictionaryError {
    /// The file (or embedded file) that failed.
    pub path: String,
    /// 1-based line, when the failure is in a text file.
    pub line: Option<usize>,
    pub reason: String,
}

impl DictionaryError {
    fn new(path: &str, line: Option<usize>, reason: impl Into<String>) -> Self {
        DictionaryError { path: path.to_owned(), line, reason: reason.into() }
    }
}

/// Coarse part of speech (品詞), enough for the tagger's rules without string comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartOfSpeech {
    Noun,
    Verb,
    Adjective,
    Adverb,
    Particle,
    AuxiliaryVerb,
    Adnominal,
    Conjunction,
    Interjection,
    Prefix,
    Filler,
    Symbol,
    Other,
}

impl PartOfSpeech {
    fn from_ipadic(pos1: &str) -> Self {
        match pos1 {
            "名詞" => PartOfSpeech::Noun,
            "動詞" => PartOfSpeech::Verb,
            "形容詞" => PartOfSpeech::Adjective,
            "副詞" => PartOfSpeech::Adverb,
            "助詞" => PartOfSpeech::Particle,
            "助動詞" => PartOfSpeech::AuxiliaryVerb,
            "連体詞" => PartOfSpeech::Adnominal,
            "接続詞" => PartOfSpeech::Conjunction,
            "感動詞" => PartOfSpeech::Interjection,
            "接頭詞" => PartOfSpeech::Prefix,
            "フィラー" => PartOfSpeech::Filler,
            "記号" => PartOfSpeech::Symbol,
            _ => PartOfSpeech::Other,
        }
    }
}

/// The IPADIC feature columns of a word, shared by many entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feature {
    /// Part of speech and its three sub-levels, e.g. `名詞,サ変接続,*,*`.
    pub pos: [String; 4],
    /// Conjugation type (活用型), `*` if none.
    pub conjugation_type: String,
    /// Conjugation form (活用形), `*` if none.
    pub conjugation_form: String,
    pub part_of_speech: PartOfSpeech,
}

impl Feature {
    fn parse(columns: &str) -> Option<Feature> {
        let mut it = columns.split(',');
        let pos = [it.next()?.to_owned(), it.next()?.to_owned(), it.next()?.to_owned(), it.next()?.to_owned()];
        let conjugation_type = it.next()?.to_owned();
        let conjugation_form = it.next()?.to_owned();
        let part_of_speech = PartOfSpeech::from_ipadic(&pos[0]);
        Some(Feature { pos, conjugation_type, conjugation_form, part_of_speech })
    }
}

/// One dictionary word.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub ctx: u16,
    pub cost: i32,
    pub feature: u16,
    /// Base form (原形) in `Dictionary::bases`; length 0 means the surface itself.
    pub base_start: u32,
    pub base_len: u32,
}

/// A character category of `char.def` and its unknown-word entries from `unk.def`.
#[derive(Debug, Clone)]
pub(crate) struct Category {
    pub name: String,
    /// Try unknown words even where the dictionary has a word.
    pub invoke: bool,
    /// Make one unknown word of the whole run of characters of this category.
    pub group: bool,
    /// Also make unknown words of 1..=length characters.
    pub length: usize,
    pub unknown: Vec<Entry>,
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CharClass {
    /// Bit set of the categories the character belongs to (compatibility for grouping).
    pub mask: u32,
    /// The first category listed: its invoke/group/length and unknown entries apply.
    pub category: u8,
}

/// One trie node: where its children start and which entries end here.
#[derive(Debug, Clone, Copy, Default)]
struct TrieNode {
    children: u32,
    entry_start: u32,
    entry_len: u32,
}

/// The loaded dictionary. Cheap to share (`&Dictionary` is all the analyzer needs).
#[derive(Debug)]
pub struct Dictionary {
    pub(crate) entries: Vec<Entry>,
    pub(crate) bases: String,
    pub(crate) features: Vec<Feature>,
    /// Trie over characters: node `n`'s children are `children[trie[n].children..trie[n + 1].children]`,
    /// (character, node) pairs sorted by character, so a probe and its answer share a cache
    /// line. Node ids follow the sorted surfaces (depth-first), so a walk down the trie reads
    /// memory that is close together. The last node is a sentinel.
    trie: Vec<TrieNode>,
    children: Vec<(u32, u32)>,
    /// The root's children by code point (Basic Multilingual Plane), 0 for none: every
    /// position starts with this lookup.
    root_children: Vec<u32>,
    matrix: Vec<i16>,
    matrix_right: usize,
    pub(crate) categories: Vec<Category>,
    /// Character classes of the Basic Multilingual Plane; other characters are DEFAULT.
    char_classes: Vec<CharClass>,
    pub(crate) space_category: Option<u8>,
}

impl Dictionary {
    /// The dictionary compiled into the binary, loaded on first use and kept for the process.
    pub fn embedded() -> Result<&'static Dictionary, DictionaryError> {
        static DICTIONARY: OnceLock<Result<Dictionary, DictionaryError>> = OnceLock::new();
        DICTIONARY
            .get_or_init(|| {
                Dictionary::from_parts(
                    EMBEDDED_DIR,
                    EMBEDDED_LEX,
                    EMBEDDED_MATRIX,
                    EMBEDDED_FEATS,
                    EMBEDDED_CHAR_DEF,
                    EMBEDDED_UNK_DEF,
                )
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Loads a packed dictionary from a folder laid out like `dict/ipadic/`.
    pub fn from_dir(dir: &Path) -> Result<Dictionary, DictionaryError> {
        let read = |name: &str| -> Result<Vec<u8>, DictionaryError> {
            let path = dir.join(name);
            std::fs::read(&path)
                .map_err(|e| DictionaryError::new(&path.display().to_string(), None, format!("cannot read: {e}")))
        };
        let text = |name: &str| -> Result<String, DictionaryError> {
            String::from_utf8(read(name)?).map_err(|_| {
                DictionaryError::new(&dir.join(name).display().to_string(), None, "not UTF-8 (was it packed?)")
            })
        };
        let (lex, matrix) = (read("lex.tsv.gz")?, read("matrix.bin.gz")?);
        let (feats, char_def, unk_def) = (text("feats.tsv")?, text("char.def")?, text("unk.def")?);
        Dictionary::from_parts(&dir.display().to_string(), &lex, &matrix, &feats, &char_def, &unk_def)
    }

    fn from_parts(
        dir: &str,
        lex_gz: &[u8],
        matrix_gz: &[u8],
        feats: &str,
        char_def: &str,
        unk_def: &str,
    ) -> Result<Dictionary, DictionaryError> {
        let file = |name: &str| format!("{dir}/{name}");
        let mut features = Vec::new();
        for (n, line) in feats.lines().enumerate() {
            let feature = Feature::parse(line)
                .ok_or_else(|| DictionaryError::new(&file("feats.tsv"), Some(n + 1), "bad features"))?;
            features.push(feature);
        }
        if features.is_empty() {
            return Err(DictionaryError::new(&file("feats.tsv"), None, "empty"));
        }

        let lex = gunzip(lex_gz).map_err(|e| DictionaryError::new(&file("lex.tsv.gz"), None, e))?;
        let lex = String::from_utf8(lex).map_err(|_| DictionaryError::new(&file("lex.tsv.gz"), None, "not UTF-8"))?;
        let mut entries = Vec::with_capacity(400_000);
        let mut bases = String::new();
        let mut node_entries: Vec<(u32, u32)> = vec![(0, 0)];
        // Edges (parent, char, child) in creation order. Surfaces come sorted, so the trie is
        // built by extending the previous surface's path, without any lookup table.
        let mut edges: Vec<(u32, u32, u32)> = Vec::with_capacity(1_200_000);
        let mut path_chars: Vec<char> = Vec::new();
        let mut path_nodes: Vec<u32> = vec![0];
        let mut previous_surface = "";
        for (n, line) in lex.lines().enumerate() {
            let bad = |what: &str| DictionaryError::new(&file("lex.tsv.gz"), Some(n + 1), format!("bad {what}"));
            let mut cols = line.split('\t');
            let surface = cols.next().filter(|s| !s.is_empty()).ok_or_else(|| bad("surface"))?;
            let ctx: u16 = cols.next().and_then(|c| c.parse().ok()).ok_or_else(|| bad("context id"))?;
            let cost: i32 = cols.next().and_then(|c| c.parse().ok()).ok_or_else(|| bad("cost"))?;
            let feature: u16 = cols
                .next()
                .and_then(|c| c.parse().ok())
                .filter(|&f: &u16| usize::from(f) < features.len())
                .ok_or_else(|| bad("feature id"))?;
            let base_edit = cols.next().ok_or_else(|| bad("base form"))?;
            let (base_start, base_len) = if base_edit.is_empty() {
                (0, 0)
            } else {
                let base = decode_base(surface, base_edit).ok_or_else(|| bad("base form"))?;
                let start = bases.len() as u32;
                bases.push_str(&base);
                (start, base.len() as u32)
            };
            let index = entries.len() as u32;
            entries.push(Entry { ctx, cost, feature, base_start, base_len });
            if surface == previous_surface {
                let node = *path_nodes.last().unwrap_or(&0);
                node_entries[node as usize].1 += 1;
                continue;
            }
            if surface < previous_surface {
                return Err(bad("order (entries must be sorted by surface)"));
            }
            let shared = path_chars.iter().zip(surface.chars()).take_while(|(a, b)| *a == b).count();
            path_chars.truncate(shared);
            path_nodes.truncate(shared + 1);
            for c in surface.chars().skip(shared) {
                let parent = *path_nodes.last().unwrap_or(&0);
                let child = node_entries.len() as u32;
                node_entries.push((0, 0));
                edges.push((parent, c as u32, child));
                path_chars.push(c);
                path_nodes.push(child);
            }
            let node = *path_nodes.last().unwrap_or(&0);
            node_entries[node as usize] = (index, 1);
            previous_surface = surface;
        }
        if entries.is_empty() {
            return Err(DictionaryError::new(&file("lex.tsv.gz"), None, "no entries"));
        }

        let matrix_bytes = gunzip(matrix_gz).map_err(|e| DictionaryError::new(&file("matrix.bin.gz"), None, e))?;
        let (matrix, matrix_right) =
            decode_matrix(&matrix_bytes).map_err(|e| DictionaryError::new(&file("matrix.bin.gz"), None, e))?;
        let matrix_left = matrix.len() / matrix_right.max(1);

        let (mut categories, char_classes) = parse_char_def(char_def, &file("char.def"))?;
        parse_unk_def(unk_def, &file("unk.def"), &mut categories, &mut features)?;
        let max_ctx = entries.iter().chain(categories.iter().flat_map(|c| c.unknown.iter())).map(|e| e.ctx).max();
        if max_ctx.is_some_and(|m| usize::from(m) >= matrix_left.min(matrix_right)) {
            return Err(DictionaryError::new(&file("matrix.bin.gz"), None, "smaller than the context ids in use"));
        }
        let space_category = categories.iter().position(|c| c.name == "SPACE").map(|i| i as u8);
        // Counting sort of the edges by parent; each parent's children are already in
        // character order because surfaces were.
        let mut trie: Vec<TrieNode> = node_entries
            .iter()
            .map(|&(entry_start, entry_len)| TrieNode { children: 0, entry_start, entry_len })
            .collect();
        trie.push(TrieNode::default());
        for &(parent, _, _) in &edges {
            trie[parent as usize + 1].children += 1;
        }
        for i in 1..trie.len() {
            trie[i].children += trie[i - 1].children;
        }
        let mut fill: Vec<u32> = trie.iter().map(|n| n.children).collect();
        let mut children = vec![(0u32, 0u32); edges.len()];
        let mut root_children = vec![0u32; 0x10000];
        for &(parent, c, child) in &edges {
            let at = fill[parent as usize] as usize;
            fill[parent as usize] += 1;
            children[at] = (c, child);
            if parent == 0 && c < 0x10000 {
                root_children[c as usize] = child;
            }
        }
        Ok(Dictionary {
            entries,
            bases,
            features,
            trie,
            children,
            root_children,
            matrix,
            matrix_right,
            categories,
            char_classes,
            space_category,
        })
    }

    /// Number of words in the dictionary.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Calls `found(byte_len, entries)` for every dictionary word that starts `text`.
    #[inline]
    pub(crate) fn common_prefixes(&self, text: &str, mut found: impl FnMut(usize, &[Entry])) {
        let mut node = 0u32;
        for (i, c) in text.char_indices() {
            if node == 0 && (c as usize) < self.root_children.len() {
                node = self.root_children[c as usize];
                if node == 0 {
                    return;
                }
            } else {
                let from = self.trie[node as usize].children as usize;
                let to = self.trie[node as usize + 1].children as usize;
                let children = &self.children[from..to];
                let c = c as u32;
                let found = if children.len() <= 8 {
                    children.iter().find(|&&(x, _)| x == c)
                } else {
                    children.binary_search_by_key(&c, |&(x, _)| x).ok().map(|k| &children[k])
                };
                match found {
                    Some(&(_, child)) => node = child,
                    None => return,
                }
            }
            let TrieNode { entry_start: start, entry_len: len, .. } = self.trie[node as usize];
            if len > 0 {
                found(i + c.len_utf8(), &self.entries[start as usize..(start + len) as usize]);
            }
        }
    }

    /// Connection cost (連接コスト) from a word whose right context is `left` to one whose left
    /// context is `right`.
    #[inline]
    pub(crate) fn connection(&self, left: u16, right: u16) -> i32 {
        i32::from(self.matrix[usize::from(left) * self.matrix_right + usize::from(right)])
    }

    /// Characters outside the BMP (emoji, rare kanji) are DEFAULT with no grouping mask, so each
    /// stands alone and an emoji can be a lexicon phrase by itself.
    #[inline]
    pub(crate) fn char_class(&self, c: char) -> CharClass {
        self.char_classes.get(c as usize).copied().unwrap_or_default()
    }
}

fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(bytes.len() * 5);
    GzDecoder::new(bytes).read_to_end(&mut out).map_err(|e| format!("cannot decompress: {e}"))?;
    Ok(out)
}

/// Undoes the packer's base-form edit: "" = surface, "=x" = x, "<n>x" = surface minus n chars, plus x.
fn decode_base(surface: &str, edit: &str) -> Option<String> {
    if edit.is_empty() {
        return Some(surface.to_owned());
    }
    if let Some(base) = edit.strip_prefix('=') {
        return Some(base.to_owned());
    }
    let digits = edit.bytes().take_while(u8::is_ascii_digit).count();
    let drop: usize = edit.get(..digits)?.parse().ok()?;
    let keep = surface.chars().count().checked_sub(drop)?;
    let cut = surface.char_indices().nth(keep).map_or(surface.len(), |(i, _)| i);
    Some(format!("{}{}", &surface[..cut], &edit[digits..]))
}

fn decode_matrix(bytes: &[u8]) -> Result<(Vec<i16>, usize), String> {
    let word = |i: usize| bytes.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let (left, right) = match (word(0), word(2)) {
        (Some(l), Some(r)) => (usize::from(l), usize::from(r)),
        _ => return Err("truncated header".into()),
    };
    if bytes.len() != 4 + 2 * left * right {
        return Err(format!("expected {left}x{right} costs, found {} bytes", bytes.len()));
    }
    let mut matrix = vec![0i16; left * right];
    for i in 0..left * right {
        let delta = word(4 + 2 * i).unwrap_or(0);
        let previous = if i >= right { matrix[i - right] as u16 } else { 0 };
        matrix[i] = previous.wrapping_add(delta) as i16;
    }
    Ok((matrix, right))
}

fn strip_comment(line: &str) -> &str {
    line.split('#').next().unwrap_or("").trim()
}

fn parse_char_def(text: &str, path: &str) -> Result<(Vec<Category>, Vec<CharClass>), DictionaryError> {
    let mut categories: Vec<Category> = Vec::new();
    let mut ranges: Vec<(u32, u32, Vec<String>)> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = strip_comment(raw);
        if line.is_empty() {
            continue;
        }
        let bad = |what: &str| DictionaryError::new(path, Some(n + 1), format!("bad {what}"));
        let cols: Vec<&str> = line.split_whitespace().collect();
        if let Some(range) = cols[0].strip_prefix("0x") {
            let (low, high) = match range.split_once("..0x") {
                Some((l, h)) => (l, h),
                None => (range, range),
            };
            let low = u32::from_str_radix(low, 16).map_err(|_| bad("code point"))?;
            let high = u32::from_str_radix(high, 16).map_err(|_| bad("code point"))?;
            if cols.len() < 2 || high < low || high > 0xFFFF {
                return Err(bad("range"));
            }
            ranges.push((low, high, cols[1..].iter().map(|s| (*s).to_owned()).collect()));
        } else {
            if cols.len() != 4 {
                return Err(bad("category (NAME INVOKE GROUP LENGTH)"));
            }
            let flag = |s: &str| s.parse::<u8>().map(|v| v != 0).map_err(|_| bad("flag"));
            categories.push(Category {
                name: cols[0].to_owned(),
                invoke: flag(cols[1])?,
                group: flag(cols[2])?,
                length: cols[3].parse().map_err(|_| bad("length"))?,
                unknown: Vec::new(),
            });
        }
    }
    if categories.len() > 32 {
        return Err(DictionaryError::new(path, None, "more than 32 categories"));
    }
    let default = categories
        .iter()
        .position(|c| c.name == "DEFAULT")
        .ok_or_else(|| DictionaryError::new(path, None, "no DEFAULT category"))?;
    let mut classes = vec![CharClass { mask: 1 << default, category: default as u8 }; 0x10000];
    for (low, high, names) in ranges {
        let mut class = CharClass::default();
        for (i, name) in names.iter().enumerate() {
            let index = categories
                .iter()
                .position(|c| &c.name == name)
                .ok_or_else(|| DictionaryError::new(path, None, format!("unknown category {name}")))?;
            if i == 0 {
                class.category = index as u8;
            }
            class.mask |= 1 << index;
        }
        for c in low..=high {
            classes[c as usize] = class;
        }
    }
    Ok((categories, classes))
}

fn parse_unk_def(
    text: &str,
    path: &str,
    categories: &mut [Category],
    features: &mut Vec<Feature>,
) -> Result<(), DictionaryError> {
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |what: &str| DictionaryError::new(path, Some(n + 1), format!("bad {what}"));
        let mut cols = line.splitn(5, ',');
        let name = cols.next().ok_or_else(|| bad("category"))?;
        let ctx: u16 = cols.next().and_then(|c| c.parse().ok()).ok_or_else(|| bad("left id"))?;
        let _right = cols.next();
        let cost: i32 = cols.next().and_then(|c| c.parse().ok()).ok_or_else(|| bad("cost"))?;
        let feature = Feature::parse(cols.next().ok_or_else(|| bad("features"))?).ok_or_else(|| bad("features"))?;
        let feature_id = match features.iter().position(|f| *f == feature) {
            Some(i) => i,
            None => {
                features.push(feature);
                features.len() - 1
            }
        };
        let category = categories.iter_mut().find(|c| c.name == name).ok_or_else(|| bad("category name"))?;
        category.unknown.push(Entry { ctx, cost, feature: feature_id as u16, base_start: 0, base_len: 0 });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_edits_round_trip() {
        assert_eq!(decode_base("良く", "1い").as_deref(), Some("良い"));
        assert_eq!(decode_base("良い", "").as_deref(), Some("良い"));
        assert_eq!(decode_base("ござい", "=ござる"), Some("ござる".to_owned()));
        assert_eq!(decode_base("a", "5x"), None);
    }

    #[test]
    fn broken_dictionary_names_the_file_and_the_fix() {
        let err = Dictionary::from_dir(Path::new("/nonexistent/ipadic")).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("/nonexistent/ipadic/lex.tsv.gz"), "{message}");
        assert!(message.contains("pack_ipadic.py"), "{message}");
        let err = Dictionary::from_parts(
            "x",
            b"not gzip",
            EMBEDDED_MATRIX,
            EMBEDDED_FEATS,
            EMBEDDED_CHAR_DEF,
            EMBEDDED_UNK_DEF,
        )
        .unwrap_err();
        assert_eq!(err.path, "x/lex.tsv.gz");
    }
}
