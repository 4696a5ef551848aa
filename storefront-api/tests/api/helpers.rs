//! `TestApp::spawn()` and the typed helpers tests share.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::{Connection, Executor, PgConnection, PgPool};
use storefront_api::{
    config::Settings,
    domain::account::{Email, Role, hash_password},
    startup::Application,
    storage::{self, MIGRATOR},
};
use uuid::Uuid;

pub fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn server_url() -> String {
    env_or(
        "NEXUS_TEST_DATABASE_URL",
        "postgres://postgres@127.0.0.1:5432",
    )
}

/// Name of the template database for the current set of migrations.
fn template_name() -> String {
    let mut hasher = Sha256::new();
    for migration in MIGRATOR.iter() {
        hasher.update(migration.version.to_le_bytes());
        hasher.update(&*migration.checksum);
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("nexus_test_template_{hex}")
}

/// Creates (once, across all test processes) a migrated template, then clones it.
async fn fresh_database() -> String {
    let mut admin = PgConnection::connect(&format!("{}/postgres", server_url()))
        .await
        .expect(
            "PostgreSQL must be running for the integration tests (cargo xtask test starts it)",
        );
    let template = template_name();
    admin
        .execute("SELECT pg_advisory_lock(727274)")
        .await
        .expect("advisory lock");
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&template)
            .fetch_one(&mut admin)
            .await
            .expect("query pg_database");
    if !exists {
        let building = format!("{template}_building");
        admin
            .execute(format!("DROP DATABASE IF EXISTS {building}").as_str())
            .await
            .expect("drop half-built template");
        admin
            .execute(format!("CREATE DATABASE {building}").as_str())
            .await
            .expect("create template");
        let pool = PgPool::connect(&format!("{}/{building}", server_url()))
            .await
            .expect("connect to template");
        MIGRATOR.run(&pool).await.expect("migrate template");
        pool.close().await;
        admin
            .execute(format!("ALTER DATABASE {building} RENAME TO {template}").as_str())
            .await
            .expect("publish template");
    }
    admin
        .execute("SELECT pg_advisory_unlock(727274)")
        .await
        .expect("advisory unlock");
    let name = format!("nexus_test_{}", Uuid::new_v4().simple());
    admin
        .execute(format!("CREATE DATABASE {name} TEMPLATE {template}").as_str())
        .await
        .expect("clone template");
    name
}

/// A throwaway MongoDB-wire server (SecantusDB) on its own port.
pub struct WireServer {
    child: Child,
    port: u16,
}

impl WireServer {
    pub fn start(port: u16, storage: PathBuf) -> Self {
        let child = Command::new(api_test_stack::secantusd())
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--storage-path",
            ])
            .arg(storage)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start secantusd-py (run the tests through `cargo xtask test`)");
        let server = Self { child, port };
        server.wait_until_listening();
        server
    }

    fn wait_until_listening(&self) {
        // Generous: a Python server starts slowly while compilers hold both cores.
        let deadline = Instant::now() + Duration::from_secs(90);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "secantusd did not listen within 90 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn stop(&mut self) {
        drop(self.child.kill());
        drop(self.child.wait());
    }
}

impl Drop for WireServer {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A throwaway Redis on its own port, nothing persisted: a test can stop it and start it
/// again on the same port.
pub struct RedisServer {
    child: Child,
    pub port: u16,
}

impl RedisServer {
    pub fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server (cargo xtask test installs it)");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen within 30 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        drop(self.child.kill());
        drop(self.child.wait());
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

pub struct TestApp {
    pub address: String,
    pub client: Client,
    pub db: PgPool,
    pub settings: Settings,
}

/// An expiry year the payment provider accepts for years to come: three years from today,
/// so the tests do not start failing when a fixed year passes.
pub fn card_expiry_year() -> i32 {
    use chrono::Datelike;
    chrono::Utc::now().year() + 3
}

/// A checkout paying with `card`, shipped by standard post to Berlin.
pub fn checkout_body(card: &str) -> Value {
    json!({
        "shipping_address": {
            "full_name": "Test Shopper", "line1": "Hauptstraße 1", "city": "Berlin",
            "postal_code": "10115", "country": "DE"
        },
        "shipping_method": "standard",
        "payment": {"card_number": card, "expiry_month": 12, "expiry_year": card_expiry_year(), "cvc": "123"}
    })
}

static EMAILS: AtomicU64 = AtomicU64::new(0);

/// A unique email for this test run.
pub fn unique_email(tag: &str) -> String {
    let n = EMAILS.fetch_add(1, Ordering::Relaxed);
    format!(
        "{tag}{n}-{}@example.com",
        &Uuid::new_v4().simple().to_string()[..8]
    )
}

#[derive(Default)]
pub struct Options {
    pub mongodb_uri: Option<String>,
    pub redis_url: Option<String>,
    /// Reach PostgreSQL through this port (a chaos proxy) instead of the server's own.
    pub database_port: Option<u16>,
    pub request_timeout_secs: Option<u64>,
    /// Take client addresses from `X-Forwarded-For`, as behind the gateway.
    pub trust_forwarded_for: bool,
    /// Any other change to the settings, applied last.
    pub settings: Option<fn(&mut Settings)>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(Options::default()).await
    }

    pub async fn spawn_with(options: Options) -> Self {
        let database = fresh_database().await;
        let mut settings = Settings::defaults();
        settings.http.port = 0;
        let server = match options.database_port {
            Some(port) => {
                let url = server_url();
                let (host, _) = url.rsplit_once(':').expect("a database URL with a port");
                format!("{host}:{port}")
            }
            None => server_url(),
        };
        settings.database.url = format!("{server}/{database}").into();
        if let Some(secs) = options.request_timeout_secs {
            settings.http.request_timeout_secs = secs;
        }
        settings.database.max_connections = 10;
        settings.redis.url = options
            .redis_url
            .unwrap_or_else(|| env_or("NEXUS_TEST_REDIS_URL", "redis://127.0.0.1:6379"))
            .into();
        settings.redis.key_prefix = format!("test:{}:", Uuid::new_v4().simple());
        settings.mongodb.uri = options
            .mongodb_uri
            .unwrap_or_else(api_test_stack::mongo_uri)
            .into();
        settings.mongodb.database = database.clone();
        settings.log.filter = "warn".into();
        settings.http.trust_forwarded_for = options.trust_forwarded_for;
        // Customer emails go to a real SMTP server, the test process's own.
        settings.smtp.url = api_test_stack::mail_server().smtp_url().into();
        // A test scores when it says so (the schedule has its own test).
        settings.scoring.schedule_enabled = false;
        if let Some(change) = options.settings {
            change(&mut settings);
        }
        storefront_api::telemetry::init_logging(&settings.log);

        let app = Application::build(settings.clone())
            .await
            .expect("application builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        let db = storage::pg_pool(&settings.database).expect("pool");
        Self {
            address,
            // No cookie store: a request without a token is anonymous, whatever ran before.
            client: Client::new(),
            db,
            settings,
        }
    }

    /// A second instance of the application on the same databases, Redis prefix and MongoDB
    /// database, as behind the load balancer; returns its address.
    pub async fn sibling(&self) -> String {
        let app = Application::build(self.settings.clone())
            .await
            .expect("second instance builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        address
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request")
    }

    /// `GET path` as `token`, which must answer 200; its JSON.
    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        let response = self.request(Method::GET, path, Some(token), None).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.expect("json")
    }

    /// `POST /api/v1/checkout` of the caller's cart with an approved card, under `key`.
    pub async fn checkout_approved(&self, token: &str, key: &str) -> Response {
        self.client
            .post(self.url("/api/v1/checkout"))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&checkout_body(
                storefront_api::payments::test_cards::APPROVED,
            ))
            .send()
            .await
            .expect("checkout")
    }

    /// Writes a finished scoring run with these scores — customer, churn probability, band,
    /// predicted 365-day value — as `score-all` would.
    pub async fn scored(&self, scores: &[(Uuid, f64, &str, Option<i64>)]) -> Uuid {
        let run = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO scoring_runs (id, trigger, model_version, status, customers, enrolled,
                                       finished_at)
             VALUES ($1, 'staff', 'test-model', 'finished', $2, 0, now())",
        )
        .bind(run)
        .bind(scores.len() as i32)
        .execute(&self.db)
        .await
        .expect("run");
        let mongo = storage::mongo_database(&self.settings.mongodb)
            .await
            .expect("mongo");
        let documents: Vec<_> = scores
            .iter()
            .map(|(id, probability, band, value)| {
                let mut document = mongodb::bson::doc! {
                    "job_id": run.to_string(), "customer_id": id.to_string(),
                    "probability": *probability, "band": *band, "model_version": "test-model",
                    "scored_at": mongodb::bson::DateTime::now(),
                };
                if let Some(value) = value {
                    document.insert("predicted_value_minor", *value);
                }
                document
            })
            .collect();
        mongo
            .collection::<mongodb::bson::Document>("churn_scores")
            .insert_many(documents)
            .await
            .expect("scores");
        run
    }

    /// Puts `quantity` of `variant` in the caller's cart.
    pub async fn add_to_cart(&self, token: &str, variant: Uuid, quantity: i32) {
        let added = self
            .request(
                Method::POST,
                "/api/v1/cart/items",
                Some(token),
                Some(json!({"variant_id": variant, "quantity": quantity})),
            )
            .await;
        assert_eq!(added.status(), StatusCode::OK);
    }

    /// Puts `quantity` of `variant` in the customer's cart and checks out with an approved
    /// card; returns the answer (201, the paid order).
    pub async fn buy(&self, token: &str, variant: Uuid, quantity: i32) -> Value {
        self.add_to_cart(token, variant, quantity).await;
        let paid = self
            .checkout_approved(token, &Uuid::new_v4().to_string())
            .await;
        assert_eq!(paid.status(), StatusCode::CREATED);
        paid.json().await.expect("json")
    }

    /// Takes a paid order to delivered, as staff do: fulfilled, shipped, delivered.
    pub async fn deliver(&self, staff: &str, order_id: &str) {
        for step in [
            json!({"to": "fulfilled"}),
            json!({"to": "shipped", "tracking_number": "DHL-1"}),
            json!({"to": "delivered"}),
        ] {
            let moved = self
                .request(
                    Method::POST,
                    &format!("/api/v1/admin/orders/{order_id}/transitions"),
                    Some(staff),
                    Some(step),
                )
                .await;
            assert_eq!(moved.status(), StatusCode::OK);
        }
    }

    /// Registers a customer and returns (token, account id).
    pub async fn customer(&self) -> (String, Uuid) {
        let response = self
            .request(
                Method::POST,
                "/api/v1/auth/register",
                None,
                Some(json!({
                    "email": unique_email("shopper"),
                    "password": "correct horse battery",
                    "full_name": "Test Shopper",
                })),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.expect("json");
        let token = body["session"]["token"].as_str().expect("token").to_owned();
        let id = body["session"]["account"]["id"]
            .as_str()
            .expect("id")
            .parse()
            .expect("uuid");
        (token, id)
    }

    /// `GET /api/v1/admin/dashboard` as `staff`, which must answer 200.
    pub async fn dashboard(&self, staff: &str) -> Value {
        let response = self
            .request(Method::GET, "/api/v1/admin/dashboard", Some(staff), None)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("the dashboard")
    }

    /// Creates a staff account the way the CLI does, logs it in, returns its token.
    pub async fn staff(&self) -> String {
        self.staff_as(Role::Staff).await
    }

    /// Creates a staff account with `role` the way the CLI does, logs it in, returns its token.
    pub async fn staff_as(&self, role: Role) -> String {
        let session = self.staff_session_as(role).await;
        session["token"].as_str().expect("token").to_owned()
    }

    /// A new staff account of `role`, logged in: the session the API answered.
    pub async fn staff_session_as(&self, role: Role) -> Value {
        let email = unique_email(role.as_str());
        let parsed = Email::parse(&email).expect("email");
        storage::accounts::upsert_staff(
            &self.db,
            &parsed,
            &hash_password("staff password 1"),
            "Test Staff",
            role,
        )
        .await
        .expect("staff");
        let response = self
            .request(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": email, "password": "staff password 1"})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        body["session"].clone()
    }
}

/// `storefront-api` (the binary this test run built) on the test app's databases, Redis prefix
/// and MongoDB database, quiet, without fail points: for tests that run the API (or its relay)
/// as a process of its own, to kill it.
pub fn api_command(app: &TestApp) -> Command {
    use secrecy::ExposeSecret;
    let settings = &app.settings;
    let mut command = Command::new(env!("CARGO_BIN_EXE_storefront-api"));
    command
        .env("NEXUS_DATABASE__URL", settings.database.url.expose_secret())
        .env("NEXUS_REDIS__URL", settings.redis.url.expose_secret())
        .env("NEXUS_REDIS__KEY_PREFIX", &settings.redis.key_prefix)
        .env("NEXUS_MONGODB__URI", settings.mongodb.uri.expose_secret())
        .env("NEXUS_MONGODB__DATABASE", &settings.mongodb.database)
        .env("NEXUS_SMTP__URL", settings.smtp.url.expose_secret())
        .env("NEXUS_LOG__FILTER", "warn")
        .env_remove("NEXUS_CONFIG")
        .env_remove("FAILPOINTS")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// A client that keeps cookies, like a browser.
pub fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .build()
        .expect("client")
}

/// Asserts the stable error envelope and returns its code.
pub async fn error_code(response: Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status, "unexpected status");
    let body: Value = response.json().await.expect("error body is JSON");
    let error = &body["error"];
    assert!(
        error["message"].is_string(),
        "envelope has a message: {body}"
    );
    assert!(
        error.get("details").is_some(),
        "envelope has details: {body}"
    );
    error["code"]
        .as_str()
        .expect("envelope has a code")
        .to_owned()
}

/// Asserts a validation error with `status` and returns the fields it names, in order.
pub async fn error_fields(response: Response, status: StatusCode) -> Vec<String> {
    assert_eq!(response.status(), status, "unexpected status");
    let body: Value = response.json().await.expect("error body is JSON");
    body["error"]["details"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("a validation error names its fields: {body}"))
        .iter()
        .map(|field| field["field"].as_str().expect("field").to_owned())
        .collect()
}

/// Builds a small catalog through the staff API and returns handles to it.
pub struct Catalog {
    pub staff_token: String,
    pub shoes: Uuid,
}

pub struct ProductSpec<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub category: Uuid,
    /// (sku, price, stock)
    pub variants: &'a [(&'a str, i64, i32)],
}

impl TestApp {
    pub async fn category(&self, token: &str, name: &str, parent: Option<Uuid>) -> Uuid {
        let response = self
            .request(
                Method::POST,
                "/api/v1/admin/categories",
                Some(token),
                Some(json!({"name": name, "parent_id": parent})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.expect("json");
        body["category"]["id"]
            .as_str()
            .expect("id")
            .parse()
            .expect("uuid")
    }

    /// Creates an active product with variants; returns (product id, variant ids).
    pub async fn product(&self, token: &str, spec: ProductSpec<'_>) -> (Uuid, Vec<Uuid>) {
        let response = self
            .request(
                Method::POST,
                "/api/v1/admin/products",
                Some(token),
                Some(json!({
                    "name": spec.name,
                    "description": spec.description,
                    "category_id": spec.category,
                    "currency": "EUR",
                })),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.expect("json");
        let id: Uuid = body["product"]["id"]
            .as_str()
            .expect("id")
            .parse()
            .expect("uuid");
        let mut variants = Vec::new();
        for (sku, price, stock) in spec.variants {
            let response = self
                .request(
                    Method::POST,
                    &format!("/api/v1/admin/products/{id}/variants"),
                    Some(token),
                    Some(json!({
                        "sku": sku, "title": sku, "price_minor": price, "initial_stock": stock,
                        "options": {"size": "M"},
                    })),
                )
                .await;
            assert_eq!(response.status(), StatusCode::CREATED, "variant {sku}");
            let body: Value = response.json().await.expect("json");
            let variant = body["product"]["variants"]
                .as_array()
                .expect("variants")
                .iter()
                .find(|v| v["sku"] == *sku)
                .expect("new variant listed");
            variants.push(variant["id"].as_str().expect("id").parse().expect("uuid"));
        }
        let response = self
            .request(
                Method::PATCH,
                &format!("/api/v1/admin/products/{id}"),
                Some(token),
                Some(json!({"status": "active"})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        (id, variants)
    }

    /// Two top categories, one sub-category, and five products.
    /// One product (the Limited Edition Poster, slug `limited-edition-poster`) with one
    /// variant (`POSTER-1`, 25.00) of `stock` units; returns the variant's id.
    pub async fn stocked_variant(&self, staff: &str, stock: i32) -> Uuid {
        let category = self.category(staff, "Limited", None).await;
        let (_, variants) = self
            .product(
                staff,
                ProductSpec {
                    name: "Limited Edition Poster",
                    description: "Numbered print.",
                    category,
                    variants: &[("POSTER-1", 2500, stock)],
                },
            )
            .await;
        variants[0]
    }

    pub async fn small_catalog(&self) -> Catalog {
        let staff_token = self.staff().await;
        let clothing = self.category(&staff_token, "Clothing", None).await;
        let shirts = self.category(&staff_token, "Shirts", Some(clothing)).await;
        let shoes = self.category(&staff_token, "Shoes", None).await;
        let products = [
            ProductSpec {
                name: "Linen Shirt",
                description: "A breathable linen shirt for hot days.",
                category: shirts,
                variants: &[("LS-S", 4900, 5), ("LS-M", 5200, 0)],
            },
            ProductSpec {
                name: "Oxford Shirt",
                description: "Classic cotton oxford weave.",
                category: shirts,
                variants: &[("OX-M", 3900, 2)],
            },
            ProductSpec {
                name: "Wool Coat",
                description: "Warm merino wool coat for winter.",
                category: clothing,
                variants: &[("WC-M", 19900, 1)],
            },
            ProductSpec {
                name: "Trail Running Shoe",
                description: "Grippy outsole for muddy trails.",
                category: shoes,
                variants: &[("TR-42", 12900, 0)],
            },
            ProductSpec {
                name: "Leather Sneaker",
                description: "Minimal white leather sneaker.",
                category: shoes,
                variants: &[("LSN-41", 8900, 7)],
            },
        ];
        for spec in products {
            self.product(&staff_token, spec).await;
        }
        Catalog { staff_token, shoes }
    }
}

/// Asserts that every rule of `storefront-api check` holds, naming the broken ones.
pub async fn assert_consistent(app: &TestApp) {
    let broken: Vec<String> = storefront_api::storage::consistency::check(&app.db)
        .await
        .expect("the consistency check runs")
        .into_iter()
        .filter(|finding| finding.count > 0)
        .map(|finding| format!("{}: {:?}", finding.rule, finding.examples))
        .collect();
    assert!(broken.is_empty(), "broken rules: {broken:#?}");
}
