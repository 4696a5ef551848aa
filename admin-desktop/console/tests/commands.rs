//! The console's commands against a real storefront-api (the demo shop on a fresh database):
//! what staff do, checked where shoppers and the API would notice it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use api_test_stack::{ApiStack, STAFF_EMAIL, STAFF_PASSWORD};
use churn_lab::models::ModelKind;
use churn_lab::training::Progress;
use serde_json::Value;
use staff_console::catalog::{NewVariant, VariantEdit};
use staff_console::churn::TrainingOptions;
use staff_console::orders::{OrderAction, OrderFilter};
use staff_console::{Console, ConsoleError};
use storefront_client::catalog::{ProductStatus, VariantStatus};
use storefront_client::orders::OrderStatus;
use storefront_client::returns::ReturnStatus;
use storefront_client::staff::catalog::{ProductDraft, ProductPatch};

fn console_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("staff-console-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

async fn public_json(url: String) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// A variant as the shop shows it in `currency`.
async fn shop_variant(api: &str, slug: &str, currency: &str, id: uuid::Uuid) -> Value {
    let product = public_json(format!("{api}/api/v1/products/{slug}?currency={currency}")).await;
    product["product"]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == id.to_string())
        .unwrap()
        .clone()
}

/// Records the steps it hears; cancels when told to.
#[derive(Default)]
struct Steps {
    seen: std::sync::Mutex<Vec<String>>,
    cancel: AtomicBool,
}

impl Progress for Steps {
    fn begin(&self, task: &str, _: u64) {
        self.seen.lock().unwrap().push(task.to_owned());
    }
    fn advance(&self, _: &str) {}
    fn end(&self) {}
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }
}

/// The window's requests, as the Tauri command hands them over, reach their commands and
/// answer in the protocol's types.
#[api_test_stack::test]
async fn requests_from_the_window_reach_their_commands() {
    use console_protocol::{Command, GetDashboard, GetLastRun, GetSettings, Train};
    let console = Console::open(&console_dir("serve")).unwrap();
    let quiet = Arc::new(|_: &console_protocol::churn::TrainingStep| {});
    let settings = console
        .serve(GetSettings {}.into_request(), quiet.clone())
        .await
        .unwrap();
    let settings: <GetSettings as Command>::Answer = serde_json::from_value(settings).unwrap();
    assert_eq!(settings.api_address, "http://127.0.0.1:8080");
    let last = console
        .serve(GetLastRun {}.into_request(), quiet.clone())
        .await
        .unwrap();
    assert_eq!(last, Value::Null, "nothing trained yet");
    let refused = console
        .serve(GetDashboard {}.into_request(), quiet.clone())
        .await;
    assert_eq!(refused, Err(ConsoleError::NotLoggedIn));
    let unknown_model = Train {
        options: TrainingOptions {
            models: Some(vec!["crystal_ball".into()]),
            ..TrainingOptions::default()
        },
    };
    let refused = console
        .serve(unknown_model.into_request(), quiet)
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, ConsoleError::Invalid { field, .. } if field == "models"),
        "{refused:?}"
    );
}

#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_log_in_edit_a_price_and_ship_an_order() {
    let api = ApiStack::start(200).await;
    let dir = console_dir("catalog");
    let console = Console::open(&dir).unwrap();

    // Clear refusals before any session exists.
    assert_eq!(console.dashboard().await, Err(ConsoleError::NotLoggedIn));
    let unreachable = console
        .log_in("http://127.0.0.1:9", STAFF_EMAIL, STAFF_PASSWORD)
        .await
        .unwrap_err();
    assert!(
        matches!(unreachable, ConsoleError::Unreachable { .. }),
        "{unreachable:?}"
    );
    let wrong = console
        .log_in(&api.url, STAFF_EMAIL, "not the password")
        .await
        .unwrap_err();
    assert_eq!(wrong.to_string(), "The email or password is wrong.");
    let customer = console
        .log_in(&api.url, "customer1@nexus.test", "NexusShopper!2026")
        .await
        .unwrap_err();
    assert_eq!(customer.code(), Some("not_staff"), "{customer:?}");
    assert!(console.session().is_none());

    // Log in; the address is remembered for the next start, the token is not written.
    let session = console
        .log_in(&format!("{}/", api.url), STAFF_EMAIL, STAFF_PASSWORD)
        .await
        .unwrap();
    assert_eq!(session.account.email, STAFF_EMAIL);
    assert_eq!(Console::open(&dir).unwrap().settings().api_address, api.url);
    let saved = std::fs::read_to_string(dir.join("settings.json")).unwrap();
    assert!(!saved.contains("token"), "{saved}");

    // The dashboard adds up: the month holds today, and paid orders wait.
    let dashboard = console.dashboard().await.unwrap();
    assert!(dashboard.awaiting_fulfilment > 0, "{dashboard:?}");
    let month: i64 = dashboard.last_30_days.iter().map(|s| s.orders).sum();
    let daily: i64 = dashboard.daily.iter().map(|d| d.orders).sum();
    assert_eq!(month, daily, "the chart's days add up to the month");

    // Edit a price: shoppers see it in the public catalog at once.
    let listing = public_json(format!("{}/api/v1/products?limit=1", api.url)).await;
    let slug = listing["products"][0]["slug"].as_str().unwrap().to_owned();
    let product = public_json(format!("{}/api/v1/products/{slug}", api.url)).await;
    let product_id = product["product"]["id"].as_str().unwrap().parse().unwrap();
    let variant_id = product["product"]["variants"][0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let refused = console
        .set_price(product_id, variant_id, None, "12.345", None)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ConsoleError::Invalid { .. }),
        "{refused:?}"
    );
    console
        .set_price(product_id, variant_id, None, "19.99", Some(""))
        .await
        .unwrap();
    let variant = shop_variant(&api.url, &slug, "EUR", variant_id).await;
    assert_eq!(variant["price"]["amount_minor"], 1999, "{variant}");

    // A price per market: the shop's currencies, its default market's first; a dollar price
    // typed in the console is what the US shop shows, an empty pound price takes the variant
    // off the British shop, and the product's own price cannot be emptied.
    assert_eq!(console.currencies().await.unwrap(), ["EUR", "GBP", "USD"]);
    console
        .set_price(product_id, variant_id, Some("usd"), "29.00", Some(""))
        .await
        .unwrap();
    let variant = shop_variant(&api.url, &slug, "USD", variant_id).await;
    assert_eq!(
        variant["price"],
        serde_json::json!({"amount_minor": 2900, "currency": "USD"})
    );
    let unpriced = console
        .set_price(product_id, variant_id, Some("GBP"), " ", None)
        .await
        .unwrap();
    let markets: Vec<&str> = unpriced
        .variants
        .iter()
        .find(|v| v.id == variant_id)
        .unwrap()
        .market_prices
        .iter()
        .map(|p| p.price.currency.code())
        .collect();
    assert_eq!(markets, ["USD"]);
    let refused = console
        .set_price(product_id, variant_id, None, "", None)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ConsoleError::Invalid { .. }),
        "{refused:?}"
    );

    // Stock changes need a reason the API knows.
    let refused = console
        .adjust_stock(variant_id, 5, "found it", None)
        .await
        .unwrap_err();
    assert!(matches!(refused, ConsoleError::Invalid { .. }));
    let movement = console
        .adjust_stock(variant_id, 5, "restock", Some("pallet 7"))
        .await
        .unwrap();
    assert_eq!(movement.delta, 5);
    let ledger = console.stock_history(variant_id).await.unwrap();
    assert_eq!(
        ledger[0].id, movement.id,
        "the ledger's newest entry comes first"
    );
    assert_eq!(ledger[0].note.as_deref(), Some("pallet 7"));
    assert_eq!(
        ledger.iter().map(|m| i64::from(m.delta)).sum::<i64>(),
        i64::from(movement.stock_after),
        "the ledger sums to the stock on hand"
    );

    // A new product: a draft with a category, a variant typed as staff type it, images,
    // then on sale — shoppers see it with its price and images.
    let categories = console.categories().await.unwrap();
    let shirts = categories
        .iter()
        .find(|c| c.label.contains(" › "))
        .expect("sub-categories are named by their path");
    let draft = console
        .create_product(ProductDraft {
            name: "Console Linen Shirt".into(),
            slug: None,
            description: "Made in the console test.".into(),
            category_id: shirts.id,
            currency: "EUR".into(),
            image_urls: vec!["/images/products/console-linen-1.jpg".into()],
        })
        .await
        .unwrap();
    assert_eq!(draft.status, ProductStatus::Draft);
    let hidden = reqwest::get(format!("{}/api/v1/products/{}", api.url, draft.slug))
        .await
        .unwrap();
    assert_eq!(hidden.status(), 404, "drafts stay off the shop");
    let badly_typed = NewVariant {
        sku: "LINEN-M".into(),
        title: "M".into(),
        options: "size M".into(),
        price: "49.00".into(),
        ..NewVariant::default()
    };
    let refused = console.add_variant(draft.id, badly_typed.clone()).await;
    assert!(
        matches!(&refused, Err(ConsoleError::Invalid { field, .. }) if field == "options"),
        "{refused:?}"
    );
    let with_variant = console
        .add_variant(
            draft.id,
            NewVariant {
                options: "size=M, colour=Sand".into(),
                compare_at: "59".into(),
                initial_stock: 7,
                ..badly_typed
            },
        )
        .await
        .unwrap();
    let variant = &with_variant.variants[0];
    assert_eq!(
        (variant.price.amount_minor, variant.stock_on_hand),
        (4900, 7)
    );
    assert_eq!(variant.options["colour"], "Sand");
    let duplicate = console
        .add_variant(
            draft.id,
            NewVariant {
                sku: "LINEN-M".into(),
                title: "M again".into(),
                price: "49".into(),
                ..NewVariant::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            duplicate,
            ConsoleError::Refused {
                status: 409 | 422,
                ..
            }
        ),
        "{duplicate:?}"
    );
    let unparsable = console
        .edit_variant(
            variant.id,
            VariantEdit {
                sku: "LINEN-M".into(),
                title: "Medium".into(),
                options: "size: M".into(),
                status: VariantStatus::Active,
            },
        )
        .await;
    assert!(
        matches!(&unparsable, Err(ConsoleError::Invalid { field, .. }) if field == "options"),
        "{unparsable:?}"
    );
    let edited = console
        .edit_variant(
            variant.id,
            VariantEdit {
                sku: "LINEN-SAND-M".into(),
                title: "Sand / Medium".into(),
                options: "size=M, colour=Sand".into(),
                status: VariantStatus::Active,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (
            edited.variants[0].sku.as_str(),
            edited.variants[0].title.as_str()
        ),
        ("LINEN-SAND-M", "Sand / Medium")
    );
    let bad_image = console
        .update_product(
            draft.id,
            ProductPatch {
                image_urls: Some(vec!["ftp://example.com/a.jpg".into()]),
                ..ProductPatch::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&bad_image, ConsoleError::Refused { fields, .. } if fields[0].field == "image_urls"),
        "{bad_image:?}"
    );
    let images = vec![
        "https://cdn.example.com/linen-front.jpg".to_owned(),
        "/images/products/console-linen-1.jpg".to_owned(),
    ];
    console
        .update_product(
            draft.id,
            ProductPatch {
                image_urls: Some(images.clone()),
                status: Some(ProductStatus::Active),
                ..ProductPatch::default()
            },
        )
        .await
        .unwrap();
    let seen = public_json(format!("{}/api/v1/products/{}", api.url, draft.slug)).await;
    assert_eq!(seen["product"]["image_urls"], serde_json::json!(images));
    assert_eq!(
        seen["product"]["variants"][0]["compare_at_price"]["amount_minor"],
        5900
    );

    // Ship the oldest paid order: fulfil, then ship with a tracking number.
    let waiting = console.orders_to_fulfil(1).await.unwrap();
    let order_id = waiting.orders[0].id;
    let shipped_too_early = console
        .act_on_order(
            order_id,
            OrderAction::Ship {
                tracking_number: "1Z999".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(shipped_too_early.code(), Some("illegal_transition"));
    console
        .act_on_order(order_id, OrderAction::Fulfil)
        .await
        .unwrap();
    let no_tracking = console
        .act_on_order(
            order_id,
            OrderAction::Ship {
                tracking_number: " ".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(no_tracking, ConsoleError::Invalid { .. }));
    let order = console
        .act_on_order(
            order_id,
            OrderAction::Ship {
                tracking_number: "1Z999AA10123456784".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(order.detail.order.status, OrderStatus::Shipped);
    assert_eq!(
        order.detail.order.tracking_number.as_deref(),
        Some("1Z999AA10123456784")
    );
    // The customer is told (a real SMTP server), and support sees it and can send it again.
    let customer_id = order.detail.order.account_id;
    let address = console
        .customer(customer_id)
        .await
        .unwrap()
        .customer
        .account
        .email;
    let told = api_test_stack::mail_server()
        .wait_for(&address, "is on its way")
        .await;
    assert!(told.text.contains("1Z999AA10123456784"), "{}", told.text);
    let mut shipped_email = None;
    api_test_stack::wait_for(
        "the shipping email in the customer's log",
        api_test_stack::MAIL_ARRIVAL_TIMEOUT,
        async || {
            let view = console.customer(customer_id).await.unwrap();
            shipped_email = view.emails.into_iter().find(|e| {
                e.kind == "order_shipped"
                    && e.status == storefront_client::staff::customers::EmailStatus::Sent
            });
            shipped_email.is_some()
        },
    )
    .await;
    let again = console
        .resend_customer_email(customer_id, shipped_email.unwrap().id)
        .await
        .unwrap();
    assert_eq!(
        again.status,
        storefront_client::staff::customers::EmailStatus::Pending
    );
    assert!(
        order.detail.audit_trail.len() >= 2,
        "each step is in the audit trail"
    );

    // Orders by customer, day and total, as typed into the list's filters.
    let recent = console.find_orders(OrderFilter::default()).await.unwrap();
    let placed = console.order(recent.orders[0].id).await.unwrap();
    let buyer = placed
        .customer
        .clone()
        .expect("the detail names the customer");
    assert_eq!(buyer.id, placed.detail.order.account_id);
    let theirs = console
        .find_orders(OrderFilter {
            customer: buyer.email.to_uppercase(),
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    assert!(theirs.orders.iter().any(|o| o.id == placed.detail.order.id));
    let regular = console.customer(buyer.id).await.unwrap();
    assert_eq!(theirs.meta.total, regular.order_count);
    let ambiguous = console
        .find_orders(OrderFilter {
            customer: "nexus.test".into(),
            ..OrderFilter::default()
        })
        .await
        .unwrap_err();
    assert!(
        ambiguous.to_string().contains("type the whole email"),
        "{ambiguous}"
    );
    let one = &theirs.orders[0];
    let day = one.placed_at.date_naive().to_string();
    let that_day = console
        .find_orders(OrderFilter {
            placed_from: day.clone(),
            placed_to: day.clone(),
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    assert!(
        that_day.orders.iter().any(|o| o.id == one.id),
        "the last day is included"
    );
    assert!(
        that_day
            .orders
            .iter()
            .all(|o| o.placed_at.date_naive() == one.placed_at.date_naive())
    );
    let big = console
        .find_orders(OrderFilter {
            min_total: "100".into(),
            currency: "EUR".into(),
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    assert!(big.meta.total > 0);
    assert!(big.orders.iter().all(|o| o.total.amount_minor >= 10_000));
    let backwards = console
        .find_orders(OrderFilter {
            min_total: "100".into(),
            max_total: "50".into(),
            currency: "EUR".into(),
            ..OrderFilter::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(backwards, ConsoleError::Invalid { .. }));

    // Returns: answer the oldest waiting request, receive its items and refund them.
    let waiting = console
        .returns(Some(ReturnStatus::Requested), 1)
        .await
        .unwrap();
    assert!(waiting.meta.total > 0, "the demo has returns waiting");
    let waiting = waiting.returns.last().unwrap().clone();
    let returned = |view: &staff_console::orders::OrderView| {
        view.detail
            .order
            .returns
            .iter()
            .find(|r| r.id == waiting.id)
            .cloned()
            .expect("the order shows its return")
    };
    let approved = console
        .act_on_order(
            waiting.order_id,
            OrderAction::ApproveReturn {
                return_id: waiting.id,
            },
        )
        .await
        .unwrap();
    assert_eq!(returned(&approved).status, ReturnStatus::Approved);
    let twice = console
        .act_on_order(
            waiting.order_id,
            OrderAction::ApproveReturn {
                return_id: waiting.id,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Some("illegal_return_step"));
    let received = console
        .act_on_order(
            waiting.order_id,
            OrderAction::ReceiveReturn {
                return_id: waiting.id,
                written_off: vec![],
            },
        )
        .await
        .unwrap();
    let due = returned(&received)
        .refund_due
        .expect("a received return's refund");
    assert!(due.amount_minor > 0);
    let typo = console
        .act_on_order(
            waiting.order_id,
            OrderAction::RefundReturn {
                return_id: waiting.id,
                amount: "lots".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(typo, ConsoleError::Invalid { .. }), "{typo:?}");
    let refunded = console
        .act_on_order(
            waiting.order_id,
            OrderAction::RefundReturn {
                return_id: waiting.id,
                amount: String::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(returned(&refunded).refunded, Some(due));
    assert_eq!(
        refunded.detail.order.totals.refunded.amount_minor,
        due.amount_minor
    );

    // Logging out ends the session at the API too.
    console.log_out().await;
    assert_eq!(console.dashboard().await, Err(ConsoleError::NotLoggedIn));
    std::fs::remove_dir_all(dir).unwrap();
}

#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_train_on_the_shop_deploy_and_roll_back() {
    let api = ApiStack::start(200).await;
    let dir = console_dir("churn");
    let console = Console::open(&dir).unwrap();
    console
        .log_in(&api.url, STAFF_EMAIL, STAFF_PASSWORD)
        .await
        .unwrap();

    // A cancelled run stops and leaves nothing to deploy.
    let cancelled = Arc::new(Steps::default());
    cancelled.cancel.store(true, Ordering::SeqCst);
    let outcome = console
        .train(TrainingOptions::default(), cancelled.clone())
        .await;
    assert_eq!(outcome.unwrap_err(), ConsoleError::Cancelled);
    assert!(console.last_run().is_none());

    // Train on the shop's data (through the API), then deploy and activate.
    let options = |models: Vec<ModelKind>| TrainingOptions {
        models: Some(models.iter().map(|m| m.name().to_owned()).collect()),
        ..TrainingOptions::default()
    };
    let steps = Arc::new(Steps::default());
    let first = console
        .train(
            options(vec![ModelKind::Recency, ModelKind::Logistic]),
            steps.clone(),
        )
        .await
        .unwrap();
    assert_eq!(first.summary.chosen, ModelKind::Logistic);
    // The demo shop's churn is learnable: a model that ranks worse than chance has its
    // probabilities upside down (fewer than half the demo customers churn).
    let chosen = &first.summary.models[1];
    assert_eq!(chosen.model, ModelKind::Logistic);
    assert!(
        chosen.validation.roc_auc > 0.7,
        "validation ROC-AUC {}",
        chosen.validation.roc_auc
    );
    assert!(first.report.exists(), "the run has its report");
    // The window gets every chart of the saved report, as drawn.
    assert_eq!(first.charts.len(), 8, "eight charts");
    assert_eq!(first.charts[0].name, "roc");
    for chart in &first.charts {
        let saved = std::fs::read_to_string(first.dir.join(format!("charts/{}.svg", chart.name)));
        assert_eq!(saved.ok().as_ref(), Some(&chart.svg), "{}", chart.name);
        assert!(
            chart.svg.starts_with("<svg"),
            "{} is an SVG drawing",
            chart.name
        );
    }
    assert!(
        steps.seen.lock().unwrap().iter().any(|s| s == "models"),
        "progress is reported"
    );
    let deployed = console.deploy_last_run(true).await.unwrap();
    assert_eq!(deployed.version, first.version());
    assert!(deployed.active);

    // A customer with orders is scored by it, with reasons.
    let orders = console.orders(Default::default()).await.unwrap();
    let customer_id = console
        .order(orders.orders[0].id)
        .await
        .unwrap()
        .customer
        .expect("the order's customer")
        .id;
    let view = console.customer(customer_id).await.unwrap();
    let churn = view.churn.unwrap();
    assert!(churn.scorable);
    assert_eq!(churn.model_version, first.version());
    assert!(
        churn.lifetime.is_some(),
        "a model trained now carries the lifetime value: {churn:?}"
    );
    assert!(view.order_count >= 1);

    // A second model, activated; rolling back returns to the first.
    let second = console
        .train(
            options(vec![ModelKind::Recency, ModelKind::GradientBoosting]),
            steps,
        )
        .await
        .unwrap();
    assert_ne!(second.version(), first.version());
    console.deploy_last_run(true).await.unwrap();
    assert_eq!(
        console.models().await.unwrap().meta.active.as_deref(),
        Some(second.version())
    );
    let back = console.roll_back_model().await.unwrap();
    assert_eq!(back.version, first.version());
    assert_eq!(
        console.models().await.unwrap().meta.active.as_deref(),
        Some(first.version())
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Admins register an endpoint from the console and read what happened to each message: the
/// failed attempt and the retry that got through, a replay with the same id, a pause.
#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_register_a_webhook_and_read_and_replay_its_deliveries() {
    use api_test_stack::{ADMIN_EMAIL, ADMIN_PASSWORD, wait_for};
    use axum::http::{HeaderMap, StatusCode};
    use storefront_client::staff::webhooks::DeliveryStatus;

    let api = ApiStack::start(5).await;
    // A receiver on loopback that fails its first request and records each message's id.
    let ids: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let log = ids.clone();
    let receive = move |headers: HeaderMap| {
        let log = log.clone();
        async move {
            let mut log = log.lock().unwrap();
            let id = headers.get("webhook-id").and_then(|v| v.to_str().ok());
            log.push(id.unwrap_or_default().to_owned());
            if log.len() == 1 {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::NO_CONTENT
            }
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let router = axum::Router::new().route("/hooks", axum::routing::post(receive));
    tokio::spawn(async move { axum::serve(listener, router).await });

    let console = Console::open(&console_dir("webhooks")).unwrap();
    console
        .log_in(&api.url, STAFF_EMAIL, STAFF_PASSWORD)
        .await
        .unwrap();
    let refused = console.webhooks().await.unwrap_err();
    assert!(
        matches!(&refused, ConsoleError::Refused { status: 403, .. }),
        "webhooks are the admins': {refused:?}"
    );
    console.log_out().await;
    console
        .log_in(&api.url, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .unwrap();
    let topics = console.webhook_topics().await.unwrap();
    assert!(topics.iter().any(|t| t == "customer.registered"));
    let unknown = console
        .create_webhook(url.clone(), vec!["customer.moved_to_mars".into()], None)
        .await
        .unwrap_err();
    assert!(
        matches!(&unknown, ConsoleError::Refused { fields, .. } if fields[0].field == "topics"),
        "{unknown:?}"
    );
    let created = console
        .create_webhook(url, vec!["customer.registered".into()], Some("CRM".into()))
        .await
        .unwrap();
    assert!(created.secret.starts_with("whsec_"));
    let endpoint = created.webhook_endpoint.id;

    // A shopper registers: the CRM hears of it, on the second attempt.
    let registered = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/register", api.url))
        .json(&serde_json::json!({
            "email": "new-shopper@example.com",
            "password": "correct horse battery",
            "full_name": "New Shopper",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), reqwest::StatusCode::CREATED);
    let delivered = async || {
        let log = console.webhook_deliveries(endpoint, None, 1).await.unwrap();
        log.deliveries
            .first()
            .filter(|d| d.status == DeliveryStatus::Delivered)
            .cloned()
    };
    wait_for(
        "the delivery",
        std::time::Duration::from_secs(60),
        async || delivered().await.is_some(),
    )
    .await;
    let delivery = delivered().await.unwrap();
    assert_eq!(delivery.topic, "customer.registered");
    let codes: Vec<Option<i32>> = delivery.attempt_log.iter().map(|a| a.status_code).collect();
    assert_eq!(codes, [Some(500), Some(204)]);

    // Replayed: the receiver gets the same message again, with its id.
    let replayed = console
        .replay_webhook_delivery(endpoint, delivery.id)
        .await
        .unwrap();
    assert_eq!(replayed.status, DeliveryStatus::Pending);
    wait_for(
        "the replay",
        std::time::Duration::from_secs(60),
        async || ids.lock().unwrap().len() == 3,
    )
    .await;
    let message_id = delivery.message_id.to_string();
    assert!(ids.lock().unwrap().iter().all(|id| *id == message_id));

    let paused = console.set_webhook_enabled(endpoint, false).await.unwrap();
    assert_eq!(paused.disabled_reason.as_deref(), Some("disabled by staff"));
    let listed = console.webhooks().await.unwrap();
    assert_eq!(listed.webhook_endpoints.len(), 1);
    assert!(listed.webhook_endpoints[0].disabled_at.is_some());
}

/// Staff launch a retention campaign from the console on the scores of a model they trained
/// and deployed from it: typos are the console's to refuse, the shop's rules the API's (named
/// by field), the preview matches what the launch enrols, and a campaign ended stays ended.
#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_preview_launch_and_end_a_campaign() {
    use api_test_stack::{START_TIMEOUT, wait_for};
    use staff_console::campaigns::{CampaignForm, OfferKind};
    use storefront_client::staff::campaigns::{CampaignStatus, Uplift};

    let api = ApiStack::start(200).await;
    let dir = console_dir("campaigns");
    let console = Console::open(&dir).unwrap();
    console
        .log_in(&api.url, STAFF_EMAIL, STAFF_PASSWORD)
        .await
        .unwrap();
    let form = CampaignForm {
        name: "Winter win-back".into(),
        offer_value: "15".into(),
        holdout_percent: "20".into(),
        ..CampaignForm::default()
    };

    // Nothing is scored yet, so there is no audience to preview.
    let refused = console.preview_campaign(&form).await.unwrap_err();
    assert_eq!(refused.code(), Some("no_scores"), "{refused:?}");

    let options = TrainingOptions {
        models: Some(
            [ModelKind::Recency, ModelKind::Logistic]
                .iter()
                .map(|m| m.name().to_owned())
                .collect(),
        ),
        ..TrainingOptions::default()
    };
    console
        .train(options, Arc::new(Steps::default()))
        .await
        .unwrap();
    console.deploy_last_run(true).await.unwrap();
    let job = console.score_all().await.unwrap().job.id;
    wait_for("the scoring run", START_TIMEOUT, async || {
        console.score_job(job).await.unwrap().job.status != "running"
    })
    .await;
    assert_eq!(console.score_job(job).await.unwrap().job.status, "finished");
    // The job is the newest scoring run, recorded with how it ended; the test stack
    // schedules none.
    let runs = console.scoring_runs().await.unwrap();
    let run = &runs.runs[0];
    assert_eq!(
        (run.id, run.trigger.as_str(), run.status.as_str()),
        (job, "staff", "finished")
    );
    assert!(run.customers.is_some_and(|n| n > 0), "{run:?}");
    assert!(!runs.schedule.enabled);
    // The job reads finished before its run is recorded as finished in PostgreSQL.
    wait_for("the scores to launch on", START_TIMEOUT, async || {
        console.preview_campaign(&form).await.is_ok()
    })
    .await;

    let typo = CampaignForm {
        holdout_percent: "ten".into(),
        ..form.clone()
    };
    let refused = console.preview_campaign(&typo).await.unwrap_err();
    assert!(
        matches!(&refused, ConsoleError::Invalid { field, .. } if field == "holdout_percent"),
        "{refused:?}"
    );
    let free_order = CampaignForm {
        offer_kind: OfferKind::Fixed,
        offer_value: "5.00".into(),
        ..form.clone()
    };
    match console.launch_campaign(&free_order).await {
        Err(ConsoleError::Refused { status, fields, .. }) => {
            assert_eq!(status, 422);
            assert_eq!(fields[0].field, "offer.amount_minor");
        }
        other => panic!("{other:?}"),
    }

    let preview = console.preview_campaign(&form).await.unwrap();
    assert!(preview.qualifying > 0);
    assert_eq!(preview.treated + preview.held_out, preview.qualifying);
    // Narrowed to the demo's VIP group (ten customers), it reaches at most those ten.
    let segments = console.segments().await.unwrap().segments;
    let vip = segments
        .iter()
        .find(|s| s.name.starts_with("VIP"))
        .expect("the demo's VIP group");
    let narrowed = CampaignForm {
        segment_id: Some(vip.id),
        ..form.clone()
    };
    let narrowed = console.preview_campaign(&narrowed).await.unwrap();
    assert!(
        preview.qualifying > 10 && narrowed.qualifying <= 10,
        "{} of everyone, {} of the group",
        preview.qualifying,
        narrowed.qualifying
    );
    assert!(preview.minimum_detectable_uplift_points.is_some());
    let launched = console.launch_campaign(&form).await.unwrap();
    assert_eq!(launched.offer.headline, "15 % off your next order");
    assert_eq!(
        (launched.treated, launched.held_out),
        (preview.treated, preview.held_out),
        "the launch enrols whom the preview showed"
    );
    let listed = console.campaigns().await.unwrap();
    assert_eq!(listed.campaigns.len(), 1);
    assert_eq!(listed.campaigns[0].id, launched.id);

    let detail = console.campaign(launched.id).await.unwrap();
    assert_eq!(detail.results.treated.customers, preview.treated);
    assert_eq!(detail.results.held_out.customers, preview.held_out);
    assert_eq!(detail.results.held_out.emails_sent, 0);
    assert!(matches!(
        detail.results.purchase_rate_uplift,
        Uplift::TooEarly { ready_at: Some(_) }
    ));
    assert!(!detail.results.daily.is_empty());

    for status in [
        CampaignStatus::Paused,
        CampaignStatus::Running,
        CampaignStatus::Ended,
    ] {
        let changed = console
            .set_campaign_status(launched.id, status)
            .await
            .unwrap();
        assert_eq!(changed.status, status);
    }
    let refused = console
        .set_campaign_status(launched.id, CampaignStatus::Running)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("campaign_ended"), "{refused:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Staff start a promotion from the console's form — a quantity tier on a category of the
/// demo — see it listed beside the demo's, and pause it; a mistyped tier names its field
/// before anything is sent, and one the API refuses names the API's.
#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_start_and_pause_a_promotion() {
    use staff_console::promotions::{PromotionForm, PromotionKind, TierForm};
    use storefront_client::staff::promotions::{PromotionRule, PromotionScope};

    let api = ApiStack::start(200).await;
    let console = Console::open(&console_dir("promotions")).unwrap();
    console
        .log_in(&api.url, STAFF_EMAIL, STAFF_PASSWORD)
        .await
        .unwrap();
    let demo = console.promotions().await.unwrap();
    assert_eq!(demo.promotions.len(), 4, "the demo's run");
    let beauty = match &demo
        .promotions
        .iter()
        .find(|p| p.title.starts_with("Beauty"))
        .expect("the demo's Beauty tiers")
        .scope
    {
        PromotionScope::Categories { category_ids } => category_ids[0],
        other => panic!("{other:?}"),
    };
    let tiers = |threshold: &str, off: &str| TierForm {
        threshold: threshold.into(),
        off: off.into(),
    };
    let mut form = PromotionForm {
        title: "Beauty week".into(),
        kind: PromotionKind::QuantityTiers,
        tiers: vec![tiers("2", "five"), TierForm::default(), TierForm::default()],
        category_id: Some(beauty),
        budget_uses: "100".into(),
        ..PromotionForm::default()
    };
    match console.create_promotion(&form).await.unwrap_err() {
        ConsoleError::Invalid { field, .. } => assert_eq!(field, "tiers[0].off"),
        other => panic!("{other:?}"),
    }
    form.tiers[0] = tiers("2", "5");
    form.tiers[1] = tiers("2", "8");
    match console.create_promotion(&form).await.unwrap_err() {
        ConsoleError::Refused { fields, .. } => {
            assert_eq!(fields[0].field, "rule.tiers[1].min_quantity")
        }
        other => panic!("{other:?}"),
    }
    form.tiers[1] = tiers("4", "8");
    let started = console.create_promotion(&form).await.unwrap();
    assert_eq!(
        started.rule,
        PromotionRule::QuantityTiers {
            tiers: vec![
                storefront_client::staff::promotions::QuantityTier {
                    min_quantity: 2,
                    off_basis_points: 500
                },
                storefront_client::staff::promotions::QuantityTier {
                    min_quantity: 4,
                    off_basis_points: 800
                },
            ]
        }
    );
    assert_eq!(started.budget_uses, Some(100));
    let listed = console.promotions().await.unwrap();
    assert_eq!(listed.promotions.len(), 5);
    assert_eq!(listed.promotions[0].id, started.id, "newest first");
    let paused = console
        .set_promotion_active(started.id, false)
        .await
        .unwrap();
    assert!(!paused.active);
}

/// Staff export the demo catalog to a file, check it back (nothing to change), then import a
/// file of their own: a bad row is named by line and column and nothing is imported until
/// it is fixed; then the new product is in the shop.
#[api_test_stack::test]
async fn staff_export_and_import_the_catalog_as_csv_files() {
    use staff_console::catalog::import_summary;

    let api = ApiStack::start(200).await;
    let dir = console_dir("catalog-files");
    let console = Console::open(&dir).unwrap();
    console
        .log_in(&api.url, STAFF_EMAIL, STAFF_PASSWORD)
        .await
        .unwrap();
    let exported = dir.join("catalog.csv");
    let file = console
        .export_catalog_file(exported.to_str().unwrap())
        .await
        .unwrap();
    let products = console.products(None, None, 1).await.unwrap().meta.total;
    assert!(
        file.rows as i64 >= products,
        "a row per variant at least: {file:?}, {products} products"
    );
    let check = console
        .import_catalog_file(&file.path, false)
        .await
        .unwrap();
    assert_eq!(
        import_summary(&check),
        format!(
            "{} rows: nothing to change — the catalog already says this.",
            file.rows
        )
    );

    let categories = public_json(format!("{}/api/v1/categories", api.url)).await;
    let category = categories["categories"][0]["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    let mine = dir.join("new.csv");
    let write = |price: &str| {
        std::fs::write(
            &mine,
            format!(
                "product_slug,product_name,category,currency,product_status,sku,variant_title,price,stock\n\
                 console-tote,Console Tote,{category},EUR,active,TOTE-1,Natural,{price},12\n"
            ),
        )
        .unwrap()
    };
    write("19.999");
    let check = console
        .import_catalog_file(mine.to_str().unwrap(), false)
        .await
        .unwrap();
    let named: Vec<(u64, &str)> = check
        .problems
        .iter()
        .map(|p| (p.line, p.column.as_str()))
        .collect();
    assert_eq!(named, [(2, "price")], "{check:?}");
    match console
        .import_catalog_file(mine.to_str().unwrap(), true)
        .await
        .unwrap_err()
    {
        ConsoleError::Refused { code, .. } => assert_eq!(code, "import_invalid"),
        other => panic!("{other:?}"),
    }
    let missing = reqwest::get(format!("{}/api/v1/products/console-tote", api.url))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404, "nothing was imported");

    write("19.99");
    let done = console
        .import_catalog_file(mine.to_str().unwrap(), true)
        .await
        .unwrap();
    assert_eq!(
        import_summary(&done),
        "1 row: 1 product created, 1 variant created."
    );
    let tote = public_json(format!("{}/api/v1/products/console-tote", api.url)).await;
    assert_eq!(tote["product"]["price_from"]["amount_minor"], 1999);

    match console
        .import_catalog_file(dir.join("absent.csv").to_str().unwrap(), false)
        .await
        .unwrap_err()
    {
        ConsoleError::Invalid { field, message } => {
            assert_eq!(field, "path");
            assert!(message.contains("cannot read"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

/// Support makes a group for the press, adds a customer from their detail, sees them among
/// its members, exports the group to a file and takes the customer out again; a segment whose
/// rule is mistyped is refused before anything is sent, naming the field.
#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_make_a_group_add_a_customer_export_it_and_take_them_out() {
    use staff_console::segments::SegmentForm;
    use storefront_client::staff::segments::SegmentKind;

    let api = ApiStack::start(200).await;
    let dir = console_dir("segments");
    let console = Console::open(&dir).unwrap();
    console
        .log_in(&api.url, STAFF_EMAIL, STAFF_PASSWORD)
        .await
        .unwrap();
    let group = console
        .create_segment(&SegmentForm {
            name: "Press".into(),
            ..SegmentForm::default()
        })
        .await
        .unwrap();
    assert_eq!(group.kind, SegmentKind::Static);
    assert!(
        console
            .segments()
            .await
            .unwrap()
            .segments
            .iter()
            .any(|s| s.id == group.id),
        "listed with the others"
    );
    let customer = console
        .customer_named("customer1@nexus.test")
        .await
        .unwrap();
    assert_eq!(
        console
            .add_to_group(group.id, customer)
            .await
            .unwrap()
            .added,
        1
    );
    assert_eq!(
        console
            .add_to_group(group.id, customer)
            .await
            .unwrap()
            .added,
        0,
        "adding a member again adds nobody"
    );
    let members = console.segment_members(group.id, 1).await.unwrap();
    assert_eq!(members.meta.total, 1);
    assert_eq!(members.members[0].email, "customer1@nexus.test");

    let file = console
        .export_segment_file(group.id, dir.join("press.csv").to_str().unwrap())
        .await
        .unwrap();
    assert_eq!(file.rows, 1);
    let written = std::fs::read_to_string(&file.path).unwrap();
    assert!(written.contains("customer1@nexus.test"), "{written}");

    console.remove_from_group(group.id, customer).await.unwrap();
    assert_eq!(
        console
            .segment_members(group.id, 1)
            .await
            .unwrap()
            .meta
            .total,
        0
    );

    let typo = SegmentForm {
        name: "Loyal".into(),
        dynamic: true,
        min_orders: "three".into(),
        ..SegmentForm::default()
    };
    match console.create_segment(&typo).await {
        Err(ConsoleError::Invalid { field, .. }) => assert_eq!(field, "min_orders"),
        other => panic!("expected the console to refuse the typo, got {other:?}"),
    }
    let loyal = console
        .create_segment(&SegmentForm {
            min_orders: "3".into(),
            ..typo
        })
        .await
        .unwrap();
    let loyal_members = console.segment_members(loyal.id, 1).await.unwrap();
    assert!(
        !loyal_members.members.is_empty(),
        "the demo has customers with three orders or more"
    );
    assert!(
        loyal_members.members.iter().all(|m| m.orders >= 3),
        "everyone in it has three orders or more"
    );
}
