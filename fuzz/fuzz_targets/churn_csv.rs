//! churn-lab's transactions and events reader, given any file contents as CSV: data or a
//! `LoadError` naming the problem, never a panic; data it accepts has rows and customers.
#![no_main]

use std::path::Path;

use churn_lab::transactions::{Events, Transactions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let name = Path::new("fuzzed.csv");
    if let Ok(transactions) = Transactions::from_bytes(bytes.to_vec(), name) {
        let manifest = transactions.manifest();
        assert!(manifest.rows > 0 && manifest.customers > 0, "{manifest:?}");
    }
    if let Ok(events) = Events::from_bytes(bytes.to_vec(), name) {
        let manifest = events.manifest();
        assert!(manifest.rows > 0 && manifest.customers > 0, "{manifest:?}");
    }
});
