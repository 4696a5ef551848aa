//! The report's charts: each a `Chart` that draws on any plotters backend, rendered to SVG
//! (for the page) and PNG (beside it).

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::cohorts::month_label;

use super::*;

pub(super) const SIZE: (u32, u32) = (720, 460);
/// Ten distinct colours (matplotlib's tab10): one per model, however many a run trains.
pub(super) const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

pub(super) fn register_fonts() {
    static FONTS: Once = Once::new();
    FONTS.call_once(|| {
        // DejaVu ships inside the `dejavu` crate: PNGs get real text on any machine.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
        let _ = plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

/// A chart that can be drawn on any plotters backend (SVG for the page, bitmap for the PNG).
pub(super) trait Chart {
    const NAME: &'static str;
    const TITLE: &'static str;
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

macro_rules! drawn {
    ($e:expr) => {
        $e.map_err(|e| e.to_string())?
    };
}

pub(super) type Points = Vec<(f64, f64)>;

/// A line chart of several named curves on [0,1]², with an optional diagonal.
pub(super) struct Curves {
    pub(super) name: &'static str,
    pub(super) title: &'static str,
    pub(super) x_desc: &'static str,
    pub(super) y_desc: &'static str,
    pub(super) diagonal: bool,
    pub(super) legend: SeriesLabelPosition,
    pub(super) curves: Vec<(String, Points)>,
    /// Which of `curves` is the chosen model's.
    pub(super) chosen: Option<usize>,
}

pub(super) fn draw_curves<DB: DrawingBackend>(
    c: &Curves,
    root: &DrawingArea<DB, Shift>,
) -> Result<(), String> {
    drawn!(root.fill(&WHITE));
    let mut chart = drawn!(
        ChartBuilder::on(root)
            .caption(c.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)
    );
    drawn!(
        chart
            .configure_mesh()
            .x_desc(c.x_desc)
            .y_desc(c.y_desc)
            .draw()
    );
    if c.diagonal {
        drawn!(chart.draw_series(LineSeries::new(
            [(0.0, 0.0), (1.0, 1.0)],
            BLACK.mix(0.3).stroke_width(1)
        )));
    }
    // The chosen model last, so that no other curve covers it.
    let order = (0..c.curves.len())
        .filter(|&i| c.chosen != Some(i))
        .chain(c.chosen);
    for i in order {
        let (label, points) = &c.curves[i];
        let color = COLORS[i % COLORS.len()];
        // The chosen model's curve stands out; the others are there to compare with.
        let (label, width) = if c.chosen == Some(i) {
            (format!("{label} (chosen)"), 4)
        } else {
            (label.clone(), 2)
        };
        drawn!(chart.draw_series(LineSeries::new(
            points.iter().copied(),
            color.stroke_width(width)
        )))
        .label(label)
        .legend(move |(x, y)| {
            PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(width))
        });
    }
    drawn!(
        chart
            .configure_series_labels()
            .position(c.legend.clone())
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font(("sans-serif", 13))
            .draw()
    );
    Ok(())
}

pub(super) struct Importance(pub(super) Vec<(String, f64)>);

impl Chart for Importance {
    const NAME: &'static str = "feature_importance";
    const TITLE: &'static str = "Permutation importance (drop in validation ROC-AUC)";
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        drawn!(root.fill(&WHITE));
        let n = self.0.len().max(1) as i32;
        let max = self.0.iter().map(|f| f.1).fold(1e-6, f64::max) * 1.1;
        let min = self.0.iter().map(|f| f.1).fold(0.0, f64::min);
        // Most important on top: row i of the list sits at y = n - 1 - i.
        let label_of = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(y) | SegmentValue::Exact(y) => self
                .0
                .get((n - 1 - y) as usize)
                .map(|f| f.0.clone())
                .unwrap_or_default(),
            SegmentValue::Last => String::new(),
        };
        let mut chart = drawn!(
            ChartBuilder::on(root)
                .caption(Self::TITLE, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(170)
                .build_cartesian_2d(min..max, (0..n - 1).into_segmented())
        );
        drawn!(
            chart
                .configure_mesh()
                .y_labels(n as usize)
                .y_label_formatter(&label_of)
                .disable_y_mesh()
                .x_desc("ROC-AUC drop")
                .draw()
        );
        drawn!(
            chart.draw_series(self.0.iter().enumerate().map(|(i, (_, v))| {
                let y = n - 1 - i as i32;
                let mut bar = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(y)),
                        (*v, SegmentValue::Exact(y + 1)),
                    ],
                    COLORS[0].filled(),
                );
                bar.set_margin(3, 3, 0, 0);
                bar
            }))
        );
        Ok(())
    }
}

/// A month's label on a month-segmented axis.
pub(super) fn segment_month(v: &SegmentValue<i32>) -> String {
    match v {
        SegmentValue::CenterOf(m) | SegmentValue::Exact(m) => month_label(*m),
        SegmentValue::Last => String::new(),
    }
}

pub(super) struct CohortChurn(pub(super) Vec<(i32, u32, f64)>);

impl Chart for CohortChurn {
    const NAME: &'static str = "cohort_churn";
    const TITLE: &'static str = "Churn rate by first-purchase month";
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        drawn!(root.fill(&WHITE));
        let first = self.0.first().map_or(0, |c| c.0);
        let last = self.0.last().map_or(0, |c| c.0);
        // One segment a month: each label sits under its own bar.
        let mut chart = drawn!(
            ChartBuilder::on(root)
                .caption(Self::TITLE, ("sans-serif", 20))
                .margin(12)
                .x_label_area_size(50)
                .y_label_area_size(50)
                .build_cartesian_2d((first..last).into_segmented(), 0f64..1f64)
        );
        drawn!(
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(((last - first + 1) as usize).min(12))
                .x_label_formatter(&segment_month)
                .x_desc("first-purchase month")
                .y_desc("churn rate")
                .draw()
        );
        let bar = |month: i32, rate: f64| {
            [
                (SegmentValue::Exact(month), 0.0),
                (SegmentValue::Exact(month + 1), rate),
            ]
        };
        drawn!(chart.draw_series(self.0.iter().map(|&(month, _, rate)| {
            Rectangle::new(bar(month, rate), COLORS[3].mix(0.8).filled())
        })));
        // White edges keep neighbouring months apart.
        drawn!(chart.draw_series(
            self.0.iter().map(|&(month, _, rate)| {
                Rectangle::new(bar(month, rate), WHITE.stroke_width(6))
            })
        ));
        Ok(())
    }
}

pub(super) struct Retention(pub(super) Vec<(i32, i32, f64)>);

impl Chart for Retention {
    const NAME: &'static str = "cohort_retention";
    const TITLE: &'static str = "Share of each cohort buying k months after its first purchase";
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        drawn!(root.fill(&WHITE));
        let first = self.0.iter().map(|r| r.0).min().unwrap_or(0);
        let last = self.0.iter().map(|r| r.0).max().unwrap_or(0) + 1;
        let offsets = self.0.iter().map(|r| r.1).max().unwrap_or(0) + 1;
        // Month 0 is everyone by construction; scale colours on the later months.
        let top = self
            .0
            .iter()
            .filter(|r| r.1 > 0)
            .map(|r| r.2)
            .fold(1e-6, f64::max);
        let mut chart = drawn!(
            ChartBuilder::on(root)
                .caption(Self::TITLE, ("sans-serif", 17))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d(0f64..offsets as f64, (first..last - 1).into_segmented())
        );
        drawn!(
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc("months since first purchase")
                .y_labels(((last - first) as usize).min(24))
                .y_label_formatter(&segment_month)
                .draw()
        );
        let shade = |offset: i32, share: f64| {
            let t = if offset == 0 {
                1.0
            } else {
                (share / top).clamp(0.0, 1.0)
            };
            (
                t,
                RGBColor(
                    (247.0 - 239.0 * t) as u8,
                    (251.0 - 203.0 * t) as u8,
                    (255.0 - 148.0 * t) as u8,
                ),
            )
        };
        drawn!(
            chart.draw_series(self.0.iter().map(|(cohort, offset, share)| {
                let x = *offset as f64;
                Rectangle::new(
                    [
                        (x, SegmentValue::Exact(*cohort)),
                        (x + 1.0, SegmentValue::Exact(cohort + 1)),
                    ],
                    shade(*offset, *share).1.filled(),
                )
            }))
        );
        // Percentages in the cells while they are large enough to read.
        if self.0.len() <= 400 {
            drawn!(
                chart.draw_series(self.0.iter().map(|(cohort, offset, share)| {
                    let t = shade(*offset, *share).0;
                    let color = if t > 0.5 { WHITE } else { BLACK };
                    Text::new(
                        format!("{:.0}%", share * 100.0),
                        (*offset as f64 + 0.3, SegmentValue::CenterOf(*cohort)),
                        ("sans-serif", 11).into_font().color(&color),
                    )
                }))
            );
        }
        Ok(())
    }
}

pub(super) struct Distributions(pub(super) Vec<FeatureDistribution>);

pub(super) fn histogram(values: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<f64> {
    let mut counts = vec![0.0; bins];
    for &v in values {
        let b = (((v - lo) / (hi - lo)) * bins as f64)
            .floor()
            .clamp(0.0, bins as f64 - 1.0);
        counts[b as usize] += 1.0;
    }
    let total = values.len().max(1) as f64;
    counts.iter().map(|c| c / total).collect()
}

pub(super) fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

impl Chart for Distributions {
    const NAME: &'static str = "feature_distributions";
    const TITLE: &'static str = "Top features: churned vs retained";
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        drawn!(root.fill(&WHITE));
        let panels = root.split_evenly((2, 2));
        for (panel, d) in panels.iter().zip(&self.0) {
            let mut all: Vec<f64> = d.churned.iter().chain(&d.retained).copied().collect();
            if all.is_empty() {
                continue;
            }
            all.sort_by(f64::total_cmp);
            let (lo, mut hi) = (quantile(&all, 0.01), quantile(&all, 0.99));
            if hi <= lo {
                hi = lo + 1.0;
            }
            const BINS: usize = 20;
            let churned = histogram(&d.churned, lo, hi, BINS);
            let retained = histogram(&d.retained, lo, hi, BINS);
            let top = churned
                .iter()
                .chain(&retained)
                .copied()
                .fold(1e-6, f64::max)
                * 1.1;
            let width = (hi - lo) / BINS as f64;
            let mut chart = drawn!(
                ChartBuilder::on(panel)
                    .caption(&d.feature, ("sans-serif", 14))
                    .margin(6)
                    .x_label_area_size(25)
                    .y_label_area_size(40)
                    .build_cartesian_2d(lo..hi, 0f64..top)
            );
            drawn!(chart.configure_mesh().x_labels(5).y_labels(4).draw());
            for (shares, color, label) in [
                (&retained, COLORS[0], "retained"),
                (&churned, COLORS[3], "churned"),
            ] {
                drawn!(chart.draw_series(shares.iter().enumerate().map(|(b, s)| {
                    let x = lo + b as f64 * width;
                    Rectangle::new([(x, 0.0), (x + width, *s)], color.mix(0.45).filled())
                })))
                .label(label)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.mix(0.6).filled())
                });
            }
            drawn!(
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperRight)
                    .background_style(WHITE.mix(0.85))
                    .label_font(("sans-serif", 11))
                    .draw()
            );
        }
        Ok(())
    }
}

impl Chart for Curves {
    const NAME: &'static str = "";
    const TITLE: &'static str = "";
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        draw_curves(self, root)
    }
}

/// Draws a chart twice — SVG for the page, PNG beside it — and returns where they are with
/// the SVG text.
pub(super) fn render(
    chart: &impl Chart,
    name: &'static str,
    title: &'static str,
    charts: &Path,
) -> Result<(ReportChart, String), ReportError> {
    let draw_error = |message: String| ReportError::Draw {
        chart: title,
        message,
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        chart.draw(&root).map_err(draw_error)?;
        root.present().map_err(|e| draw_error(e.to_string()))?;
    }
    let png = charts.join(format!("{name}.png"));
    {
        let root = BitMapBackend::new(&png, SIZE).into_drawing_area();
        chart.draw(&root).map_err(draw_error)?;
        root.present().map_err(|e| draw_error(e.to_string()))?;
    }
    let svg_path = charts.join(format!("{name}.svg"));
    std::fs::write(&svg_path, &svg).map_err(|source| ReportError::Io {
        path: svg_path.clone(),
        source,
    })?;
    let chart = ReportChart {
        name,
        title,
        svg: svg_path,
        png,
    };
    Ok((chart, svg))
}
