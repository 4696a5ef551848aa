//! The staff console in a real WebKitGTK window: the app `cargo xtask test` built (with its
//! window embedded), driven through tauri-driver and WebKitWebDriver under Xvfb, against a
//! real API with the demo shop. Screenshots of each screen go to
//! `target/e2e-screenshots/console/`. One window at a time: two WebKit windows, each training
//! models, would starve each other's bounded waits on a small machine.

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
        let dir =
            std::env::temp_dir().join(format!("nexus-console-e2e-{}-{port}", std::process::id()));
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

/// Asks a `Confirmed` button's question and answers yes. The click is made again when the
/// question did not open: a screen that has just refetched a table above the button moves it
/// between the driver finding it and clicking, and the click lands beside it — a person would
/// simply click again.
async fn confirm(client: &Client, id: &str) {
    let yes = format!("#{id}-yes");
    for _ in 0..5 {
        if let Ok(button) = client.find(Locator::Css(&format!("#{id}"))).await {
            let _ = button.click().await;
        }
        let asked = client
            .wait()
            .at_most(Duration::from_secs(5))
            .for_element(Locator::Css(&yes))
            .await;
        if let Ok(answer) = asked {
            answer.click().await.unwrap();
            return;
        }
    }
    screenshot(client, "unconfirmed").await;
    panic!("`#{id}` did not ask its question after five clicks (see unconfirmed.png)");
}

async fn wait(client: &Client, css: &str) -> fantoccini::elements::Element {
    wait_within(client, css, Duration::from_secs(60)).await
}

async fn wait_within(
    client: &Client,
    css: &str,
    timeout: Duration,
) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(timeout)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("`{css}` did not appear: {e}"))
}

/// Types `text` into the field, again if it did not all arrive: the login form's `autofocus`
/// may move the focus to another field half-way through the keys on a loaded machine.
async fn fill(client: &Client, css: &str, text: &str) {
    let input = wait(client, css).await;
    for _ in 0..5 {
        input.clear().await.unwrap();
        input.send_keys(text).await.unwrap();
        if input.prop("value").await.unwrap().as_deref() == Some(text) {
            return;
        }
    }
    let value = input.prop("value").await.unwrap();
    panic!("`{css}` reads {value:?} after typing {text:?} five times");
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
        if started.elapsed() > Duration::from_secs(120) {
            screenshot(client, "timed-out").await;
            panic!("`{css}` still reads `{text}` (see timed-out.png)");
        }
        // Only paces the loop by a frame: WebKitWebDriver now and then fails to read back a
        // script's empty result ("Could not parse script result"), which says nothing about
        // the page, so the loop just looks again (the timeout above still holds).
        let _ = client
            .execute_async(
                "const done = arguments[0]; requestAnimationFrame(() => done());",
                vec![],
            )
            .await;
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

/// Held while a window is open (see the module's comment).
static ONE_WINDOW: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_work_the_shop_from_the_console_window() {
    in_window(|client, api| async move { scenario(&client, &api).await }).await;
}

/// Runs `scenario` in a console window against a fresh API with the demo shop; given the
/// window's driver and the API's address.
async fn in_window<Scenario, Run>(scenario: Scenario)
where
    Scenario: FnOnce(Client, String) -> Run,
    Run: Future<Output = ()> + Send + 'static,
{
    let _one_at_a_time = ONE_WINDOW.lock().await;
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
    let outcome = tokio::spawn(scenario(client.clone(), api.url.clone())).await;
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
    let variant = shop_variant(api, &slug, "EUR", &sku).await;
    assert_eq!(variant["price"]["amount_minor"], 2345, "{variant}");

    // The same row prices the variant in the other markets' currencies: what the US shop shows.
    let dollars = format!("#variants tr[data-sku='{sku}'] form.price-form[data-currency=USD]");
    fill(client, &format!("{dollars} input.price"), "27.50").await;
    click(client, &format!("{dollars} button[type=submit]")).await;
    wait_text(client, "#catalog-notice", |t| t == "USD price saved.").await;
    let variant = shop_variant(api, &slug, "USD", &sku).await;
    assert_eq!(
        variant["price"],
        json!({"amount_minor": 2750, "currency": "USD"})
    );

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

    // The catalog as a CSV file: exported, then a file of staff's own checked (its bad price
    // named by line and column), corrected, checked again and imported after a confirmation.
    let files = std::env::temp_dir().join(format!("console-e2e-csv-{}", std::process::id()));
    std::fs::create_dir_all(&files).unwrap();
    click(client, "#catalog-files").await;
    let exported = files.join("catalog.csv");
    fill(client, "#export-path", exported.to_str().unwrap()).await;
    click(client, "#catalog-export").await;
    wait_text(client, "#export-notice", |t| t.starts_with("Exported ")).await;
    let csv = std::fs::read_to_string(&exported).unwrap();
    assert!(csv.contains("SCARF-CHARCOAL"), "the new scarf is exported");
    let mine = files.join("tote.csv");
    let tote = |price: &str| {
        format!(
            "product_slug,product_name,category,currency,product_status,sku,variant_title,price,stock\n\
             window-tote,Window Tote,cookware,EUR,active,TOTE-W,Natural,{price},4\n"
        )
    };
    std::fs::write(&mine, tote("12.345")).unwrap();
    fill(client, "#catalog-file", mine.to_str().unwrap()).await;
    click(client, "#catalog-check").await;
    let problem = wait_text(client, "#import-problems tbody", |t| !t.is_empty()).await;
    assert!(
        problem.starts_with("2") && problem.contains("price"),
        "{problem}"
    );
    assert!(
        client.find(Locator::Css("#catalog-import")).await.is_err(),
        "no import while the file has a problem"
    );
    std::fs::write(&mine, tote("12.50")).unwrap();
    click(client, "#catalog-check").await;
    wait_text(client, "#import-summary", |t| {
        t == "1 row: 1 product to create, 1 variant to create."
    })
    .await;
    wait(client, "#catalog-import").await;
    confirm(client, "catalog-import").await;
    wait_text(client, "#import-summary", |t| {
        t == "1 row: 1 product created, 1 variant created."
    })
    .await;
    screenshot(client, "catalog-import").await;
    let tote: Value = reqwest::get(format!("{api}/api/v1/products/window-tote"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        tote["product"]["price_from"]["amount_minor"], 1250,
        "{tote}"
    );

    // Orders: fulfil and ship the newest paid order, each after a confirmation.
    click(client, "#nav-orders").await;
    click(client, "button.order-open").await;
    wait(client, "#fulfil").await;
    confirm(client, "fulfil").await;
    wait_text(client, "#order-status", |t| t == "Packed").await;
    fill(client, "#tracking", "1Z999AA10123456784").await;
    wait(client, "#ship").await;
    confirm(client, "ship").await;
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

    // Groups: support makes one, adds this customer to it from their detail, and finds them
    // among its members.
    click(client, "#customer-groups").await;
    wait(client, "#segments").await;
    fill(client, "#segment-new-name", "Window group").await;
    click(client, "#segment-create").await;
    wait_text(client, "#segment-name", |t| t == "Window group").await;
    wait_text(client, "#segment-count", |t| t == "0 members").await;
    click(client, "button.customer-open").await;
    wait(client, "#customer-detail h2").await;
    // The detail offers the new group once its list of groups arrived.
    wait_text(client, "#add-to-group", |t| t.contains("Window group")).await;
    let mut group_id = None;
    for option in client
        .find_all(Locator::Css("#add-to-group option"))
        .await
        .unwrap()
    {
        if option.text().await.unwrap_or_default() == "Window group" {
            group_id = option.attr("value").await.unwrap();
        }
    }
    let group_id = group_id.expect("the new group is offered on the customer's detail");
    wait(client, "#add-to-group")
        .await
        .select_by_value(&group_id)
        .await
        .unwrap();
    click(client, "#add-to-group-button").await;
    wait_text(client, "#add-to-group-notice", |t| {
        t == "Added to Window group."
    })
    .await;
    click(client, "#customer-groups").await;
    wait(client, "#segments").await;
    client
        .find(Locator::XPath(
            "//button[contains(@class, 'segment-open') and normalize-space() = 'Window group']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(client, "#segment-name", |t| t == "Window group").await;
    wait_text(client, "#segment-members", |t| t.contains(&email)).await;
    screenshot(client, "customer-groups").await;
    click(client, "button.customer-open").await;
    wait(client, "#customer-detail h2").await;
    click(client, "#customer-orders").await;
    wait_text(client, "#orders", |t| t.contains(&number)).await;
    let typed = wait(client, "#order-customer")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(typed, email);

    // Returns: the orders screen opens with the requests waiting; one opens its order, whose
    // return is approved after a confirmation.
    let waiting = wait_text(client, "#return-count", |t| t.ends_with("returns")).await;
    assert!(!waiting.starts_with("0 "), "{waiting}");
    click(client, "button.return-open").await;
    click(
        client,
        "#order-returns li[data-status=requested] button[id^=approve-return-]",
    )
    .await;
    click(
        client,
        "#order-returns button[id^=approve-return-][id$=-yes]",
    )
    .await;
    wait_text(client, "#order-notice", |t| t == "Return approved.").await;
    wait(client, "#order-returns li[data-status=approved]").await;
    screenshot(client, "returns").await;

    // Promotions: the demo's four run; staff start a fifth and pause it.
    click(client, "#nav-promotions").await;
    wait(client, "#promotions").await;
    let running = client
        .find_all(Locator::Css("#promotions tr.promotion"))
        .await
        .unwrap();
    assert_eq!(running.len(), 4);
    fill(client, "#promotion-title", "Winter socks: 3 for 2").await;
    click(client, "#promotion-create").await;
    wait_text(client, "#promotion-created", |t| t.contains("Winter socks")).await;
    wait_text(client, "#promotions tr.promotion strong", |t| {
        t == "Winter socks: 3 for 2"
    })
    .await;
    click(client, "#promotions tr.promotion .promotion-toggle").await;
    wait_text(client, "#promotions tr.promotion .promotion-state", |t| {
        t == "paused"
    })
    .await;
    screenshot(client, "promotions").await;

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
    wait(client, "#deploy").await;
    confirm(client, "deploy").await;
    let notice = wait_text(client, "#churn-notice", |t| !t.is_empty()).await;
    let version = notice
        .rsplit(' ')
        .next()
        .expect("the notice names the version")
        .to_owned();
    wait_text(client, "#active-model", |t| t == version).await;
    screenshot(client, "churn-deployed").await;

    // Webhooks are the admins': the staff role is not offered the screen (the API would
    // refuse its every call); an admin is, registers an endpoint, sees its secret once, and
    // pauses it.
    assert_eq!(
        screens_offered(client).await,
        [
            "Dashboard",
            "Catalog",
            "Orders",
            "Customers",
            "Churn",
            "Campaigns",
            "Promotions"
        ]
    );
    click(client, "#log-out").await;
    fill(client, "#email", ADMIN_EMAIL).await;
    fill(client, "#password", ADMIN_PASSWORD).await;
    click(client, "#log-in").await;
    // The console stays on the screen it showed at logging out.
    wait(client, "#active-model").await;
    assert_eq!(screens_offered(client).await.last().unwrap(), "Webhooks");
    click(client, "#nav-webhooks").await;
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

/// The screens the navigation offers, in its order.
async fn screens_offered(client: &Client) -> Vec<String> {
    wait(client, "nav.side > button").await;
    let mut titles = Vec::new();
    for button in client
        .find_all(Locator::Css("nav.side > button"))
        .await
        .unwrap()
    {
        titles.push(button.text().await.unwrap());
    }
    titles
}

/// Training every model in the window, on a machine the other tests share.
const TRAINING: Duration = Duration::from_secs(600);

/// Staff preview a retention campaign, launch it and follow it: before any scoring the
/// preview says to score first; after training, deploying and scoring from the churn screen,
/// the form's typos and the API's refusals show next to the form with their inputs marked,
/// the preview gives the audience and whether it can answer, and the launched campaign's
/// results show each arm, the uplifts (too early yet), the purchase-rate chart, and pause,
/// resume and end.
#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_preview_launch_and_follow_a_campaign() {
    in_window(|client, api| async move { campaign_scenario(&client, &api).await }).await;
}

async fn campaign_scenario(client: &Client, api: &str) {
    wait(client, "#email").await;
    fill(client, "#api-address", api).await;
    fill(client, "#email", STAFF_EMAIL).await;
    fill(client, "#password", STAFF_PASSWORD).await;
    click(client, "#log-in").await;
    wait_text(client, "#awaiting", |t| !t.is_empty()).await;
    let form_refusal = "#campaign-form [role=alert] p";

    // Nothing to launch on before the customers are scored: the preview says what to do.
    click(client, "#nav-campaigns").await;
    wait_text(client, "#no-campaigns", |t| t == "No campaigns yet.").await;
    fill(client, "#name", "Winter win-back").await;
    fill(client, "#offer-value", "15").await;
    click(client, "#campaign-preview-button").await;
    let refusal = wait_text(client, form_refusal, |t| !t.is_empty()).await;
    assert!(refusal.contains("score every customer first"), "{refusal}");

    // The churn screen's own flow: train, deploy and activate, score every customer.
    click(client, "#nav-churn").await;
    click(client, "#train").await;
    wait_within(client, "#run-models", TRAINING).await;
    wait(client, "#deploy").await;
    confirm(client, "deploy").await;
    wait_text(client, "#churn-notice", |t| {
        t.starts_with("Deployed and active:")
    })
    .await;
    wait(client, "#score-all").await;
    confirm(client, "score-all").await;
    wait_text(client, "#score-job p", |t| t.ends_with("finished")).await;

    // The job is listed as the latest scoring run, with the customers it scored; the test
    // stack schedules none.
    let runs = staff_get(api, "/churn/runs").await;
    let run = &runs["runs"][0];
    assert_eq!(
        (&run["status"], &run["trigger"]),
        (&json!("finished"), &json!("staff")),
        "{runs}"
    );
    let scored = run["customers"]
        .as_i64()
        .expect("a finished run counts them");
    assert!(scored > 0, "{runs}");
    let started: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(run["started_at"].clone()).unwrap();
    let last = wait_text(client, "#last-scoring-run", |t| t.contains("finished")).await;
    assert_eq!(
        last,
        format!(
            "Last scoring run: {}, finished, {scored} customers",
            started.format("%-d %b %Y %H:%M")
        )
    );
    let latest = "#scoring-runs tbody tr:first-child";
    let listed = wait(client, latest).await.attr("data-run").await.unwrap();
    assert_eq!(listed.as_deref(), run["id"].as_str());
    assert_eq!(
        wait_text(client, &format!("{latest} .run-customers"), |t| !t
            .is_empty())
        .await,
        scored.to_string()
    );
    assert_eq!(
        wait_text(client, "#scoring-schedule", |t| !t.is_empty()).await,
        "Scheduled scoring is off."
    );
    scroll_to(client, "#scoring-runs").await;
    screenshot(client, "churn-scoring-runs").await;

    // A regular customer's page: the value they are expected to bring next year and when
    // they should order again, by the model just deployed.
    let customer = customer_churn(api, LIFETIME_CUSTOMER).await;
    let lifetime = &customer["lifetime"];
    assert_eq!(lifetime["status"], "predicted", "{customer}");
    let orders = lifetime["expected_orders_365"].as_f64().unwrap();
    let value = lifetime["predicted_value_365_minor"].as_i64().unwrap();
    let per_order = lifetime["expected_order_value_minor"].as_i64().unwrap();
    assert_eq!(lifetime["currency"], "EUR", "{customer}");
    let next: chrono::NaiveDate =
        serde_json::from_value(lifetime["next_order_expected_on"].clone())
            .expect("a regular customer is expected back within the year");
    click(client, "#nav-customers").await;
    fill(client, "#customer-search", LIFETIME_CUSTOMER).await;
    wait_text(client, "#customers tbody", |t| {
        t.contains(LIFETIME_CUSTOMER)
    })
    .await;
    click(client, "button.customer-open").await;
    let shown = wait_text(client, "#lifetime-value", |t| !t.is_empty()).await;
    assert_eq!(
        shown,
        format!(
            "Predicted value, next 365 days: {} (about {orders:.1} orders of {})",
            euros(value),
            euros(per_order)
        )
    );
    let due = wait_text(client, "#next-order", |t| !t.is_empty()).await;
    assert_eq!(
        due,
        format!(
            "Next order expected by {} ({:.1}% chance of an order within 365 days)",
            next.format("%-d %b %Y"),
            100.0 * lifetime["order_chance_365"].as_f64().unwrap()
        )
    );
    // The reasons read in the shop's words, as the API wrote them.
    let strongest = customer["drivers"][0]["description"]
        .as_str()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| panic!("the strongest driver in words: {customer}"));
    let driver = "#churn-drivers tbody tr:first-child .driver";
    assert_eq!(
        wait_text(client, driver, |t| !t.is_empty()).await,
        strongest
    );
    screenshot(client, "customers-lifetime").await;

    // A typo is the console's to refuse, naming the field and marking its input.
    click(client, "#nav-campaigns").await;
    fill(client, "#name", "Winter win-back").await;
    for band in ["low", "medium", "high"] {
        click(client, &format!("#band-{band}")).await;
    }
    fill(client, "#holdout-percent", "ten").await;
    fill(client, "#offer-value", "15").await;
    click(client, "#campaign-preview-button").await;
    let refusal = wait_text(client, form_refusal, |t| !t.is_empty()).await;
    assert!(refusal.starts_with("holdout_percent:"), "{refusal}");
    assert_eq!(
        invalid(client, "#holdout-percent").await,
        Some("true".into())
    );

    // A fixed amount without a minimum spend could make an order free: the API refuses,
    // and the field it names marks the offer's value.
    fill(client, "#holdout-percent", "10").await;
    wait(client, "#offer-kind")
        .await
        .select_by_value("fixed")
        .await
        .unwrap();
    fill(client, "#offer-value", "5.00").await;
    click(client, "#campaign-preview-button").await;
    let refusal = wait_text(client, form_refusal, |t| t.contains("offer.amount")).await;
    assert!(refusal.contains("minimum spend"), "{refusal}");
    assert_eq!(invalid(client, "#offer-value").await, Some("true".into()));
    assert_eq!(invalid(client, "#holdout-percent").await, None);

    // The preview: who qualifies, the split, and — for a shop of a couple of hundred
    // customers with one in ten held out — plainly too few to tell whether it works.
    fill(client, "#min-spend", "40").await;
    click(client, "#campaign-preview-button").await;
    let qualifying = number(&wait_text(client, "#preview-qualifying", |t| !t.is_empty()).await);
    let treated = number(&wait_text(client, "#preview-treated", |t| !t.is_empty()).await);
    let held_out = number(&wait_text(client, "#preview-held-out", |t| !t.is_empty()).await);
    assert!(qualifying > 0, "the demo shop's scored customers qualify");
    assert_eq!(treated + held_out, qualifying);
    assert!(held_out > 0 && treated > held_out, "{treated} / {held_out}");
    let verdict = wait_text(client, "#preview-detectable", |t| !t.is_empty()).await;
    assert!(verdict.starts_with("Too small to tell"), "{verdict}");
    let points: f64 = verdict
        .split("above ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the smallest detectable uplift: {verdict}"));
    assert!(points > 10.0, "{verdict}");
    scroll_to(client, "#campaign-preview").await;
    screenshot(client, "campaigns-preview").await;
    // A preview is of the form as it was.
    fill(client, "#name", "Winter win-back 2026").await;
    wait(client, "#preview-stale").await;

    // Launched after confirming, the campaign opens on its results.
    wait(client, "#campaign-launch").await;
    confirm(client, "campaign-launch").await;
    wait_text(client, "#campaign-name", |t| t == "Winter win-back 2026").await;
    let id = wait(client, "#campaigns tr[data-campaign]")
        .await
        .attr("data-campaign")
        .await
        .unwrap()
        .expect("the row names its campaign");
    let detail = campaign_detail(api, &id).await;
    assert_eq!(detail["results"]["treated"]["customers"], treated);
    assert_eq!(detail["results"]["held_out"]["customers"], held_out);
    let status = wait_text(client, "#campaign-status", |t| !t.is_empty()).await;
    assert_eq!(status, "running");
    let offer = wait_text(client, "#campaign-offer", |t| !t.is_empty()).await;
    assert_eq!(offer, "€5.00 off your next order of €40.00 or more");
    let figure = async |name: &str, arm: &str| {
        wait_text(
            client,
            &format!("#campaign-arms tr[data-figure={name}] td.{arm}"),
            |t| !t.is_empty(),
        )
        .await
    };
    assert_eq!(figure("customers", "treated").await, treated.to_string());
    assert_eq!(figure("customers", "held-out").await, held_out.to_string());
    // The holdout is offered nothing, anywhere.
    for nothing in ["emails-sent", "banners-shown", "codes-redeemed"] {
        assert_eq!(figure(nothing, "held-out").await, "0", "{nothing}");
    }
    assert_eq!(figure("discount-cost", "held-out").await, "€0.00");
    // No window has closed: the uplifts wait, and say until when.
    let ready_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(detail["results"]["purchase_rate_uplift"]["ready_at"].clone())
            .expect("the first windows' end");
    let too_early = format!(
        "Too early — first windows close on {}.",
        ready_at.format("%-d %b %Y")
    );
    let uplift = wait_text(client, "#uplift-purchase-rate .uplift", |t| !t.is_empty()).await;
    assert_eq!(uplift, too_early);
    let uplift = wait_text(client, "#uplift-net-revenue .uplift", |t| !t.is_empty()).await;
    assert_eq!(uplift, too_early);
    // The chart: both arms' cumulative purchase rate, a point per day so far, and a legend.
    let days = detail["results"]["daily"].as_array().unwrap().len();
    assert!(days >= 1);
    let drawn: Value = client
        .execute(
            "const chart = document.querySelector('#campaign-chart');\
             const points = c => chart.querySelector('polyline.' + c).getAttribute('points')\
               .trim().split(/\\s+/).length;\
             return [points('treated'), points('held-out'),\
                     chart.querySelectorAll('circle').length, chart.textContent];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(drawn[0], days, "{drawn}");
    assert_eq!(drawn[1], days, "{drawn}");
    assert_eq!(drawn[2], 2 * days, "{drawn}");
    let legend = drawn[3].as_str().unwrap();
    assert!(
        legend.contains("Treated") && legend.contains("Held out"),
        "{legend}"
    );
    let list = wait_text(client, "#campaigns tbody", |t| !t.is_empty()).await;
    assert!(
        list.contains("Winter win-back 2026")
            && list.contains("running")
            && list.contains(&offer)
            && list.contains(&format!("{treated} / {held_out}")),
        "{list}"
    );
    scroll_to(client, "#campaign-results").await;
    screenshot(client, "campaigns-results").await;

    // Paused and resumed; ended after confirming, for good.
    click(client, "#campaign-pause").await;
    wait_text(client, "#campaign-status", |t| t == "paused").await;
    wait_text(client, "#campaigns .campaign-state", |t| t == "paused").await;
    click(client, "#campaign-resume").await;
    wait_text(client, "#campaign-status", |t| t == "running").await;
    wait(client, "#campaign-end").await;
    confirm(client, "campaign-end").await;
    wait_text(client, "#campaign-status", |t| t == "ended").await;
    assert!(client.find(Locator::Css("#campaign-pause")).await.is_err());
    assert!(client.find(Locator::Css("#campaign-end")).await.is_err());
    assert_eq!(
        campaign_detail(api, &id).await["campaign"]["status"],
        "ended"
    );
}

/// A variant as the shop shows it in `currency`.
async fn shop_variant(api: &str, slug: &str, currency: &str, sku: &str) -> Value {
    let product: Value = reqwest::get(format!("{api}/api/v1/products/{slug}?currency={currency}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    product["product"]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["sku"] == sku)
        .unwrap()
        .clone()
}

async fn scroll_to(client: &Client, css: &str) {
    let element = wait(client, css).await;
    client
        .execute(
            "arguments[0].scrollIntoView({ block: 'start' });",
            vec![serde_json::to_value(&element).unwrap()],
        )
        .await
        .unwrap();
}

/// Whether the input is marked as wrong (`aria-invalid`).
async fn invalid(client: &Client, css: &str) -> Option<String> {
    wait(client, css).await.attr("aria-invalid").await.unwrap()
}

fn number(text: &str) -> i64 {
    text.parse()
        .unwrap_or_else(|_| panic!("`{text}` is not a number"))
}

/// The campaign and its results as the API gives them to staff.
async fn campaign_detail(api: &str, id: &str) -> Value {
    staff_get(api, &format!("/campaigns/{id}")).await
}

/// A demo customer with orders on several days, long enough ago for a lifetime prediction.
const LIFETIME_CUSTOMER: &str = "customer1@nexus.test";

/// A customer's churn report (with the lifetime value) as the API gives it to staff.
async fn customer_churn(api: &str, email: &str) -> Value {
    let found = staff_get(api, &format!("/customers?q={email}")).await;
    let id = found["customers"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{email} is a demo customer: {found}"))
        .to_owned();
    staff_get(api, &format!("/customers/{id}/churn")).await["churn"].clone()
}

/// Whole euros and cents as the console writes them (`€123.45`).
fn euros(minor: i64) -> String {
    format!("€{}.{:02}", minor / 100, minor % 100)
}

/// An answer of the admin API (`path` after `/api/v1/admin`) to the demo staff account.
async fn staff_get(api: &str, path: &str) -> Value {
    let token = api_test_stack::staff_token(api).await;
    reqwest::Client::new()
        .get(format!("{api}/api/v1/admin{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap()
}
