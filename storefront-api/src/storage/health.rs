//! Probes for readiness: the cheapest real round trip to each store.

use redis::aio::ConnectionManager;
use sqlx::PgPool;

use super::StoreError;

pub async fn ping_postgres(db: &PgPool) -> Result<(), StoreError> {
    sqlx::query("SELECT 1").execute(db).await?;
    Ok(())
}

pub async fn ping_redis(redis: &ConnectionManager) -> Result<(), StoreError> {
    let mut redis = redis.clone();
    redis::cmd("PING").query_async::<String>(&mut redis).await?;
    Ok(())
}

pub async fn ping_mongo(mongo: &mongodb::Database) -> Result<(), StoreError> {
    mongo.run_command(mongodb::bson::doc! { "ping": 1 }).await?;
    Ok(())
}
