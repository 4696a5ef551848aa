//! Read-through cache of public catalog reads in Redis.
//!
//! Keys embed a catalog *generation* number. Every staff write bumps the generation after its
//! transaction commits, so the next public read misses and sees the new data; entries of old
//! generations are never read again and expire on their own.

use redis::AsyncCommands;
use serde::Serialize;

#[derive(Clone)]
pub struct CatalogCache {
    redis: redis::aio::ConnectionManager,
    prefix: String,
    ttl_secs: u64,
}

impl CatalogCache {
    pub fn new(redis: redis::aio::ConnectionManager, prefix: &str, ttl_secs: u64) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            ttl_secs,
        }
    }

    fn generation_key(&self) -> String {
        format!("{}catalog:generation", self.prefix)
    }

    async fn generation(&self) -> redis::RedisResult<u64> {
        let mut redis = self.redis.clone();
        let generation: Option<u64> = redis.get(self.generation_key()).await?;
        Ok(generation.unwrap_or(0))
    }

    /// Makes every cached catalog read stale. Call after a write that changes what shoppers
    /// see (staff edits, stock taken or released by orders) has committed. A Redis failure
    /// here must not turn the committed write into an error that invites a retry: it is
    /// logged and counted, and cached reads expire within the cache TTL.
    pub async fn invalidate(&self) {
        let mut redis = self.redis.clone();
        if let Err(error) = redis.incr::<_, _, ()>(self.generation_key(), 1).await {
            metrics::counter!("catalog_cache_invalidation_failures_total").increment(1);
            tracing::error!(%error, "catalog cache not invalidated; stale reads until the TTL ends");
        }
    }

    /// Returns the cached JSON for `key`, or computes the value, stores its JSON and returns
    /// that. A hit is served as stored, without parsing. A Redis failure degrades to an
    /// uncached read instead of failing the request.
    pub async fn json<T, E, F, Fut>(&self, key: &str, load: F) -> Result<CachedJson, E>
    where
        T: Serialize,
        E: From<serde_json::Error>,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let generation = match self.generation().await {
            Ok(generation) => generation,
            Err(error) => {
                tracing::warn!(%error, "catalog cache unavailable; reading through");
                return Ok(CachedJson(serde_json::to_string(&load().await?)?));
            }
        };
        let cache_key = format!("{}catalog:{generation}:{key}", self.prefix);
        let mut redis = self.redis.clone();
        if let Ok(Some(json)) = redis.get::<_, Option<String>>(&cache_key).await {
            metrics::counter!("catalog_cache_total", "result" => "hit").increment(1);
            return Ok(CachedJson(json));
        }
        metrics::counter!("catalog_cache_total", "result" => "miss").increment(1);
        let json = serde_json::to_string(&load().await?)?;
        if let Err(error) = redis
            .set_ex::<_, _, ()>(&cache_key, &json, self.ttl_secs)
            .await
        {
            tracing::warn!(%error, "could not fill catalog cache");
        }
        Ok(CachedJson(json))
    }
}

/// A JSON document as cached: sent to the client byte for byte.
pub struct CachedJson(pub String);

impl axum::response::IntoResponse for CachedJson {
    fn into_response(self) -> axum::response::Response {
        (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            self.0,
        )
            .into_response()
    }
}
