//! The outbox relay: what the shop's changes wrote to the outbox leaves for the webhook
//! endpoints staff registered, at least once, an order's messages in order — and, for the
//! topics a customer is told about (`domain::emails::EmailKind::for_topic`), as an email to
//! that customer, sent over SMTP with the same leases and retries.
//!
//! Every `serve` runs one (`relay.enabled`), and `storefront-api relay` runs one alone; any
//! number share the work through the claims in `storage::webhooks`. A round takes new
//! messages and fans them out (the body is fixed then, for every receiver and attempt), then
//! sends the deliveries that are due, several at once. A receiver's 2xx delivers; anything
//! else (an error status, no answer within `attempt_timeout_secs`, a refused address) is a
//! failed attempt, retried with exponential backoff and jitter until `max_attempts`, after
//! which the message is dead for that endpoint — and the endpoint is disabled once
//! `disable_after_dead_in_a_row` messages died in a row. A relay killed mid-delivery leaves
//! its lease to lapse: the message goes out again (same id; receivers drop duplicates).

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use futures::StreamExt;
use rand::Rng;
use serde_json::{Value, json};
use storefront_client::webhooks::{ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};

use crate::{
    config::RelaySettings,
    domain::{
        emails::EmailKind,
        webhooks::{EndpointUrl, NetworkPolicy, refused_address},
    },
    mail::{Mailer, Recipient, SendError},
    state::AppState,
    storage::{
        self,
        emails::{EmailOutcome, LeasedEmail},
        webhooks::{AfterAttempt, AttemptRecord, Leased, Message},
    },
};

/// How much of a receiver's answer the delivery log keeps.
const EXCERPT_BYTES: usize = 512;

/// Runs the relay on its own task until the process ends.
pub fn spawn(state: AppState) {
    tokio::spawn(run(state));
}

/// Where the relay sends: webhook receivers over HTTP, customers over SMTP.
pub struct Channels {
    pub webhooks: Sender,
    /// `None` when `smtp.enabled` is off: emails stay queued until a relay can send them.
    pub email: Option<Mailer>,
}

impl Channels {
    pub fn new(state: &AppState) -> anyhow::Result<Self> {
        let webhooks = Sender::new(state)?;
        let email = if state.settings.smtp.enabled {
            Some(Mailer::new(&state.settings)?)
        } else {
            None
        };
        Ok(Self { webhooks, email })
    }
}

/// Relays rounds forever: at once while there is work, every `poll_interval_ms` when idle.
pub async fn run(state: AppState) {
    let channels = match Channels::new(&state) {
        Ok(channels) => channels,
        Err(error) => {
            tracing::error!(
                error = format!("{error:#}"),
                "the outbox relay cannot start; it does not run"
            );
            return;
        }
    };
    let idle = Duration::from_millis(state.settings.relay.poll_interval_ms.max(10));
    let sweep_every = Duration::from_secs(state.settings.relay.sweep_interval_secs.max(1));
    let mut next_sweep = Instant::now();
    loop {
        if Instant::now() >= next_sweep {
            next_sweep = Instant::now() + sweep_every;
            sweep(&state).await;
        }
        match round(&state, &channels).await {
            Ok(worked) if worked.is_busy() => continue,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "outbox relay round failed; trying again"),
        }
        tokio::time::sleep(idle).await;
    }
}

/// Deletes the messages past `relay.retention_days` that have nothing left to send, a batch
/// at a time; a failure is logged and the next sweep tries again.
pub async fn sweep(state: &AppState) {
    let settings = &state.settings.relay;
    let mut swept = 0;
    loop {
        match storage::outbox::sweep(&state.db, settings.retention_days, settings.batch_size * 20)
            .await
        {
            Ok(0) => break,
            Ok(count) => swept += count,
            Err(error) => {
                tracing::warn!(%error, "outbox retention sweep failed; trying again later");
                break;
            }
        }
    }
    if swept > 0 {
        tracing::info!(
            swept,
            retention_days = settings.retention_days,
            "outbox messages past retention deleted"
        );
        metrics::counter!("outbox_messages_swept_total").increment(swept);
    }
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Outbox messages fanned out.
    pub messages: usize,
    /// Webhook deliveries attempted.
    pub attempts: usize,
    /// Emails attempted.
    pub emails: usize,
}

impl Round {
    fn is_busy(self) -> bool {
        self.messages > 0 || self.attempts > 0 || self.emails > 0
    }
}

/// Fans out one batch of new messages and attempts one batch of due deliveries and emails.
pub async fn round(state: &AppState, channels: &Channels) -> anyhow::Result<Round> {
    let messages = fan_out(state).await?;
    let attempts = deliver_due(state, &channels.webhooks).await?;
    let emails = match &channels.email {
        Some(mailer) => send_due_emails(state, mailer).await?,
        None => 0,
    };
    Ok(Round {
        messages,
        attempts,
        emails,
    })
}

/// Takes up to a batch of new outbox messages, fixes each one's body and queues its
/// deliveries, all in one transaction (a relay that dies here leaves them for the next).
async fn fan_out(state: &AppState) -> anyhow::Result<usize> {
    let mut tx = state.db.begin().await?;
    let messages =
        storage::webhooks::lock_new_messages(&mut tx, state.settings.relay.batch_size).await?;
    for message in &messages {
        let body = body(state, message).await?;
        let queued = storage::webhooks::fan_out(&mut tx, message.outbox_id, &body).await?;
        if let Some(kind) = EmailKind::for_topic(&message.topic)
            && let Some(customer) = customer_of(&body)
        {
            storage::emails::queue(&mut tx, message.outbox_id, kind, customer).await?;
        }
        metrics::counter!("outbox_messages_relayed_total", "topic" => message.topic.clone())
            .increment(1);
        tracing::debug!(topic = %message.topic, message_id = %message.message_id, queued, "message fanned out");
    }
    tx.commit().await?;
    Ok(messages.len())
}

/// What every receiver of a message gets: its id and topic, when it happened, and its data —
/// for an order's topics, the order as it stands now (a moment after the change).
async fn body(state: &AppState, message: &Message) -> anyhow::Result<Value> {
    let mut data = message.payload.clone();
    let order_id = message
        .payload
        .get("order_id")
        .and_then(Value::as_str)
        .and_then(|id| id.parse::<uuid::Uuid>().ok());
    if let (Some(order_id), Some(fields)) = (order_id, data.as_object_mut())
        && let Some(order) = storage::orders::order(&state.db, order_id, None).await?
    {
        fields.insert("order".into(), serde_json::to_value(order)?);
    }
    Ok(json!({
        "id": message.message_id,
        "type": message.topic,
        "timestamp": message.created_at,
        "data": data,
    }))
}

/// The customer a message is about: an order's, or the one named by `customer_id`.
fn customer_of(body: &Value) -> Option<uuid::Uuid> {
    let data = body.get("data")?;
    data.pointer("/order/account_id")
        .or_else(|| data.get("customer_id"))
        .and_then(Value::as_str)
        .and_then(|id| id.parse().ok())
}

/// Leases the due emails and sends them, `relay.concurrency` at a time.
async fn send_due_emails(state: &AppState, mailer: &Mailer) -> anyhow::Result<usize> {
    let settings = &state.settings.relay;
    let lease_secs = i64::try_from(state.settings.smtp.timeout_secs * 2 + 5).unwrap_or(i64::MAX);
    let leased = storage::emails::lease_due(&state.db, settings.batch_size, lease_secs).await?;
    let count = leased.len();
    futures::stream::iter(leased)
        .for_each_concurrent(settings.concurrency.max(1), |email| async move {
            send_email(state, mailer, &email).await;
        })
        .await;
    Ok(count)
}

/// Writes and sends one email and records how it went (a failure to record is logged: the
/// lease lapses and the email goes out again, with the same `Message-ID`).
async fn send_email(state: &AppState, mailer: &Mailer, email: &LeasedEmail) {
    let settings = &state.settings.relay;
    let kind = EmailKind::parse(&email.kind);
    let to = Recipient {
        account_id: email.account_id,
        email: &email.email,
        full_name: &email.full_name,
    };
    let failure: String;
    let outcome = match kind {
        None => EmailOutcome::Dead("no template for this kind of email"),
        Some(_) if email.erased => EmailOutcome::Skipped("the customer's account was erased"),
        Some(kind) if kind.is_marketing() && !email.marketing_consent => {
            EmailOutcome::Skipped("the customer does not want marketing emails")
        }
        Some(kind) => match mailer.writer().write(kind, &email.body, &to) {
            Err(error) => {
                failure = format!("the email could not be written: {error:#}");
                EmailOutcome::Dead(&failure)
            }
            Ok(written) => match mailer.send(&to, email.message_id, kind, written).await {
                Ok(()) => EmailOutcome::Sent,
                Err(SendError::Permanent(error)) => {
                    failure = format!("refused by the mail server: {error}");
                    EmailOutcome::Dead(&failure)
                }
                Err(SendError::Transient(error)) if email.attempt < settings.max_attempts => {
                    failure = error;
                    EmailOutcome::Retry {
                        error: &failure,
                        in_secs: retry_delay(settings, email.attempt, &mut rand::rng()).as_secs(),
                    }
                }
                Err(SendError::Transient(error)) => {
                    failure = error;
                    EmailOutcome::Dead(&failure)
                }
            },
        },
    };
    let label = match outcome {
        EmailOutcome::Sent => "sent",
        EmailOutcome::Skipped(_) => "skipped",
        EmailOutcome::Retry { .. } => "retry",
        EmailOutcome::Dead(_) => "dead",
    };
    match storage::emails::record_attempt(&state.db, email, outcome).await {
        Ok(true) => {}
        Ok(false) => tracing::info!(
            delivery_id = email.delivery_id,
            "email lease lapsed; another relay has it"
        ),
        Err(error) => {
            tracing::warn!(%error, delivery_id = email.delivery_id, "email attempt not recorded; it will be sent again");
        }
    }
    if let EmailOutcome::Retry { error, .. } | EmailOutcome::Dead(error) = outcome {
        tracing::warn!(kind = %email.kind, delivery_id = email.delivery_id, error, outcome = label, "customer email not sent");
    }
    metrics::counter!("customer_emails_total", "kind" => email.kind.clone(), "outcome" => label)
        .increment(1);
}

/// Leases the due deliveries and sends them, `relay.concurrency` at a time.
async fn deliver_due(state: &AppState, sender: &Sender) -> anyhow::Result<usize> {
    let settings = &state.settings.relay;
    // Longer than an attempt can take, so a live relay never loses its lease mid-attempt.
    let lease_secs = i64::try_from(settings.attempt_timeout_secs + 5).unwrap_or(i64::MAX);
    let leased = storage::webhooks::lease_due(&state.db, settings.batch_size, lease_secs).await?;
    let count = leased.len();
    futures::stream::iter(leased)
        .for_each_concurrent(settings.concurrency.max(1), |delivery| async move {
            deliver(state, sender, &delivery).await;
        })
        .await;
    Ok(count)
}

/// Sends one delivery and records how it went; a failure to record is logged (the lease
/// lapses and the message goes out again).
async fn deliver(state: &AppState, sender: &Sender, delivery: &Leased) {
    let settings = &state.settings.relay;
    let sent = sender.send(delivery).await;
    let retry_in = (sent.error.is_some() && delivery.attempt < settings.max_attempts)
        .then(|| retry_delay(settings, delivery.attempt, &mut rand::rng()));
    let record = AttemptRecord {
        status_code: sent.status_code,
        latency_ms: sent.latency_ms,
        response_excerpt: &sent.excerpt,
        error: sent.error.as_deref(),
    };
    let after = storage::webhooks::record_attempt(
        &state.db,
        delivery,
        &record,
        retry_in.map(|delay| delay.as_secs()),
        settings.disable_after_dead_in_a_row,
    )
    .await;
    let outcome = match after {
        Ok(AfterAttempt::Delivered) => "delivered",
        Ok(AfterAttempt::Retry { .. }) => "retry",
        Ok(AfterAttempt::Dead { endpoint_disabled }) => {
            if endpoint_disabled {
                tracing::warn!(endpoint_id = %delivery.endpoint_id, "webhook endpoint disabled: too many dead messages in a row");
            }
            "dead"
        }
        Ok(AfterAttempt::LeaseLost) => "lease_lost",
        Err(error) => {
            tracing::warn!(%error, delivery_id = delivery.delivery_id, "webhook attempt not recorded; it will be sent again");
            "unrecorded"
        }
    };
    metrics::counter!("webhook_attempts_total", "outcome" => outcome).increment(1);
}

/// The wait before attempt `attempt + 1`: `base * 2^(attempt - 1)`, at most `max`, plus up
/// to 20 % jitter so that receivers coming back are not hit by every retry at once.
pub fn retry_delay(settings: &RelaySettings, attempt: i32, rng: &mut impl Rng) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let base = settings
        .backoff_base_secs
        .saturating_mul(1u64 << doublings)
        .min(settings.backoff_max_secs);
    let jitter = base / 5;
    Duration::from_secs(base + rng.random_range(0..=jitter))
}

/// How one attempt went, as the log keeps it.
struct Sent {
    status_code: Option<i32>,
    latency_ms: i32,
    excerpt: String,
    /// `None` when the receiver answered 2xx.
    error: Option<String>,
}

/// The relay's HTTP client: no redirects (a receiver could bounce a delivery into the
/// shop's own network), its own timeout, and a resolver that only hands out addresses the
/// network policy allows, checked at every connection.
pub struct Sender {
    client: reqwest::Client,
    policy: NetworkPolicy,
}

impl Sender {
    pub fn new(state: &AppState) -> anyhow::Result<Self> {
        let policy = state.settings.webhooks.policy();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(
                state.settings.relay.attempt_timeout_secs,
            ))
            .connect_timeout(Duration::from_secs(
                state.settings.relay.attempt_timeout_secs.min(5),
            ))
            .user_agent(concat!("Nexus-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(PolicyResolver { policy }))
            .build()?;
        Ok(Self { client, policy })
    }

    async fn send(&self, delivery: &Leased) -> Sent {
        let started = Instant::now();
        let latency =
            |started: Instant| i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let failed = |error: String| Sent {
            status_code: None,
            latency_ms: latency(started),
            excerpt: String::new(),
            error: Some(error),
        };
        // The URL again under today's policy: the settings may have changed, and a literal
        // address never reaches the resolver.
        let url = match EndpointUrl::parse(&delivery.url, self.policy) {
            Ok(url) => url,
            Err(problem) => return failed(format!("the endpoint's URL {problem}")),
        };
        let body = match serde_json::to_vec(&delivery.body) {
            Ok(body) => body,
            Err(error) => return failed(format!("the message could not be encoded: {error}")),
        };
        let id = delivery.message_id.to_string();
        let timestamp = chrono::Utc::now().timestamp();
        let signature =
            match storefront_client::webhooks::sign(&delivery.secret, &id, timestamp, &body) {
                Ok(signature) => signature,
                Err(error) => return failed(format!("the endpoint's secret is unusable: {error}")),
            };
        let answer = self
            .client
            .post(url.as_str())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(ID_HEADER, &id)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await;
        let response = match answer {
            Ok(response) => response,
            Err(error) => return failed(describe(&error)),
        };
        let status = response.status();
        let excerpt = match response.bytes().await {
            Ok(bytes) => excerpt(&bytes),
            Err(error) => return failed(describe(&error)),
        };
        Sent {
            status_code: Some(i32::from(status.as_u16())),
            latency_ms: latency(started),
            excerpt,
            error: (!status.is_success()).then(|| format!("the receiver answered {status}")),
        }
    }
}

/// A reqwest error in a line staff can act on (with its cause: "connection refused").
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "no answer in time"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    let mut cause = std::error::Error::source(error);
    let mut detail = String::new();
    while let Some(inner) = cause {
        detail = inner.to_string();
        cause = inner.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {detail}")
    }
}

/// The first bytes of an answer, cut at a character boundary.
fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(EXCERPT_BYTES)]);
    text.trim_end_matches('\u{FFFD}').to_owned()
}

/// Resolves a receiver's host and keeps only the addresses the policy allows; none left is
/// an error naming the refused address (DNS that points at the shop's own network).
struct PolicyResolver {
    policy: NetworkPolicy,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|address| policy.allows(address.ip()))
                .collect();
            match (allowed.is_empty(), found.first()) {
                (false, _) => Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs),
                (true, Some(refused)) => Err(std::io::Error::other(format!(
                    "{} {}",
                    name.as_str(),
                    refused_address(refused.ip())
                ))
                .into()),
                (true, None) => {
                    Err(std::io::Error::other(format!("{} has no address", name.as_str())).into())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn retries_back_off_exponentially_with_bounded_jitter() {
        let settings = crate::config::Settings::defaults().relay;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20261206);
        let waits: Vec<u64> = (1..=12)
            .map(|attempt| retry_delay(&settings, attempt, &mut rng).as_secs())
            .collect();
        for (attempt, wait) in (1..).zip(&waits) {
            let base = (settings.backoff_base_secs << (attempt - 1).min(30))
                .min(settings.backoff_max_secs);
            assert!(
                (base..=base + base / 5).contains(wait),
                "attempt {attempt}: {wait} s"
            );
        }
        assert!(waits[11] <= settings.backoff_max_secs * 6 / 5);
    }

    #[test]
    fn excerpts_are_cut_on_characters() {
        let long = "é".repeat(600);
        let cut = excerpt(long.as_bytes());
        assert!(cut.len() <= EXCERPT_BYTES);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
