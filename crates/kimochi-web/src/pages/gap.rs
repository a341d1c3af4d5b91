//! The karte's expectation-gap chart (K1, K2), drawn on the server as SVG: time runs left to
//! right, the expectation is a marker on the line, experiences are points above the line
//! (positive), below it (negative; mixed half-way down) or on it (neutral), a ring marks an
//! explicit gap. Colours come from CSS classes; the same events are listed in a table beside it.

use super::i18n::{GapStrings, Lang};
use super::view::short_time;
use crate::timeline::{KimochiTimelineJson, TimelineEventJson};

/// Width of the drawing, in SVG units (it scales to the card).
pub const WIDTH: f64 = 400.0;
pub const HEIGHT: f64 = 230.0;
const LEFT: f64 = 20.0;
const RIGHT: f64 = 384.0;
/// The line of "as expected".
pub const MID: f64 = 105.0;
const UP: f64 = 50.0;
const DOWN: f64 = 160.0;
const HALF_DOWN: f64 = 132.0;

/// One point of the chart.
#[derive(Debug, Clone)]
pub struct PointView {
    pub x: f64,
    pub y: f64,
    /// CSS class: `positive`, `negative`, `mixed` or `neutral`.
    pub valence: &'static str,
    pub explicit_gap: bool,
    /// The tooltip (`<title>`), escaped by the template.
    pub title: String,
}

/// One row of the text alternative.
#[derive(Debug, Clone)]
pub struct RowView {
    pub when: String,
    pub kind: &'static str,
    pub valence: &'static str,
    pub valence_label: String,
    pub kinds: String,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct GapView {
    pub s: &'static GapStrings,
    pub expectation_text: Option<String>,
    pub expectation_when: String,
    /// The expectation marker's x, when there is an expectation.
    pub expectation_x: Option<f64>,
    /// The diamond of the marker, as SVG `points`.
    pub expectation_diamond: String,
    /// Where the marker's label goes: right of it, or left of it near the right edge.
    pub expectation_label_x: f64,
    pub expectation_label_anchor: &'static str,
    pub points: Vec<PointView>,
    pub rows: Vec<RowView>,
    pub start_label: String,
    pub end_label: String,
    /// `0.67`, or the "no score" sentence.
    pub score_label: String,
    pub score: Option<f64>,
    /// `low`, `medium` or `high` (CSS class of the score badge).
    pub score_class: &'static str,
    /// The chart's `aria-label`: what it shows in one sentence.
    pub summary: String,
    pub positive_label: String,
    pub negative_label: String,
    pub churn_intent: bool,
    pub gap_history: Vec<(String, String)>,
    pub retention_points: Vec<&'static str>,
}

fn kinds_label(event: &TimelineEventJson, lang: Lang) -> String {
    let labels: Vec<String> = event
        .kinds
        .iter()
        .map(|code| if event.source == "note" { lang.kimochi_kind(code) } else { lang.kimochi_tag(code) })
        .collect();
    labels.join("・")
}

impl GapView {
    pub fn new(timeline: &KimochiTimelineJson, lang: Lang) -> GapView {
        let s = lang.gap();
        let expectation_unix = timeline.expectation.as_ref().map(|e| e.unix);
        let mut times: Vec<i64> = timeline.events.iter().map(|e| e.unix).collect();
        times.extend(expectation_unix);
        times.extend(timeline.anchor_unix);
        let start = times.iter().copied().min().unwrap_or(0);
        let end = times.iter().copied().max().unwrap_or(0).max(start + 86_400);
        let x = |unix: i64| LEFT + (RIGHT - LEFT) * (unix - start) as f64 / (end - start) as f64;
        let points = timeline
            .events
            .iter()
            .map(|e| PointView {
                x: round(x(e.unix)),
                y: match e.valence {
                    "positive" => UP,
                    "negative" => DOWN,
                    "mixed" => HALF_DOWN,
                    _ => MID,
                },
                valence: e.valence,
                explicit_gap: e.explicit_gap,
                title: format!(
                    "{} {} {} — {}",
                    short_time(&e.at),
                    lang.polarity(e.valence),
                    kinds_label(e, lang),
                    e.text.chars().take(80).collect::<String>()
                ),
            })
            .collect();
        let expectation_x = expectation_unix.map(|u| round(x(u)));
        let expectation_diamond = expectation_x
            .map(|ex| format!("{},{} {},{} {},{} {},{}", ex, MID - 9.0, ex + 9.0, MID, ex, MID + 9.0, ex - 9.0, MID))
            .unwrap_or_default();
        let mut rows = Vec::new();
        if let Some(e) = &timeline.expectation {
            rows.push(RowView {
                when: short_time(&e.at),
                kind: s.expectation,
                valence: "expectation",
                valence_label: "—".to_owned(),
                kinds: kinds_label(e, lang),
                text: e.text.clone(),
            });
        }
        rows.extend(timeline.events.iter().map(|e| RowView {
            when: short_time(&e.at),
            kind: s.experience,
            valence: e.valence,
            valence_label: lang.polarity(e.valence),
            kinds: if e.explicit_gap && !e.kinds.contains(&"gap") {
                format!("{}・{}", kinds_label(e, lang), s.explicit_gap)
            } else {
                kinds_label(e, lang)
            },
            text: e.text.clone(),
        }));
        let score_label = timeline.gap_score.map_or_else(|| s.gap_none.to_owned(), |score| format!("{score:.2}"));
        let score_class = match timeline.gap_score {
            Some(score) if score >= 0.6 => "high",
            Some(score) if score >= 0.3 => "medium",
            _ => "low",
        };
        let count = |valence: &str| timeline.events.iter().filter(|e| e.valence == valence).count();
        let summary = format!(
            "{}: {} {}{} · {} {}{} · {} {}{} · {} {}",
            s.chart_title,
            s.expectation,
            usize::from(timeline.expectation.is_some()),
            s.count_unit,
            lang.polarity("positive"),
            count("positive"),
            s.count_unit,
            lang.polarity("negative"),
            count("negative") + count("mixed"),
            s.count_unit,
            s.gap_score,
            score_label
        );
        let date = |unix: i64| {
            time::OffsetDateTime::from_unix_timestamp(unix)
                .map(|at| kimochi_domain::datetime::format_jst(at).get(..10).unwrap_or_default().to_owned())
                .unwrap_or_default()
        };
        GapView {
            s,
            expectation_text: timeline.expectation.as_ref().map(|e| e.text.clone()),
            expectation_when: timeline.expectation.as_ref().map(|e| short_time(&e.at)).unwrap_or_default(),
            expectation_x,
            expectation_diamond,
            expectation_label_x: expectation_x.map_or(0.0, |ex| if ex > WIDTH - 60.0 { ex - 12.0 } else { ex + 12.0 }),
            expectation_label_anchor: if expectation_x.is_some_and(|ex| ex > WIDTH - 60.0) { "end" } else { "start" },
            points,
            rows,
            start_label: if times.is_empty() { String::new() } else { date(start) },
            end_label: if times.is_empty() { String::new() } else { date(end) },
            score_label,
            score: timeline.gap_score,
            score_class,
            summary,
            positive_label: lang.polarity("positive"),
            negative_label: lang.polarity("negative"),
            churn_intent: timeline.churn_intent,
            gap_history: timeline
                .retention
                .as_ref()
                .map(|r| r.gap_history.iter().map(|p| (short_time(&p.at), format!("{:.2}", p.score))).collect())
                .unwrap_or_default(),
            retention_points: timeline
                .retention
                .as_ref()
                .map(|r| r.points.iter().map(|p| if lang == Lang::Ja { p.label_ja } else { p.label_en }).collect())
                .unwrap_or_default(),
        }
    }

    /// Whether there is anything to draw.
    pub fn has_chart(&self) -> bool {
        self.expectation_x.is_some() || !self.points.is_empty()
    }

    /// The x of the left and right ends of the line.
    pub fn left(&self) -> f64 {
        LEFT
    }

    pub fn right(&self) -> f64 {
        RIGHT
    }
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(unix: i64, valence: &'static str, source: &'static str, kinds: Vec<&'static str>) -> TimelineEventJson {
        TimelineEventJson {
            at: "2026-10-01T10:00:00+09:00".to_owned(),
            source,
            id: unix,
            text: "テキスト".to_owned(),
            valence,
            kinds,
            explicit_gap: kinds_has_gap(source),
            unix,
        }
    }

    fn kinds_has_gap(source: &str) -> bool {
        source == "note"
    }

    fn document(expectation: Option<TimelineEventJson>, events: Vec<TimelineEventJson>) -> KimochiTimelineJson {
        KimochiTimelineJson {
            as_of: String::new(),
            anchor_unix: expectation.as_ref().map(|e| e.unix),
            expectation,
            anchor: None,
            events,
            gap_score: Some(0.5),
            gap_history: Vec::new(),
            churn_intent: false,
            retention: None,
            masked: false,
            method: "",
        }
    }

    #[test]
    fn experiences_sit_above_or_below_the_line_by_valence_in_time_order() {
        let day = 86_400;
        let timeline = document(
            Some(event(0, "neutral", "note", vec!["expectation"])),
            vec![
                event(10 * day, "positive", "contact", vec!["satisfaction"]),
                event(20 * day, "mixed", "contact", vec![]),
                event(30 * day, "negative", "note", vec!["gap"]),
                event(40 * day, "neutral", "contact", vec![]),
            ],
        );
        let view = GapView::new(&timeline, Lang::Ja);
        assert_eq!(view.expectation_x, Some(LEFT));
        let ys: Vec<f64> = view.points.iter().map(|p| p.y).collect();
        assert!(ys[0] < MID && ys[1] > MID && ys[2] > ys[1] && (ys[3] - MID).abs() < f64::EPSILON, "{ys:?}");
        let xs: Vec<f64> = view.points.iter().map(|p| p.x).collect();
        assert!(xs.windows(2).all(|w| w[0] < w[1]) && (xs[3] - RIGHT).abs() < f64::EPSILON, "{xs:?}");
        assert!(view.points[2].explicit_gap && view.points[2].title.contains("ギャップ"));
        // The text alternative: the expectation first, then every experience.
        assert_eq!(view.rows.len(), 5);
        assert_eq!(view.rows[0].kind, "期待");
        assert_eq!(view.rows[1].valence_label, "ポジティブ");
        assert_eq!(view.score_label, "0.50");
        assert_eq!(view.score_class, "medium");
        assert!(view.summary.contains("期待 1件") && view.summary.contains("ポジティブ 1件"), "{}", view.summary);
        assert_eq!(view.start_label, "1970-01-01");
    }

    #[test]
    fn a_lone_expectation_is_drawn_and_nothing_means_no_chart() {
        let view =
            GapView::new(&document(Some(event(1_000_000, "neutral", "note", vec!["expectation"])), vec![]), Lang::En);
        assert!(view.has_chart());
        assert_eq!(view.expectation_x, Some(LEFT));
        assert_eq!(view.expectation_label_anchor, "start");
        let mut empty = document(None, vec![]);
        empty.gap_score = None;
        let view = GapView::new(&empty, Lang::En);
        assert!(!view.has_chart());
        assert_eq!(view.score_label, "No experience to judge yet");
        assert!(view.rows.is_empty() && view.start_label.is_empty());
        // An expectation at the right end puts its label on its left.
        let late = document(
            Some(event(100 * 86_400, "neutral", "note", vec!["expectation"])),
            vec![event(0, "positive", "contact", vec![])],
        );
        let view = GapView::new(&late, Lang::Ja);
        assert_eq!(view.expectation_label_anchor, "end");
    }
}
