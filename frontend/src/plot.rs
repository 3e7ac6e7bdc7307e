//! Geometry of the small inline SVG charts: histogram and count bars, and
//! the correlation heatmap's colours. Plain Rust, tested on the host; the
//! views in `components` only place what this computes.

use api::display::{number, plural};

/// One bar of a small chart, in the chart's own coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// Shown as the bar's tooltip.
    pub label: String,
    /// The pooled "other values" bar.
    pub other: bool,
}

/// Bars side by side, heights relative to the largest count; a gap of one
/// unit between bars when there is room.
fn bars(counts: &[u64], width: f64, height: f64) -> Vec<(f64, f64, f64, f64)> {
    let n = counts.len().max(1) as f64;
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let slot = width / n;
    let gap = if slot > 3.0 { 1.0 } else { 0.0 };
    counts
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let h = c as f64 / max * height;
            (i as f64 * slot, height - h, slot - gap, h)
        })
        .collect()
}

/// A histogram's bins as bars labelled with their range and count.
pub fn histogram_bars(h: &api::Histogram, width: f64, height: f64) -> Vec<Bar> {
    bars(&h.counts, width, height)
        .into_iter()
        .enumerate()
        .map(|(i, (x, y, w, bh))| {
            let (a, b) = (
                h.edges[i],
                h.edges.get(i + 1).copied().unwrap_or(h.edges[i]),
            );
            // One bin per integer: edges at k − 0.5 and k + 0.5.
            let range = if b - a == 1.0 && (a + 0.5).fract() == 0.0 {
                number(a + 0.5)
            } else {
                format!("{} to {}", number(a), number(b))
            };
            Bar {
                x,
                y,
                width: w,
                height: bh,
                label: format!("{range}: {}", plural(h.counts[i], "row", "rows")),
                other: false,
            }
        })
        .collect()
}

/// The most frequent values as bars, then one bar for all other values.
pub fn count_bars(b: &api::Bars, width: f64, height: f64) -> Vec<Bar> {
    let mut counts: Vec<u64> = b.top.iter().map(|v| v.count).collect();
    let mut labels: Vec<String> = b
        .top
        .iter()
        .map(|v| format!("{}: {}", v.value, plural(v.count, "row", "rows")))
        .collect();
    if b.other > 0 {
        counts.push(b.other);
        labels.push(format!(
            "{}: {}",
            plural(b.other_values, "other value", "other values"),
            plural(b.other, "row", "rows")
        ));
    }
    let last = b.top.len();
    bars(&counts, width, height)
        .into_iter()
        .zip(labels)
        .enumerate()
        .map(|(i, ((x, y, w, h), label))| Bar {
            x,
            y,
            width: w,
            height: h,
            label,
            other: i == last,
        })
        .collect()
}

/// The fill colour and opacity of a heatmap cell: Pearson's r in red
/// (positive) or blue (negative), Cramér's V in purple, the strength as the
/// opacity; a pair that was not compared is light grey.
pub fn heat_fill(value: Option<f64>, pearson: bool) -> (&'static str, f64) {
    match value {
        None => ("#e4e2dc", 1.0),
        Some(v) if !pearson => ("#6b3fa0", v.abs().clamp(0.0, 1.0)),
        Some(v) if v >= 0.0 => ("#b4481f", v.clamp(0.0, 1.0)),
        Some(v) => ("#1f5fa8", (-v).clamp(0.0, 1.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_bars_scale_to_the_tallest_and_name_their_range() {
        let h = api::Histogram {
            edges: vec![0.0, 0.5, 1.0, 1.5],
            counts: vec![2, 4, 0],
        };
        let b = histogram_bars(&h, 30.0, 20.0);
        assert_eq!(b.len(), 3);
        assert_eq!(
            (b[1].x, b[1].y, b[1].width, b[1].height),
            (10.0, 0.0, 9.0, 20.0)
        );
        assert_eq!((b[0].y, b[0].height), (10.0, 10.0));
        assert_eq!(b[2].height, 0.0);
        assert_eq!(b[0].label, "0 to 0.5: 2 rows");
        let ints = api::Histogram {
            edges: vec![0.5, 1.5, 2.5],
            counts: vec![1200, 3],
        };
        assert_eq!(histogram_bars(&ints, 20.0, 10.0)[0].label, "1: 1,200 rows");
    }

    #[test]
    fn count_bars_end_with_the_other_values() {
        let b = api::Bars {
            top: vec![
                api::ValueCount {
                    value: "a".into(),
                    count: 10,
                },
                api::ValueCount {
                    value: "b".into(),
                    count: 5,
                },
            ],
            other: 20,
            other_values: 7,
        };
        let bars = count_bars(&b, 30.0, 10.0);
        assert_eq!(bars.len(), 3);
        assert!(bars[2].other && !bars[0].other);
        assert_eq!(bars[2].height, 10.0);
        assert_eq!(bars[2].label, "7 other values: 20 rows");
        let none = api::Bars {
            other: 0,
            other_values: 0,
            ..b
        };
        assert_eq!(count_bars(&none, 30.0, 10.0).len(), 2);
    }

    #[test]
    fn heat_colours_by_sign_and_kind() {
        assert_eq!(heat_fill(Some(0.5), true), ("#b4481f", 0.5));
        assert_eq!(heat_fill(Some(-0.25), true), ("#1f5fa8", 0.25));
        assert_eq!(heat_fill(Some(0.8), false), ("#6b3fa0", 0.8));
        assert_eq!(heat_fill(None, true).0, "#e4e2dc");
    }
}
