//! A webhook receiver for trying webhooks locally, and the pattern for a real one: it checks
//! each delivery's signature and age before it trusts the body, drops a message it has seen
//! (by `webhook-id`: deliveries are at least once), prints what arrived, and answers 204.
//!
//! ```sh
//! cargo run -p storefront-api --example webhook-receiver -- --port 9000 --secret whsec_…
//! ```
//!
//! Register `http://127.0.0.1:9000/hooks` as an endpoint (the local stack of `cargo xtask up`
//! allows plain http and loopback), put the secret it answers with into `--secret`, and
//! restart the receiver; each delivery then prints as it arrives.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use clap::Parser;
use storefront_client::webhooks::{
    DEFAULT_TOLERANCE_SECS, ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify,
};

#[derive(Parser)]
struct Args {
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 9000)]
    port: u16,
    /// The endpoint's signing secret (`whsec_…`); without it, deliveries are printed
    /// unverified.
    #[arg(long, env = "WEBHOOK_SECRET")]
    secret: Option<String>,
    /// Print only a count every 1000 messages (for load tests).
    #[arg(long)]
    quiet: bool,
}

struct Receiver {
    secret: Option<String>,
    quiet: bool,
    seen: Mutex<HashSet<String>>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let receiver = Arc::new(Receiver {
        secret: args.secret,
        quiet: args.quiet,
        seen: Mutex::default(),
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    println!(
        "receiving webhooks on http://{}/hooks ({})",
        listener.local_addr()?,
        if receiver.secret.is_some() {
            "signatures checked"
        } else {
            "no --secret: NOT verified"
        }
    );
    let app = Router::new()
        .route("/hooks", post(receive))
        .with_state(receiver);
    axum::serve(listener, app).await?;
    Ok(())
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    };
    let id = header(ID_HEADER);
    if let Some(secret) = &receiver.secret
        && let Err(refused) = verify(
            secret,
            id,
            header(TIMESTAMP_HEADER),
            header(SIGNATURE_HEADER),
            &body,
            chrono::Utc::now(),
            DEFAULT_TOLERANCE_SECS,
        )
    {
        eprintln!("refused a delivery: {refused}");
        return (StatusCode::BAD_REQUEST, "signature refused");
    }
    let (first_time, count) = {
        let mut seen = receiver.seen.lock().unwrap_or_else(|e| e.into_inner());
        (seen.insert(id.to_owned()), seen.len())
    };
    if receiver.quiet {
        if first_time && count % 1000 == 0 {
            println!("{count} messages");
        }
    } else if first_time {
        let message: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        println!(
            "{} {} {}",
            message["timestamp"].as_str().unwrap_or("?"),
            message["type"].as_str().unwrap_or("?"),
            message["data"]
        );
    } else {
        println!("(again, dropped) {id}");
    }
    (StatusCode::NO_CONTENT, "")
}
