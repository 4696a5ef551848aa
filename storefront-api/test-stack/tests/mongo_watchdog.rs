//! The test processes' MongoDB-wire server does not hang a run: when it stops answering (as
//! SecantusDB did in CI, spinning with its storage lock held; here it is frozen with SIGSTOP),
//! the watchdog's query goes unanswered, and it kills the server and starts it again on the
//! same port and data, so the tests keep their databases and their driver reconnects; and a
//! test that failed meanwhile is told so (`restarted_during`), which `run_test` uses to run
//! it again, while a test that failed with the server healthy is not.

use std::process::Command;
use std::time::{Duration, Instant};

use api_test_stack::{mongo_server_pid, mongo_uri, restarted_during, wait_for};
use mongodb::bson::{Document, doc};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_server_is_restarted_on_the_same_port_with_its_data() {
    if std::env::var_os("NEXUS_TEST_MONGODB_URI").is_some() {
        // A server somebody else runs is not ours to kill.
        return;
    }
    let orders = mongodb::Client::with_uri_str(mongo_uri())
        .await
        .unwrap()
        .database("nexus_test_watchdog")
        .collection::<Document>("orders");
    orders
        .insert_one(doc! { "_id": "order-1", "total_minor": 4200 })
        .await
        .unwrap();
    let hung = mongo_server_pid().expect("this process runs its own server");
    // A failure with a healthy server: the watchdog's next probe is answered, no restart.
    assert!(!verdict_since(Instant::now()).await);

    let frozen_at = Instant::now();

    let status = Command::new("kill")
        .args(["-STOP", &hung.to_string()])
        .status()
        .unwrap();
    assert!(status.success());

    wait_for(
        "the restarted server",
        Duration::from_secs(150),
        async || {
            mongo_server_pid().is_some_and(|pid| pid != hung)
                && orders
                    .find_one(doc! { "_id": "order-1" })
                    .await
                    .is_ok_and(|order| order.is_some_and(|o| o.get_i32("total_minor") == Ok(4200)))
        },
    )
    .await;
    assert!(
        verdict_since(frozen_at).await,
        "a test that failed while the server hung is run again"
    );
    assert!(!verdict_since(Instant::now()).await);
}

/// `restarted_during` waits for the watchdog's next verdict: off the async workers.
async fn verdict_since(since: Instant) -> bool {
    tokio::task::spawn_blocking(move || restarted_during(since))
        .await
        .unwrap()
}
