//! The two promises of the feature definition: nothing after the cut-off leaks into a feature,
//! and scoring one customer alone equals scoring them with the whole shop — churn and lifetime
//! value alike. And what a trained artifact's lifetime models predict, and that artifacts
//! written before them still load.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{Duration, NaiveDate};
use churn_lab::ModelArtifact;
use churn_lab::artifact::ArtifactError;
use churn_lab::dataset::FeatureMatrix;
use churn_lab::features::{customer_features, feature_names};
use churn_lab::lifetime::{Lifetime, NextOrder, ShortHistory};
use churn_lab::models::ModelKind;
use churn_lab::scoring::{score, score_customer};
use churn_lab::synthetic;
use churn_lab::training::{Silent, TrainingConfig, TrainingSummary, train};
use churn_lab::transactions::{Event, Events, Transaction, TransactionKind, Transactions};

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2023, 1, 1).unwrap()
}

fn features(tx: &[Transaction], events: &[Event], as_of: NaiveDate) -> FeatureMatrix {
    let frame = customer_features(
        Transactions::from_records(tx).lazy(),
        Some(Events::from_records(events).lazy()),
        as_of,
    )
    .collect()
    .unwrap();
    FeatureMatrix::from_frame(&frame, &feature_names(true)).unwrap()
}

#[test]
fn changing_anything_after_the_cutoff_changes_no_feature() {
    let tx = synthetic::transactions(400, start(), 700, 11);
    let events = synthetic::events(&tx, 12);
    let cutoff = start() + Duration::days(400);
    let at_cutoff = cutoff.and_hms_opt(0, 0, 0).unwrap();
    let original = features(&tx, &events, cutoff);
    assert!(
        original.len() > 200,
        "the synthetic shop has customers before the cut-off"
    );

    // Rewrite the future: other amounts and kinds, dropped rows, new rows and customers.
    let mut future_tx: Vec<Transaction> = tx
        .iter()
        .filter(|t| t.ordered_at < at_cutoff || t.amount as i64 % 3 != 0)
        .cloned()
        .map(|mut t| {
            if t.ordered_at >= at_cutoff {
                t.amount *= 7.0;
                t.kind = TransactionKind::Refund;
            }
            t
        })
        .collect();
    for (i, t) in tx.iter().take(50).enumerate() {
        future_tx.push(Transaction {
            ordered_at: at_cutoff + Duration::hours(i as i64),
            ..t.clone()
        });
        future_tx.push(Transaction {
            customer_id: format!("new-{i}"),
            ordered_at: at_cutoff + Duration::days(3),
            ..t.clone()
        });
    }
    let mut future_events: Vec<Event> = events
        .iter()
        .filter(|e| e.occurred_at < at_cutoff)
        .cloned()
        .collect();
    for e in events.iter().take(200) {
        future_events.push(Event {
            occurred_at: at_cutoff + Duration::minutes(1),
            kind: "checkout_started".into(),
            ..e.clone()
        });
    }
    let rewritten = features(&future_tx, &future_events, cutoff);
    assert_eq!(rewritten.customer_ids, original.customer_ids);
    assert_eq!(rewritten.values, original.values);

    // And the test can fail: one purchase a day before the cut-off does change features.
    let mut past = tx.clone();
    past.push(Transaction {
        ordered_at: at_cutoff - Duration::days(1),
        ..tx[0].clone()
    });
    assert_ne!(features(&past, &events, cutoff).values, original.values);
}

/// A synthetic shop of 1,500 customers (seeds 21 and 22) and a gradient-boosting model trained
/// on it with events, cut-off on day 500 and a 120-day window; shared by the tests below.
struct Trained {
    tx: Vec<Transaction>,
    events: Vec<Event>,
    artifact: ModelArtifact,
    summary: TrainingSummary,
}

fn trained() -> &'static Trained {
    static TRAINED: OnceLock<Trained> = OnceLock::new();
    TRAINED.get_or_init(|| {
        let tx = synthetic::transactions(1500, start(), 700, 21);
        let events = synthetic::events(&tx, 22);
        let cutoff = start() + Duration::days(500);
        let mut config = TrainingConfig::new(cutoff, 120);
        config.search = false;
        config.models = vec![ModelKind::Recency, ModelKind::GradientBoosting];
        let outcome = train(
            &Transactions::from_records(&tx),
            Some(&Events::from_records(&events)),
            &config,
            &Silent,
        )
        .unwrap();
        Trained {
            tx,
            events,
            artifact: outcome.artifact,
            summary: outcome.summary,
        }
    })
}

#[test]
fn one_customer_alone_scores_exactly_as_in_the_whole_shop() {
    let Trained {
        tx,
        events,
        artifact,
        ..
    } = trained();
    assert!(artifact.uses_events());

    let as_of = start() + Duration::days(620);
    let batch = score(
        artifact,
        &Transactions::from_records(tx),
        Some(&Events::from_records(events)),
        as_of,
    )
    .unwrap();
    assert!(batch.len() > 1000);

    let mut tx_of: HashMap<&str, Vec<Transaction>> = HashMap::new();
    for t in tx {
        tx_of.entry(&t.customer_id).or_default().push(t.clone());
    }
    let mut events_of: HashMap<&str, Vec<Event>> = HashMap::new();
    for e in events {
        events_of.entry(&e.customer_id).or_default().push(e.clone());
    }
    for scored in &batch {
        let id = scored.customer_id.as_str();
        let alone = score_customer(
            artifact,
            &tx_of[id],
            events_of.get(id).map(Vec::as_slice).unwrap_or_default(),
            as_of,
        )
        .unwrap()
        .expect("a customer with purchases is scorable");
        assert_eq!(alone.score.customer_id, scored.customer_id);
        assert!(
            (alone.score.churn_probability - scored.churn_probability).abs() < 1e-12,
            "{id}: alone {} vs batch {}",
            alone.score.churn_probability,
            scored.churn_probability
        );
        assert_eq!(alone.score.band, scored.band);
        assert_eq!(alone.score.lifetime, scored.lifetime, "{id}");
        for driver in &alone.drivers {
            assert!(driver.effect > 0.0);
            assert!(!driver.description.is_empty(), "{id}: {driver:?}");
        }
    }

    // A customer whose only order comes after as-of is not scorable.
    let late = Transaction {
        customer_id: "late".into(),
        ordered_at: as_of.and_hms_opt(12, 0, 0).unwrap(),
        amount: 10.0,
        quantity: 1,
        kind: TransactionKind::Purchase,
    };
    assert!(
        score_customer(artifact, &[late], &[], as_of)
            .unwrap()
            .is_none()
    );
}

fn purchase(customer: &str, day: NaiveDate, amount: f64) -> Transaction {
    Transaction {
        customer_id: customer.into(),
        ordered_at: day.and_hms_opt(12, 0, 0).unwrap(),
        amount,
        quantity: 1,
        kind: TransactionKind::Purchase,
    }
}

#[test]
fn a_trained_artifact_predicts_lifetime_value_for_repeat_customers_only() {
    let Trained {
        tx,
        events,
        artifact,
        summary,
    } = trained();
    let models = artifact
        .lifetime
        .expect("lifetime models fitted at training");
    assert_eq!(summary.lifetime_not_fitted, None);
    assert_eq!(models.customers, summary.data.train_customers);
    assert!(models.repeat_customers > 100, "{}", models.repeat_customers);

    let as_of = start() + Duration::days(620);
    let scores = score(
        artifact,
        &Transactions::from_records(tx),
        Some(&Events::from_records(events)),
        as_of,
    )
    .unwrap();
    let features = FeatureMatrix::compute(
        &Transactions::from_records(tx),
        Some(&Events::from_records(events)),
        as_of,
        &artifact.feature_names,
    )
    .unwrap();
    let days = features.column("purchase_days").unwrap();
    let tenure = features.column("tenure_days").unwrap();
    let (mut predicted, mut one_day, mut new) = (0, 0, 0);
    for (scored, row) in scores.iter().zip(features.values.rows()) {
        let lifetime = scored.lifetime.expect("the artifact has lifetime models");
        match lifetime {
            _ if row[tenure] < 30.0 => {
                new += 1;
                assert_eq!(
                    lifetime,
                    Lifetime::NotEnoughHistory {
                        reason: ShortHistory::NewCustomer
                    }
                );
            }
            _ if row[days] == 1.0 => {
                one_day += 1;
                assert_eq!(
                    lifetime,
                    Lifetime::NotEnoughHistory {
                        reason: ShortHistory::SingleOrderDay
                    }
                );
            }
            Lifetime::Predicted {
                expected_orders_365,
                expected_order_value,
                value_365,
                order_chance_365,
                next_order,
            } => {
                predicted += 1;
                assert!(expected_orders_365 > 0.0 && expected_order_value > 0.0);
                assert!((value_365 - expected_orders_365 * expected_order_value).abs() < 1e-9);
                assert!((0.0..=1.0).contains(&order_chance_365));
                assert_eq!(
                    matches!(next_order, NextOrder::ExpectedBy { .. }),
                    order_chance_365 >= 0.5,
                    "{scored:?}"
                );
            }
            other => panic!("a repeat customer with history gets a prediction: {other:?}"),
        }
    }
    assert!(
        predicted > 300 && one_day > 100,
        "{predicted} predicted, {one_day} one-day, {new} new"
    );
}

#[test]
fn a_frequent_recent_buyer_is_worth_more_over_the_year_than_a_lapsed_one() {
    let artifact = &trained().artifact;
    let as_of = start() + Duration::days(620);
    // Both ordered 12 times, two weeks apart, for 40 each; one until last week, one until
    // 200 days ago.
    let history = |customer: &str, last: NaiveDate| -> Vec<Transaction> {
        (0..12)
            .map(|k| purchase(customer, last - Duration::days(14 * k), 40.0))
            .collect()
    };
    let value = |tx: &[Transaction]| {
        let churn = score_customer(artifact, tx, &[], as_of).unwrap().unwrap();
        match churn.score.lifetime {
            Some(Lifetime::Predicted {
                value_365,
                next_order,
                ..
            }) => (value_365, next_order),
            other => panic!("{other:?}"),
        }
    };
    let (recent, recent_next) = value(&history("recent", as_of - Duration::days(7)));
    let (lapsed, lapsed_next) = value(&history("lapsed", as_of - Duration::days(200)));
    assert!(recent > 3.0 * lapsed, "recent {recent} vs lapsed {lapsed}");
    assert!(
        matches!(recent_next, NextOrder::ExpectedBy { date, .. } if date >= as_of),
        "{recent_next:?}"
    );
    assert_eq!(lapsed_next, NextOrder::NotExpected);
}

#[test]
fn an_artifact_saved_before_lifetime_value_still_loads_and_scores_churn_without_it() {
    let artifact = &trained().artifact;
    let mut old: serde_json::Value = serde_json::from_slice(&artifact.to_json()).unwrap();
    assert!(old.as_object_mut().unwrap().remove("lifetime").is_some());
    let loaded = ModelArtifact::from_json(&serde_json::to_vec(&old).unwrap()).unwrap();
    assert_eq!(loaded.lifetime, None);
    assert_eq!(loaded.version, artifact.version);
    let as_of = start() + Duration::days(620);
    let tx = [
        purchase("c", as_of - Duration::days(90), 30.0),
        purchase("c", as_of - Duration::days(40), 30.0),
    ];
    let with = score_customer(artifact, &tx, &[], as_of).unwrap().unwrap();
    let without = score_customer(&loaded, &tx, &[], as_of).unwrap().unwrap();
    assert_eq!(without.score.lifetime, None);
    assert!(with.score.lifetime.is_some());
    assert!((without.score.churn_probability - with.score.churn_probability).abs() < 1e-12);
}

#[test]
fn an_artifact_whose_lifetime_models_are_broken_is_refused() {
    let artifact = &trained().artifact;
    let json: serde_json::Value = serde_json::from_slice(&artifact.to_json()).unwrap();
    let broken = |path: &[&str], value: serde_json::Value| {
        let mut json = json.clone();
        let mut at = &mut json["lifetime"];
        for key in path {
            at = &mut at[*key];
        }
        *at = value;
        ModelArtifact::from_json(&serde_json::to_vec(&json).unwrap())
    };
    for (path, value) in [
        (&["spend", "q"][..], serde_json::json!(-1.0)),
        (&["orders", "r"][..], serde_json::json!(0.0)),
        (&["orders", "columns"][..], serde_json::json!([0, 1, 2])),
        (&["spend", "columns"][..], serde_json::json!([2, 99])),
    ] {
        let refused = broken(path, value).unwrap_err();
        assert!(
            matches!(&refused, ArtifactError::Malformed(m) if m.contains("lifetime")),
            "{path:?}: {refused}"
        );
    }
    assert!(broken(&["spend", "q"], serde_json::json!(4.0)).is_ok());
}

#[test]
fn a_shop_without_repeat_customers_still_gets_its_churn_model() {
    // 80 customers who each bought once before the cut-off; 30 came back in the 60-day window.
    let cutoff = start() + Duration::days(200);
    let mut tx: Vec<Transaction> = (0..80)
        .map(|i| purchase(&format!("c{i}"), start() + Duration::days(i), 20.0))
        .collect();
    tx.extend(
        (0..30).map(|i| purchase(&format!("c{i}"), cutoff + Duration::days(2 * i + 1), 25.0)),
    );
    let mut config = TrainingConfig::new(cutoff, 60);
    config.search = false;
    config.models = vec![ModelKind::Logistic];
    let outcome = train(&Transactions::from_records(&tx), None, &config, &Silent).unwrap();
    assert_eq!(outcome.artifact.lifetime, None);
    let why = outcome.summary.lifetime_not_fitted.unwrap();
    assert!(
        why.starts_with("only 0 repeat customers with a positive spend"),
        "{why}"
    );
    let scored = score(
        &outcome.artifact,
        &Transactions::from_records(&tx),
        None,
        cutoff,
    )
    .unwrap();
    assert_eq!(scored.len(), 80);
    assert!(scored.iter().all(|s| s.lifetime.is_none()));
}
