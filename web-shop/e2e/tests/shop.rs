//! The web shop in headless Chromium against the real stack: storefront-api (fresh
//! PostgreSQL database, Redis prefix and MongoDB database, loaded with the demo shop) and the
//! shop's own server, both the binaries `cargo xtask test` built. Screenshots of each page at
//! phone and desktop widths go to `target/e2e-screenshots/`.

mod support;

use fantoccini::{Client, Locator};
use serde_json::Value;
use storefront_client::account::LoginRequest;
use storefront_client::offers::PersonalOffer;
use storefront_client::staff::campaigns::{
    AudienceRule, CampaignDraft, CampaignMode, Channel, OfferDraft,
};

use support::{Browser, Stack, Width};

#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]
async fn shoppers_browse_search_and_choose_in_a_real_browser() {
    let stack = Stack::start().await;
    let (shop, api) = (stack.shop_url.clone(), stack.api_url.clone());
    let events = stack.events().await;
    Browser::run(|client| async move { browse(&client, &shop, &api, &events).await }).await;
}

/// A product with several variants, one of them in stock, from the API itself.
async fn product_with_choices(api: &str) -> Value {
    let http = reqwest::Client::new();
    let list: Value = http
        .get(format!("{api}/api/v1/products?limit=100&in_stock=true"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for summary in list["products"].as_array().unwrap() {
        let slug = summary["slug"].as_str().unwrap();
        let detail: Value = http
            .get(format!("{api}/api/v1/products/{slug}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if detail["product"]["variants"].as_array().unwrap().len() >= 3 {
            return detail["product"].clone();
        }
    }
    panic!("the demo shop has no in-stock product with three variants among the first 100");
}

async fn browse(client: &Client, shop: &str, api: &str, events: &support::Events) {
    // Home: products and categories, then hydration.
    for width in Width::ALL {
        support::open(client, &format!("{shop}/"), width).await;
        let cards = client
            .find_all(Locator::Css(".product-grid .product-card"))
            .await
            .unwrap();
        assert_eq!(cards.len(), 8, "the home page shows eight new products");
        assert_eq!(client.title().await.unwrap(), "Home · Nexus");
        support::screenshot(client, "home", width).await;
    }

    // Search from the header form for a word of a real product's name.
    let product = product_with_choices(api).await;
    let name = product["name"].as_str().unwrap().to_owned();
    let word = name.split_whitespace().last().unwrap().to_lowercase();
    support::open(client, &format!("{shop}/"), Width::Desktop).await;
    client
        .find(Locator::Css("#search-q"))
        .await
        .unwrap()
        .send_keys(&word)
        .await
        .unwrap();
    support::click(client, "form.search button").await;
    let count = support::wait_text(client, ".result-count").await;
    // The search is recorded once the page is interactive.
    support::wait_for_hydration(client).await;
    assert!(
        count.contains("found") && !count.starts_with("0 "),
        "a search for `{word}` reports its results: {count}"
    );

    // A search that finds nothing says so and offers a way on.
    support::open(client, &format!("{shop}/search?q=xqzvwy"), Width::Desktop).await;
    let heading = client
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(heading, "No products match “xqzvwy”");
    assert!(
        !client
            .find_all(Locator::Css(".category-tiles a"))
            .await
            .unwrap()
            .is_empty()
    );

    // The product page: pick another variant; the page changes without loading again.
    let slug = product["slug"].as_str().unwrap();
    let variants = product["variants"].as_array().unwrap();
    for width in Width::ALL {
        support::open(client, &format!("{shop}/products/{slug}"), width).await;
        let h1 = client
            .find(Locator::Css("h1"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(h1, name);
        let options = client
            .find_all(Locator::Css(".variants input[type=radio]"))
            .await
            .unwrap();
        assert_eq!(options.len(), variants.len(), "one choice per variant");
        support::screenshot(client, "product", width).await;
    }
    client
        .execute("window.__same_page = true;", vec![])
        .await
        .unwrap();
    let before = support::text(client, "[data-testid=choice]").await;
    let other = variants
        .iter()
        .find(|v| !before.starts_with(v["title"].as_str().unwrap()))
        .expect("a variant not chosen yet");
    let other_id = other["id"].as_str().unwrap();
    support::click(client, &format!("label[for='variant-{other_id}']")).await;
    let after = support::text(client, "[data-testid=choice]").await;
    assert!(
        after.starts_with(other["title"].as_str().unwrap()),
        "choosing `{}` shows it: {after}",
        other["title"]
    );
    let stock = other["stock_on_hand"].as_i64().unwrap();
    let expected_stock = if stock <= 0 || !other["in_stock"].as_bool().unwrap() {
        "Sold out".to_owned()
    } else if stock <= 5 {
        format!("Only {stock} left")
    } else {
        format!("{stock} in stock")
    };
    assert!(
        after.ends_with(&expected_stock),
        "{after} names the stock: {expected_stock}"
    );
    let same_page = client
        .execute("return window.__same_page === true;", vec![])
        .await
        .unwrap();
    assert_eq!(
        same_page,
        Value::Bool(true),
        "the choice did not load a new page"
    );

    // Add an in-stock variant, twice over: the header's count follows without a page load.
    let buyable = variants
        .iter()
        .find(|v| v["in_stock"].as_bool().unwrap() && v["stock_on_hand"].as_i64().unwrap() >= 5)
        .expect("a variant with stock");
    let buyable_id = buyable["id"].as_str().unwrap();
    support::click(client, &format!("label[for='variant-{buyable_id}']")).await;
    let quantity = client.find(Locator::Css("#quantity")).await.unwrap();
    quantity.clear().await.unwrap();
    quantity.send_keys("2").await.unwrap();
    support::click(client, "button.add-to-cart").await;
    let added = support::wait_text(client, ".add-outcome .ok").await;
    assert_eq!(added, "Added 2 to your cart.");
    let count = support::wait_text(client, ".cart-count").await;
    assert_eq!(count, "2", "the header counts the cart's items");
    let same_page = client
        .execute("return window.__same_page === true;", vec![])
        .await
        .unwrap();
    assert_eq!(
        same_page,
        Value::Bool(true),
        "adding to the cart did not load a new page"
    );

    // The cart: change the quantity in place, price it for Germany, try a bad code, remove.
    let unit_minor = buyable["price"]["amount_minor"].as_i64().unwrap();
    for width in Width::ALL {
        support::open(client, &format!("{shop}/cart"), width).await;
        support::screenshot(client, "cart", width).await;
    }
    let line = format!("tr.cart-line[data-variant='{buyable_id}']");
    assert_eq!(
        support::minor_units(&support::text(client, &format!("{line} .line-total")).await),
        2 * unit_minor
    );
    let qty = client
        .find(Locator::Css(&format!("{line} input[name=quantity]")))
        .await
        .unwrap();
    qty.clear().await.unwrap();
    qty.send_keys("3").await.unwrap();
    support::click(client, &format!("{line} form.quantity button")).await;
    support::wait_for_text(client, ".cart-count", "3").await;
    assert_eq!(
        support::minor_units(&support::text(client, &format!("{line} .line-total")).await),
        3 * unit_minor
    );
    support::open(
        client,
        &format!("{shop}/cart?country=DE&shipping_method=standard&discount_code=NOPE"),
        Width::Desktop,
    )
    .await;
    assert_eq!(
        support::text(client, "#discount-problem").await,
        "there is no such code"
    );
    let totals = support::text(client, ".totals").await;
    assert!(
        totals.contains("Incl. 19% VAT"),
        "priced for Germany, whose prices include VAT: {totals}"
    );
    let total = support::minor_units(&support::text(client, "[data-testid=cart-total]").await);
    // Standard shipping to Germany is 4.90 below 50.00 of goods, free from there on.
    let shipping = if 3 * unit_minor >= 5000 { 0 } else { 490 };
    assert_eq!(
        total,
        3 * unit_minor + shipping,
        "the total is the shelf prices and shipping, VAT already in them: {totals}"
    );
    let tax = support::minor_units(&support::text(client, "[data-testid=cart-tax]").await);
    // 19 % included is 15.97 % of what is paid, give or take a cent per line.
    assert!(
        (tax - total * 1900 / 11_900).abs() <= 2,
        "the VAT row is the VAT in the total: {tax} of {total}"
    );
    support::click(client, &format!("{line} form.remove button")).await;
    client
        .wait()
        .for_element(Locator::Css(".empty-cart"))
        .await
        .unwrap();

    // A category page, filtered to stock and sorted by price.
    let category = product["category"]["slug"].as_str().unwrap();
    support::open(
        client,
        &format!("{shop}/c/{category}?in_stock=1&sort=price_asc"),
        Width::Desktop,
    )
    .await;
    let prices = support::prices(client).await;
    assert!(!prices.is_empty(), "the category lists products");
    assert!(
        prices.windows(2).all(|w| w[0] <= w[1]),
        "prices ascend: {prices:?}"
    );

    // What the shopper did reached the API as behaviour events, in batches, under the
    // browser's anonymous id: the visit, the searches, the product view and the cart changes.
    let anonymous_id = client
        .execute("return localStorage.getItem('nexus.anonymous_id');", vec![])
        .await
        .unwrap();
    let anonymous_id = anonymous_id
        .as_str()
        .expect("the shop keeps an anonymous id");
    let product_id = product["id"].as_str().unwrap();
    let recorded = events
        .wait_for(anonymous_id, |recorded| {
            [
                "session_start",
                "search",
                "product_view",
                "add_to_cart",
                "remove_from_cart",
            ]
            .iter()
            .all(|kind| recorded.iter().any(|e| e["type"] == *kind))
        })
        .await;
    assert!(
        recorded
            .iter()
            .any(|e| e["type"] == "search" && e["properties"]["query"] == word.as_str()),
        "the header search is recorded with its words: {recorded:?}"
    );
    assert!(
        recorded
            .iter()
            .any(|e| e["type"] == "product_view" && e["properties"]["product_id"] == product_id),
        "{recorded:?}"
    );
    let sessions = recorded
        .iter()
        .filter(|e| e["type"] == "session_start")
        .count();
    assert_eq!(sessions, 1, "one visit, however many pages: {recorded:?}");

    ship_to_the_united_states(client, shop, api, slug, buyable_id).await;
}

/// The header's "Ship to" switch: choosing the United States turns the shop's prices into
/// the US market's dollar prices, and the cart adds US sales tax (7.25 %) on top of them.
async fn ship_to_the_united_states(
    client: &Client,
    shop: &str,
    api: &str,
    slug: &str,
    variant_id: &str,
) {
    let in_dollars: Value = reqwest::get(format!("{api}/api/v1/products/{slug}?currency=USD"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let unit_minor = in_dollars["product"]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == variant_id)
        .expect("the demo prices every variant in dollars")["price"]["amount_minor"]
        .as_i64()
        .unwrap();
    support::open(client, &format!("{shop}/products/{slug}"), Width::Desktop).await;
    support::select(client, "#market-country", "US").await;
    support::click(client, "form.market-switch button").await;
    support::wait_until_text(client, ".variant-price", |t| t.starts_with('$')).await;
    support::wait_for_hydration(client).await;
    support::click(client, &format!("label[for='variant-{variant_id}']")).await;
    let shown = support::text(
        client,
        &format!("label[for='variant-{variant_id}'] .variant-price"),
    )
    .await;
    assert_eq!(support::minor_units(&shown), unit_minor, "{shown}");
    support::click(client, "button.add-to-cart").await;
    support::wait_text(client, ".add-outcome .ok").await;

    support::open(client, &format!("{shop}/cart"), Width::Desktop).await;
    let totals = support::text(client, ".totals").await;
    assert!(
        totals.contains("Tax (7.25%)"),
        "priced for the United States, where tax is added: {totals}"
    );
    let total = support::text(client, "[data-testid=cart-total]").await;
    assert!(total.starts_with('$'), "{total}");
    // Standard shipping to the US is 5.99, free from 75.00 of goods; 7.25 % of the goods and
    // of the shipping, each rounded half up, comes on top.
    let shipping = if unit_minor >= 7500 { 0 } else { 599 };
    let tax = |minor: i64| (minor * 725 + 5000) / 10_000;
    assert_eq!(
        support::minor_units(&support::text(client, "[data-testid=cart-tax]").await),
        tax(unit_minor) + tax(shipping)
    );
    assert_eq!(
        support::minor_units(&total),
        unit_minor + shipping + tax(unit_minor) + tax(shipping),
        "{totals}"
    );

    // A market the shop no longer offers (here Japan, which it never had — as after a country
    // is taken out of its configuration) is forgotten: the page shows the default market's
    // euro prices instead of failing, and the browser drops the choice.
    choose_a_stale_market(client).await;
    support::open(client, &format!("{shop}/products/{slug}"), Width::Desktop).await;
    support::wait_until_text(client, ".variant-price", |t| t.starts_with('€')).await;
    let cookies = client
        .execute("return document.cookie;", vec![])
        .await
        .unwrap();
    assert!(
        !cookies
            .as_str()
            .unwrap_or_default()
            .contains("nexus_country"),
        "{cookies}"
    );
    // Choosing a market while the browser still holds a stale one: the new choice holds.
    choose_a_stale_market(client).await;
    support::select(client, "#market-country", "US").await;
    support::click(client, "form.market-switch button").await;
    support::wait_until_text(client, ".variant-price", |t| t.starts_with('$')).await;
}

/// Puts a market the shop does not offer (Japan) in the browser's cookies, as a choice made
/// before the country left the shop's configuration.
async fn choose_a_stale_market(client: &Client) {
    client
        .execute(
            "document.cookie = 'nexus_country=JP; path=/'; \
             document.cookie = 'nexus_currency=JPY; path=/';",
            vec![],
        )
        .await
        .unwrap();
}

#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_shopper_registers_is_declined_then_buys() {
    let stack = Stack::start().await;
    let (shop, api) = (stack.shop_url.clone(), stack.api_url.clone());
    Browser::run(|client| async move {
        buy(&client, &shop, &api).await;
        manage_account(&client, &shop).await;
        choose_emails_and_reset_the_password(&client, &shop).await;
        take_data_and_leave(&client, &shop, NEW_PASSWORD).await;
    })
    .await;
}

async fn buy(client: &Client, shop: &str, api: &str) {
    // Register: the form posts to the shop's server, which logs the new customer in.
    support::open(client, &format!("{shop}/account/register"), Width::Desktop).await;
    support::fill(client, "#full_name", "Ada Lovelace").await;
    support::fill(
        client,
        "#email",
        &format!("ada.{}@example.com", std::process::id()),
    )
    .await;
    support::fill(client, "#password", "analytical engine notes").await;
    support::click(client, "form.stacked button[type=submit]").await;
    support::wait_text(client, ".profile").await;
    assert!(
        support::text(client, "main")
            .await
            .contains("No orders yet")
    );
    assert_eq!(support::text(client, ".account-link").await, "Hi, Ada");

    let product = add_one_to_the_cart(client, shop, api).await;
    let slug = product["slug"].as_str().unwrap();

    // Checkout from the cart, first with a card that is declined.
    support::open(client, &format!("{shop}/cart"), Width::Desktop).await;
    support::click(client, "a.checkout-link").await;
    support::wait_text(client, "form button.place-order").await;
    support::wait_for_hydration(client).await;
    for width in Width::ALL {
        support::resize(client, width).await;
        support::screenshot(client, "checkout", width).await;
    }
    support::resize(client, Width::Desktop).await;
    fill_delivery_address(client, "Ada Lovelace").await;
    place_order(client, DECLINED_CARD).await;
    let error =
        support::wait_until_text(client, "[data-testid=checkout-error]", |t| !t.is_empty()).await;
    assert!(
        error.to_lowercase().contains("declined"),
        "a decline says so: {error}"
    );
    support::wait_for_hydration(client).await;
    assert_eq!(
        support::value(client, "#line1").await,
        "12 St James's Square",
        "the address survives the decline"
    );
    assert_eq!(
        support::text(client, ".cart-count").await,
        "1",
        "the cart is kept"
    );

    // Then with a card that is accepted: the confirmation, then the order in the history.
    place_order(client, ACCEPTED_CARD).await;
    let order_id = paid_order_confirmed(client).await;
    let confirmation = support::text(client, ".confirmation p").await;
    let number = confirmation
        .split_whitespace()
        .find_map(|w| w.strip_prefix('#'))
        .expect("the confirmation names the order number")
        .to_owned();
    support::wait_for_hydration(client).await;
    for width in Width::ALL {
        support::resize(client, width).await;
        support::screenshot(client, "order-confirmation", width).await;
    }
    assert!(
        client.find(Locator::Css(".cart-count")).await.is_err(),
        "the bought cart is empty"
    );
    support::open(client, &format!("{shop}/account"), Width::Desktop).await;
    let history = support::text(client, "table.orders").await;
    assert!(history.contains(&format!("#{number}")), "{history}");
    assert!(history.contains("Paid"), "{history}");

    // Staff fulfil, ship and deliver it (through the API, as the console does); the order
    // page then offers a review of what was bought.
    support::deliver(api, &order_id).await;
    support::open(
        client,
        &format!("{shop}/account/orders/{order_id}"),
        Width::Desktop,
    )
    .await;
    assert_eq!(
        support::text(client, "[data-testid=order-status]").await,
        "Delivered"
    );
    support::click(client, "a.write-review").await;
    support::wait_text(client, "form.review-form").await;
    support::wait_for_hydration(client).await;
    support::click(client, "label[for=rating-4]").await;
    support::fill(client, "#review-title", "Warm and well made").await;
    support::fill(client, "#review-body", "Worn all winter; the seams held.").await;
    support::click(client, "form.review-form button[type=submit]").await;
    let thanks = support::wait_text(client, "#reviews .notice.ok").await;
    assert_eq!(thanks, "Thank you — your review is published.");
    let newest = support::text(client, ".review-list .review").await;
    assert!(
        newest.contains("Warm and well made") && newest.contains("Ada L."),
        "the new review comes first, signed with a short name: {newest}"
    );
    assert!(
        client
            .find(Locator::Css(
                "#reviews .review-summary [aria-label*='out of 5']"
            ))
            .await
            .is_ok(),
        "the product has a rating now"
    );
    // A second review of the same product is refused with the reason; the text stays.
    support::open(
        client,
        &format!("{shop}/products/{slug}/review"),
        Width::Desktop,
    )
    .await;
    support::click(client, "label[for=rating-5]").await;
    support::fill(client, "#review-title", "Even better").await;
    support::fill(client, "#review-body", "Second thoughts.").await;
    support::click(client, "form.review-form button[type=submit]").await;
    let refusal = support::wait_until_text(client, ".form-error", |t| !t.is_empty()).await;
    assert!(refusal.contains("already reviewed"), "{refusal}");
    assert_eq!(support::value(client, "#review-title").await, "Even better");

    return_it(client, shop, &order_id).await;
}

/// The delivered order's page offers to return its item within the window; the form asks
/// how many and why, and the order page then lists the return as requested.
async fn return_it(client: &Client, shop: &str, order_id: &str) {
    let order_page = format!("{shop}/account/orders/{order_id}");
    support::open(client, &order_page, Width::Desktop).await;
    let offer = support::text(client, ".order-returns").await;
    assert!(offer.contains("possible until"), "{offer}");
    support::click(client, "a.return-items").await;
    support::wait_text(client, "form.return-form").await;
    support::wait_for_hydration(client).await;
    // Nothing chosen: the form says so and nothing is asked.
    support::click(client, "form.return-form button[type=submit]").await;
    let refusal = support::wait_until_text(client, ".form-error", |t| !t.is_empty()).await;
    assert!(refusal.contains("at least one item"), "{refusal}");
    support::select(client, "#quantity-1", "1").await;
    support::select(client, "#reason-1", "does_not_fit").await;
    support::fill(client, "#return-note", "A size too small.").await;
    for width in Width::ALL {
        support::resize(client, width).await;
        support::screenshot(client, "return-form", width).await;
    }
    support::resize(client, Width::Desktop).await;
    support::click(client, "form.return-form button[type=submit]").await;
    let asked = support::wait_text(client, ".order-returns .confirmation").await;
    assert!(asked.contains("is requested"), "{asked}");
    let listed = support::text(client, "[data-testid=order-return]").await;
    assert!(
        listed.contains("Requested") && listed.contains("Does not fit"),
        "{listed}"
    );
    assert!(
        client.find(Locator::Css("a.return-items")).await.is_err(),
        "the only unit is in the return: nothing more to return"
    );
    support::screenshot(client, "order-with-return", Width::Desktop).await;
}

/// Cards of the test payment provider.
const ACCEPTED_CARD: &str = "4242424242424242";
const DECLINED_CARD: &str = "4000 0000 0000 0002";

/// A variant of `product` that is in stock.
fn in_stock_variant(product: &Value) -> &Value {
    product["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["in_stock"].as_bool().unwrap())
        .expect("a variant in stock")
}

/// Puts one of an in-stock variant into the cart from the product's page; the product.
async fn add_one_to_the_cart(client: &Client, shop: &str, api: &str) -> Value {
    let product = product_with_choices(api).await;
    let slug = product["slug"].as_str().unwrap();
    let variant_id = in_stock_variant(&product)["id"].as_str().unwrap();
    support::open(client, &format!("{shop}/products/{slug}"), Width::Desktop).await;
    support::click(client, &format!("label[for='variant-{variant_id}']")).await;
    support::click(client, "button.add-to-cart").await;
    support::wait_text(client, ".add-outcome .ok").await;
    product
}

/// Fills the checkout's delivery address: in Berlin.
async fn fill_delivery_address(client: &Client, full_name: &str) {
    support::fill(client, "#full_name", full_name).await;
    support::fill(client, "#line1", "12 St James's Square").await;
    support::fill(client, "#postal_code", "10115").await;
    support::fill(client, "#city", "Berlin").await;
    support::select(client, "#country", "DE").await;
}

/// Places the checkout's order, paying with `card`.
async fn place_order(client: &Client, card: &str) {
    support::fill(client, "#card_number", card).await;
    support::fill(client, "#expiry", &support::card_expiry()).await;
    support::fill(client, "#cvc", "123").await;
    support::click(client, "button.place-order").await;
}

/// Waits for the confirmation of a placed order, which is the order's page, and checks that
/// it is paid; the order's id.
async fn paid_order_confirmed(client: &Client) -> String {
    let thanks = support::wait_text(client, ".confirmation h1").await;
    assert_eq!(thanks, "Thank you for your order!");
    let order_url = client.current_url().await.unwrap();
    let order_id = order_url
        .path_segments()
        .and_then(|mut segments| segments.nth(2))
        .expect("the confirmation is the order's page")
        .to_owned();
    assert_eq!(
        support::text(client, "[data-testid=order-status]").await,
        "Paid"
    );
    order_id
}

/// The account page: a new name, then an address added, edited and deleted.
async fn manage_account(client: &Client, shop: &str) {
    support::open(client, &format!("{shop}/account"), Width::Desktop).await;
    support::fill(client, "#profile-name", "Augusta Ada King").await;
    support::click(client, "#details button[type=submit]").await;
    let saved = support::wait_until_text(client, "[data-testid=saved]", |t| !t.is_empty()).await;
    assert_eq!(saved, "Your details are saved.");
    assert_eq!(support::text(client, ".account-link").await, "Hi, Augusta");

    support::click(client, "a[href='/account/addresses/new']").await;
    support::wait_text(client, "form.stacked button[type=submit]").await;
    support::fill(client, "#label", "Home").await;
    support::fill(client, "#full_name", "Augusta Ada King").await;
    support::fill(client, "#line1", "12 St James's Square").await;
    support::fill(client, "#postal_code", "10115").await;
    support::fill(client, "#city", "Berlin").await;
    support::select(client, "#country", "DE").await;
    support::click(client, "label[for=is_default]").await;
    support::click(client, "form.stacked button[type=submit]").await;
    let saved = support::wait_until_text(client, "[data-testid=saved]", |t| !t.is_empty()).await;
    assert_eq!(saved, "Your address is saved.");
    let card = support::text(client, ".address-card").await;
    assert!(
        card.contains("Home") && card.contains("Default") && card.contains("10115 Berlin"),
        "{card}"
    );
    for width in Width::ALL {
        support::resize(client, width).await;
        support::screenshot(client, "account", width).await;
    }
    support::resize(client, Width::Desktop).await;

    support::click(client, "a[aria-label='Edit address Home']").await;
    support::wait_text(client, "form.stacked button[type=submit]").await;
    assert_eq!(support::value(client, "#city").await, "Berlin");
    support::fill(client, "#city", "Potsdam").await;
    support::fill(client, "#postal_code", "14467").await;
    support::click(client, "form.stacked button[type=submit]").await;
    support::wait_until_text(client, "[data-testid=saved]", |t| !t.is_empty()).await;
    let card = support::text(client, ".address-card").await;
    assert!(card.contains("14467 Potsdam"), "{card}");

    support::click(client, "button[aria-label='Delete address Home']").await;
    let saved = support::wait_until_text(client, "[data-testid=saved]", |t| {
        t == "The address is deleted."
    })
    .await;
    assert_eq!(saved, "The address is deleted.");
    assert!(
        client.find(Locator::Css(".address-card")).await.is_err(),
        "the address is gone"
    );
}

const NEW_PASSWORD: &str = "difference engine drafts";

/// Emails: the order's confirmation is in the shopper's inbox (a real SMTP server); offers
/// are opted into on the account page; a forgotten password is reset through the emailed
/// link, which works once, and the new password logs in.
async fn choose_emails_and_reset_the_password(client: &Client, shop: &str) {
    support::open(client, &format!("{shop}/account"), Width::Desktop).await;
    let email = support::value(client, "#profile-email").await;
    let inbox = api_test_stack::mail_server();
    let confirmation = inbox.wait_for(&email, "confirmed").await;
    assert!(
        confirmation.text.contains("Total:"),
        "{}",
        confirmation.text
    );

    let status = support::text(client, "[data-testid=marketing-status]").await;
    assert_eq!(status, "You get no offers by email.");
    support::click(client, "#marketing button[type=submit]").await;
    let status = support::wait_until_text(client, "[data-testid=marketing-status]", |t| {
        t.starts_with("You get our offers by email (since ")
    })
    .await;
    assert!(status.ends_with(")."), "{status}");

    support::click(client, ".profile button[type=submit]").await;
    support::wait_for_text(client, ".account-link", "Log in").await;
    support::open(client, &format!("{shop}/account/login"), Width::Desktop).await;
    support::click(client, "[data-testid=forgot-password]").await;
    support::wait_text(client, "form.stacked button[type=submit]").await;
    support::fill(client, "#email", &email).await;
    support::click(client, "form.stacked button[type=submit]").await;
    let sent =
        support::wait_until_text(client, "[data-testid=reset-sent]", |t| !t.is_empty()).await;
    assert!(sent.contains(&email), "{sent}");

    let reset = inbox.wait_for(&email, "Reset your").await;
    let link = reset
        .link_starting("http://127.0.0.1:3000/account/reset-password?token=")
        .expect("the email links the shop's reset page");
    // The API's settings name the shop of `cargo xtask up`; this test's shop runs elsewhere.
    let link = link.replace("http://127.0.0.1:3000", shop);
    support::open(client, &link, Width::Desktop).await;
    support::fill(client, "#new-password", NEW_PASSWORD).await;
    support::click(client, "form.stacked button[type=submit]").await;
    support::wait_until_text(client, "[data-testid=reset-done]", |t| !t.is_empty()).await;
    support::fill(client, "#email", &email).await;
    support::fill(client, "#password", NEW_PASSWORD).await;
    support::click(client, "form.stacked button[type=submit]").await;
    support::wait_text(client, ".profile").await;

    // The link worked once.
    support::open(client, &link, Width::Desktop).await;
    support::fill(client, "#new-password", "yet another long passphrase").await;
    support::click(client, "form.stacked button[type=submit]").await;
    let refused = support::wait_until_text(client, ".form-error", |t| !t.is_empty()).await;
    assert!(refused.contains("expired or was used"), "{refused}");
}

/// The shopper's own data: the download link serves everything held about them, and the
/// account is deleted with the password (a wrong one is refused with the reason); then they
/// are logged out and the old password opens nothing.
async fn take_data_and_leave(client: &Client, shop: &str, password: &str) {
    support::open(client, &format!("{shop}/account"), Width::Desktop).await;
    let email = support::value(client, "#profile-email").await;
    let href = client
        .find(Locator::Css("[data-testid=download-data]"))
        .await
        .expect("the download link")
        .attr("href")
        .await
        .expect("href");
    assert_eq!(href.as_deref(), Some("/api/v1/me/data"));
    // What the link downloads, fetched as the page would (same origin, the session cookie).
    let exported = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/api/v1/me/data').then(r => r.json())
               .then(d => done([d.account.email, d.orders.length]));",
            vec![],
        )
        .await
        .expect("the export");
    assert_eq!(exported[0].as_str(), Some(email.as_str()), "{exported}");
    assert!(
        exported[1].as_u64() >= Some(1),
        "the orders are in it: {exported}"
    );

    support::fill(client, "#delete-password", "not my password at all").await;
    support::click(client, "#your-data button[type=submit]").await;
    let refusal = support::wait_until_text(client, ".form-error", |t| !t.is_empty()).await;
    assert!(refusal.to_lowercase().contains("password"), "{refusal}");

    support::fill(client, "#delete-password", password).await;
    support::click(client, "#your-data button[type=submit]").await;
    let farewell =
        support::wait_until_text(client, "[data-testid=account-deleted]", |t| !t.is_empty()).await;
    assert_eq!(
        farewell,
        "Your account is deleted. Thank you for shopping with us."
    );
    assert_eq!(support::text(client, ".account-link").await, "Log in");

    support::open(client, &format!("{shop}/account/login"), Width::Desktop).await;
    support::fill(client, "#email", &email).await;
    support::fill(client, "#password", password).await;
    support::click(client, "form.stacked button[type=submit]").await;
    let refused = support::wait_until_text(client, ".form-error", |t| !t.is_empty()).await;
    assert!(!refused.is_empty(), "the old login opens nothing");
}

#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_work_without_javascript() {
    let stack = Stack::start().await;
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let request = http.get(format!("{}{path}", stack.shop_url));
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };

    let (status, home) = get("/").await;
    assert_eq!(status, 200);
    assert_eq!(home.matches("class=\"product-card\"").count(), 8, "{home}");
    assert!(home.contains("<title>Home · Nexus</title>"));
    assert!(home.contains("<meta name=\"description\""));

    let product = product_with_choices(&stack.api_url).await;
    let slug = product["slug"].as_str().unwrap();
    let (status, page) = get(&format!("/products/{slug}")).await;
    assert_eq!(status, 200);
    let name = product["name"].as_str().unwrap();
    assert!(
        page.contains(&format!("<h1>{}</h1>", support::html_escape(name))),
        "{page}"
    );
    for variant in product["variants"].as_array().unwrap() {
        assert!(page.contains(&support::html_escape(variant["title"].as_str().unwrap())));
    }

    let category = product["category"]["slug"].as_str().unwrap();
    let (status, listing) = get(&format!("/c/{category}")).await;
    assert_eq!(status, 200);
    assert!(listing.contains("class=\"product-card\""));

    let (status, missing) = get("/products/no-such-product").await;
    assert_eq!(status, 404);
    assert!(
        missing.contains("We can&#x27;t find that page")
            || missing.contains("We can't find that page")
    );
    let (status, _) = get("/no/such/page").await;
    assert_eq!(status, 404);

    // The bundle goes out compressed to browsers that accept it.
    let bundle = http
        .get(format!("{}/pkg/web-shop_bg.wasm", stack.shop_url))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status().as_u16(), 200);
    assert_eq!(bundle.headers()["content-encoding"], "gzip");

    // The API's own errors pass through the shop's origin unchanged.
    let (status, body) = get("/api/v1/products?limit=0").await;
    assert_eq!(status, 422);
    let envelope: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(envelope["error"]["code"], "validation_failed");
    let (status, _) = get("/api/v1/admin/orders").await;
    assert_eq!(status, 404, "staff routes are not served through the shop");

    // The add-to-cart form posts to the shop's server, which adds and redirects to the cart;
    // the guest's cart cookie comes along.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let variant_id = in_stock_variant(&product)["id"].as_str().unwrap();
    let add_with_token = |quantity: &'static str, token: &str| {
        browser
            .post(format!("{}/cart/add", stack.shop_url))
            .form(&[
                ("slug", slug),
                ("variant_id", variant_id),
                ("quantity", quantity),
                ("csrf_token", token),
            ])
            .send()
    };
    // A form posted from another site (no token, or not the browser's) is refused, and
    // nothing happens.
    let forged = add_with_token("1", "").await.unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    assert!(
        forged
            .text()
            .await
            .unwrap()
            .contains("This form has expired")
    );
    // The shop's own page hands the browser its token, in a cookie and in every form.
    let page = browser
        .get(format!("{}/products/{slug}", stack.shop_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = support::csrf_token(&page);
    let forged = add_with_token("1", &"0".repeat(64)).await.unwrap();
    assert_eq!(
        forged.status().as_u16(),
        403,
        "a token that is not the cookie's"
    );
    let add = |quantity: &'static str| add_with_token(quantity, &token);
    let added = add("1").await.unwrap();
    assert_eq!(added.status().as_u16(), 303);
    assert_eq!(added.headers()["location"], "/cart");
    let cart = browser
        .get(format!("{}/cart", stack.shop_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        cart.contains(&support::html_escape(name)),
        "the cart lists what was added"
    );
    // Too many: back to the product with the API's reason.
    let refused = add("100000").await.unwrap();
    assert_eq!(refused.status().as_u16(), 303);
    let location = refused.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("/products/{slug}?error=")),
        "{location}"
    );

    // A form the API refuses comes back with its reason and everything that was typed.
    let registered = browser
        .post(format!("{}/account/register", stack.shop_url))
        .form(&[
            ("full_name", "Grace Hopper"),
            ("email", "grace.nojs@example.com"),
            ("password", "cobol compilers rule"),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status().as_u16(), 303);
    assert_eq!(registered.headers()["location"], "/account");
    let refused = browser
        .post(format!("{}/account/addresses", stack.shop_url))
        .form(&[
            ("id", ""),
            ("label", "Office"),
            ("full_name", "Grace Hopper"),
            ("line1", "1 Harbour Road"),
            ("city", "Arlington"),
            ("postal_code", "22201"),
            ("country", "Atlantis"),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 303);
    let location = refused.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("/account/addresses/new?error=Country"),
        "{location}"
    );
    let form = browser
        .get(format!("{}{location}", stack.shop_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains("value=\"1 Harbour Road\""), "{form}");
    assert!(form.contains("value=\"Office\""), "{form}");
}

/// Every demo customer's password (README, "Demo logins").
const DEMO_CUSTOMER_PASSWORD: &str = "NexusShopper!2026";

/// The retention loop from the shopper's side: a customer at risk is scored, a campaign
/// treats them, the shop's banner shows them their offer, one click applies it to the cart,
/// they buy — and staff's results count the banner, the code, the buyer and the order.
#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_treated_customer_buys_with_the_banners_offer_and_the_campaign_counts_it() {
    let stack = Stack::start().await;
    let db = stack.postgres().await;
    let customer = lapsing_customer(&db).await;
    score_as_the_only_high_risk(&db, &stack.mongo().await, &customer).await;
    db.close().await;

    let api = storefront_client::Client::new(&stack.api_url);
    let staff = api.with_token(api_test_stack::staff_token(&stack.api_url).await);
    let campaign = staff
        .launch_campaign(&win_back_draft())
        .await
        .expect("the campaign launches on the latest scores");
    assert_eq!(
        (campaign.treated, campaign.held_out),
        (1, 0),
        "the only qualifying customer, alone in their band, is drawn into treatment"
    );
    let session = api
        .login(&LoginRequest {
            email: customer.email.clone(),
            password: DEMO_CUSTOMER_PASSWORD.to_owned(),
        })
        .await
        .expect("the demo customer logs in");
    let offers = api.with_token(session.token).my_offers().await.unwrap();
    assert_eq!(
        offers.len(),
        1,
        "the treated customer holds one offer: {offers:?}"
    );
    let offer = offers.into_iter().next().unwrap();
    assert_eq!(offer.campaign_id, campaign.id);

    let (shop, api_url) = (stack.shop_url.clone(), stack.api_url.clone());
    let bought = Browser::run(|client| async move {
        take_the_offer(&client, &shop, &api_url, &customer, &offer).await
    })
    .await;

    let order = staff
        .staff_order(bought.order_id.parse().expect("an order id"))
        .await
        .expect("staff see the order")
        .order;
    assert_eq!(
        order.totals.discount.amount_minor, bought.discount_minor,
        "the order took the discount the cart showed"
    );
    let results = staff
        .campaign(campaign.id)
        .await
        .expect("staff follow the campaign")
        .results;
    let treated = &results.treated;
    assert_eq!(
        (
            treated.customers,
            treated.banners_shown,
            treated.codes_redeemed,
            treated.buyers,
            treated.orders
        ),
        (1, 1, 1, 1, 1),
        "one customer, shown the banner, redeemed the code and bought once: {treated:?}"
    );
    assert_eq!(treated.emails_sent, 0, "a web-only campaign sends no email");
    assert_eq!(
        treated.revenue, order.totals.total,
        "revenue is what the order came to after the discount"
    );
    assert_eq!(treated.discount_cost, order.totals.discount);
    assert_eq!(results.held_out.customers, 0, "{results:?}");
}

/// A demo customer as the retention test needs one.
#[derive(Debug)]
struct DemoCustomer {
    id: String,
    email: String,
    full_name: String,
}

/// A demo customer a win-back campaign may approach: their last paid order more than 30 days
/// ago, they never said no to marketing, and no campaign has enrolled them (so they hold no
/// other offer, and no other campaign's window or frequency cap keeps them out).
async fn lapsing_customer(db: &sqlx::PgPool) -> DemoCustomer {
    let (id, email, full_name) = sqlx::query_as::<_, (String, String, String)>(
        "SELECT a.id::text, a.email::text, a.full_name FROM accounts a
          WHERE a.role = 'customer'
            AND (a.marketing_consent OR a.marketing_consent_changed_at IS NULL)
            AND (SELECT MAX(o.paid_at) FROM orders o
                  WHERE o.account_id = a.id AND o.status <> 'cancelled')
                < now() - interval '30 days'
            AND NOT EXISTS (SELECT 1 FROM campaign_enrolments e WHERE e.account_id = a.id)
          ORDER BY a.email LIMIT 1",
    )
    .fetch_one(db)
    .await
    .expect("the demo shop has a customer who last ordered over 30 days ago");
    DemoCustomer {
        id,
        email,
        full_name,
    }
}

/// Scores `customer` as a high churn risk, and nobody else, the way a score-all run leaves
/// it: the run started, its scores in MongoDB, then the run finished — campaigns enrol from
/// the latest finished run.
async fn score_as_the_only_high_risk(
    db: &sqlx::PgPool,
    mongo: &mongodb::Database,
    customer: &DemoCustomer,
) {
    const MODEL: &str = "e2e-model";
    let run: String = sqlx::query_scalar(
        "INSERT INTO scoring_runs (id, trigger, model_version)
         VALUES (gen_random_uuid(), 'staff', $1) RETURNING id::text",
    )
    .bind(MODEL)
    .fetch_one(db)
    .await
    .expect("a scoring run starts");
    mongo
        .collection::<mongodb::bson::Document>("churn_scores")
        .insert_one(mongodb::bson::doc! {
            "job_id": &run, "customer_id": &customer.id, "probability": 0.82, "band": "high",
            "model_version": MODEL, "scored_at": mongodb::bson::DateTime::now(),
        })
        .await
        .expect("the score is stored");
    sqlx::query(
        "UPDATE scoring_runs SET status = 'finished', customers = 1, enrolled = 0,
                finished_at = now()
          WHERE id = $1::uuid",
    )
    .bind(&run)
    .execute(db)
    .await
    .expect("the scoring run finishes");
}

/// README's win-back campaign, in the shop only: 15 % off for two weeks to customers at
/// medium or high risk who have not ordered for 30 days, a tenth held out.
fn win_back_draft() -> CampaignDraft {
    CampaignDraft {
        name: "Win back lapsing regulars".to_owned(),
        audience: AudienceRule {
            risk_bands: vec!["medium".to_owned(), "high".to_owned()],
            min_days_since_last_order: Some(30),
            ..AudienceRule::default()
        },
        offer: OfferDraft {
            percent_basis_points: Some(1500),
            amount_minor: None,
            currency: "EUR".to_owned(),
            min_spend_minor: 0,
            days_valid: 14,
        },
        channels: vec![Channel::Web],
        holdout_percent: 10,
        frequency_cap_days: 30,
        max_recipients: None,
        mode: CampaignMode::OneOff,
    }
}

/// What the shopper bought with their offer.
struct OfferTaken {
    order_id: String,
    /// The discount the cart showed, in minor units.
    discount_minor: i64,
}

/// The customer logs in and meets their offer on the banner, applies it to the cart with one
/// click, and buys with it.
async fn take_the_offer(
    client: &Client,
    shop: &str,
    api: &str,
    customer: &DemoCustomer,
    offer: &PersonalOffer,
) -> OfferTaken {
    support::open(client, &format!("{shop}/account/login"), Width::Desktop).await;
    support::fill(client, "#email", &customer.email).await;
    support::fill(client, "#password", DEMO_CUSTOMER_PASSWORD).await;
    support::click(client, "form.stacked button[type=submit]").await;
    support::wait_text(client, ".profile").await;
    let banner = support::wait_text(client, "#offer-banner").await;
    let until = offer.expires_at.format("%-d %B %Y").to_string();
    assert!(
        banner.contains(&offer.headline) && banner.contains(&offer.code) && banner.contains(&until),
        "the banner shows the offer, its code and its expiry: {banner}"
    );
    // The shop reported the exposure and remembers so for the browser session: later pages
    // do not report it again.
    let reported = client
        .get_named_cookie("nexus_offer_shown")
        .await
        .expect("the shop remembers for the session that the offer was reported shown");
    assert_eq!(
        reported.value(),
        format!("{}.{}", customer.id, offer.campaign_id)
    );
    for width in Width::ALL {
        support::resize(client, width).await;
        support::screenshot(client, "offer-banner", width).await;
    }
    support::resize(client, Width::Desktop).await;

    // Something to buy, then one click on the banner: the cart takes the code.
    add_one_to_the_cart(client, shop, api).await;
    support::click(client, "#offer-banner a.button").await;
    let discount = support::wait_text(client, ".totals .discount").await;
    assert_eq!(support::value(client, "#discount_code").await, offer.code);
    let discount_minor = support::minor_units(&discount);
    let mut subtotal = 0;
    for line in client
        .find_all(Locator::Css("tr.cart-line .line-total"))
        .await
        .unwrap()
    {
        subtotal += support::minor_units(&line.text().await.unwrap());
    }
    assert_eq!(
        discount_minor,
        (subtotal * 15 + 50) / 100,
        "15 % off the goods ({subtotal}), rounded half up"
    );
    assert_eq!(
        support::minor_units(&support::text(client, "[data-testid=cart-total]").await),
        subtotal - discount_minor
    );
    support::screenshot(client, "cart-with-offer", Width::Desktop).await;

    // The code goes on to the checkout with the cart; the order is paid with it.
    support::click(client, "a.checkout-link").await;
    support::wait_text(client, "form button.place-order").await;
    support::wait_for_hydration(client).await;
    assert_eq!(support::value(client, "#discount_code").await, offer.code);
    fill_delivery_address(client, &customer.full_name).await;
    place_order(client, ACCEPTED_CARD).await;
    let order_id = paid_order_confirmed(client).await;
    assert!(
        client.find(Locator::Css("#offer-banner")).await.is_err(),
        "a used code is no offer any more"
    );
    OfferTaken {
        order_id,
        discount_minor,
    }
}
