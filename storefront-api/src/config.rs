//! Configuration: the defaults of `config/default.toml` (compiled in), then an optional TOML file, then `NEXUS_*` environment
//! variables (nested keys joined by `__`, e.g. `NEXUS_DATABASE__URL`). Secrets are wrapped so
//! that `Debug` output and logs never show them.

use std::path::Path;

use figment::{
    Figment,
    providers::{Env, Format, Toml},
};
use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub redis: RedisSettings,
    pub mongodb: MongoSettings,
    pub auth: AuthSettings,
    pub cache: CacheSettings,
    pub cart: CartSettings,
    pub checkout: CheckoutSettings,
    pub returns: ReturnSettings,
    pub relay: RelaySettings,
    pub scoring: ScoringSettings,
    pub webhooks: WebhookSettings,
    pub smtp: SmtpSettings,
    pub shop: ShopSettings,
    pub log: LogSettings,
}

/// The SMTP server customer emails leave through (`crate::mail`).
#[derive(Debug, Clone, Deserialize)]
pub struct SmtpSettings {
    /// Whether the relay sends customer emails at all.
    pub enabled: bool,
    /// `smtps://user:pass@host:465`, `smtp://host:587?tls=required`, or plain
    /// `smtp://host:1025` (a local mail catcher only).
    pub url: SecretString,
    /// The sender, e.g. `Nexus Shop <shop@example.com>`.
    pub from: String,
    /// An SMTP conversation slower than this is a failed attempt.
    pub timeout_secs: u64,
}

/// The web shop as emails and links name it.
#[derive(Debug, Clone, Deserialize)]
pub struct ShopSettings {
    pub name: String,
    /// Where shoppers reach the web shop; links in emails start here.
    pub public_url: String,
    /// Signs the links in emails (password reset, unsubscribe). Every deployment sets its
    /// own; the default is for development and is refused when cookies are `Secure`.
    pub link_secret: SecretString,
    /// How long a password-reset link works.
    pub password_reset_minutes: i64,
}

impl ShopSettings {
    /// The signer of the links in emails.
    pub fn links(&self) -> crate::domain::emails::LinkSigner {
        use secrecy::ExposeSecret;
        crate::domain::emails::LinkSigner::new(self.link_secret.expose_secret().as_bytes())
    }
}

/// The link secret of `config/default.toml`, which a deployment must replace.
pub const DEVELOPMENT_LINK_SECRET: &str = "development-only-link-secret-replace-me";

/// The outbox relay (`storefront_api::relay`).
#[derive(Debug, Clone, Deserialize)]
pub struct RelaySettings {
    /// Whether `serve` runs a relay (the `relay` subcommand always does).
    pub enabled: bool,
    pub poll_interval_ms: u64,
    pub batch_size: i64,
    pub concurrency: usize,
    pub attempt_timeout_secs: u64,
    pub backoff_base_secs: u64,
    pub backoff_max_secs: u64,
    pub max_attempts: i32,
    pub disable_after_dead_in_a_row: i32,
    /// Messages processed this long ago, with nothing left to send, are deleted with their
    /// delivery logs.
    pub retention_days: i32,
    /// How often a relay sweeps for them.
    pub sweep_interval_secs: u64,
}

/// Scheduled churn scoring of every customer (`crate::churn::spawn_schedule`), after which
/// automatic campaigns enrol who newly qualifies.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct ScoringSettings {
    pub schedule_enabled: bool,
    /// A run is due when none started within this many hours.
    pub every_hours: i32,
    /// How often each instance checks whether a run is due.
    pub check_interval_secs: u64,
    /// A run still marked running after this long is taken as failed (its instance died).
    pub stale_after_hours: i32,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct WebhookSettings {
    pub allow_http: bool,
    pub allow_private_networks: bool,
}

impl WebhookSettings {
    pub fn policy(self) -> crate::domain::webhooks::NetworkPolicy {
        crate::domain::webhooks::NetworkPolicy {
            allow_http: self.allow_http,
            allow_private_networks: self.allow_private_networks,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct CartSettings {
    pub idle_days: u64,
    pub max_lines: u32,
    pub max_quantity_per_line: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CheckoutSettings {
    /// Seconds between two sweeps for interrupted checkouts.
    pub recovery_interval_secs: u64,
    /// Where shoppers who have not said where they shop from are taken to be (a key of
    /// `countries`): its market's prices are the ones they see.
    pub default_country: String,
    /// Market code (`EU`, `UK`, `US`) → its currency and whether its prices include tax.
    pub markets: std::collections::BTreeMap<String, MarketSettings>,
    /// ISO 3166-1 alpha-2 code → market, tax and shipping of that country.
    pub countries: std::collections::BTreeMap<String, CountrySettings>,
}

/// A market: the countries that see one currency's prices, shown with or without tax.
#[derive(Debug, Clone, Deserialize)]
pub struct MarketSettings {
    /// ISO 4217 code of the prices shoppers of this market see and pay.
    pub currency: String,
    /// Shelf prices include tax (EU, UK) or tax is added at checkout (US).
    pub prices_include_tax: bool,
    /// Standard shipping is free from this much (goods after discounts, minor units) on.
    pub free_standard_shipping_from_minor: i64,
}

impl CheckoutSettings {
    /// Every country names a market that exists and every market has a valid currency: a
    /// shop that would fail at checkout does not start.
    pub fn check(&self) -> Result<(), String> {
        if !self.countries.contains_key(&self.default_country) {
            return Err(format!(
                "checkout.default_country: the shop does not ship to {:?}",
                self.default_country
            ));
        }
        for (code, market) in &self.markets {
            crate::domain::money::Currency::parse(&market.currency).map_err(|_| {
                format!(
                    "checkout.markets.{code}.currency: {:?} is not an ISO 4217 code",
                    market.currency
                )
            })?;
            if market.free_standard_shipping_from_minor < 0 {
                return Err(format!(
                    "checkout.markets.{code}.free_standard_shipping_from_minor: must not be negative"
                ));
            }
        }
        for (code, country) in &self.countries {
            if !self.markets.contains_key(&country.market) {
                return Err(format!(
                    "checkout.countries.{code}.market: there is no market {:?} (markets: {})",
                    country.market,
                    self.markets.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
            if country.tax_basis_points > 10_000 {
                return Err(format!(
                    "checkout.countries.{code}.tax_basis_points: at most 10000"
                ));
            }
        }
        Ok(())
    }

    /// The currency of shoppers who have not said where they shop from.
    pub fn default_currency(&self) -> crate::domain::money::Currency {
        self.countries
            .get(&self.default_country)
            .and_then(|country| self.markets.get(&country.market))
            .and_then(|market| crate::domain::money::Currency::parse(&market.currency).ok())
            .unwrap_or(crate::domain::money::Currency::NONE)
    }

    /// The currency a shopper asked to see prices in (the default market's when none): one
    /// of the shop's markets' currencies, or why not.
    pub fn shopper_currency(
        &self,
        asked: Option<&str>,
    ) -> Result<crate::domain::money::Currency, String> {
        let Some(asked) = asked else {
            return Ok(self.default_currency());
        };
        let currency = crate::domain::money::Currency::parse(&asked.to_ascii_uppercase())?;
        if self
            .markets
            .values()
            .any(|market| market.currency == currency.code())
        {
            return Ok(currency);
        }
        let mut sold_in: Vec<&str> = self
            .markets
            .values()
            .map(|market| market.currency.as_str())
            .collect();
        sold_in.sort_unstable();
        sold_in.dedup();
        Err(format!(
            "the shop does not sell in {currency}; it sells in {}",
            sold_in.join(", ")
        ))
    }
}

/// The shop's return policy.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct ReturnSettings {
    pub window_days: u32,
    /// Refund shipping when a return completes the order.
    pub refund_shipping: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CountrySettings {
    /// The market (a key of `checkout.markets`) whose prices the country sees.
    pub market: String,
    pub tax_basis_points: u32,
    pub standard_minor: i64,
    pub express_minor: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HttpSettings {
    pub host: String,
    pub port: u16,
    /// Largest request body accepted, in bytes; larger bodies get a 413.
    pub body_limit_bytes: usize,
    /// Requests slower than this are answered with a 503 and abandoned.
    pub request_timeout_secs: u64,
    /// A client must send a request's headers within this; then its connection is closed
    /// (a slow client cannot hold a connection slot forever).
    pub header_read_timeout_secs: u64,
    /// On SIGTERM/SIGINT, how long the requests in flight (and streaming answers) may take
    /// to finish before the process exits anyway.
    pub drain_timeout_secs: u64,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted gateway).
    pub trust_forwarded_for: bool,
    /// How long `/readyz` waits for each dependency.
    pub readiness_timeout_ms: u64,
    /// This instance's name in every response's `X-Nexus-Instance` header, so that behind a
    /// gateway one can tell which instance answered. Empty: `<host name>:<port>`.
    pub instance_name: String,
}

impl HttpSettings {
    /// The name `X-Nexus-Instance` carries, for an instance listening on `port`.
    pub fn instance(&self, port: u16) -> String {
        if !self.instance_name.is_empty() {
            return self.instance_name.clone();
        }
        let host = hostname::get().map_or_else(
            |_| "localhost".to_owned(),
            |name| name.to_string_lossy().into_owned(),
        );
        format!("{host}:{port}")
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: SecretString,
    pub max_connections: u32,
    pub acquire_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RedisSettings {
    pub url: SecretString,
    /// Prefix of every key this instance writes, so several shops (or tests) share a server.
    pub key_prefix: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MongoSettings {
    pub uri: SecretString,
    pub database: String,
    /// How long a request waits for MongoDB (to find it, to connect, for the driver's
    /// monitor to hear back) before it fails with 503.
    pub server_selection_timeout_ms: u64,
    /// The same for whole-shop batch work (scoring every customer, the training dataset, the
    /// demo): a server busy handing over hundreds of thousands of events may answer the
    /// monitor late, and at a request's budget the driver would drop the connection mid-read.
    pub batch_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// The absolute lifetime of a session.
    pub session_ttl_hours: u64,
    /// A session unused this long ends (customers, and staff and admins).
    pub customer_idle_minutes: u64,
    pub staff_idle_minutes: u64,
    /// Mark the session cookie `Secure` (set true whenever the shop is served over HTTPS).
    pub cookie_secure: bool,
    pub login_max_failures_per_account_and_client: u64,
    pub login_max_failures_per_account: u64,
    pub login_max_failures_per_client: u64,
    pub login_failure_window_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CacheSettings {
    pub ttl_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    /// `json` (default) or `pretty`.
    pub format: String,
    /// A tracing `EnvFilter` directive, e.g. `info,storefront_api=debug`.
    pub filter: String,
}

/// The defaults, documented key by key in `config/default.toml`.
const DEFAULTS: &str = include_str!("../config/default.toml");

impl Settings {
    /// Loads defaults, then `file` if given (or `NEXUS_CONFIG`), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        let mut figment = Figment::from(Toml::string(DEFAULTS));
        let from_env = std::env::var_os("NEXUS_CONFIG").map(std::path::PathBuf::from);
        if let Some(path) = file.map(Path::to_path_buf).or(from_env) {
            figment = figment.merge(Toml::file_exact(path));
        }
        figment
            .merge(Env::prefixed("NEXUS_").split("__").ignore(&["config"]))
            .extract()
            .map_err(Box::new)
    }

    /// Refuses settings that would run a served shop insecurely: links signed with the
    /// published development secret once cookies are `Secure` (i.e. behind HTTPS).
    pub fn check(&self) -> Result<(), String> {
        use secrecy::ExposeSecret;
        self.checkout.check()?;
        if self.auth.cookie_secure
            && self.shop.link_secret.expose_secret() == DEVELOPMENT_LINK_SECRET
        {
            return Err("shop.link_secret is the development default; set NEXUS_SHOP__LINK_SECRET to a long random value".into());
        }
        if self.shop.link_secret.expose_secret().len() < 32 {
            return Err("shop.link_secret must be at least 32 characters".into());
        }
        Ok(())
    }

    /// Defaults only, ignoring files and the environment (tests start from here).
    pub fn defaults() -> Self {
        Figment::from(Toml::string(DEFAULTS))
            .extract()
            .expect("compiled-in defaults are valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn defaults_parse_and_hide_secrets() {
        let settings = Settings::defaults();
        assert_eq!(settings.http.port, 8080);
        assert!(
            settings
                .database
                .url
                .expose_secret()
                .starts_with("postgres://")
        );
        assert!(!format!("{settings:?}").contains("postgres://"));
    }
}
