//! Carts in Redis: one hash per cart, variant id → quantity, expiring after the idle period.
//!
//! Every change is one Lua script, so concurrent adds to the same cart never lose a line and
//! the per-line and per-cart limits hold under concurrency.

use redis::{AsyncCommands, Script};
use uuid::Uuid;

use crate::config::CartSettings;

/// Whose cart: a customer's, or a guest's identified by a random token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CartOwner {
    Account(Uuid),
    Guest(String),
}

/// Why a cart change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CartLimit {
    TooManyLines { max: u32 },
    TooManyUnits { max: u32 },
}

#[derive(Clone)]
pub struct CartStore {
    redis: redis::aio::ConnectionManager,
    prefix: String,
    ttl_secs: u64,
    max_lines: u32,
    max_quantity: u32,
}

/// KEYS[1] cart; ARGV: variant, quantity, mode ("add" or "set"), max lines, max quantity, ttl.
/// Returns the new quantity, -1 when the cart is full, -2 when the line would exceed the
/// per-line maximum.
const CHANGE_LINE: &str = r"
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local quantity = tonumber(ARGV[2])
if ARGV[3] == 'add' then quantity = current + quantity end
if quantity <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], ARGV[6]) end
  return 0
end
if quantity > tonumber(ARGV[5]) then return -2 end
if current == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return -1 end
redis.call('HSET', KEYS[1], ARGV[1], quantity)
redis.call('EXPIRE', KEYS[1], ARGV[6])
return quantity
";

/// KEYS[1] guest cart, KEYS[2] customer cart; ARGV: max lines, max quantity, ttl. Adds every
/// guest line to the customer's (capped at the per-line maximum, skipping new lines once the
/// cart is full), then deletes the guest cart. Returns the number of lines merged.
const MERGE: &str = r"
local guest = redis.call('HGETALL', KEYS[1])
local merged = 0
for i = 1, #guest, 2 do
  local current = tonumber(redis.call('HGET', KEYS[2], guest[i]) or '0')
  if current > 0 or redis.call('HLEN', KEYS[2]) < tonumber(ARGV[1]) then
    local quantity = math.min(current + tonumber(guest[i + 1]), tonumber(ARGV[2]))
    redis.call('HSET', KEYS[2], guest[i], quantity)
    merged = merged + 1
  end
end
redis.call('DEL', KEYS[1])
if merged > 0 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
return merged
";

impl CartStore {
    pub fn new(
        redis: redis::aio::ConnectionManager,
        prefix: &str,
        settings: &CartSettings,
    ) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            ttl_secs: settings.idle_days * 24 * 3600,
            max_lines: settings.max_lines,
            max_quantity: settings.max_quantity_per_line,
        }
    }

    pub fn idle_secs(&self) -> u64 {
        self.ttl_secs
    }

    fn key(&self, owner: &CartOwner) -> String {
        match owner {
            CartOwner::Account(id) => format!("{}cart:account:{id}", self.prefix),
            CartOwner::Guest(token) => format!("{}cart:guest:{token}", self.prefix),
        }
    }

    /// The lines of a cart (variant, quantity), oldest variant id first; reading keeps the
    /// cart alive.
    pub async fn lines(&self, owner: &CartOwner) -> redis::RedisResult<Vec<(Uuid, i32)>> {
        let key = self.key(owner);
        let mut redis = self.redis.clone();
        let (raw,): (Vec<(String, i32)>,) = redis::pipe()
            .hgetall(&key)
            .expire(&key, self.ttl_secs as i64)
            .ignore()
            .query_async(&mut redis)
            .await?;
        let mut lines: Vec<(Uuid, i32)> = raw
            .into_iter()
            .filter_map(|(variant, quantity)| Some((variant.parse().ok()?, quantity)))
            .collect();
        lines.sort_by_key(|(variant, _)| *variant);
        Ok(lines)
    }

    async fn change(
        &self,
        owner: &CartOwner,
        variant: Uuid,
        quantity: i32,
        mode: &str,
    ) -> redis::RedisResult<Result<i32, CartLimit>> {
        let mut redis = self.redis.clone();
        let outcome: i64 = Script::new(CHANGE_LINE)
            .key(self.key(owner))
            .arg(variant.to_string())
            .arg(quantity)
            .arg(mode)
            .arg(self.max_lines)
            .arg(self.max_quantity)
            .arg(self.ttl_secs)
            .invoke_async(&mut redis)
            .await?;
        Ok(match outcome {
            -1 => Err(CartLimit::TooManyLines {
                max: self.max_lines,
            }),
            -2 => Err(CartLimit::TooManyUnits {
                max: self.max_quantity,
            }),
            quantity => Ok(i32::try_from(quantity).unwrap_or(i32::MAX)),
        })
    }

    /// Adds units of a variant; returns the line's new quantity.
    pub async fn add(
        &self,
        owner: &CartOwner,
        variant: Uuid,
        quantity: i32,
    ) -> redis::RedisResult<Result<i32, CartLimit>> {
        self.change(owner, variant, quantity, "add").await
    }

    /// Sets a line's quantity (0 removes it).
    pub async fn set(
        &self,
        owner: &CartOwner,
        variant: Uuid,
        quantity: i32,
    ) -> redis::RedisResult<Result<i32, CartLimit>> {
        self.change(owner, variant, quantity, "set").await
    }

    pub async fn contains(&self, owner: &CartOwner, variant: Uuid) -> redis::RedisResult<bool> {
        let mut redis = self.redis.clone();
        redis.hexists(self.key(owner), variant.to_string()).await
    }

    pub async fn clear(&self, owner: &CartOwner) -> redis::RedisResult<()> {
        let mut redis = self.redis.clone();
        redis.del(self.key(owner)).await
    }

    /// Moves a guest's cart into a customer's (at login); returns the lines merged.
    pub async fn merge(&self, guest: &CartOwner, into: &CartOwner) -> redis::RedisResult<u64> {
        let mut redis = self.redis.clone();
        Script::new(MERGE)
            .key(self.key(guest))
            .key(self.key(into))
            .arg(self.max_lines)
            .arg(self.max_quantity)
            .arg(self.ttl_secs)
            .invoke_async(&mut redis)
            .await
    }
}
