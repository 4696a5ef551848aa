//! The stack and the browser for the e2e tests: the API from `api-test-stack` with the shop's
//! server in front of it, Chromium through chromedriver; processes on free ports, bounded
//! waits on real conditions (never sleeps as synchronisation), cleanup on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use api_test_stack::{ApiStack, START_TIMEOUT, answers, env_or, free_port, required, wait_for};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// storefront-api with the demo shop and the web shop in front of it, each in a fresh
/// database, Redis prefix and MongoDB database.
pub struct Stack {
    pub api_url: String,
    pub shop_url: String,
    api: ApiStack,
    shop: Child,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

/// The tests' stacks run one at a time: with three demo loads at once, SecantusDB (a
/// single-threaded Python MongoDB-wire server) fell behind far enough that the API answered a
/// review with 503 (seen in CI). Real MongoDB does not need this; the tests' time does.
static ONE_STACK_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Stack {
    pub async fn start() -> Self {
        let shop_bin = required("NEXUS_E2E_SHOP_BIN");
        let site_root = required("NEXUS_E2E_SITE_ROOT");
        let turn = ONE_STACK_AT_A_TIME.lock().await;
        let api = ApiStack::start(200).await;
        let shop_port = free_port();
        let shop_url = format!("http://127.0.0.1:{shop_port}");
        let shop = Command::new(&shop_bin)
            .env("NEXUS_SHOP_ADDR", format!("127.0.0.1:{shop_port}"))
            .env("NEXUS_SHOP_API_URL", &api.url)
            .env("LEPTOS_SITE_ROOT", &site_root)
            .env("RUST_LOG", "warn")
            .spawn()
            .expect("web-shop starts");
        let healthz = format!("{shop_url}/healthz");
        let stack = Self {
            api_url: api.url.clone(),
            shop_url,
            api,
            shop,
            _turn: turn,
        };
        wait_for("web-shop", START_TIMEOUT, async || answers(&healthz).await).await;
        stack
    }
}

impl Stack {
    /// The behaviour events the API stored for this stack.
    pub async fn events(&self) -> Events {
        Events {
            database: self.api.mongo().await,
        }
    }

    /// The API's MongoDB database.
    pub async fn mongo(&self) -> mongodb::Database {
        self.api.mongo().await
    }

    /// The API's PostgreSQL database, for what no endpoint writes (a scoring run's results).
    /// api-test-stack names it as it names the stack's MongoDB database (`nexus_test_<tag>`),
    /// on the server `NEXUS_TEST_DATABASE_URL` names.
    pub async fn postgres(&self) -> sqlx::PgPool {
        let server = env_or(
            "NEXUS_TEST_DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432",
        );
        let url = format!(
            "{}/{}",
            server.trim_end_matches('/'),
            self.api.mongo().await.name()
        );
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("the stack's PostgreSQL database {url}: {e}"))
    }
}

/// Reads the stack's behaviour events straight from MongoDB.
#[derive(Debug, Clone)]
pub struct Events {
    database: mongodb::Database,
}

impl Events {
    /// A visitor's events, oldest first, as JSON.
    pub async fn of(&self, anonymous_id: &str) -> Vec<Value> {
        use futures::TryStreamExt;
        let documents: Vec<mongodb::bson::Document> = self
            .database
            .collection::<mongodb::bson::Document>("events")
            .find(mongodb::bson::doc! { "anonymous_id": anonymous_id })
            .sort(mongodb::bson::doc! { "occurred_at": 1 })
            .await
            .expect("events can be read")
            .try_collect()
            .await
            .expect("events can be read");
        documents
            .into_iter()
            .map(|d| mongodb::bson::Bson::Document(d).into_relaxed_extjson())
            .collect()
    }

    /// Waits until a visitor's events satisfy `complete` (the shop sends them in batches, at
    /// the latest every few seconds and when a page is left).
    pub async fn wait_for(
        &self,
        anonymous_id: &str,
        complete: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let started = Instant::now();
        let mut interval = tokio::time::interval(Duration::from_millis(250));
        loop {
            interval.tick().await;
            let events = self.of(anonymous_id).await;
            if complete(&events) {
                return events;
            }
            assert!(
                started.elapsed() < EVENTS_TIMEOUT,
                "the shop's events did not all arrive within {} s; stored: {events:?}",
                EVENTS_TIMEOUT.as_secs()
            );
        }
    }
}

/// The shop flushes its queue every 5 s; anything slower than this is a failure.
const EVENTS_TIMEOUT: Duration = Duration::from_secs(30);

pub use api_test_stack::deliver;

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.shop.kill();
        let _ = self.shop.wait();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    Phone,
    Desktop,
}

impl Width {
    pub const ALL: [Width; 2] = [Width::Phone, Width::Desktop];

    fn size(self) -> (u32, u32) {
        match self {
            Width::Phone => (390, 844),
            Width::Desktop => (1280, 900),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Width::Phone => "phone",
            Width::Desktop => "desktop",
        }
    }
}

/// Headless Chromium through chromedriver, both from Debian.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: TempDir,
}

impl Browser {
    pub async fn start() -> Self {
        let port = free_port();
        let driver = Command::new(env_or("NEXUS_E2E_CHROMEDRIVER", "chromedriver"))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts (Debian package chromium-driver)");
        let url = format!("http://127.0.0.1:{port}");
        let status = format!("{url}/status");
        wait_for("chromedriver", START_TIMEOUT, async || {
            answers(&status).await
        })
        .await;
        let profile = TempDir::new("nexus-e2e-chromium");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ]
        .into_iter()
        .map(str::to_owned)
        .chain([format!("--user-data-dir={}", profile.0.display())])
        .collect::<Vec<_>>();
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": env_or("NEXUS_E2E_CHROMIUM", "/usr/bin/chromium"),
                "args": args,
            }
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let client = ClientBuilder::native()
            .capabilities(capabilities)
            .connect(&url)
            .await
            .expect("a Chromium session");
        Self {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Runs `scenario` in a new browser and closes the browser however the scenario ends;
    /// then reports the scenario's panic, if any, or returns what it found.
    pub async fn run<T, F>(scenario: impl FnOnce(Client) -> F) -> T
    where
        T: Send + 'static,
        F: Future<Output = T> + Send + 'static,
    {
        let browser = Self::start().await;
        let outcome = tokio::spawn(scenario(browser.client.clone())).await;
        browser.close().await;
        outcome.unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("{prefix}-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Opens `url` at `width` and waits until the page has hydrated.
pub async fn open(client: &Client, url: &str, width: Width) {
    resize(client, width).await;
    client.goto(url).await.unwrap();
    wait_for_hydration(client).await;
}

pub async fn resize(client: &Client, width: Width) {
    let (w, h) = width.size();
    client.set_window_size(w, h).await.unwrap();
}

/// Waits until the current page's script has taken over (after a form post, say).
pub async fn wait_for_hydration(client: &Client) {
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("body[data-hydrated=true]"))
        .await
        .unwrap_or_else(|e| panic!("the page did not hydrate: {e}"));
}

/// Replaces the text of an input.
/// A card expiry (MM/YY) the payment provider accepts for years to come: December, three
/// years from today.
pub fn card_expiry() -> String {
    use chrono::Datelike;
    format!("12/{:02}", (chrono::Utc::now().year() + 3) % 100)
}

pub async fn fill(client: &Client, css: &str, text: &str) {
    let input = client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no `{css}` to fill: {e}"));
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

pub async fn select(client: &Client, css: &str, value: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no `{css}` to choose in: {e}"))
        .select_by_value(value)
        .await
        .unwrap();
}

pub async fn value(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Saves a PNG of the viewport as `target/e2e-screenshots/<page>-<width>.png`.
pub async fn screenshot(client: &Client, page: &str, width: Width) {
    // Screenshots can lag the DOM by a frame.
    client
        .execute_async(
            "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));",
            vec![],
        )
        .await
        .unwrap();
    let png = client.screenshot().await.unwrap();
    let dir = api_test_stack::checkout_dir().join("target/e2e-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{page}-{}.png", width.name())), png).unwrap();
}

pub async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no `{css}` to click: {e}"))
        .click()
        .await
        .unwrap();
}

/// Fails the test with what the browser shows: its address, the page's main text, and a
/// screenshot at `target/e2e-screenshots/failure.png`.
async fn fail(client: &Client, what: String) -> ! {
    let url = client
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    let main = match client.find(Locator::Css("main")).await {
        Ok(main) => main.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    if let Ok(png) = client.screenshot().await {
        let dir = api_test_stack::checkout_dir().join("target/e2e-screenshots");
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join("failure.png"), png);
    }
    panic!("{what}\n  at {url}\n  the page reads: {main}");
}

/// Waits for the element to appear and returns its text.
pub async fn wait_text(client: &Client, css: &str) -> String {
    match client.wait().for_element(Locator::Css(css)).await {
        Ok(element) => element.text().await.unwrap(),
        Err(e) => fail(client, format!("`{css}` did not appear: {e}")).await,
    }
}

pub async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Waits until the element's text is `expected`.
pub async fn wait_for_text(client: &Client, css: &str, expected: &str) {
    wait_until_text(client, css, |text| text == expected).await;
}

/// Waits until the element exists and its text satisfies `wanted`; returns the text.
pub async fn wait_until_text(client: &Client, css: &str, wanted: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        let found = match client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if wanted(&found) {
            return found;
        }
        if started.elapsed() > Duration::from_secs(30) {
            fail(client, format!("`{css}` still reads `{found}`")).await;
        }
        // Until the next frame is painted. While a form post navigates, the old page may
        // never paint another frame and the script times out: that is a frame waited too, and
        // the loop looks again (the page is there by then; the deadline above still holds).
        drop(
            client
                .execute_async(
                    "const done = arguments[0]; requestAnimationFrame(() => done());",
                    vec![],
                )
                .await,
        );
    }
}

/// "€1,234.50" → 123450.
pub fn minor_units(price: &str) -> i64 {
    let digits: String = price.chars().filter(char::is_ascii_digit).collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("a price: {price}"))
}

/// The listed prices in minor units, in page order.
pub async fn prices(client: &Client) -> Vec<i64> {
    let mut prices = Vec::new();
    for element in client
        .find_all(Locator::Css(".product-card .price .now"))
        .await
        .unwrap()
    {
        prices.push(minor_units(&element.text().await.unwrap()));
    }
    prices
}

/// How the server writes text into HTML.
pub fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

/// The CSRF token a shop page put into its forms.
pub fn csrf_token(page: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = page
        .find(marker)
        .map(|at| at + marker.len())
        .expect("the page has a form with its CSRF token");
    page[start..].split('"').next().expect("token").to_owned()
}
