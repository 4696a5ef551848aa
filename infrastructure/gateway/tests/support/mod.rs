//! The production shape on one machine: several storefront-api instances of one shop, the
//! web shop, and Debian's nginx running `infrastructure/nginx/nginx.conf` in front of them
//! over HTTPS with a certificate made for the test. Processes on free ports, bounded waits
//! on real conditions, everything stopped and removed on drop.

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

use chrono::Datelike;

use api_test_stack::{ApiStack, START_TIMEOUT, answers, free_port, required, wait_for};
use gateway::{Gateway, Local, TEMPLATE};
use serde_json::{Value, json};

pub use api_test_stack::{admin_token, customer_token};

/// The stack behind the gateway.
pub struct Site {
    pub api: ApiStack,
    pub gateway: Gateway,
    /// Trusts the gateway's certificate, reaches `localhost` at the gateway, and follows no
    /// redirects (the tests look at them).
    pub client: reqwest::Client,
    nginx: Nginx,
    _shop: Process,
    _dir: RemovedOnDrop,
    /// Dropped last: the next site starts once this one's processes are gone.
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

/// A child process killed (and reaped) when dropped, also when the start of a site fails.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// nginx's master in a process group of its own: SIGTERM tells it to stop its workers; the
/// group's SIGKILL after that leaves none behind however it went.
struct Nginx(Child);

impl Nginx {
    /// Fails the test with nginx's log if it exited.
    fn ensure_running(&mut self, dir: &std::path::Path) {
        if let Ok(Some(status)) = self.0.try_wait() {
            let log = std::fs::read_to_string(dir.join("nginx.log")).unwrap_or_default();
            panic!("nginx exited ({status}):\n{log}");
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let stopped = (0..50).any(|_| {
            let exited = matches!(self.0.try_wait(), Ok(Some(_)));
            if !exited {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            exited
        });
        if !stopped {
            let _ = self.0.kill();
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.wait();
    }
}

/// The gateway's stacks run one at a time: each loads a demo shop into the test process's
/// single-threaded MongoDB-wire server, and their timings are what the tests look at.
static ONE_SITE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Site {
    /// `instances` API instances with `settings` (see `ApiStack::start_instances`), the
    /// shop, and the gateway in front; the returned guard keeps other sites waiting.
    pub async fn start(instances: usize, settings: &[(&'static str, &str)]) -> Self {
        let turn = ONE_SITE_AT_A_TIME.lock().await;
        let nginx_bin = gateway::nginx_binary()
            .expect("nginx is installed (cargo xtask test installs Debian's nginx-light)");
        let api = ApiStack::start_instances(40, instances, settings).await;

        let shop_address = local_address();
        // The shop's own server calls an instance directly, as in the containers.
        let shop = Process(
            Command::new(required("NEXUS_E2E_SHOP_BIN"))
                .env("NEXUS_SHOP_ADDR", shop_address.to_string())
                .env("NEXUS_SHOP_API_URL", &api.url)
                .env("LEPTOS_SITE_ROOT", required("NEXUS_E2E_SITE_ROOT"))
                .env("RUST_LOG", "warn")
                .stdout(Stdio::null())
                .spawn()
                .expect("web-shop starts"),
        );
        let healthz = format!("http://{shop_address}/healthz");
        wait_for("web-shop", START_TIMEOUT, async || answers(&healthz).await).await;

        let dir = std::env::temp_dir().join(format!(
            "nexus-gateway-{}-{}",
            std::process::id(),
            free_port()
        ));
        let template = std::fs::read_to_string(api_test_stack::checkout_dir().join(TEMPLATE))
            .expect("the gateway's configuration");
        let local = Local {
            http: local_address(),
            https: local_address(),
            api: (0..instances).map(|i| api.instance_address(i)).collect(),
            shop: shop_address,
        };
        let gateway = Gateway::prepare(&template, local, &dir).expect("the gateway renders");
        let log = std::fs::File::create(dir.join("nginx.log")).expect("nginx's log");
        let mut nginx = Nginx(
            gateway
                .nginx_command(&nginx_bin)
                .process_group(0)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("nginx starts"),
        );
        nginx.ensure_running(&dir);
        let certificate = std::fs::read(gateway.certificate()).expect("the certificate");
        let client = reqwest::Client::builder()
            .add_root_certificate(
                reqwest::Certificate::from_pem(&certificate).expect("a PEM certificate"),
            )
            .resolve("localhost", gateway.local.https)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTPS client");
        let mut site = Self {
            api,
            gateway,
            client,
            nginx,
            _shop: shop,
            _dir: RemovedOnDrop(dir.clone()),
            _turn: turn,
        };
        let probe = site.url("/readyz");
        wait_for("the gateway", START_TIMEOUT, async || {
            site.nginx.ensure_running(&site.gateway.dir);
            site.client
                .get(&probe)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        })
        .await;
        site
    }

    /// `path` at the gateway, over HTTPS.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.gateway.https_url())
    }

    /// The last lines nginx logged, for a failure's message.
    pub fn nginx_log(&self) -> String {
        let log = std::fs::read_to_string(self.gateway.dir.join("nginx.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// A customer registered now through the gateway, with `quantity` of `variant` in the cart.
    pub async fn customer_with_cart(&self, variant: &str, quantity: u32) -> String {
        let email = format!("shopper-{}@example.com", uuid::Uuid::new_v4().simple());
        // Straight from an instance: logins through the gateway count against its brake.
        let token = customer_token(&self.api.url, &email).await;
        let response = self
            .client
            .post(self.url("/api/v1/cart/items"))
            .bearer_auth(&token)
            .json(&json!({ "variant_id": variant, "quantity": quantity }))
            .send()
            .await
            .expect("add to cart");
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        token
    }

    /// A variant of the demo catalog with at least `stock` on hand.
    pub async fn stocked_variant(&self, stock: i64) -> String {
        let list: Value = self.get_json("/api/v1/products?limit=50").await;
        for product in list["products"].as_array().expect("products") {
            let slug = product["slug"].as_str().expect("a slug");
            let detail: Value = self.get_json(&format!("/api/v1/products/{slug}")).await;
            let variants = detail["product"]["variants"].as_array().expect("variants");
            if let Some(variant) = variants
                .iter()
                .find(|v| v["stock_on_hand"].as_i64() >= Some(stock))
            {
                return variant["id"].as_str().expect("an id").to_owned();
            }
        }
        panic!("no demo variant has {stock} in stock");
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.client.get(self.url(path)).send().await.expect("GET");
        assert!(response.status().is_success(), "GET {path}: {response:?}");
        response.json().await.expect("JSON")
    }
}

/// A free loopback address.
fn local_address() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], free_port()))
}

/// The instance that answered (`x-nexus-instance`), if an API instance did.
pub fn instance(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("x-nexus-instance")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The gateway's directory, removed when dropped (after nginx stopped: fields drop in order).
struct RemovedOnDrop(std::path::PathBuf);

impl Drop for RemovedOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The checkout body the tests send: the simulated provider's approved card, to Berlin.
pub fn checkout_body() -> Value {
    json!({
        "shipping_address": {
            "full_name": "Gateway Shopper", "line1": "Hauptstraße 1", "city": "Berlin",
            "postal_code": "10115", "country": "DE"
        },
        "shipping_method": "standard",
        "payment": {
            "card_number": "4242424242424242", "expiry_month": 12,
            "expiry_year": chrono::Utc::now().year() + 1, "cvc": "123"
        }
    })
}
