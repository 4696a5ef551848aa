//! Login sessions in Redis: an opaque random token maps to the account it authenticates.
//!
//! Only the SHA-256 of a token is stored, so a Redis dump cannot be replayed as logins. Each
//! account also has a set of its session hashes so "log out everywhere" can revoke them all.
//!
//! A session ends at its absolute expiry, or earlier when unused for its role's idle
//! timeout: the session key's Redis TTL is the shorter of the two, and every use pushes it
//! back (a sliding window that never passes the absolute expiry).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use rand::RngCore;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::account::Role;

/// Who a valid session token belongs to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub account_id: Uuid,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Hash of the token, the session's identity (never the token itself).
    #[serde(skip)]
    pub token_hash: String,
}

#[derive(Clone)]
pub struct SessionStore {
    redis: redis::aio::ConnectionManager,
    prefix: String,
    ttl_secs: u64,
    idle: IdleTimeouts,
}

/// How long an unused session lives, by who holds it.
#[derive(Debug, Clone, Copy)]
pub struct IdleTimeouts {
    pub customer_secs: u64,
    pub staff_secs: u64,
}

impl IdleTimeouts {
    pub fn from_settings(auth: &crate::config::AuthSettings) -> Self {
        Self {
            customer_secs: auth.customer_idle_minutes * 60,
            staff_secs: auth.staff_idle_minutes * 60,
        }
    }

    fn for_role(self, role: Role) -> u64 {
        if role.is_staff() {
            self.staff_secs
        } else {
            self.customer_secs
        }
    }
}

fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

impl SessionStore {
    pub fn new(
        redis: redis::aio::ConnectionManager,
        prefix: &str,
        ttl_secs: u64,
        idle: IdleTimeouts,
    ) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            ttl_secs,
            idle,
        }
    }

    /// Seconds the session key lives from now: until the idle timeout, never past the
    /// absolute expiry; 0 when that has passed.
    fn key_ttl(&self, session: &Session, now: DateTime<Utc>) -> u64 {
        let remaining = u64::try_from((session.expires_at - now).num_seconds()).unwrap_or(0);
        remaining.min(self.idle.for_role(session.role))
    }

    fn session_key(&self, token_hash: &str) -> String {
        format!("{}session:{token_hash}", self.prefix)
    }

    fn account_key(&self, account_id: Uuid) -> String {
        format!("{}account-sessions:{account_id}", self.prefix)
    }

    /// Starts a session and returns its token (shown to the client once) and record.
    pub async fn create(
        &self,
        account_id: Uuid,
        role: Role,
    ) -> redis::RedisResult<(String, Session)> {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let now = Utc::now();
        let session = Session {
            account_id,
            role,
            created_at: now,
            expires_at: now + chrono::Duration::seconds(self.ttl_secs as i64),
            token_hash: hash_token(&token),
        };
        let payload = serde_json::to_string(&session).map_err(|error| {
            redis::RedisError::from((redis::ErrorKind::Client, "encode", error.to_string()))
        })?;
        let account_key = self.account_key(account_id);
        let mut redis = self.redis.clone();
        redis::pipe()
            .atomic()
            .set_ex(
                self.session_key(&session.token_hash),
                payload,
                self.key_ttl(&session, now).max(1),
            )
            .sadd(&account_key, &session.token_hash)
            .expire(&account_key, self.ttl_secs as i64)
            .query_async::<()>(&mut redis)
            .await?;
        Ok((token, session))
    }

    /// The live session for `token`, or `None` when it is unknown, expired or revoked.
    pub async fn find(&self, token: &str) -> redis::RedisResult<Option<Session>> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let token_hash = hash_token(token);
        let key = self.session_key(&token_hash);
        let mut redis = self.redis.clone();
        let payload: Option<String> = redis.get(&key).await?;
        let Some(session) = payload
            .and_then(|json| serde_json::from_str::<Session>(&json).ok())
            .map(|session| Session {
                token_hash,
                ..session
            })
        else {
            return Ok(None);
        };
        // Used now: the idle clock starts again (never past the absolute expiry).
        match self.key_ttl(&session, Utc::now()) {
            0 => {
                self.revoke(&session).await?;
                Ok(None)
            }
            ttl => {
                redis
                    .expire::<_, ()>(&key, i64::try_from(ttl).unwrap_or(i64::MAX))
                    .await?;
                Ok(Some(session))
            }
        }
    }

    pub async fn revoke(&self, session: &Session) -> redis::RedisResult<()> {
        let mut redis = self.redis.clone();
        redis::pipe()
            .atomic()
            .del(self.session_key(&session.token_hash))
            .srem(self.account_key(session.account_id), &session.token_hash)
            .query_async::<()>(&mut redis)
            .await
    }

    /// Revokes every session of the account, optionally keeping one (the caller's own).
    pub async fn revoke_all(
        &self,
        account_id: Uuid,
        keep: Option<&Session>,
    ) -> redis::RedisResult<u64> {
        let mut redis = self.redis.clone();
        let account_key = self.account_key(account_id);
        let hashes: Vec<String> = redis.smembers(&account_key).await?;
        let doomed: Vec<&String> = hashes
            .iter()
            .filter(|hash| keep.is_none_or(|kept| &kept.token_hash != *hash))
            .collect();
        if doomed.is_empty() {
            return Ok(0);
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for hash in &doomed {
            pipe.del(self.session_key(hash)).srem(&account_key, *hash);
        }
        pipe.query_async::<()>(&mut redis).await?;
        Ok(doomed.len() as u64)
    }
}
