//! Password-attempt counters in Redis over a fixed window: per account and client address,
//! per account, and per client address.
//!
//! An attempt is counted *before* the password is checked, so parallel guesses cannot slip
//! past the limit while the (slow) hash is verified; a successful attempt is taken back.

use redis::AsyncCommands;

use crate::config::AuthSettings;

#[derive(Clone)]
pub struct LoginLimiter {
    redis: redis::aio::ConnectionManager,
    prefix: String,
    limits: [u64; 3],
    window_secs: u64,
}

impl LoginLimiter {
    pub fn new(
        redis: redis::aio::ConnectionManager,
        prefix: &str,
        settings: &AuthSettings,
    ) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            limits: [
                settings.login_max_failures_per_account_and_client,
                settings.login_max_failures_per_account,
                settings.login_max_failures_per_client,
            ],
            window_secs: settings.login_failure_window_secs,
        }
    }

    /// Keys in the order of `limits`.
    fn keys(&self, account: &str, client: &str) -> [String; 3] {
        let prefix = &self.prefix;
        [
            format!("{prefix}login-failures:pair:{account}:{client}"),
            format!("{prefix}login-failures:account:{account}"),
            format!("{prefix}login-failures:client:{client}"),
        ]
    }

    /// Counts an attempt. `Ok(None)`: go ahead and check the password. `Ok(Some(secs))`: over
    /// a limit; answer 429 with that `Retry-After`.
    pub async fn attempt(&self, account: &str, client: &str) -> redis::RedisResult<Option<u64>> {
        let keys = self.keys(account, client);
        let mut pipe = redis::pipe();
        pipe.atomic();
        for key in &keys {
            // The window starts at the first attempt: EXPIRE NX leaves a running one alone.
            pipe.incr(key, 1)
                .cmd("EXPIRE")
                .arg(key)
                .arg(self.window_secs)
                .arg("NX")
                .ignore();
        }
        let mut redis = self.redis.clone();
        let counts: Vec<u64> = pipe.query_async(&mut redis).await?;
        let mut wait: Option<u64> = None;
        for ((key, count), limit) in keys.iter().zip(counts).zip(self.limits) {
            if count > limit {
                let ttl: i64 = redis.ttl(key).await?;
                let secs = u64::try_from(ttl).unwrap_or(self.window_secs).max(1);
                wait = Some(wait.map_or(secs, |w| w.max(secs)));
            }
        }
        Ok(wait)
    }

    /// The password was right: the attempt does not count, and the account's failures from
    /// this client are forgiven.
    pub async fn succeeded(&self, account: &str, client: &str) -> redis::RedisResult<()> {
        // Decrement only counters that still exist: a window that ended meanwhile must not
        // come back as a negative counter without expiry.
        let script = redis::Script::new(
            r"redis.call('DEL', KEYS[1])
              for i = 2, 3 do
                if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('DECR', KEYS[i]) end
              end",
        );
        let mut redis = self.redis.clone();
        script
            .key(self.keys(account, client).as_slice())
            .invoke_async::<()>(&mut redis)
            .await
    }
}
