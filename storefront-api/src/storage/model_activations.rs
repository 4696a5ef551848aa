//! The Redis channel that tells every API instance the active churn model changed. A
//! message only says "look again": the registry in MongoDB is the truth, so a lost message
//! costs a late reload, never a wrong model.

use futures::{Stream, StreamExt};
use redis::{AsyncCommands, aio::ConnectionManager};

use super::StoreError;

fn channel(key_prefix: &str) -> String {
    format!("{key_prefix}churn:activations")
}

/// Tells every subscriber (this instance included) that `version` became active.
pub async fn announce(
    redis: &ConnectionManager,
    key_prefix: &str,
    version: &str,
) -> Result<(), StoreError> {
    let mut redis = redis.clone();
    let _receivers: i64 = redis.publish(channel(key_prefix), version).await?;
    Ok(())
}

/// Subscribes on a connection of its own (a subscribed connection can do nothing else).
/// The stream yields once per announcement and ends when the connection drops; the caller
/// re-subscribes and catches up with the registry.
pub async fn subscribe(
    redis_url: &str,
    key_prefix: &str,
) -> Result<impl Stream<Item = ()> + use<>, StoreError> {
    let client = redis::Client::open(redis_url)?;
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel(key_prefix)).await?;
    Ok(pubsub.into_on_message().map(drop))
}
