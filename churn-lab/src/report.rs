//! The training report: one self-contained HTML page (inline SVG charts, no scripts, no network)
//! plus every chart as SVG and PNG under `charts/`, all drawn with plotters.
//!
//! Charts: ROC and precision–recall curves of every model, calibration, cumulative gain, permutation
//! importance, churn rate by first-purchase cohort, the cohort retention heatmap, and the top
//! features' distributions for churned versus retained customers.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::cohorts::{churn_by_cohort, month_label, retention};
use crate::dataset::LabelledCustomers;
use crate::metrics::{calibration_bins, cumulative_gain, pr_curve, roc_curve};
use crate::training::{TestPredictions, TrainingOutcome, TrainingSummary};
use crate::transactions::Transactions;

pub const REPORT_FILE: &str = "report.html";
pub const PREDICTIONS_FILE: &str = "test_predictions.csv";

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("drawing {chart}: {message}")]
    Draw {
        chart: &'static str,
        message: String,
    },
    #[error("computing cohorts: {0}")]
    Polars(#[from] polars::prelude::PolarsError),
    #[error("{path}: {message}")]
    Predictions { path: PathBuf, message: String },
    #[error(transparent)]
    Artifact(#[from] crate::artifact::ArtifactError),
}

/// The distribution of one feature among churned and retained customers.
#[derive(Debug, Clone)]
pub struct FeatureDistribution {
    pub feature: String,
    pub churned: Vec<f64>,
    pub retained: Vec<f64>,
}

/// Everything the report shows, gathered once.
#[derive(Debug, Clone)]
pub struct ReportData {
    pub summary: TrainingSummary,
    pub test: TestPredictions,
    /// (cohort month index, customers, churn rate)
    pub cohort_churn: Vec<(i32, u32, f64)>,
    /// (cohort month index, months since first purchase, share active)
    pub retention: Vec<(i32, i32, f64)>,
    pub distributions: Vec<FeatureDistribution>,
}

impl ReportData {
    pub fn gather(
        summary: &TrainingSummary,
        test: &TestPredictions,
        customers: &LabelledCustomers,
        transactions: &Transactions,
    ) -> Result<Self, ReportError> {
        let cohorts = churn_by_cohort(transactions, summary.data.cutoff, summary.data.window_days)?;
        let cohort_churn = (0..cohorts.height())
            .filter_map(|i| {
                let get = |c: &str| cohorts.column(c).ok()?.get(i).ok();
                Some((
                    get("cohort")?.try_extract::<i32>().ok()?,
                    get("customers")?.try_extract::<u32>().ok()?,
                    get("churn_rate")?.try_extract::<f64>().ok()?,
                ))
            })
            .collect();
        let table = retention(transactions, summary.data.cutoff)?;
        let retention = (0..table.height())
            .filter_map(|i| {
                let get = |c: &str| table.column(c).ok()?.get(i).ok();
                Some((
                    get("cohort")?.try_extract::<i32>().ok()?,
                    get("offset")?.try_extract::<i32>().ok()?,
                    get("share")?.try_extract::<f64>().ok()?,
                ))
            })
            .collect();
        let distributions = summary
            .permutation_importance
            .iter()
            .take(4)
            .filter_map(|imp| {
                let j = customers.features.column(&imp.feature)?;
                let column = customers.features.values.column(j);
                let pick = |want: bool| {
                    column
                        .iter()
                        .zip(&customers.churned)
                        .filter(|(_, c)| **c == want)
                        .map(|(v, _)| *v)
                        .collect()
                };
                Some(FeatureDistribution {
                    feature: imp.feature.clone(),
                    churned: pick(true),
                    retained: pick(false),
                })
            })
            .collect();
        Ok(Self {
            summary: summary.clone(),
            test: test.clone(),
            cohort_churn,
            retention,
            distributions,
        })
    }
}

impl TestPredictions {
    /// `customer_id,churned,<model>,<model>…`, one test customer a line.
    pub fn write_csv(&self, path: &Path) -> Result<(), ReportError> {
        let mut out = String::from("customer_id,churned");
        for (kind, _) in &self.by_model {
            out.push(',');
            out.push_str(kind.name());
        }
        out.push('\n');
        for (i, churned) in self.churned.iter().enumerate() {
            let id = self.customer_ids.get(i).map_or("", String::as_str);
            out.push_str(&crate::scoring::csv_field(id));
            out.push_str(if *churned { ",1" } else { ",0" });
            for (_, p) in &self.by_model {
                let _ = write!(out, ",{:.8}", p[i]);
            }
            out.push('\n');
        }
        std::fs::write(path, out).map_err(|source| ReportError::Io {
            path: path.to_owned(),
            source,
        })
    }

    pub fn read_csv(path: &Path) -> Result<Self, ReportError> {
        let bad = |message: String| ReportError::Predictions {
            path: path.to_owned(),
            message,
        };
        let body = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let mut lines = body.lines();
        let header = lines.next().ok_or_else(|| bad("empty file".into()))?;
        // Runs written before the customer ids were added start with `churned`.
        let with_ids = header.starts_with("customer_id,");
        let kinds = header
            .split(',')
            .skip(if with_ids { 2 } else { 1 })
            .map(|name| name.parse().map_err(bad))
            .collect::<Result<Vec<crate::models::ModelKind>, _>>()?;
        let (mut customer_ids, mut churned) = (Vec::new(), Vec::new());
        let mut columns: Vec<Vec<f64>> = vec![Vec::new(); kinds.len()];
        for (n, line) in lines.enumerate() {
            let line = if with_ids {
                let (id, rest) = crate::scoring::split_first_field(line);
                customer_ids.push(id);
                rest
            } else {
                line
            };
            let mut fields = line.split(',');
            churned.push(fields.next() == Some("1"));
            for column in columns.iter_mut() {
                let value = fields
                    .next()
                    .and_then(|f| f.parse().ok())
                    .ok_or_else(|| bad(format!("line {}: expected a probability", n + 2)))?;
                column.push(value);
            }
        }
        Ok(Self {
            customer_ids,
            churned,
            by_model: kinds.into_iter().zip(columns).collect(),
        })
    }
}

const SIZE: (u32, u32) = (720, 460);
/// Ten distinct colours (matplotlib's tab10): one per model, however many a run trains.
const COLORS: [RGBColor; 10] = [
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

fn register_fonts() {
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
trait Chart {
    const NAME: &'static str;
    const TITLE: &'static str;
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

macro_rules! drawn {
    ($e:expr) => {
        $e.map_err(|e| e.to_string())?
    };
}

type Points = Vec<(f64, f64)>;

/// A line chart of several named curves on [0,1]², with an optional diagonal.
struct Curves {
    name: &'static str,
    title: &'static str,
    x_desc: &'static str,
    y_desc: &'static str,
    diagonal: bool,
    legend: SeriesLabelPosition,
    curves: Vec<(String, Points)>,
    /// Which of `curves` is the chosen model's.
    chosen: Option<usize>,
}

fn draw_curves<DB: DrawingBackend>(
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

struct Importance(Vec<(String, f64)>);

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
fn segment_month(v: &SegmentValue<i32>) -> String {
    match v {
        SegmentValue::CenterOf(m) | SegmentValue::Exact(m) => month_label(*m),
        SegmentValue::Last => String::new(),
    }
}

struct CohortChurn(Vec<(i32, u32, f64)>);

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

struct Retention(Vec<(i32, i32, f64)>);

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

struct Distributions(Vec<FeatureDistribution>);

fn histogram(values: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<f64> {
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

fn quantile(sorted: &[f64], q: f64) -> f64 {
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

/// One chart of a report, saved twice under `charts/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportChart {
    /// The file stem: `roc`, `pr`, `calibration`, …
    pub name: &'static str,
    pub title: &'static str,
    pub svg: PathBuf,
    pub png: PathBuf,
}

/// A written report: the page and its charts, in the page's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub page: PathBuf,
    pub charts: Vec<ReportChart>,
}

/// Draws a chart twice — SVG for the page, PNG beside it — and returns where they are with
/// the SVG text.
fn render(
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

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Where a saved training run's files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedRun {
    pub model: PathBuf,
    pub metrics: PathBuf,
    pub report: Report,
}

/// Saves a training run into `dir` (made if missing): `model.json`, `metrics.json`, the test
/// predictions and `report.html` with its charts. `churn-lab train --out` and the staff
/// console both save runs with this.
pub fn save_run(
    outcome: &TrainingOutcome,
    transactions: &Transactions,
    dir: &Path,
) -> Result<SavedRun, ReportError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ReportError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let model = outcome.artifact.save(dir)?;
    let metrics = dir.join("metrics.json");
    let body = serde_json::to_vec_pretty(&outcome.summary).map_err(|e| ReportError::Io {
        path: metrics.clone(),
        source: e.into(),
    })?;
    std::fs::write(&metrics, body).map_err(io(&metrics))?;
    outcome.test.write_csv(&dir.join(PREDICTIONS_FILE))?;
    let data = ReportData::gather(
        &outcome.summary,
        &outcome.test,
        &outcome.customers,
        transactions,
    )?;
    let report = write(&data, dir)?;
    Ok(SavedRun {
        model,
        metrics,
        report,
    })
}

/// Writes `report.html` and `charts/` into `dir`.
pub fn write(data: &ReportData, dir: &Path) -> Result<Report, ReportError> {
    register_fonts();
    let charts = dir.join("charts");
    std::fs::create_dir_all(&charts).map_err(|source| ReportError::Io {
        path: charts.clone(),
        source,
    })?;
    let labels = &data.test.churned;
    let chosen = data
        .test
        .by_model
        .iter()
        .position(|(kind, _)| *kind == data.summary.chosen);
    let named = |f: &dyn Fn(&[f64]) -> Points| -> Vec<(String, Points)> {
        data.test
            .by_model
            .iter()
            .map(|(kind, p)| (kind.name().to_owned(), f(p)))
            .collect()
    };
    let roc = Curves {
        name: "roc",
        title: "ROC curves (test customers)",
        x_desc: "false positive rate",
        y_desc: "true positive rate",
        diagonal: true,
        legend: SeriesLabelPosition::LowerRight,
        chosen,
        curves: named(&|p| {
            roc_curve(labels, p)
                .into_iter()
                .map(|r| (r.false_positive_rate, r.true_positive_rate))
                .collect()
        }),
    };
    let pr = Curves {
        name: "pr",
        title: "Precision–recall curves (test customers)",
        x_desc: "recall",
        y_desc: "precision",
        diagonal: false,
        legend: SeriesLabelPosition::LowerLeft,
        chosen,
        curves: named(&|p| {
            pr_curve(labels, p)
                .into_iter()
                .skip(1)
                .map(|r| (r.recall, r.precision))
                .collect()
        }),
    };
    let calibration = Curves {
        name: "calibration",
        title: "Calibration: predicted vs observed churn (test)",
        x_desc: "mean predicted probability",
        y_desc: "observed churn rate",
        diagonal: true,
        legend: SeriesLabelPosition::UpperLeft,
        chosen,
        curves: named(&|p| {
            calibration_bins(labels, p)
                .into_iter()
                .map(|(x, y, _)| (x, y))
                .collect()
        }),
    };
    let gain = Curves {
        name: "cumulative_gain",
        title: "Cumulative gain: churners found in the top k% (test)",
        x_desc: "share of customers contacted (highest risk first)",
        y_desc: "share of churners found",
        diagonal: true,
        legend: SeriesLabelPosition::LowerRight,
        chosen,
        curves: named(&|p| cumulative_gain(labels, p)),
    };
    let mut sections = Vec::new();
    for curves in [&roc, &pr, &calibration, &gain] {
        sections.push(render(curves, curves.name, curves.title, &charts)?);
    }
    let importance = Importance(
        data.summary
            .permutation_importance
            .iter()
            .take(15)
            .map(|f| (f.feature.clone(), f.auc_drop))
            .collect(),
    );
    sections.push(render(
        &importance,
        Importance::NAME,
        Importance::TITLE,
        &charts,
    )?);
    let cohort = CohortChurn(data.cohort_churn.clone());
    sections.push(render(
        &cohort,
        CohortChurn::NAME,
        CohortChurn::TITLE,
        &charts,
    )?);
    let retention = Retention(data.retention.clone());
    sections.push(render(
        &retention,
        Retention::NAME,
        Retention::TITLE,
        &charts,
    )?);
    let distributions = Distributions(data.distributions.clone());
    sections.push(render(
        &distributions,
        Distributions::NAME,
        Distributions::TITLE,
        &charts,
    )?);

    let path = dir.join(REPORT_FILE);
    std::fs::write(&path, page(data, &sections)).map_err(|source| ReportError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(Report {
        page: path,
        charts: sections.into_iter().map(|(chart, _)| chart).collect(),
    })
}

fn page(data: &ReportData, sections: &[(ReportChart, String)]) -> String {
    let s = &data.summary;
    let d = &s.data;
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Churn report — {chosen}</title>\
         <style>body{{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222}}\
         table{{border-collapse:collapse;margin:1rem 0}}td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}}\
         th{{background:#f3f3f3}}td:first-child,th:first-child{{text-align:left}}tr.chosen{{background:#eaf4ea;font-weight:600}}\
         figure{{margin:1.5rem 0}}figcaption{{font-weight:600;margin-bottom:.4rem}}.note{{color:#555}}</style></head><body>\
         <h1>Churn report</h1>\
         <p>Model <strong>{version}</strong> chosen on validation ROC-AUC.</p>\
         <p class=\"note\">Data: {source} ({rows} rows, {customers_all} customers, sha256 {sha}). \
         Cut-off {cutoff}; churned = no purchase in the {window} days from it. {customers} customers known before the cut-off, \
         churn rate {rate:.1}%; split {train}/{val}/{test} (train/validation/test, stratified, seed {seed}).</p>",
        chosen = s.chosen,
        version = escape(&s.chosen_version),
        source = escape(&d.transactions.source),
        rows = d.transactions.rows,
        customers_all = d.transactions.customers,
        sha = d.transactions.sha256.as_deref().unwrap_or("-"),
        cutoff = d.cutoff,
        window = d.window_days,
        customers = d.customers,
        rate = 100.0 * d.churn_rate,
        train = d.train_customers,
        val = d.validation_customers,
        test = d.test_customers,
        seed = d.seed,
    );
    html.push_str(
        "<h2>Models</h2><table><tr><th>model</th><th>validation ROC-AUC</th><th>test ROC-AUC</th>\
         <th>PR-AUC</th><th>Brier</th><th>log-loss</th><th>lift top 10%</th><th>lift top 20%</th><th>fit (s)</th></tr>",
    );
    for m in &s.models {
        let class = if m.model == s.chosen {
            " class=\"chosen\""
        } else {
            ""
        };
        let note = if m.baseline { " (baseline)" } else { "" };
        let _ = write!(
            html,
            "<tr{class}><td>{}{note}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td></tr>",
            m.model,
            m.validation.roc_auc,
            m.test.roc_auc,
            m.test.pr_auc,
            m.test.brier,
            m.test.log_loss,
            m.test.lift_top_10,
            m.test.lift_top_20,
            m.fit_seconds
        );
    }
    html.push_str("</table><p class=\"note\">All but the validation column are measured on test customers no model or calibration saw.</p>");
    if let Some(chosen) = s.models.iter().find(|m| m.model == s.chosen) {
        let c = chosen.test.confusion;
        let _ = write!(
            html,
            "<h2>At the chosen threshold ({t:.3}, best F1 on validation)</h2><table>\
             <tr><th></th><th>predicted churn</th><th>predicted stay</th></tr>\
             <tr><td>churned</td><td>{tp}</td><td>{fn_}</td></tr><tr><td>stayed</td><td>{fp}</td><td>{tn}</td></tr></table>\
             <p>Precision {p:.1}% · recall {r:.1}% on test. Risk bands: medium from {m:.3}, high from {h:.3} \
             (the top 50% and 20% of validation customers).</p>",
            t = s.threshold,
            tp = c.true_positive,
            fn_ = c.false_negative,
            fp = c.false_positive,
            tn = c.true_negative,
            p = 100.0 * c.precision(),
            r = 100.0 * c.recall(),
            m = s.risk_bands.medium,
            h = s.risk_bands.high,
        );
    }
    html.push_str("<h2>Charts</h2>");
    for (chart, svg) in sections {
        let _ = write!(
            html,
            "<figure><figcaption>{}</figcaption>{svg}</figure>",
            escape(chart.title)
        );
    }
    if !s.search.is_empty() {
        html.push_str("<h2>Hyperparameter search (3-fold CV on the training customers)</h2><table><tr><th>model</th><th>mean ROC-AUC</th><th>parameters</th></tr>");
        for t in &s.search {
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{:.4}</td><td style=\"text-align:left\">{}</td></tr>",
                t.model,
                t.cv_roc_auc,
                escape(&t.params.to_string())
            );
        }
        html.push_str("</table>");
    }
    html.push_str("</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ModelKind;

    #[test]
    fn test_predictions_round_trip_with_awkward_ids_and_read_the_old_layout() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(PREDICTIONS_FILE);
        let written = TestPredictions {
            customer_ids: vec!["c1".into(), "Smith, \"Jo\"".into()],
            churned: vec![true, false],
            by_model: vec![
                (ModelKind::Logistic, vec![0.75, 0.25]),
                (ModelKind::Recency, vec![0.5, 0.125]),
            ],
        };
        written.write_csv(&path).unwrap();
        let body = std::fs::read_to_string(&path).unwrap();
        assert!(
            body.starts_with("customer_id,churned,logistic,recency\nc1,1,"),
            "{body}"
        );
        let read = TestPredictions::read_csv(&path).unwrap();
        assert_eq!(read.customer_ids, written.customer_ids);
        assert_eq!(read.churned, written.churned);
        assert_eq!(read.by_model, written.by_model);

        std::fs::write(&path, "churned,logistic\n1,0.75\n0,0.25\n").unwrap();
        let old = TestPredictions::read_csv(&path).unwrap();
        assert!(old.customer_ids.is_empty());
        assert_eq!(old.churned, vec![true, false]);
        assert_eq!(old.by_model, vec![(ModelKind::Logistic, vec![0.75, 0.25])]);
    }
}
