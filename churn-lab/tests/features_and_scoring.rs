//! The two promises of the feature definition: nothing after the cut-off leaks into a feature,
//! and scoring one customer alone equals scoring them with the whole shop.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use churn_lab::dataset::FeatureMatrix;
use churn_lab::features::{customer_features, feature_names};
use churn_lab::models::ModelKind;
use churn_lab::scoring::{score, score_customer};
use churn_lab::synthetic;
use churn_lab::training::{Silent, TrainingConfig, train};
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

#[test]
fn one_customer_alone_scores_exactly_as_in_the_whole_shop() {
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
    let artifact = outcome.artifact;
    assert!(artifact.uses_events());

    let as_of = start() + Duration::days(620);
    let batch = score(
        &artifact,
        &Transactions::from_records(&tx),
        Some(&Events::from_records(&events)),
        as_of,
    )
    .unwrap();
    assert!(batch.len() > 1000);

    let mut tx_of: HashMap<&str, Vec<Transaction>> = HashMap::new();
    for t in &tx {
        tx_of.entry(&t.customer_id).or_default().push(t.clone());
    }
    let mut events_of: HashMap<&str, Vec<Event>> = HashMap::new();
    for e in &events {
        events_of.entry(&e.customer_id).or_default().push(e.clone());
    }
    for scored in &batch {
        let id = scored.customer_id.as_str();
        let alone = score_customer(
            &artifact,
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
        for driver in &alone.drivers {
            assert!(driver.effect > 0.0);
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
        score_customer(&artifact, &[late], &[], as_of)
            .unwrap()
            .is_none()
    );
}
