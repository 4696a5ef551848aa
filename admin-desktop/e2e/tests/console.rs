//! The staff console in a real WebKitGTK window: the app `cargo xtask test` built (with its
//! window embedded), driven through tauri-driver and WebKitWebDriver under Xvfb, against a
//! real API with the demo shop. Screenshots of each screen go to
//! `target/e2e-screenshots/console/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use api_test_stack::{
    ADMIN_EMAIL, ADMIN_PASSWORD, ApiStack, STAFF_EMAIL, STAFF_PASSWORD, START_TIMEOUT, answers,
    free_port, required, wait_for,
};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// tauri-driver with the console's own settings folder; stopped with SIGTERM so it stops
/// WebKitWebDriver too.
struct Driver {
    child: Child,
    url: String,
    _dir: PathBuf,
}

impl Driver {
    async fn start() -> Self {
        let port = free_port();
        let native = free_port();
        let dir = std::env::temp_dir().join(format!("nexus-console-e2e-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let child = Command::new(
            std::env::var("NEXUS_E2E_TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into()),
        )
        .args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        .env("NEXUS_CONSOLE_DIR", &dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tauri-driver starts (cargo xtask test installs it)");
        let url = format!("http://127.0.0.1:{port}");
        let status = format!("{url}/status");
        wait_for("tauri-driver", START_TIMEOUT, async || {
            answers(&status).await
        })
        .await;
        Self {
            child,
            url,
            _dir: dir,
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

async fn click(client: &Client, css: &str) {
    wait(client, css).await.click().await.unwrap();
}

async fn wait(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("`{css}` did not appear: {e}"))
}

async fn fill(client: &Client, css: &str, text: &str) {
    let input = wait(client, css).await;
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

/// Waits until the element's text satisfies `wanted`.
async fn wait_text(client: &Client, css: &str, wanted: impl Fn(&str) -> bool) -> String {
    let started = std::time::Instant::now();
    loop {
        let text = match client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if wanted(&text) {
            return text;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "`{css}` still reads `{text}`"
        );
        client
            .execute_async(
                "const done = arguments[0]; requestAnimationFrame(() => done());",
                vec![],
            )
            .await
            .unwrap();
    }
}

async fn screenshot(client: &Client, name: &str) {
    client
        .execute_async(
            "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));",
            vec![],
        )
        .await
        .unwrap();
    let png = client.screenshot().await.unwrap();
    let dir = api_test_stack::checkout_dir().join("target/e2e-screenshots/console");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_work_the_shop_from_the_console_window() {
    let console = required("NEXUS_CONSOLE_BIN");
    let api = ApiStack::start(200).await;
    let driver = Driver::start().await;
    let capabilities = json!({
        "browserName": "wry",
        "tauri:options": { "application": console },
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    let client = ClientBuilder::native()
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a console window through tauri-driver");
    let outcome = tokio::spawn({
        let client = client.clone();
        let url = api.url.clone();
        async move { scenario(&client, &url).await }
    })
    .await;
    let _ = client.close().await;
    drop(driver);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic.into_panic());
    }
}

async fn scenario(client: &Client, api: &str) {
    // Log in: a wrong password is refused with a clear message, then the right one.
    wait(client, "#email").await;
    screenshot(client, "login").await;
    fill(client, "#api-address", api).await;
    fill(client, "#email", STAFF_EMAIL).await;
    fill(client, "#password", "not the password").await;
    click(client, "#log-in").await;
    let refusal = wait_text(client, "[role=alert] p", |t| !t.is_empty()).await;
    assert_eq!(refusal, "The email or password is wrong.");
    fill(client, "#password", STAFF_PASSWORD).await;
    click(client, "#log-in").await;
    let waiting = wait_text(client, "#awaiting", |t| !t.is_empty()).await;
    assert!(
        waiting.parse::<i64>().unwrap() > 0,
        "orders wait: {waiting}"
    );
    screenshot(client, "dashboard").await;

    // Catalog: change a price of a product on sale; the public catalog shows it at once.
    click(client, "#nav-catalog").await;
    wait(client, "#product-status")
        .await
        .select_by_value("active")
        .await
        .unwrap();
    wait_text(client, "#products tbody", |t| {
        t.contains("active") && !t.contains("draft") && !t.contains("archived")
    })
    .await;
    // The list pages forward and back.
    let first_page = wait(client, "#products tbody").await.text().await.unwrap();
    click(client, "button.page-next").await;
    wait_text(client, ".page-number", |t| t.starts_with("Page 2 of")).await;
    wait_text(client, "#products tbody", |t| t != first_page).await;
    click(client, "button.page-previous").await;
    wait_text(client, "#products tbody", |t| t == first_page).await;
    click(client, "button.product-open").await;
    let path = wait_text(client, ".panel p.muted", |t| t.starts_with("/products/")).await;
    let slug = path
        .trim_start_matches("/products/")
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let sku = wait(client, "#variants tr[data-sku]")
        .await
        .attr("data-sku")
        .await
        .unwrap()
        .unwrap();
    fill(client, "#variants tr[data-sku] input.price", "23.45").await;
    click(client, "#variants tr[data-sku] form button[type=submit]").await;
    wait_text(client, "#catalog-notice", |t| t == "Price saved.").await;
    screenshot(client, "catalog").await;
    let product: Value = reqwest::get(format!("{api}/api/v1/products/{slug}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let variant = product["product"]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["sku"] == sku.as_str())
        .unwrap()
        .clone();
    assert_eq!(variant["price"]["amount_minor"], 2345, "{variant}");

    // Stock: a restock with a note; the variant's ledger shows it on top with the stock after.
    let row = format!("#variants tr[data-sku='{sku}']");
    let before: i64 = wait_text(client, &format!("{row} .stock"), |t| !t.is_empty())
        .await
        .parse()
        .unwrap();
    fill(client, &format!("{row} input[id^=delta-]"), "3").await;
    fill(
        client,
        &format!("{row} input.stock-note"),
        "pallet 42 from Ghent",
    )
    .await;
    click(
        client,
        &format!("{row} form.stock-adjust button[type=submit]"),
    )
    .await;
    let after = (before + 3).to_string();
    wait_text(client, &format!("{row} .stock"), |t| t == after).await;
    click(client, &format!("{row} .stock-history")).await;
    let newest = wait_text(
        client,
        &format!("{row} .stock-ledger tbody tr:first-child"),
        |t| !t.is_empty(),
    )
    .await;
    assert!(
        newest.contains("+3")
            && newest.contains("restock")
            && newest.contains("pallet 42 from Ghent")
            && newest.ends_with(&after),
        "{newest}"
    );
    let ledger = wait(client, &format!("{row} .stock-ledger")).await;
    client
        .execute(
            "arguments[0].scrollIntoView({ block: 'center' });",
            vec![serde_json::to_value(&ledger).unwrap()],
        )
        .await
        .unwrap();
    screenshot(client, "catalog-stock-ledger").await;

    // A new product from scratch: a draft with an image, a variant typed in, then on sale.
    click(client, "#new-product").await;
    fill(client, "#new-name", "Window Wool Scarf").await;
    wait(client, "#new-category option:nth-child(3)").await;
    wait(client, "#new-category")
        .await
        .select_by_index(2)
        .await
        .unwrap();
    fill(client, "#image-url", "https://cdn.example.com/scarf.jpg").await;
    click(client, "#image-add").await;
    wait_text(client, "#images", |t| t.contains("scarf.jpg")).await;
    click(client, "#create-product").await;
    wait_text(client, "#product-title", |t| t == "Window Wool Scarf").await;
    let path = wait_text(client, ".panel p.muted", |t| t.starts_with("/products/")).await;
    let scarf_slug = path
        .trim_start_matches("/products/")
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    fill(client, "#variant-sku", "SCARF-GREY").await;
    fill(client, "#variant-title", "Grey").await;
    fill(client, "#variant-options", "colour grey").await;
    fill(client, "#variant-price", "35.00").await;
    fill(client, "#variant-stock", "12").await;
    click(client, "#add-variant").await;
    let refusal = wait_text(client, "#new-variant + .error", |t| !t.is_empty()).await;
    assert!(refusal.contains("name=value"), "{refusal}");
    fill(client, "#variant-options", "colour=Grey").await;
    click(client, "#add-variant").await;
    wait_text(client, "#catalog-notice", |t| t == "Variant added.").await;
    click(client, "#variants tr[data-sku='SCARF-GREY'] .variant-edit").await;
    fill(
        client,
        "#variants .variant-form input.variant-title",
        "Charcoal",
    )
    .await;
    fill(
        client,
        "#variants .variant-form input.variant-sku",
        "SCARF-CHARCOAL",
    )
    .await;
    click(client, "#variants .variant-form .variant-save").await;
    wait_text(client, "#catalog-notice", |t| t == "Variant saved.").await;
    wait(client, "#variants tr[data-sku='SCARF-CHARCOAL']").await;
    wait(client, "#product-state")
        .await
        .select_by_value("active")
        .await
        .unwrap();
    click(client, "#save-details").await;
    wait_text(client, "#catalog-notice", |t| t == "Details saved.").await;
    screenshot(client, "catalog-new-product").await;
    let scarf: Value = reqwest::get(format!("{api}/api/v1/products/{scarf_slug}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(scarf["product"]["name"], "Window Wool Scarf", "{scarf}");
    assert_eq!(
        scarf["product"]["variants"][0]["price"]["amount_minor"],
        3500
    );
    assert_eq!(scarf["product"]["variants"][0]["title"], "Charcoal");
    assert_eq!(
        scarf["product"]["image_urls"],
        json!(["https://cdn.example.com/scarf.jpg"])
    );

    // Orders: fulfil and ship the newest paid order, each after a confirmation.
    click(client, "#nav-orders").await;
    click(client, "button.order-open").await;
    click(client, "#fulfil").await;
    click(client, "#fulfil-yes").await;
    wait_text(client, "#order-status", |t| t == "Packed").await;
    fill(client, "#tracking", "1Z999AA10123456784").await;
    click(client, "#ship").await;
    click(client, "#ship-yes").await;
    wait_text(client, "#order-status", |t| t == "Shipped").await;
    screenshot(client, "orders").await;

    // Filters: a customer name that matches many is refused with a clear message; the
    // customer's email finds their orders, the shipped one among them.
    let line = wait_text(client, "#order-customer-line", |t| t.contains('@')).await;
    let email = line.rsplit(' ').next().unwrap().to_owned();
    let number = wait_text(client, "#order-detail h2", |t| t.starts_with("Order #"))
        .await
        .trim_start_matches("Order ")
        .to_owned();
    fill(client, "#order-customer", "nexus.test").await;
    click(client, "#apply-filters").await;
    let refusal = wait_text(client, "section[aria-label='Order list'] .error", |t| {
        !t.is_empty()
    })
    .await;
    assert!(refusal.contains("type the whole email"), "{refusal}");
    fill(client, "#order-customer", &email).await;
    wait(client, "#order-status-filter")
        .await
        .select_by_value("")
        .await
        .unwrap();
    click(client, "#apply-filters").await;
    wait_text(client, "#orders", |t| t.contains(&number)).await;
    screenshot(client, "orders-filtered").await;

    // Customers: the one who placed that order, the emails the shop sent them, and from
    // there all their orders.
    click(client, "#nav-customers").await;
    fill(client, "#customer-search", &email).await;
    wait_text(client, "#customers tbody", |t| t.contains(&email)).await;
    click(client, "button.customer-open").await;
    wait(client, "#customer-detail h2").await;
    // The shipping just done emailed them; support sees it in their log.
    wait_text(client, "#customer-emails", |t| t.contains("Shipped")).await;
    screenshot(client, "customers").await;
    click(client, "#customer-orders").await;
    wait_text(client, "#orders", |t| t.contains(&number)).await;
    let typed = wait(client, "#order-customer")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(typed, email);

    // Churn: train on the shop's data, deploy and activate; the active model changes.
    click(client, "#nav-churn").await;
    wait_text(client, "#active-model", |t| t == "none").await;
    click(client, "#train").await;
    wait(client, "#run-models").await;
    // Every chart of the report is drawn in the window, ROC curves first.
    let drawn: Value = client
        .execute_async(
            "const done = arguments[0];\
             const images = [...document.querySelectorAll('#run-charts figure img')];\
             Promise.all(images.map(i => i.decode().then(() => i.naturalWidth > 0, () => false)))\
               .then(ok => done(images.map((i, k) => [i.closest('figure').dataset.chart, ok[k]])));",
            vec![],
        )
        .await
        .unwrap();
    let drawn = drawn.as_array().unwrap();
    assert_eq!(drawn.len(), 8, "{drawn:?}");
    assert_eq!(drawn[0], json!(["roc", true]), "{drawn:?}");
    assert!(drawn.iter().all(|c| c[1] == true), "{drawn:?}");
    screenshot(client, "churn-trained").await;
    click(client, "#deploy").await;
    click(client, "#deploy-yes").await;
    let notice = wait_text(client, "#churn-notice", |t| !t.is_empty()).await;
    let version = notice
        .rsplit(' ')
        .next()
        .expect("the notice names the version")
        .to_owned();
    wait_text(client, "#active-model", |t| t == version).await;
    screenshot(client, "churn-deployed").await;

    // Webhooks are the admins': staff are told so; an admin registers an endpoint, sees its
    // secret once, and pauses it.
    click(client, "#nav-webhooks").await;
    let refused = wait_text(client, "#screen [role=alert]", |t| !t.is_empty()).await;
    assert!(refused.contains("integrations"), "{refused}");
    click(client, "#log-out").await;
    fill(client, "#email", ADMIN_EMAIL).await;
    fill(client, "#password", ADMIN_PASSWORD).await;
    click(client, "#log-in").await;
    // The console stays on the screen it showed at logging out.
    wait(client, "#new-webhook").await;
    fill(client, "#webhook-url", "http://127.0.0.1:9/hooks").await;
    fill(client, "#webhook-description", "Warehouse").await;
    click(client, "#topic-order-paid").await;
    click(client, "#topic-stock-low").await;
    click(client, "#webhook-create").await;
    let secret = wait_text(client, "#webhook-secret", |t| !t.is_empty()).await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    click(client, ".webhook-open").await;
    wait_text(client, "#webhook-log .muted", |t| t == "0 deliveries").await;
    click(client, "#webhook-pause").await;
    wait_text(client, ".webhook-state", |t| {
        t == "paused: disabled by staff"
    })
    .await;
    screenshot(client, "webhooks").await;
}
