//! The lifetime models on the CDNOW data their papers used. Fitted on the 2,357-customer
//! summary of Fader, Hardie & Lee, BG/NBD and Gamma-Gamma give the published parameters and
//! the paper's worked example; fitted on the whole shop as of 1997-10-01, they foresee the
//! next 39 weeks (to the data's end) in aggregate.

use std::collections::HashMap;

use chrono::NaiveDate;
use churn_lab::Transactions;
use churn_lab::dataset::FeatureMatrix;
use churn_lab::features::feature_names;
use churn_lab::lifetime::LifetimeModels;
use churn_lab::models::bgnbd::{BgNbd, History};
use churn_lab::models::gamma_gamma::{GammaGamma, Spend};
use ndarray::Array2;

mod common;

/// `x, t_x, T, zbar` of each customer: repeat purchases, the last one's time and the time
/// observed (weeks), the repeat purchases' mean value ($).
fn papers_sample() -> Vec<[f64; 4]> {
    let path = common::lifetimes_dataset("cdnow_customers_summary_with_transactions.csv");
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<f64> = line.split(',').map(|f| f.parse().unwrap()).collect();
            [fields[1], fields[2], fields[3], fields[4]]
        })
        .collect()
}

fn close(actual: f64, published: f64, tolerance: f64) -> bool {
    (actual - published).abs() <= tolerance
}

#[test]
fn fitted_on_the_papers_sample_they_give_the_published_parameters() {
    let sample = papers_sample();
    assert_eq!(sample.len(), 2357);
    // As the churn features: purchase_days, recency_days, tenure_days.
    let features = Array2::from_shape_fn((sample.len(), 3), |(i, j)| {
        let [x, t_x, age, _] = sample[i];
        [x + 1.0, (age - t_x) * 7.0, age * 7.0][j]
    });
    let orders = BgNbd::fit(&features, [0, 1, 2], 273).unwrap();
    let published = [0.243, 4.414, 0.793, 2.426];
    let fitted = [orders.r, orders.alpha, orders.a, orders.b];
    assert!(
        fitted
            .iter()
            .zip(published)
            .all(|(&f, p)| close(f, p, 0.0015 * p.max(1.0))),
        "r, α, a, b = {fitted:?}"
    );
    let example = History {
        repeats: 2.0,
        last: 30.43,
        age: 38.86,
    };
    let expected = orders.expected_purchases(&example, 39.0);
    assert!(close(expected, 1.226, 0.001), "{expected}");

    let spends: Vec<Spend> = sample
        .iter()
        .filter(|c| c[0] > 0.0)
        .map(|&[x, _, _, mean]| Spend { purchases: x, mean })
        .collect();
    assert_eq!(spends.len(), 946);
    let spend = GammaGamma::fit(&spends, [0, 1]).unwrap();
    let fitted = [spend.p, spend.q, spend.gamma];
    assert!(
        close(spend.p, 6.25, 0.01) && close(spend.q, 3.74, 0.01) && close(spend.gamma, 15.44, 0.02),
        "p, q, γ = {fitted:?}"
    );
    println!(
        "CDNOW sample: BG/NBD r {:.4} α {:.4} a {:.4} b {:.4}, customer 1 expects {expected:.4} \
         purchases in 39 weeks; Gamma-Gamma p {:.4} q {:.4} γ {:.4}",
        orders.r, orders.alpha, orders.a, orders.b, spend.p, spend.q, spend.gamma
    );
    // lifetimes' documented conditional expected average profit of customer 1.
    let first = spend.expected_spend(&Spend {
        purchases: 2.0,
        mean: 22.35,
    });
    assert!(close(first, 24.6586, 0.005), "{first}");
}

#[test]
fn fitted_on_the_whole_shop_they_foresee_the_next_39_weeks() {
    let transactions = Transactions::from_path(common::cdnow_csv()).unwrap();
    let names = feature_names(false);
    let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
    // The paper's split: 39 weeks to fit on, the 39 weeks after to check (the data's end).
    let before = FeatureMatrix::compute(&transactions, None, day("1997-10-01"), &names).unwrap();
    let after = FeatureMatrix::compute(&transactions, None, day("1998-07-01"), &names).unwrap();
    let models = LifetimeModels::fit(&before.values, &names).unwrap();
    let column = |name: &str| names.iter().position(|n| n == name).unwrap();
    let (days, total) = (column("purchase_days"), column("monetary_total"));
    let later: HashMap<&str, [f64; 2]> = after
        .customer_ids
        .iter()
        .zip(after.values.rows())
        .map(|(id, row)| (id.as_str(), [row[days], row[total]]))
        .collect();

    let (mut predicted, mut actual) = (0.0, 0.0);
    let mut pairs: Vec<(f64, f64)> = Vec::with_capacity(before.len());
    let (mut predicted_spend, mut actual_spend, mut spenders) = (0.0, 0.0, 0.0);
    for (id, row) in before.customer_ids.iter().zip(before.values.rows()) {
        let [days_later, total_later] = later[id.as_str()];
        let bought = days_later - row[days];
        let expected = models
            .orders
            .expected_purchases(&models.orders.history(row), 39.0);
        predicted += expected;
        actual += bought;
        pairs.push((expected, bought));
        // Spend per purchase day of repeat customers who came back.
        if row[days] >= 2.0 && bought > 0.0 {
            predicted_spend += models.spend.expected_spend(&models.spend.spend(row));
            actual_spend += (total_later - row[total]) / bought;
            spenders += 1.0;
        }
    }
    let correlation = correlation(&pairs);
    println!(
        "CDNOW 1997-10-01 → 1998-06-30: purchase days predicted {predicted:.0}, actual \
         {actual:.0}, correlation per customer {correlation:.3}; spend per purchase day of \
         {spenders} returning repeat customers predicted {:.2}, actual {:.2}; {models:?}",
        predicted_spend / spenders,
        actual_spend / spenders
    );
    // BG/NBD forecasts CDNOW's holdout low: on the paper's own 2,357 customers its published
    // parameters give 1,654 repeat purchase days against 1,882 bought (−12%; mpmath, from the
    // lifetimes summary and CDNOW_sample.txt). On the whole shop it is −15.5%. The bound
    // catches a wrong unit or formula, which are off by multiples.
    assert!(
        (predicted - actual).abs() / actual < 0.2,
        "{predicted} vs {actual}"
    );
    assert!(correlation > 0.5, "{correlation}");
    let (predicted_spend, actual_spend) = (predicted_spend / spenders, actual_spend / spenders);
    assert!(
        (predicted_spend - actual_spend).abs() / actual_spend < 0.1,
        "{predicted_spend} vs {actual_spend}"
    );
}

/// Pearson's correlation of predicted and actual purchases over customers.
fn correlation(pairs: &[(f64, f64)]) -> f64 {
    let n = pairs.len() as f64;
    let (mx, my) = pairs
        .iter()
        .fold((0.0, 0.0), |(x, y), &(p, a)| (x + p / n, y + a / n));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for &(p, a) in pairs {
        sxy += (p - mx) * (a - my);
        sxx += (p - mx) * (p - mx);
        syy += (a - my) * (a - my);
    }
    sxy / (sxx * syy).sqrt()
}
