//! The `storefront-api` command line: serve, migrate, load demo data, check consistency,
//! create staff.

use std::{io::Read, path::PathBuf};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::{
    config::Settings,
    domain::account::{Email, NewPassword, Role},
    startup::Application,
    storage, telemetry,
};

#[derive(Parser)]
#[command(
    name = "storefront-api",
    version,
    about = "Nexus headless commerce API"
)]
pub struct Cli {
    /// TOML file with settings (defaults apply; NEXUS_* environment variables override).
    #[arg(long, global = true, env = "NEXUS_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Create the database if needed and apply pending migrations.
    Migrate,
    /// Run only the outbox relay (webhook deliveries and customer emails), for instances that
    /// serve no requests; `serve` runs one too unless `relay.enabled` is false.
    Relay,
    /// Load the deterministic demo catalog, customers, staff and two years of orders and
    /// behaviour events up to now (skipped if already loaded).
    DemoData {
        /// Seed of the generator; the same seed and end always give the same shop.
        #[arg(long, default_value_t = crate::demo::DEFAULT_SEED)]
        seed: u64,
        /// Where the history ends instead of now (to the minute): a date (2026-11-01: it ends
        /// at that midnight, UTC) or an RFC 3339 instant, not in the future. Pins the shop for
        /// reproducible loads; another end moves the same shop in time.
        #[arg(long, value_name = "DATE|INSTANT", value_parser = crate::demo::parse_end)]
        ends_at: Option<chrono::DateTime<chrono::Utc>>,
        /// Write orders and events for only the first N customers (the full catalog and
        /// every account are loaded regardless) — quick stacks for browser tests.
        #[arg(long, value_name = "N")]
        history_customers: Option<usize>,
    },
    /// Give the demo shop its churn intelligence: train a churn model on its history,
    /// activate it, score every customer, and add two retention campaigns — one finished 15
    /// days ago with a known effect, to read its measured uplift against, and one running
    /// (its offers go to the mail catcher). Skipped when a churn model is active already.
    DemoRetention {
        /// Seed of the demo shop (as given to demo-data) and of the campaigns' draws.
        #[arg(long, default_value_t = crate::demo::DEFAULT_SEED)]
        seed: u64,
    },
    /// Check that orders, payments and the stock ledger agree (run it at rest, or after a
    /// crash); prints each rule and the rows breaking it, and fails if any does.
    Check,
    /// Create a staff account, or reset an existing one's password and role. Roles: admin
    /// (everything), staff (everything but managing staff), catalog_manager, fulfilment,
    /// support, marketing, analyst — see the README for what each may do.
    CreateStaff {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["admin", "staff", "catalog_manager", "fulfilment", "support", "marketing", "analyst"], default_value = "staff")]
        role: String,
        /// Read the password from standard input instead of NEXUS_STAFF_PASSWORD.
        #[arg(long)]
        password_stdin: bool,
    },
}

pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref()).context("invalid configuration")?;
    telemetry::init_logging(&settings.log);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            Application::build(settings)
                .await?
                .run_until_stopped()
                .await
        }
        Command::Relay => {
            let state = crate::startup::build_state(settings).await?;
            tracing::info!("outbox relay running");
            tokio::select! {
                () = crate::relay::run(state) => Ok(()),
                () = crate::startup::shutdown_signal() => Ok(()),
            }
        }
        Command::Migrate => {
            storage::migrate(&settings.database).await?;
            println!("database is migrated");
            Ok(())
        }
        Command::Check => {
            let db = storage::pg_pool(&settings.database)?;
            let findings = storage::consistency::check(&db)
                .await
                .context("the consistency check could not run")?;
            let broken = findings.iter().filter(|finding| finding.count > 0).count();
            for finding in &findings {
                if finding.count == 0 {
                    println!("ok      {}", finding.rule);
                } else {
                    println!(
                        "BROKEN  {}: {} (e.g. {})",
                        finding.rule,
                        finding.count,
                        finding.examples.join(", ")
                    );
                }
            }
            if broken > 0 {
                bail!(
                    "{broken} of {} consistency rules are broken",
                    findings.len()
                );
            }
            println!("all {} consistency rules hold", findings.len());
            Ok(())
        }
        Command::DemoData {
            seed,
            ends_at,
            history_customers,
        } => {
            let db = storage::pg_pool(&settings.database)?;
            let mongo = storage::mongo_batch_database(&settings.mongodb)
                .await
                .context("invalid MongoDB settings")?;
            let scope = history_customers.map_or(
                crate::demo::HistoryScope::AllCustomers,
                crate::demo::HistoryScope::FirstCustomers,
            );
            let ends_at = ends_at.unwrap_or_else(crate::demo::end_now);
            let outcome = crate::demo::load_with(&db, &mongo, seed, ends_at, scope).await?;
            println!("{outcome}");
            Ok(())
        }
        Command::DemoRetention { seed } => {
            let state = crate::startup::build_state(settings).await?;
            let outcome = crate::demo::retention::prepare(&state, seed, |config| config).await?;
            println!("{outcome}");
            Ok(())
        }
        Command::CreateStaff {
            email,
            name,
            role,
            password_stdin,
        } => {
            let email = Email::parse(&email).map_err(|m| anyhow::anyhow!("email {m}"))?;
            let password = if password_stdin {
                let mut buffer = String::new();
                std::io::stdin().read_to_string(&mut buffer)?;
                buffer.trim_end_matches(['\r', '\n']).to_owned()
            } else {
                std::env::var("NEXUS_STAFF_PASSWORD").context(
                    "give the password in NEXUS_STAFF_PASSWORD or on stdin with --password-stdin",
                )?
            };
            let password = NewPassword::parse(&password, &email)
                .map_err(|m| anyhow::anyhow!("password {m}"))?;
            let Some(role) = Role::parse(&role).filter(|role| role.is_staff()) else {
                let roles: Vec<&str> = Role::ALL
                    .into_iter()
                    .filter(|role| role.is_staff())
                    .map(Role::as_str)
                    .collect();
                bail!("role must be one of {}", roles.join(", "));
            };
            let db = storage::pg_pool(&settings.database)?;
            let account =
                storage::accounts::upsert_staff(&db, &email, &password.hash(), name.trim(), role)
                    .await?;
            // Sessions carry the role they were opened with: a reset ends them all, so a
            // stolen session cannot outlive the new password or keep an old role.
            let redis = storage::redis_connection(&settings.redis)?;
            let sessions = storage::sessions::SessionStore::new(
                redis,
                &settings.redis.key_prefix,
                settings.auth.session_ttl_hours * 3600,
                storage::sessions::IdleTimeouts::from_settings(&settings.auth),
            );
            let ended = sessions.revoke_all(account.id, None).await?;
            println!(
                "{} is now {} ({ended} earlier sessions ended)",
                account.email,
                account.role.as_str()
            );
            Ok(())
        }
    }
}
