//! Load as the shop's users make it, through the typed client the shop and the console use.
//! Run by `cargo xtask bench`; by hand against a running stack:
//!
//! ```sh
//! cargo run --release -p storefront-client --example load -- checkout --customers 32
//! cargo run --release -p storefront-client --example load -- mongo-reads --route dashboard
//! ```
//!
//! * `checkout`: `--customers` new customers, each in a loop adding an item to the cart and
//!   checking out with the simulated provider's test card. They register at `--api`
//!   (directly: a gateway's brake on `/auth/` would refuse a burst of sign-ups), then shop at
//!   `--shop-api` (the API, or the gateway in front of it). Each buys a variant of its own, or
//!   with `--hot` all buy the same one; a staff login restocks the variants first, so that
//!   stock never runs out mid-run (a `restock` movement noted "checkout benchmark"). It
//!   writes real orders: run it against a development database, never a shop's.
//! * `mongo-reads`: `--clients` staff sessions calling one of the routes MongoDB answers (or
//!   answered) in a loop: the dashboard, the churn model registry, a customer's churn
//!   scores, a product's reviews, and the one write among them, activating the active model
//!   again.
//!
//! * `catalog-import`: writes a catalog file of `--products` new products (one variant each,
//!   slugs unique to the run) to `--file`, then times, as staff: its dry run, its import,
//!   importing it again (nothing to change) and exporting the whole catalog. It writes real
//!   products (as drafts): run it against a development database, never a shop's.
//!
//! Prints a summary on stderr and one JSON object on stdout: completed operations per
//! second, their latency percentiles, and the failed requests by step and status (for
//! `catalog-import`, the seconds each step took).

use std::{
    collections::BTreeMap,
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use clap::Parser;
use storefront_client::{
    Client, ClientError,
    account::{LoginRequest, PostalAddress, Registration},
    cart::{NewCartItem, ShippingMethod},
    catalog::{ListParams, VariantStatus},
    orders::{CheckoutRequest, PaymentDetails},
    reviews::ReviewPageParams,
    staff::{catalog::StockAdjustment, customers::CustomerParams},
};
use uuid::Uuid;

/// A client's pause before trying again after a failed request, as a real one would rather
/// than hammering a failing server (and counting thousands of failures a second).
const PAUSE_AFTER_FAILURE: Duration = Duration::from_millis(100);

#[derive(Parser)]
struct Args {
    /// An API instance: where customers register and staff log in.
    #[arg(long, default_value = "http://127.0.0.1:8080", global = true)]
    api: String,
    /// How long to keep going.
    #[arg(long, default_value_t = 10, global = true)]
    seconds: u64,
    #[arg(long, default_value = "admin@nexus.test", global = true)]
    staff_email: String,
    #[arg(long, default_value = "NexusAdmin!2026", global = true)]
    staff_password: String,
    #[command(subcommand)]
    workload: Workload,
}

#[derive(clap::Subcommand)]
enum Workload {
    /// Customers adding an item and checking out, in a loop.
    Checkout {
        /// Where customers shop; the API itself by default, or a gateway in front of it.
        #[arg(long)]
        shop_api: Option<String>,
        /// A PEM certificate to trust for `--shop-api` (the gateway's own authority).
        #[arg(long)]
        ca: Option<PathBuf>,
        /// Concurrent customers.
        #[arg(long, default_value_t = 32)]
        customers: usize,
        /// Every customer buys the same variant (a hot item's lock queue).
        #[arg(long)]
        hot: bool,
    },
    /// Staff importing a file of new products as CSV, timed step by step.
    CatalogImport {
        #[arg(long, default_value_t = 10_000)]
        products: usize,
        /// Where the generated file is written (and kept, e.g. for a COPY beside it).
        #[arg(long)]
        file: PathBuf,
    },
    /// Clients reading one MongoDB-backed route in a loop.
    MongoReads {
        #[arg(long, value_enum)]
        route: MongoRoute,
        /// Concurrent clients.
        #[arg(long, default_value_t = 8)]
        clients: usize,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum MongoRoute {
    /// `GET /admin/dashboard`: it grouped every churn score in MongoDB per view until the
    /// scoring runs counted their bands; measured still, as staff open it most.
    Dashboard,
    /// `GET /admin/churn/models`: the model registry.
    ChurnModels,
    /// `GET /admin/customers/{id}/churn`: one customer's scores.
    CustomerChurn,
    /// `GET /products/{slug}/reviews`: a product's reviews, as shoppers read them.
    Reviews,
    /// `POST /admin/churn/models/{version}/activate`, again for the active model: the
    /// registry's write, the model loaded and announced to every instance, the audit entry.
    Activate,
}

/// What one client's loop measured.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    failures: BTreeMap<String, u64>,
}

impl Tally {
    fn failed(&mut self, step: &str, error: &ClientError) {
        let key = match (error.status(), error.body()) {
            (Some(status), Some(body)) => format!("{step}: {status} {}", body.code),
            (Some(status), None) => format!("{step}: {status}"),
            (None, _) => format!("{step}: unreachable"),
        };
        *self.failures.entry(key).or_default() += 1;
    }

    fn add(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        for (key, count) in other.failures {
            *self.failures.entry(key).or_default() += count;
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let api = Client::new(&args.api);
    let run_for = Duration::from_secs(args.seconds);
    if let Workload::CatalogImport { products, file } = &args.workload {
        return catalog_import(&staff(&api, &args).await?, *products, file).await;
    }
    let (what, started, tallies) = match &args.workload {
        Workload::Checkout {
            shop_api,
            ca,
            customers,
            hot,
        } => {
            let shop_api = shop_client(&api, shop_api.as_deref(), ca.as_deref())?;
            let variants = variants_to_buy(&api, if *hot { 1 } else { *customers }).await?;
            restock(&staff(&api, &args).await?, &variants).await?;
            let shoppers = register(&shop_api, &api, *customers).await?;
            let started = Instant::now();
            let deadline = started + run_for;
            let loops = shoppers.into_iter().enumerate().map(|(index, customer)| {
                let variant = variants[index % variants.len()];
                tokio::spawn(shop_until(customer, variant, deadline))
            });
            let what =
                serde_json::json!({"workload": "checkout", "customers": customers, "hot": hot});
            (what, started, futures::future::join_all(loops).await)
        }
        Workload::CatalogImport { .. } => unreachable!("answered above"),
        Workload::MongoReads { route, clients } => {
            let staff = staff(&api, &args).await?;
            let read = MongoRead::prepare(*route, &staff).await?;
            let started = Instant::now();
            let deadline = started + run_for;
            let loops = (0..*clients).map(|_| tokio::spawn(read.clone().until(deadline)));
            let what = serde_json::json!({"workload": "mongo-reads", "route": read.name(), "clients": clients});
            (what, started, futures::future::join_all(loops).await)
        }
    };
    let mut total = Tally::default();
    for tally in tallies {
        total.add(tally.context("a client's loop panicked")?);
    }
    report(what, &mut total, started.elapsed().as_secs_f64());
    Ok(())
}

/// A catalog file of `products` new products in the first category, one variant each with a
/// price and stock, under slugs no earlier run used.
async fn catalog_file(staff: &Client, products: usize) -> Result<Vec<u8>> {
    let categories = staff.categories().await.context("reading the categories")?;
    let category = &categories.first().context("the shop has no category")?.slug;
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let mut csv = String::from(
        "product_slug,product_name,description,category,currency,sku,variant_title,options,price,stock\n",
    );
    for i in 0..products {
        let cents = 500 + (i * 7919) % 20_000;
        csv.push_str(&format!(
            "bench-{run}-{i},Bench product {i},\"A product of the import benchmark, number {i}.\",\
             {category},EUR,B{run}-{i},One size,Size=One,{}.{:02},{}\n",
            cents / 100,
            cents % 100,
            i % 50
        ));
    }
    Ok(csv.into_bytes())
}

async fn catalog_import(staff: &Client, products: usize, file: &std::path::Path) -> Result<()> {
    let csv = catalog_file(staff, products).await?;
    std::fs::write(file, &csv).with_context(|| format!("cannot write {}", file.display()))?;
    let timed = |started: Instant| started.elapsed().as_secs_f64();
    let started = Instant::now();
    let dry = staff.import_catalog(csv.clone(), true).await?;
    let dry_run_s = timed(started);
    if !dry.problems.is_empty() {
        bail!("the generated file has problems: {:?}", &dry.problems[..1]);
    }
    let started = Instant::now();
    let done = staff.import_catalog(csv.clone(), false).await?;
    let import_s = timed(started);
    if done.products_created != products as u64 {
        bail!("{} products created of {products}", done.products_created);
    }
    let started = Instant::now();
    let again = staff.import_catalog(csv, false).await?;
    let again_s = timed(started);
    if again.products_unchanged != products as u64 {
        bail!(
            "the second import changed {} products",
            again.products_updated
        );
    }
    let started = Instant::now();
    let exported = staff.export_catalog().await?;
    let export_s = timed(started);
    eprintln!(
        "{products} products: dry run {dry_run_s:.2} s, import {import_s:.2} s, \
         again {again_s:.2} s, export of {} bytes {export_s:.2} s",
        exported.len()
    );
    println!(
        "{}",
        serde_json::json!({
            "workload": "catalog-import", "products": products, "dry_run_s": dry_run_s,
            "import_s": import_s, "again_s": again_s, "export_s": export_s,
            "export_bytes": exported.len(),
        })
    );
    Ok(())
}

/// Where customers shop: the API, or a gateway (trusting `ca`).
fn shop_client(api: &Client, url: Option<&str>, ca: Option<&std::path::Path>) -> Result<Client> {
    Ok(match (url, ca) {
        (Some(url), Some(ca)) => {
            let pem = std::fs::read(ca).with_context(|| format!("cannot read {}", ca.display()))?;
            let http = reqwest::Client::builder()
                .add_root_certificate(reqwest::Certificate::from_pem(&pem)?)
                .build()?;
            Client::with_http(url, http)
        }
        (Some(url), None) => Client::new(url),
        (None, _) => api.clone(),
    })
}

async fn staff(api: &Client, args: &Args) -> Result<Client> {
    let session = api
        .login(&LoginRequest {
            email: args.staff_email.clone(),
            password: args.staff_password.clone(),
        })
        .await
        .context("staff login")?;
    Ok(api.with_token(session.token))
}

/// `count` new customers, registered at `api`, shopping at `shop_api`.
async fn register(shop_api: &Client, api: &Client, count: usize) -> Result<Vec<Client>> {
    let run = Uuid::new_v4().simple().to_string();
    let mut customers = Vec::with_capacity(count);
    for index in 0..count {
        let session = api
            .register(&Registration {
                email: format!("load-{}-{index}@bench.nexus.test", &run[..12]),
                password: "CheckoutLoad!2026".into(),
                full_name: format!("Load Shopper {index}"),
            })
            .await
            .context("registering a customer")?;
        customers.push(shop_api.with_token(session.token));
    }
    Ok(customers)
}

/// One MongoDB-backed read, with what it needs chosen up front.
#[derive(Clone)]
enum MongoRead {
    Dashboard(Client),
    ChurnModels(Client),
    CustomerChurn(Client, Uuid),
    Reviews(Client, String),
    Activate(Client, String),
}

impl MongoRead {
    async fn prepare(route: MongoRoute, staff: &Client) -> Result<Self> {
        Ok(match route {
            MongoRoute::Dashboard => Self::Dashboard(staff.clone()),
            MongoRoute::ChurnModels => Self::ChurnModels(staff.clone()),
            MongoRoute::CustomerChurn => {
                let list = staff
                    .customers(&CustomerParams {
                        limit: Some(1),
                        ..CustomerParams::default()
                    })
                    .await?;
                let customer = list
                    .customers
                    .first()
                    .context("the shop has no customers")?;
                Self::CustomerChurn(staff.clone(), customer.id)
            }
            MongoRoute::Activate => {
                let models = staff.churn_models().await?;
                let active = models.meta.active.context("no churn model is active")?;
                Self::Activate(staff.clone(), active)
            }
            MongoRoute::Reviews => {
                let list = staff.products(&ListParams::default()).await?;
                let product = list.products.first().context("the shop has no products")?;
                Self::Reviews(staff.clone(), product.slug.clone())
            }
        })
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Dashboard(_) => "GET /admin/dashboard",
            Self::ChurnModels(_) => "GET /admin/churn/models",
            Self::CustomerChurn(..) => "GET /admin/customers/{id}/churn",
            Self::Reviews(..) => "GET /products/{slug}/reviews",
            Self::Activate(..) => "POST /admin/churn/models/{version}/activate",
        }
    }

    async fn until(self, deadline: Instant) -> Tally {
        let mut tally = Tally::default();
        while Instant::now() < deadline {
            let started = Instant::now();
            let result = match &self {
                Self::Dashboard(staff) => staff.dashboard().await.map(drop),
                Self::ChurnModels(staff) => staff.churn_models().await.map(drop),
                Self::CustomerChurn(staff, id) => staff.customer_churn(*id).await.map(drop),
                Self::Reviews(client, slug) => client
                    .reviews(slug, &ReviewPageParams::default())
                    .await
                    .map(drop),
                Self::Activate(staff, version) => staff.activate_model(version).await.map(drop),
            };
            match result {
                Ok(()) => tally.latencies.push(started.elapsed()),
                Err(error) => {
                    tally.failed(self.name(), &error);
                    tokio::time::sleep(PAUSE_AFTER_FAILURE).await;
                }
            }
        }
        tally
    }
}

/// `count` active variants with stock, each of a different product.
async fn variants_to_buy(api: &Client, count: usize) -> Result<Vec<Uuid>> {
    let mut variants = Vec::new();
    let mut params = ListParams {
        in_stock: true,
        limit: Some(100),
        ..ListParams::default()
    };
    loop {
        let page = api.products(&params).await?;
        for summary in &page.products {
            let product = api.product(&summary.slug).await?;
            if let Some(variant) = product
                .variants
                .iter()
                .find(|variant| variant.status == VariantStatus::Active && variant.in_stock)
            {
                variants.push(variant.id);
                if variants.len() == count {
                    return Ok(variants);
                }
            }
        }
        match page.meta.next_cursor {
            Some(cursor) => params.cursor = Some(cursor),
            None => bail!(
                "the catalog has {} products with stock; {count} wanted",
                variants.len()
            ),
        }
    }
}

/// Enough stock on each variant for the run, whatever its pace.
async fn restock(staff: &Client, variants: &[Uuid]) -> Result<()> {
    for &variant in variants {
        staff
            .adjust_stock(
                variant,
                &StockAdjustment {
                    delta: 100_000,
                    reason: "restock".into(),
                    note: Some("checkout benchmark".into()),
                },
            )
            .await
            .context("restocking")?;
    }
    Ok(())
}

async fn shop_until(customer: Client, variant: Uuid, deadline: Instant) -> Tally {
    let mut tally = Tally::default();
    let request = checkout_request();
    while Instant::now() < deadline {
        let item = NewCartItem {
            variant_id: variant,
            quantity: 1,
        };
        if let Err(error) = customer.add_to_cart(&item).await {
            tally.failed("add to cart", &error);
            tokio::time::sleep(PAUSE_AFTER_FAILURE).await;
            continue;
        }
        let started = Instant::now();
        match customer
            .checkout(&request, &Uuid::new_v4().to_string())
            .await
        {
            Ok(_) => tally.latencies.push(started.elapsed()),
            Err(error) => {
                tally.failed("checkout", &error);
                tokio::time::sleep(PAUSE_AFTER_FAILURE).await;
                // Whatever the cart holds goes, so the next round buys one item again.
                let _ = customer.clear_cart().await;
            }
        }
    }
    tally
}

fn checkout_request() -> CheckoutRequest {
    use chrono::Datelike;
    CheckoutRequest {
        expected_currency: Some("EUR".into()),
        shipping_address: Some(PostalAddress {
            full_name: "Load Shopper".into(),
            line1: "Hauptstraße 1".into(),
            line2: None,
            city: "Berlin".into(),
            region: None,
            postal_code: "10115".into(),
            country: "DE".into(),
            phone: None,
        }),
        address_id: None,
        shipping_method: ShippingMethod::Standard,
        discount_code: None,
        payment: PaymentDetails {
            card_number: "4242424242424242".into(),
            expiry_month: 12,
            expiry_year: chrono::Utc::now().year() + 1,
            cvc: "123".into(),
        },
    }
}

fn report(what: serde_json::Value, total: &mut Tally, elapsed: f64) {
    total.latencies.sort_unstable();
    let latencies = &total.latencies;
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        // Nearest rank.
        let rank = ((p / 100.0) * latencies.len() as f64).ceil() as usize;
        latencies[rank.clamp(1, latencies.len()) - 1].as_secs_f64() * 1000.0
    };
    let done = latencies.len();
    let per_second = done as f64 / elapsed;
    let failed: u64 = total.failures.values().sum();
    let (p50, p90, p99) = (percentile(50.0), percentile(90.0), percentile(99.0));
    eprintln!(
        "{what} for {elapsed:.1} s: {done} done, {per_second:.0}/s, p50 {p50:.1} ms, \
         p90 {p90:.1} ms, p99 {p99:.1} ms, {failed} failed {:?}",
        total.failures
    );
    let mut result = what;
    result["seconds"] = elapsed.into();
    result["done"] = done.into();
    result["per_second"] = per_second.into();
    result["p50_ms"] = p50.into();
    result["p90_ms"] = p90.into();
    result["p99_ms"] = p99.into();
    result["failed"] = failed.into();
    result["failures"] = serde_json::json!(total.failures);
    println!("{result}");
}
