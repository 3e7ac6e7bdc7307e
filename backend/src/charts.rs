//! Charts drawn with plotters as SVG documents. The browser shows them in
//! `<img>` elements, where an SVG can run no script; plotters escapes text.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::error::AppError;

const WIDTH: u32 = 720;
pub(crate) const FONT: &str = "sans-serif";
pub(crate) const ACCENT: RGBColor = RGBColor(180, 72, 31);
pub(crate) const GRID: RGBColor = RGBColor(226, 232, 240);
pub(crate) const TEXT: RGBColor = RGBColor(51, 65, 85);
/// Curve colours, one per class.
pub(crate) const PALETTE: [RGBColor; 8] = [
    RGBColor(37, 99, 235),
    RGBColor(220, 38, 38),
    RGBColor(22, 163, 74),
    RGBColor(217, 119, 6),
    RGBColor(147, 51, 234),
    RGBColor(8, 145, 178),
    RGBColor(219, 39, 119),
    RGBColor(101, 163, 13),
];

pub(crate) fn chart_error<E: std::fmt::Display>(e: E) -> AppError {
    AppError::Internal(format!("drawing a chart: {e}"))
}

/// A label short enough for an axis.
pub(crate) fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let head: String = s.chars().take(max - 1).collect();
        format!("{head}…")
    }
}

pub(crate) fn render(
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), AppError>,
) -> Result<String, AppError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_error)?;
        draw(&root)?;
        root.present().map_err(chart_error)?;
    }
    Ok(svg)
}

/// A numeric axis plotters can draw. Its tick search never ends on a range
/// that is not finite, or whose ends are too far apart for a double (data
/// near ±1.8e308), so beyond ±1e12 values are drawn in units of a power of
/// ten, which the axis description names; the range is padded (a share of
/// its span on each side) so points do not sit on the frame.
pub(crate) struct Axis {
    pub(crate) range: std::ops::Range<f64>,
    unit: f64,
    exponent: i32,
}

impl Axis {
    pub(crate) fn new(lo: f64, hi: f64, pad_low: f64, pad_high: f64) -> Axis {
        let (lo, hi) = if lo.is_finite() && hi.is_finite() && lo <= hi {
            (lo, hi)
        } else {
            (0.0, 1.0)
        };
        let largest = lo.abs().max(hi.abs());
        let exponent = if largest > 1e12 {
            largest.log10().floor() as i32
        } else {
            0
        };
        let unit = 10f64.powi(exponent);
        let (lo, hi) = (lo / unit, hi / unit);
        let span = (hi - lo).max(1e-9);
        Axis {
            range: (lo - span * pad_low)..(hi + span * pad_high),
            unit,
            exponent,
        }
    }

    /// Padded by 5% on both sides.
    pub(crate) fn padded(lo: f64, hi: f64) -> Axis {
        Axis::new(lo, hi, 0.05, 0.05)
    }

    /// A data value in the axis' units.
    pub(crate) fn at(&self, x: f64) -> f64 {
        x / self.unit
    }

    /// The axis description, with the unit when values are scaled.
    pub(crate) fn desc(&self, what: &str) -> String {
        if self.exponent == 0 {
            what.to_owned()
        } else {
            format!("{what} (× 1e{})", self.exponent)
        }
    }
}

/// The label of the row drawn at height `y` (the first label on top);
/// empty between rows.
fn row_label(labels: &[String], y: f64) -> String {
    let i = y.round();
    if (y - i).abs() > 1e-6 || i < 0.0 || i as usize >= labels.len() {
        return String::new();
    }
    labels[labels.len() - 1 - i as usize].clone()
}

/// Horizontal bars, largest first from the top: `(label, value)`.
pub fn bars(title: &str, x_label: &str, items: &[(String, f64)]) -> Result<String, AppError> {
    let n = items.len().max(1);
    let height = 80 + 26 * n as u32;
    let max = items.iter().map(|i| i.1).fold(0.0, f64::max).max(1e-12);
    let x = Axis::new(0.0, max, 0.0, 0.08);
    render(height, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 16).into_font().color(&TEXT))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(170)
            .build_cartesian_2d(x.range.clone(), -0.5..(n as f64 - 0.5))
            .map_err(chart_error)?;
        let labels: Vec<String> = items.iter().map(|i| short(&i.0, 24)).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(GRID)
            .y_labels(n)
            .y_label_formatter(&|y| row_label(&labels, *y))
            .x_desc(x.desc(x_label))
            .label_style((FONT, 12).into_font().color(&TEXT))
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(items.iter().enumerate().map(|(i, (_, v))| {
                let y = (n - 1 - i) as f64;
                Rectangle::new([(0.0, y - 0.35), (x.at(*v), y + 0.35)], ACCENT.filled())
            }))
            .map_err(chart_error)?;
        Ok(())
    })
}

/// A histogram: bars over `edges` with their row counts.
pub fn histogram(title: &str, x_label: &str, h: &api::Histogram) -> Result<String, AppError> {
    let (Some(&lo), Some(&hi)) = (h.edges.first(), h.edges.last()) else {
        return Err(AppError::NotFound("a histogram of this column".into()));
    };
    let top = h.counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let x = Axis::padded(lo, hi);
    render(320, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 16).into_font().color(&TEXT))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(x.range.clone(), 0.0..top * 1.08)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(GRID)
            .x_desc(x.desc(x_label))
            .y_desc("rows")
            .y_label_formatter(&whole)
            .label_style((FONT, 12).into_font().color(&TEXT))
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(h.counts.iter().zip(h.edges.windows(2)).map(|(&c, e)| {
                let (left, right) = (x.at(e[0]), x.at(e[1]));
                let gap = (right - left) * 0.04;
                Rectangle::new(
                    [(left + gap, 0.0), (right - gap, c as f64)],
                    ACCENT.filled(),
                )
            }))
            .map_err(chart_error)?;
        Ok(())
    })
}

/// A count axis' tick: whole numbers with thousands separators, nothing
/// between them (a count of 1.5 rows means nothing).
fn whole(v: &f64) -> String {
    if v.fract().abs() > 1e-9 || *v < 0.0 {
        String::new()
    } else {
        api::display::count(v.round() as u64)
    }
}

/// Blue (low) to red (high); grey when missing.
fn value_colour(position: Option<f64>) -> RGBColor {
    match position {
        None => RGBColor(148, 163, 184),
        Some(p) => {
            let p = p.clamp(0.0, 1.0);
            let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * p) as u8;
            RGBColor(mix(37, 220), mix(99, 38), mix(235, 38))
        }
    }
}

/// The beeswarm's colour key, in its strip: a feature's value from low to
/// high, and grey for missing.
fn value_legend(root: &DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), AppError> {
    let font = (FONT, 11).into_font().color(&TEXT);
    let (left, top, width, steps) = (300, 8, 90, 18);
    root.draw(&Text::new(
        "feature value:",
        (left - 110, top),
        font.clone(),
    ))
    .map_err(chart_error)?;
    root.draw(&Text::new("low", (left - 24, top), font.clone()))
        .map_err(chart_error)?;
    for i in 0..steps {
        let x = left + i * width / steps;
        let colour = value_colour(Some(f64::from(i) / f64::from(steps - 1)));
        root.draw(&Rectangle::new(
            [(x, top), (x + width / steps + 1, top + 10)],
            colour.filled(),
        ))
        .map_err(chart_error)?;
    }
    root.draw(&Text::new("high", (left + width + 5, top), font.clone()))
        .map_err(chart_error)?;
    let gap = left + width + 50;
    root.draw(&Circle::new((gap, top + 5), 4, value_colour(None).filled()))
        .map_err(chart_error)?;
    root.draw(&Text::new("missing", (gap + 8, top), font))
        .map_err(chart_error)?;
    Ok(())
}

/// A SHAP summary: one row of dots per feature (most important on top),
/// x = SHAP value, colour = the feature's value from low (blue) to high (red).
pub fn beeswarm(title: &str, swarm: &[api::Beeswarm]) -> Result<String, AppError> {
    let n = swarm.len().max(1);
    let height = 90 + 34 * n as u32;
    // The colour key gets a strip of its own below the chart.
    let key_strip = 34;
    let values = swarm.iter().flat_map(|b| b.points.iter().map(|p| p.0));
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((0.0f64, 0.0f64), |(l, h), v| (l.min(v), h.max(v)));
    let x = Axis::padded(lo, hi);
    render(height + key_strip, |root| {
        let (root, key) = root.split_vertically(height);
        value_legend(&key)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 16).into_font().color(&TEXT))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(170)
            .build_cartesian_2d(x.range.clone(), -0.5..(n as f64 - 0.5))
            .map_err(chart_error)?;
        let labels: Vec<String> = swarm.iter().map(|b| short(&b.feature, 24)).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(GRID)
            .y_labels(n)
            .y_label_formatter(&|y| row_label(&labels, *y))
            .x_desc(x.desc("SHAP value (impact on the model output)"))
            .label_style((FONT, 12).into_font().color(&TEXT))
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(LineSeries::new([(0.0, -0.5), (0.0, n as f64 - 0.5)], TEXT))
            .map_err(chart_error)?;
        for (i, b) in swarm.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            chart
                .draw_series(b.points.iter().enumerate().map(|(j, &(shap, pos))| {
                    // Deterministic jitter spreads overlapping dots vertically.
                    let jitter = ((j as u64).wrapping_mul(2_654_435_761) % 1000) as f64 / 1000.0;
                    Circle::new(
                        (x.at(shap), y + (jitter - 0.5) * 0.6),
                        2,
                        value_colour(pos).filled(),
                    )
                }))
                .map_err(chart_error)?;
        }
        Ok(())
    })
}

/// Partial dependence: the mean prediction as one feature sweeps its grid.
pub fn dependence(d: &api::Dependence) -> Result<String, AppError> {
    let m = d.grid.len().max(1);
    let all = d.curves.iter().flatten().copied().filter(|v| v.is_finite());
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
        (l.min(v), h.max(v))
    });
    let y = Axis::padded(lo, hi);
    let title = format!("Partial dependence on {}", short(&d.feature, 40));
    let xs: Vec<f64> = if d.categorical {
        (0..d.grid.len()).map(|i| i as f64).collect()
    } else {
        d.grid
            .iter()
            .map(|v| v.as_f64().unwrap_or(f64::NAN))
            .collect()
    };
    let (xlo, xhi) = xs
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let x = Axis::padded(xlo, xhi);
    let names: Vec<String> = d
        .grid
        .iter()
        .map(|v| short(v.as_str().unwrap_or_default(), 12))
        .collect();
    // Many categories do not fit side by side: their labels stand upright.
    let upright = d.categorical && m > 6;
    let label_area = if upright { 100 } else { 40 };
    render(300 + label_area, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 16).into_font().color(&TEXT))
            .margin(12)
            .x_label_area_size(label_area)
            .y_label_area_size(60)
            .build_cartesian_2d(x.range.clone(), y.range.clone())
            .map_err(chart_error)?;
        let mut mesh = chart.configure_mesh();
        mesh.light_line_style(GRID)
            .x_desc(x.desc(&short(&d.feature, 40)))
            .y_desc(y.desc("mean prediction"))
            .label_style((FONT, 12).into_font().color(&TEXT));
        if upright {
            mesh.x_label_style(
                (FONT, 12)
                    .into_font()
                    .transform(FontTransform::Rotate90)
                    .color(&TEXT),
            );
        }
        let category = |x: &f64| {
            let i = x.round();
            if (x - i).abs() > 1e-6 || i < 0.0 {
                String::new()
            } else {
                names.get(i as usize).cloned().unwrap_or_default()
            }
        };
        if d.categorical {
            mesh.x_labels(m).x_label_formatter(&category);
        }
        mesh.draw().map_err(chart_error)?;
        for (o, curve) in d.curves.iter().enumerate() {
            let colour = PALETTE[o % PALETTE.len()];
            let points: Vec<(f64, f64)> = xs
                .iter()
                .zip(curve)
                .map(|(&a, &b)| (x.at(a), y.at(b)))
                .collect();
            // Categories have no order: dots only.
            let line = if d.categorical {
                Vec::new()
            } else {
                points.clone()
            };
            chart
                .draw_series(LineSeries::new(line, colour.stroke_width(2)))
                .map_err(chart_error)?
                .label(short(&d.outputs[o], 30))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(
                    points.iter().map(|&p| {
                        Circle::new(p, if d.categorical { 5 } else { 3 }, colour.filled())
                    }),
                )
                .map_err(chart_error)?;
        }
        if d.curves.len() > 1 {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(GRID)
                .label_font((FONT, 12).into_font().color(&TEXT))
                .draw()
                .map_err(chart_error)?;
        }
        Ok(())
    })
}

/// One model's points on a chart, with its name in the legend.
pub struct Series<'a> {
    pub label: String,
    pub points: &'a [(f64, f64)],
}

impl<'a> Series<'a> {
    /// A chart's only series, which needs no legend.
    pub fn only(points: &'a [(f64, f64)]) -> [Series<'a>; 1] {
        [Series {
            label: String::new(),
            points,
        }]
    }
}

/// The colour of series `i` of `n`: the accent alone, the palette for several.
fn series_colour(i: usize, n: usize) -> RGBColor {
    if n == 1 {
        ACCENT
    } else {
        PALETTE[i % PALETTE.len()]
    }
}

/// Curves in the unit square: ROC (with the chance diagonal) or
/// precision-recall, one per series, with a legend when there are several.
pub fn curve(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series<'_>],
    diagonal: bool,
) -> Result<String, AppError> {
    render(380, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 16).into_font().color(&TEXT))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..1.0, 0.0..1.02)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .light_line_style(GRID)
            .x_desc(x_label)
            .y_desc(y_label)
            .label_style((FONT, 12).into_font().color(&TEXT))
            .draw()
            .map_err(chart_error)?;
        if diagonal {
            chart
                .draw_series(LineSeries::new(
                    [(0.0, 0.0), (1.0, 1.0)],
                    RGBColor(148, 163, 184),
                ))
                .map_err(chart_error)?;
        }
        for (i, s) in series.iter().enumerate() {
            let colour = series_colour(i, series.len());
            let drawn = chart
                .draw_series(LineSeries::new(
                    s.points.iter().copied(),
                    colour.stroke_width(2),
                ))
                .map_err(chart_error)?;
            if series.len() > 1 {
                drawn.label(short(&s.label, 40)).legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2))
                });
            }
        }
        legend(&mut chart, series.len(), SeriesLabelPosition::LowerRight)
    })
}

/// The legend of a chart with several series.
pub(crate) fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    n: usize,
    at: SeriesLabelPosition,
) -> Result<(), AppError> {
    if n > 1 {
        chart
            .configure_series_labels()
            .position(at)
            .background_style(WHITE.mix(0.9))
            .border_style(GRID)
            .label_font((FONT, 12).into_font().color(&TEXT))
            .draw()
            .map_err(chart_error)?;
    }
    Ok(())
}

/// Counts per (true, predicted) class, darker for more, on `rows`
/// ("held-out rows").
pub fn confusion(classes: &[String], matrix: &[Vec<u64>], rows: &str) -> Result<String, AppError> {
    let k = classes.len().max(1);
    let size = (60 + 40 * k as u32).min(640);
    let max = matrix.iter().flatten().copied().max().unwrap_or(1).max(1) as f64;
    let labels: Vec<String> = classes.iter().map(|c| short(c, 14)).collect();
    render(size + 90, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("Confusion matrix ({rows})"),
                (FONT, 16).into_font().color(&TEXT),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(120)
            .build_cartesian_2d(-0.5..(k as f64 - 0.5), -0.5..(k as f64 - 0.5))
            .map_err(chart_error)?;
        let name = |v: &f64, flip: bool| {
            let i = v.round();
            if (v - i).abs() > 1e-6 || i < 0.0 || i as usize >= k {
                return String::new();
            }
            let i = if flip { k - 1 - i as usize } else { i as usize };
            labels[i].clone()
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(k)
            .y_labels(k)
            .x_label_formatter(&|v| name(v, false))
            .y_label_formatter(&|v| name(v, true))
            .x_desc("predicted")
            .y_desc("actual")
            .label_style((FONT, 12).into_font().color(&TEXT))
            .draw()
            .map_err(chart_error)?;
        for (t, row) in matrix.iter().enumerate() {
            for (p, &count) in row.iter().enumerate() {
                let y = (k - 1 - t) as f64;
                let x = p as f64;
                let shade = count as f64 / max;
                let mix = |a: u8| (255.0 - (255.0 - f64::from(a)) * shade) as u8;
                let fill = RGBColor(mix(180), mix(72), mix(31));
                chart
                    .draw_series([Rectangle::new(
                        [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                        fill.filled(),
                    )])
                    .map_err(chart_error)?;
                let ink = if shade > 0.5 { WHITE } else { BLACK };
                chart
                    .draw_series([Text::new(
                        count.to_string(),
                        (x - 0.1, y),
                        (FONT, 13).into_font().color(&ink),
                    )])
                    .map_err(chart_error)?;
            }
        }
        Ok(())
    })
}

/// Predicted against actual values, with the line of perfect predictions,
/// one colour per series and a legend when there are several.
pub fn residuals(series: &[Series<'_>], rows: &str) -> Result<String, AppError> {
    let (lo, hi) = series
        .iter()
        .flat_map(|s| s.points)
        .flat_map(|&(p, a)| [p, a])
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
    let axis = Axis::padded(lo, hi);
    let range = axis.range.clone();
    let n = series.len();
    render(400, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("Predicted vs actual ({rows})"),
                (FONT, 16).into_font().color(&TEXT),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(range.clone(), range.clone())
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .light_line_style(GRID)
            .x_desc(axis.desc("predicted"))
            .y_desc(axis.desc("actual"))
            .label_style((FONT, 12).into_font().color(&TEXT))
            .draw()
            .map_err(chart_error)?;
        chart
            .draw_series(LineSeries::new(
                [(range.start, range.start), (range.end, range.end)],
                RGBColor(148, 163, 184),
            ))
            .map_err(chart_error)?;
        for (i, s) in series.iter().enumerate() {
            let colour = series_colour(i, n);
            // Several models' points overlap: fainter, so each stays visible.
            let alpha = if n == 1 { 0.5 } else { 0.35 };
            let drawn = chart
                .draw_series(s.points.iter().map(|&(p, a)| {
                    Circle::new((axis.at(p), axis.at(a)), 2, colour.mix(alpha).filled())
                }))
                .map_err(chart_error)?;
            if n > 1 {
                drawn
                    .label(short(&s.label, 40))
                    .legend(move |(x, y)| Circle::new((x + 8, y), 4, colour.filled()));
            }
        }
        legend(&mut chart, n, SeriesLabelPosition::UpperLeft)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_and_escape_text() {
        let svg = bars(
            "Importance",
            "mean |SHAP|",
            &[("<script>alert(1)</script>".into(), 2.0), ("b".into(), 1.0)],
        )
        .unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script"));
        let swarm = vec![api::Beeswarm {
            feature: "x & y".into(),
            points: vec![(-1.0, Some(0.0)), (2.0, Some(1.0)), (0.5, None)],
        }];
        let svg = beeswarm("SHAP", &swarm).unwrap();
        assert_eq!(
            svg.matches("<circle").count(),
            3 + 1,
            "the dots and the key's mark for missing"
        );
        assert!(svg.contains("x &amp; y"));
        let d = api::Dependence {
            feature: "colour".into(),
            categorical: true,
            grid: vec!["red".into(), "blue".into()],
            outputs: vec!["P(a)".into(), "P(b)".into()],
            curves: vec![vec![0.2, 0.7], vec![0.8, 0.3]],
        };
        let svg = confusion(
            &["a<b".into(), "c".into()],
            &[vec![5, 1], vec![2, 7]],
            "rows",
        )
        .unwrap();
        assert!(svg.contains("a&lt;b") && svg.contains("\n7\n"), "{svg}");
        let svg = curve(
            "ROC",
            "fpr",
            "tpr",
            &Series::only(&[(0.0, 0.0), (0.5, 0.9), (1.0, 1.0)]),
            true,
        )
        .unwrap();
        assert!(svg.contains("<polyline"));
        let svg = residuals(&Series::only(&[(1.0, 1.5), (2.0, 1.8)]), "rows").unwrap();
        assert_eq!(svg.matches("<circle").count(), 2);
        let svg = dependence(&d).unwrap();
        assert!(svg.contains("\nred\n") && svg.contains("\nblue\n"), "{svg}");
        assert!(svg.contains("P(b)"));
    }

    #[test]
    fn counts_are_whole_keys_are_drawn_and_many_categories_stand_upright() {
        // The x axis (0 to 30) has no tick at 1.0 or 0.5: any is the count axis'.
        let h = api::Histogram {
            edges: vec![0.0, 10.0, 20.0, 30.0],
            counts: vec![1, 3, 2],
        };
        let svg = histogram("x", "x", &h).unwrap();
        assert!(
            svg.contains("\n2\n") && !svg.contains("\n1.0\n") && !svg.contains("\n0.5\n"),
            "{svg}"
        );
        let swarm = vec![api::Beeswarm {
            feature: "x".into(),
            points: vec![(-1.0, Some(0.0)), (0.5, None)],
        }];
        let svg = beeswarm("SHAP", &swarm).unwrap();
        assert!(
            svg.contains("feature value:") && svg.contains("\nmissing\n"),
            "{svg}"
        );
        let levels: Vec<serde_json::Value> = (0..19).map(|i| format!("level {i}").into()).collect();
        let d = |grid: Vec<serde_json::Value>| api::Dependence {
            feature: "c".into(),
            categorical: true,
            curves: vec![(0..grid.len()).map(|i| i as f64).collect()],
            grid,
            outputs: vec!["prediction".into()],
        };
        let svg = dependence(&d(levels.clone())).unwrap();
        assert!(svg.contains("rotate(90"), "{svg}");
        let svg = dependence(&d(levels[..3].to_vec())).unwrap();
        assert!(!svg.contains("rotate(90"), "{svg}");
    }

    #[test]
    fn several_models_are_drawn_in_their_own_colours_with_a_legend() {
        let (a, b) = (
            [(0.0, 0.0), (0.2, 0.8), (1.0, 1.0)],
            [(0.0, 0.0), (0.5, 0.6), (1.0, 1.0)],
        );
        let two = [
            Series {
                label: "1. gbdt <best>".into(),
                points: &a,
            },
            Series {
                label: "2. linear".into(),
                points: &b,
            },
        ];
        let svg = curve("ROC", "fpr", "tpr", &two, true).unwrap();
        assert!(
            svg.contains("1. gbdt &lt;best&gt;") && svg.contains("2. linear"),
            "{svg}"
        );
        let (first, second) = (PALETTE[0], PALETTE[1]);
        for c in [first, second] {
            let hex = format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
            assert!(svg.contains(&hex), "{hex} in {svg}");
        }
        let one = curve("ROC", "fpr", "tpr", &Series::only(&a), true).unwrap();
        assert!(!one.contains("#2563EB"), "a single curve keeps the accent");
        let svg = residuals(&two, "held-out rows").unwrap();
        assert!(svg.contains("2. linear"));
        assert_eq!(
            svg.matches("<circle").count(),
            6 + 2,
            "the points and the legend's marks"
        );
    }

    #[test]
    fn values_near_the_largest_double_are_drawn_in_scaled_units() {
        // The span of these edges overflows a double; plotters' tick search
        // looped forever on such a range.
        let edges: Vec<f64> = (0..=20)
            .map(|i| {
                let t = f64::from(i) / 20.0;
                -1.7e308 * (1.0 - t) + 1.5e308 * t
            })
            .collect();
        let h = api::Histogram {
            edges,
            counts: vec![1; 20],
        };
        let svg = histogram("huge", "huge", &h).unwrap();
        assert!(svg.contains("huge (× 1e308)"), "{svg}");
        assert_eq!(svg.matches("<rect").count() - 1, 20, "one bar per bin");
        let svg = residuals(&Series::only(&[(f64::MAX, -f64::MAX), (1.0, 2.0)]), "rows").unwrap();
        assert!(svg.contains("(× 1e308)"));
        let svg = bars("big", "mean |SHAP|", &[("a".into(), 1.5e307)]).unwrap();
        assert!(svg.contains("(× 1e307)"));
        let swarm = vec![api::Beeswarm {
            feature: "x".into(),
            points: vec![(-f64::MAX, Some(0.0)), (f64::MAX, None)],
        }];
        assert!(beeswarm("SHAP", &swarm).unwrap().contains("(× 1e308)"));
    }
}
