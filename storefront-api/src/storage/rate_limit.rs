//! Failed-login counters in Redis, per account and per client address, over a fixed window.

use redis::AsyncCommands;

#[derive(Clone)]
pub struct LoginLimiter {
    redis: redis::aio::ConnectionManager,
    prefix: String,
    max_per_account: u64,
    max_per_client: u64,
    window_secs: u64,
}

impl LoginLimiter {
    pub fn new(
        redis: redis::aio::ConnectionManager,
        prefix: &str,
        settings: &crate::config::AuthSettings,
    ) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            max_per_account: settings.login_max_failures_per_account,
            max_per_client: settings.login_max_failures_per_client,
            window_secs: settings.login_failure_window_secs,
        }
    }

    fn keys(&self, email: &str, client: &str) -> [String; 2] {
        [
            format!("{}login-failures:account:{email}", self.prefix),
            format!("{}login-failures:client:{client}", self.prefix),
        ]
    }

    /// `Some(seconds)` to wait when either the account or the client is over its limit.
    pub async fn blocked_for(&self, email: &str, client: &str) -> redis::RedisResult<Option<u64>> {
        let mut redis = self.redis.clone();
        let [account_key, client_key] = self.keys(email, client);
        let limits = [
            (account_key, self.max_per_account),
            (client_key, self.max_per_client),
        ];
        let mut wait = None;
        for (key, max) in limits {
            let failures: Option<u64> = redis.get(&key).await?;
            if failures.unwrap_or(0) >= max {
                let ttl: i64 = redis.ttl(&key).await?;
                let secs = u64::try_from(ttl).unwrap_or(self.window_secs).max(1);
                wait = Some(wait.map_or(secs, |w: u64| w.max(secs)));
            }
        }
        Ok(wait)
    }

    pub async fn record_failure(&self, email: &str, client: &str) -> redis::RedisResult<()> {
        let mut redis = self.redis.clone();
        let mut pipe = redis::pipe();
        pipe.atomic();
        for key in self.keys(email, client) {
            // The window starts at the first failure: EXPIRE NX leaves a running one alone.
            pipe.incr(&key, 1)
                .cmd("EXPIRE")
                .arg(&key)
                .arg(self.window_secs)
                .arg("NX");
        }
        pipe.query_async::<()>(&mut redis).await
    }

    /// A successful login clears the account's counter (not the client's).
    pub async fn record_success(&self, email: &str) -> redis::RedisResult<()> {
        let mut redis = self.redis.clone();
        let [account_key, _] = self.keys(email, "");
        redis.del::<_, ()>(account_key).await
    }
}
