//! Snippets: a short window of a document around what the query matched, as fragments marked
//! hit or not. Matching is on normalised text (width, kana, case) and mapped back, so the
//! snippet shows what the customer wrote. Escaping is the caller's (askama in pages,
//! [`Snippet::to_html`] in the API); fragments are plain text.

use kimochi_text::normalize;

/// Characters of context kept before the first hit.
const CONTEXT_BEFORE_CHARS: usize = 30;

/// A piece of a snippet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    pub text: String,
    pub hit: bool,
}

/// The window shown for a hit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snippet {
    pub fragments: Vec<Fragment>,
}

impl Snippet {
    /// HTML with every fragment escaped and hits wrapped in `<mark>`.
    pub fn to_html(&self) -> String {
        let mut html = String::new();
        for fragment in &self.fragments {
            if fragment.hit {
                html.push_str("<mark>");
            }
            escape_into(&fragment.text, &mut html);
            if fragment.hit {
                html.push_str("</mark>");
            }
        }
        html
    }

    /// The snippet as plain text.
    pub fn text(&self) -> String {
        self.fragments.iter().map(|f| f.text.as_str()).collect()
    }
}

fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
}

/// A window of at most `max_chars` characters of `text` around the first occurrence of any of
/// `needles` (already normalised), with every occurrence inside it marked. Without any
/// occurrence, the start of the text.
pub fn snippet(text: &str, needles: &[String], max_chars: usize) -> Snippet {
    let normalized = normalize(text);
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for needle in needles.iter().filter(|n| !n.is_empty()) {
        for (start, matched) in normalized.text.match_indices(needle.as_str()) {
            let (from, to) = normalized.original_range(start, start + matched.len());
            if from < to {
                ranges.push((from, to));
            }
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (from, to) in ranges {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    // The window: from a little before the first hit, `max_chars` characters long.
    let text = normalize_bound(text);
    let first_hit = merged.first().map_or(0, |r| r.0);
    let mut window_start = first_hit;
    for (counted, (index, _)) in text[..first_hit].char_indices().rev().enumerate() {
        window_start = index;
        if counted + 1 >= CONTEXT_BEFORE_CHARS {
            break;
        }
    }
    let window_end =
        text[window_start..].char_indices().nth(max_chars).map_or(text.len(), |(index, _)| window_start + index);
    let mut fragments = Vec::new();
    if window_start > 0 {
        fragments.push(Fragment { text: "…".to_owned(), hit: false });
    }
    let mut push = |from: usize, to: usize, hit: bool| {
        if from < to
            && let Some(piece) = text.get(from..to)
        {
            fragments.push(Fragment { text: piece.to_owned(), hit });
        }
    };
    let mut cursor = window_start;
    for (from, to) in merged {
        let (from, to) = (from.max(cursor), to.min(window_end));
        if from >= to {
            continue;
        }
        push(cursor, from, false);
        push(from, to, true);
        cursor = to;
    }
    push(cursor, window_end, false);
    if window_end < text.len() {
        fragments.push(Fragment { text: "…".to_owned(), hit: false });
    }
    Snippet { fragments }
}

/// The text as normalisation saw it (bounded), so offsets from it are valid here.
fn normalize_bound(text: &str) -> &str {
    kimochi_text::normalize::bound(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(snippet: &Snippet) -> String {
        snippet.fragments.iter().map(|f| if f.hit { format!("[{}]", f.text) } else { f.text.clone() }).collect()
    }

    #[test]
    fn marks_matches_found_through_normalisation() {
        let s = snippet("定期便の解約方法を教えてください", &["解約".to_owned()], 100);
        assert_eq!(marked(&s), "定期便の[解約]方法を教えてください");
        // Full-width letters in the text match a half-width query.
        let s = snippet("ＬＯＴＩＯＮが届かない", &["lotion".to_owned()], 100);
        assert_eq!(marked(&s), "[ＬＯＴＩＯＮ]が届かない");
    }

    #[test]
    fn windows_long_text_and_escapes_html() {
        let text = format!("{}<b>返品</b>{}", "あ".repeat(100), "い".repeat(100));
        let s = snippet(&text, &["返品".to_owned()], 40);
        assert!(s.fragments.first().is_some_and(|f| f.text == "…"));
        assert!(s.fragments.last().is_some_and(|f| f.text == "…"));
        let html = s.to_html();
        assert!(html.contains("&lt;b&gt;<mark>返品</mark>&lt;/b&gt;"), "{html}");
        assert!(!html.contains("<b>"));
    }

    #[test]
    fn without_a_match_shows_the_start() {
        let s = snippet("こんにちは", &["さようなら".to_owned()], 3);
        assert_eq!(marked(&s), "こんに…");
        assert_eq!(snippet("", &[], 10).fragments, Vec::new());
    }
}
