//! The forecast charts, drawn with plotters as SVG like every other chart
//! (`crate::charts`): an item's history with its backtest forecasts, the
//! future P50 and the quantile band; and the series profile's line,
//! decomposition and autocorrelation charts. The x axis counts steps and
//! is labelled with their timestamps.

use automl::forecast::profile::SeriesProfile;
use automl::forecast::time::{self, Frequency};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{StoredItem, level_name};
use crate::charts::{ACCENT, Axis, FONT, GRID, PALETTE, TEXT, chart_error, legend, render, short};
use crate::error::AppError;

const HISTORY: RGBColor = RGBColor(51, 65, 85);
const BAND: RGBColor = RGBColor(37, 99, 235);
/// At least this many steps of history are drawn before the forecast.
const SHOWN_HISTORY: usize = 48;

/// Labels step `t` (counted from `start`) with its timestamp.
fn stamps(start: &str, frequency: Frequency) -> impl Fn(&f64) -> String {
    let start = time::parse_stamp(start, false);
    move |t: &f64| {
        let Some(start) = start.as_ref() else {
            return format!("{t:.0}");
        };
        if t.fract().abs() > 1e-9 || *t < -1e9 || *t > 1e9 {
            return String::new();
        }
        let at = frequency.advance(start, *t as i64);
        let text = time::format_stamp(&at);
        // Dates alone on a daily or coarser grid.
        text.strip_suffix(" 00:00:00")
            .map_or(text.clone(), str::to_owned)
    }
}

fn bounds<'a>(values: impl Iterator<Item = &'a f64>) -> (f64, f64) {
    values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(*v), h.max(*v))
        })
}

/// One item's forecast: the last of its history, the shipped forecaster's
/// backtest forecasts (one colour per window), the future P50, and the band
/// between the outer quantiles (and the inner pair, when there are four or more).
pub fn forecast(
    item: &StoredItem,
    frequency: Frequency,
    levels: &[f64],
) -> Result<String, AppError> {
    let n = item.history.len();
    let h = item.point.len();
    let earliest_backtest = item.backtests.iter().map(|b| b.cutoff).min().unwrap_or(n);
    let from = n
        .saturating_sub(SHOWN_HISTORY.max(8 * h).max(4 * frequency.season()))
        .min(earliest_backtest.saturating_sub(2 * h));
    let (lo, hi) = bounds(
        item.history[from..]
            .iter()
            .chain(item.quantiles.iter().flatten())
            .chain(item.point.iter())
            .chain(item.backtests.iter().flat_map(|b| b.values.iter())),
    );
    let y = Axis::padded(lo, hi);
    let label = stamps(&item.start, frequency);
    let x_range = from as f64..(n + h) as f64 - 0.5;
    let band_name = match (levels.first(), levels.last()) {
        (Some(a), Some(b)) if levels.len() >= 2 => {
            format!(
                "{}–{} band",
                level_name(*a).to_uppercase(),
                level_name(*b).to_uppercase()
            )
        }
        _ => String::new(),
    };
    render(400, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(short(&item.item, 60), (FONT, 16).into_font().color(&TEXT))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(x_range.clone(), y.range.clone())
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .light_line_style(GRID)
            .x_labels(6)
            .x_label_formatter(&label)
            .y_desc(y.desc("value"))
            .label_style((FONT, 12).into_font().color(&TEXT))
            .draw()
            .map_err(chart_error)?;
        // The band first, under the lines.
        let last = n - 1;
        let k = item.quantiles.len();
        let pairs: Vec<(usize, usize, f64)> = match k {
            0 | 1 => Vec::new(),
            2 | 3 => vec![(0, k - 1, 0.22)],
            _ => vec![(0, k - 1, 0.18), (1, k - 2, 0.3)],
        };
        for (index, (a, b, alpha)) in pairs.into_iter().enumerate() {
            let upper = item.quantiles[b]
                .iter()
                .enumerate()
                .map(|(j, v)| ((n + j) as f64, y.at(*v)));
            let lower = item.quantiles[a]
                .iter()
                .enumerate()
                .rev()
                .map(|(j, v)| ((n + j) as f64, y.at(*v)));
            let mut outline: Vec<(f64, f64)> = vec![(last as f64, y.at(item.history[last]))];
            outline.extend(upper);
            outline.extend(lower);
            let drawn = chart
                .draw_series(std::iter::once(Polygon::new(
                    outline,
                    BAND.mix(alpha).filled(),
                )))
                .map_err(chart_error)?;
            if index == 0 {
                drawn.label(band_name.clone()).legend(|(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 16, y + 5)], BAND.mix(0.25).filled())
                });
            }
        }
        chart
            .draw_series(LineSeries::new(
                item.history[from..]
                    .iter()
                    .enumerate()
                    .map(|(j, v)| ((from + j) as f64, y.at(*v))),
                HISTORY.stroke_width(2),
            ))
            .map_err(chart_error)?
            .label("history")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], HISTORY.stroke_width(2)));
        let mut windows: Vec<usize> = item.backtests.iter().map(|b| b.window).collect();
        windows.sort_unstable();
        windows.dedup();
        for b in &item.backtests {
            let colour = PALETTE[(3 + b.window) % PALETTE.len()];
            let points = std::iter::once((b.cutoff as f64 - 1.0, y.at(item.history[b.cutoff - 1])))
                .chain(
                    b.values
                        .iter()
                        .enumerate()
                        .map(|(j, v)| ((b.cutoff + j) as f64, y.at(*v))),
                );
            let drawn = chart
                .draw_series(LineSeries::new(points, colour.stroke_width(1)))
                .map_err(chart_error)?;
            if b.window == windows[0] {
                drawn.label("backtest forecasts").legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(1))
                });
            }
        }
        let p50 = std::iter::once((last as f64, y.at(item.history[last]))).chain(
            item.point
                .iter()
                .enumerate()
                .map(|(j, v)| ((n + j) as f64, y.at(*v))),
        );
        chart
            .draw_series(LineSeries::new(p50, BAND.stroke_width(2)))
            .map_err(chart_error)?
            .label("forecast (P50)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BAND.stroke_width(2)));
        legend(&mut chart, 2, SeriesLabelPosition::UpperLeft)
    })
}

/// A line chart of one series on `area`, `title` above it.
fn line_panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    title: &str,
    points: &[(f64, f64)],
    x_range: std::ops::Range<f64>,
    label: &dyn Fn(&f64) -> String,
    colour: RGBColor,
    x_axis: bool,
) -> Result<(), AppError> {
    let (lo, hi) = bounds(points.iter().map(|p| &p.1));
    let y = Axis::padded(lo, hi);
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 13).into_font().color(&TEXT))
        .margin(6)
        .x_label_area_size(if x_axis { 30 } else { 6 })
        .y_label_area_size(64)
        .build_cartesian_2d(x_range, y.range.clone())
        .map_err(chart_error)?;
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(GRID)
        .x_labels(6)
        .y_labels(4)
        .x_label_formatter(label)
        .y_desc(y.desc(""))
        .label_style((FONT, 11).into_font().color(&TEXT));
    if !x_axis {
        mesh.disable_x_axis();
    }
    mesh.draw().map_err(chart_error)?;
    // A gap where a part is undefined (the trend's ends): segments between them.
    let mut run: Vec<(f64, f64)> = Vec::new();
    let mut draw = |run: &mut Vec<(f64, f64)>| -> Result<(), AppError> {
        if !run.is_empty() {
            chart
                .draw_series(LineSeries::new(run.drain(..), colour.stroke_width(2)))
                .map_err(chart_error)?;
        }
        Ok(())
    };
    for (x, v) in points {
        if v.is_finite() {
            run.push((*x, y.at(*v)));
        } else {
            draw(&mut run)?;
        }
    }
    draw(&mut run)
}

/// The series as a line.
pub fn series(
    title: &str,
    values: &[f64],
    start: &str,
    frequency: Frequency,
) -> Result<String, AppError> {
    let label = stamps(start, frequency);
    let points: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .map(|(t, v)| (t as f64, *v))
        .collect();
    let x = -0.5..values.len().max(1) as f64 - 0.5;
    render(300, |root| {
        line_panel(root, &short(title, 60), &points, x, &label, ACCENT, true)
    })
}

/// The classical decomposition: observed, trend, season and remainder, stacked.
pub fn decomposition(
    values: &[f64],
    profile: &SeriesProfile,
    start: &str,
    frequency: Frequency,
) -> Result<String, AppError> {
    let label = stamps(start, frequency);
    let x = -0.5..values.len().max(1) as f64 - 0.5;
    let at = |v: &[Option<f64>]| -> Vec<(f64, f64)> {
        v.iter()
            .enumerate()
            .map(|(t, v)| (t as f64, v.unwrap_or(f64::NAN)))
            .collect()
    };
    let observed: Vec<Option<f64>> = values.iter().copied().map(Some).collect();
    let seasonal: Vec<Option<f64>> = profile.seasonal.iter().copied().map(Some).collect();
    let season_title = if profile.season > 1 {
        format!("season ({} steps)", profile.season)
    } else {
        "season (none: fewer than two full seasons)".to_owned()
    };
    let panels = [
        ("observed".to_owned(), at(&observed), HISTORY),
        (
            "trend (centred moving average)".to_owned(),
            at(&profile.trend),
            ACCENT,
        ),
        (season_title, at(&seasonal), PALETTE[2]),
        ("remainder".to_owned(), at(&profile.remainder), PALETTE[4]),
    ];
    render(4 * 150, |root| {
        let areas = root.split_evenly((4, 1));
        for (i, (area, (title, points, colour))) in areas.iter().zip(&panels).enumerate() {
            line_panel(area, title, points, x.clone(), &label, *colour, i == 3)?;
        }
        Ok(())
    })
}

/// Autocorrelations by lag, with the ±1.96/√n band of white noise.
pub fn acf(acf: &[f64], n: usize, season: usize) -> Result<String, AppError> {
    let lags = acf.len().max(1);
    let bound = 1.96 / (n.max(1) as f64).sqrt();
    render(300, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Autocorrelation", (FONT, 16).into_font().color(&TEXT))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(50)
            .build_cartesian_2d(0.5..lags as f64 + 0.5, -1.0..1.0)
            .map_err(chart_error)?;
        chart
            .configure_mesh()
            .light_line_style(GRID)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .x_desc(if season > 1 {
                format!("lag (season: {season} steps)")
            } else {
                "lag".to_owned()
            })
            .label_style((FONT, 12).into_font().color(&TEXT))
            .draw()
            .map_err(chart_error)?;
        for level in [bound, -bound] {
            chart
                .draw_series(LineSeries::new(
                    [(0.5, level), (lags as f64 + 0.5, level)],
                    BAND.mix(0.6),
                ))
                .map_err(chart_error)?;
        }
        chart
            .draw_series(acf.iter().enumerate().map(|(i, r)| {
                let lag = (i + 1) as f64;
                let colour = if season > 1 && (i + 1) % season == 0 {
                    ACCENT
                } else {
                    HISTORY
                };
                Rectangle::new(
                    [(lag - 0.3, 0.0), (lag + 0.3, r.clamp(-1.0, 1.0))],
                    colour.filled(),
                )
            }))
            .map_err(chart_error)?;
        Ok(())
    })
}
