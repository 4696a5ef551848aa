//! Logging in, registering, the account page (order history, details, password, address
//! book), and one order.

use crate::csrf::CsrfField;
use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};
use storefront_client::ClientError;
use storefront_client::account::{Account, Address};
use storefront_client::orders::{Order, OrderListParams, OrderStatus};

use crate::api;
use crate::components::{ApiProblem, FormError};
use crate::pages::marketing::MarketingChoice;

/// Who is logged in, fetched once per page load (logging in and out are full page loads).
pub type Session = Resource<Result<Account, ClientError>>;

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let next = query.get("next").unwrap_or_else(|| "/account".to_owned());
    let register = format!(
        "/account/register?next={}",
        storefront_client::path_segment(&next)
    );
    let reset_done = query.get("reset").is_some();
    view! {
        <Title text="Log in"/>
        <Meta name="robots" content="noindex"/>
        <section class="narrow">
            <h1>"Log in"</h1>
            {reset_done.then(|| view! {
                <p class="notice ok" role="status" data-testid="reset-done">
                    "Your password is changed and every device was logged out. Log in with the new one."
                </p>
            })}
            <FormError/>
            <form class="stacked" method="post" action="/account/login">
                <CsrfField/>
                <input type="hidden" name="next" value=next/>
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="email" required
                    value=query.get("email").unwrap_or_default()/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required/>
                <button type="submit">"Log in"</button>
            </form>
            <p><a href="/account/forgot-password" data-testid="forgot-password">"Forgot your password?"</a></p>
            <p>"New here? " <a href=register>"Create an account"</a></p>
        </section>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let query = use_query_map().get_untracked();
    let next = query.get("next").unwrap_or_else(|| "/account".to_owned());
    view! {
        <Title text="Create an account"/>
        <Meta name="robots" content="noindex"/>
        <section class="narrow">
            <h1>"Create an account"</h1>
            <FormError/>
            <form class="stacked" method="post" action="/account/register">
                <CsrfField/>
                <input type="hidden" name="next" value=next/>
                <label for="full_name">"Full name"</label>
                <input id="full_name" name="full_name" type="text" autocomplete="name" required
                    value=query.get("full_name").unwrap_or_default()/>
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="email" required
                    value=query.get("email").unwrap_or_default()/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="new-password"
                    required minlength="12" aria-describedby="password-hint"/>
                <p id="password-hint" class="hint">"At least 12 characters; a phrase of a few words works well."</p>
                <button type="submit">"Create account"</button>
            </form>
            <p>"Already have an account? " <A href="/account/login">"Log in"</A></p>
        </section>
    }
}

/// Asks a visitor who is not logged in to do so, then come back to `next`.
#[component]
pub fn LogInFirst(next: &'static str, message: &'static str) -> impl IntoView {
    view! {
        <section class="narrow">
            <p>{message}</p>
            <p>
                <a href=format!("/account/login?next={next}")>"Log in"</a>
                " or "
                <a href=format!("/account/register?next={next}")>"create an account"</a>
                "."
            </p>
        </section>
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let session = expect_context::<Session>();
    let query = use_query_map();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<i64>().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1)
    };
    let api = api::client();
    let addresses = Resource::new(
        || (),
        move |_| {
            let api = api.clone();
            api::sendable(async move { api.addresses().await })
        },
    );
    let api = api::client();
    let consent = Resource::new(
        || (),
        move |_| {
            let api = api.clone();
            api::sendable(async move { api.marketing_consent().await })
        },
    );
    let api = api::client();
    let orders = Resource::new(page, move |page| {
        let api = api.clone();
        api::sendable(async move {
            api.orders(&OrderListParams {
                page: Some(page),
                limit: Some(20),
            })
            .await
        })
    });
    view! {
        <Title text="Your account"/>
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let account = match session.await {
                    Ok(account) => account,
                    Err(_) => {
                        return view! {
                            <h1>"Your account"</h1>
                            <LogInFirst next="/account" message="Log in to see your orders and details."/>
                        }
                        .into_any();
                    }
                };
                let orders = orders.await;
                let addresses = addresses.await;
                let consent = consent.await;
                view! {
                    <h1>"Your account"</h1>
                    <section class="profile">
                        <p><strong>{account.full_name.clone()}</strong><br/>{account.email.clone()}</p>
                        <form method="post" action="/account/logout">
                <CsrfField/>
                            <button type="submit" class="secondary">"Log out"</button>
                        </form>
                    </section>
                    <Saved/>
                    <FormError/>
                    {match orders {
                        Ok(list) if list.orders.is_empty() => view! {
                            <p>"No orders yet. " <A href="/">"Start shopping"</A></p>
                        }.into_any(),
                        Ok(list) => {
                            let pages = (list.meta.total + list.meta.limit - 1) / list.meta.limit;
                            let current = list.meta.page;
                            view! {
                                <table class="orders">
                                    <thead><tr>
                                        <th scope="col">"Order"</th>
                                        <th scope="col">"Placed"</th>
                                        <th scope="col">"Status"</th>
                                        <th scope="col">"Items"</th>
                                        <th scope="col">"Total"</th>
                                    </tr></thead>
                                    <tbody>
                                        {list.orders.into_iter().map(|o| view! {
                                            <tr class="order-row">
                                                <td><A href=format!("/account/orders/{}", o.id)>{format!("#{}", o.number)}</A></td>
                                                <td>{o.placed_at.format("%-d %b %Y").to_string()}</td>
                                                <td>{o.status.label()}</td>
                                                <td>{o.item_count}</td>
                                                <td>{o.total.to_shopper_string()}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <nav class="pager" aria-label="Pages">
                                    {(current > 1).then(|| view! { <A href=format!("/account?page={}", current - 1)>"← Newer"</A> })}
                                    {(current < pages).then(|| view! { <A href=format!("/account?page={}", current + 1)>"Older →"</A> })}
                                </nav>
                            }.into_any()
                        }
                        Err(error) => view! { <ApiProblem error/> }.into_any(),
                    }}
                    <div class="account-settings">
                        <Details account/>
                        <PasswordForm/>
                    </div>
                    <AddressBook addresses/>
                    <MarketingChoice consent/>
                    <YourData/>
                }
                .into_any()
            })}
        </Suspense>
    }
}

/// What the last form on the account page saved (`?saved=`).
#[component]
fn Saved() -> impl IntoView {
    let saved = use_query_map().get_untracked().get("saved");
    let message = saved.as_deref().map(|what| match what {
        "details" => "Your details are saved.",
        "password" => "Your password is changed. Other devices have been logged out.",
        "address" => "Your address is saved.",
        "address-deleted" => "The address is deleted.",
        "marketing" => "Your email choice is saved.",
        _ => "Saved.",
    });
    view! { <p class="notice ok" role="status" data-testid="saved">{message}</p> }
}

/// Name and email; a new email needs the current password.
#[component]
fn Details(account: Account) -> impl IntoView {
    let query = use_query_map().get_untracked();
    let full_name = query.get("full_name").unwrap_or(account.full_name);
    let email = query.get("email").unwrap_or_else(|| account.email.clone());
    view! {
        <section id="details" aria-labelledby="details-heading">
            <h2 id="details-heading">"Your details"</h2>
            <form class="stacked" method="post" action="/account/profile">
                <CsrfField/>
                <input type="hidden" name="current_email" value=account.email/>
                <label for="profile-name">"Full name"</label>
                <input id="profile-name" name="full_name" type="text" autocomplete="name" required value=full_name/>
                <label for="profile-email">"Email"</label>
                <input id="profile-email" name="email" type="email" autocomplete="email" required value=email/>
                <label for="profile-password">"Current password (only to change the email)"</label>
                <input id="profile-password" name="current_password" type="password" autocomplete="current-password"/>
                <button type="submit">"Save details"</button>
            </form>
        </section>
    }
}

/// The shopper's own data: a copy to download, and deleting the account (the password again,
/// so a session left open on a shared computer cannot do it).
#[component]
fn YourData() -> impl IntoView {
    view! {
        <section id="your-data" aria-labelledby="your-data-heading">
            <h2 id="your-data-heading">"Your data"</h2>
            <p>"Everything we hold about you — details, addresses, orders, reviews and the visits we recorded — in one file."</p>
            // A plain link: the router must not take it over, the browser downloads it.
            <p><a href="/api/v1/me/data" download="my-nexus-data.json" rel="external"
                data-testid="download-data">"Download my data"</a></p>
            <form class="stacked" method="post" action="/account/delete">
                <CsrfField/>
                <label for="delete-password">"Password, to delete your account"</label>
                <input id="delete-password" name="password" type="password"
                    autocomplete="current-password" required aria-describedby="delete-hint"/>
                <p id="delete-hint" class="hint">"Your name, email, addresses and recorded visits are erased and every device is logged out. Your reviews stay, unsigned. Orders stay in our books without your name or address; orders still on their way must arrive first."</p>
                <button type="submit" class="danger">"Delete my account"</button>
            </form>
        </section>
    }
}

#[component]
fn PasswordForm() -> impl IntoView {
    view! {
        <section id="password" aria-labelledby="password-heading">
            <h2 id="password-heading">"Password"</h2>
            <form class="stacked" method="post" action="/account/password">
                <CsrfField/>
                <label for="password-current">"Current password"</label>
                <input id="password-current" name="current_password" type="password" autocomplete="current-password" required/>
                <label for="password-new">"New password"</label>
                <input id="password-new" name="new_password" type="password" autocomplete="new-password"
                    required minlength="12" aria-describedby="password-new-hint"/>
                <p id="password-new-hint" class="hint">"At least 12 characters. Other devices are logged out."</p>
                <button type="submit">"Change password"</button>
            </form>
        </section>
    }
}

/// Saved addresses (the default first, used at checkout), each with edit and delete.
#[component]
fn AddressBook(addresses: Result<Vec<Address>, ClientError>) -> impl IntoView {
    view! {
        <section id="addresses" class="address-book" aria-labelledby="addresses-heading">
            <h2 id="addresses-heading">"Addresses"</h2>
            {match addresses {
                Ok(list) if list.is_empty() => view! {
                    <p>"No saved addresses yet. Your default address fills in the checkout."</p>
                }.into_any(),
                Ok(list) => view! {
                    <ul class="addresses">
                        {list.into_iter().map(|a| {
                            let title = a.label.clone().unwrap_or_else(|| a.address.full_name.clone());
                            let lines = a.address.lines();
                            let delete_label = format!("Delete address {title}");
                            let edit_label = format!("Edit address {title}");
                            view! {
                                <li class="address-card">
                                    <h3>{title}{a.is_default.then(|| view! { <span class="badge">"Default"</span> })}</h3>
                                    <address>{lines.into_iter().map(|l| view! { {l} <br/> }).collect_view()}</address>
                                    <A href=format!("/account/addresses/{}", a.id) attr:aria-label=edit_label>"Edit"</A>
                                    <form class="inline" method="post" action=format!("/account/addresses/{}/delete", a.id)>
                <CsrfField/>
                                        <button type="submit" class="link" aria-label=delete_label>"Delete"</button>
                                    </form>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
                Err(error) => view! { <ApiProblem error/> }.into_any(),
            }}
            <p><A href="/account/addresses/new">"Add an address"</A></p>
        </section>
    }
}

/// The order of the route's `:id`, the caller's (`None` when the id is no order id), with
/// the moment it was read: what "may it still be returned?" is asked against, so the server's
/// page and the hydrated one give the same answer.
pub type OrderRead = (Order, chrono::DateTime<chrono::Utc>);

pub fn order_of_route() -> Resource<Result<Option<OrderRead>, ClientError>> {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let api = api::client();
    Resource::new(id, move |id| {
        let api = api.clone();
        api::sendable(async move {
            match id.parse() {
                Ok(id) => api.order(id).await.map(|order| Some((order, api::now()))),
                Err(_) => Ok(None),
            }
        })
    })
}

#[component]
pub fn OrderPage() -> impl IntoView {
    let placed = use_query_map().get_untracked().get("placed").is_some();
    let order = order_of_route();
    view! {
        <Meta name="robots" content="noindex"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match order.await {
                    Ok(Some((order, now))) => view! { <OrderDetail order now placed/> }.into_any(),
                    Ok(None) => view! { <crate::pages::not_found::NotFound/> }.into_any(),
                    Err(error) if error.is_not_found() => view! { <crate::pages::not_found::NotFound/> }.into_any(),
                    Err(error) if error.status() == Some(401) => view! {
                        <Title text="Your order"/>
                        <LogInFirst next="/account" message="Log in to see this order."/>
                    }.into_any(),
                    Err(error) => view! { <ApiProblem error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn OrderDetail(order: Order, now: chrono::DateTime<chrono::Utc>, placed: bool) -> impl IntoView {
    let address_lines = order.shipping_address.lines();
    let totals = order.totals.clone();
    let delivered = order.status == OrderStatus::Delivered;
    view! {
        <Title text=format!("Order #{}", order.number)/>
        {placed.then(|| view! {
            <div class="confirmation" role="status">
                <h1>"Thank you for your order!"</h1>
                <p>{format!("Order #{} is placed. We'll email you when it ships.", order.number)}</p>
            </div>
        })}
        {(!placed).then(|| view! { <h1>{format!("Order #{}", order.number)}</h1> })}
        <p class="order-status">
            "Status: " <strong data-testid="order-status">{order.status.label()}</strong>
            {order.tracking_number.clone().map(|t| view! { " · tracking number " <code>{t}</code> })}
        </p>
        <p>{format!("Placed on {}", order.placed_at.format("%-d %B %Y, %H:%M UTC"))}</p>
        <table class="cart-lines order-lines">
            <thead><tr>
                <th scope="col">"Item"</th><th scope="col">"Price"</th>
                <th scope="col">"Quantity"</th><th scope="col">"Total"</th>
            </tr></thead>
            <tbody>
                {order.lines.clone().into_iter().map(|l| view! {
                    <tr>
                        <td>
                            <A href=format!("/products/{}", l.product_slug)>{l.product_name}</A>
                            <div class="variant-title">{l.variant_title.clone()}</div>
                            {delivered.then(|| view! {
                                <A href=format!("/products/{}/review", l.product_slug) attr:class="write-review">"Write a review"</A>
                            })}
                        </td>
                        <td>{l.unit_price.to_shopper_string()}</td>
                        <td>{l.quantity}</td>
                        <td class="line-total">{l.line_total.to_shopper_string()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <div class="cart-side">
            <section>
                <h2>"Delivery"</h2>
                <address>{address_lines.into_iter().map(|l| view! { {l} <br/> }).collect_view()}</address>
                <p>{format!("Shipping: {}", order.shipping_method)}</p>
            </section>
            <dl class="totals">
                <dt>"Subtotal"</dt><dd>{totals.subtotal.to_shopper_string()}</dd>
                {(totals.discount.amount_minor > 0).then(|| view! {
                    <dt>"Discount"</dt><dd class="discount">{format!("−{}", totals.discount.to_shopper_string())}</dd>
                })}
                <dt>"Shipping"</dt><dd>{totals.shipping.to_shopper_string()}</dd>
                <dt>{crate::components::tax_label(u32::try_from(totals.tax_rate_basis_points).unwrap_or(0), totals.prices_include_tax)}</dt>
                <dd>{totals.tax.to_shopper_string()}</dd>
                <dt class="grand">"Total"</dt><dd class="grand" data-testid="order-total">{totals.total.to_shopper_string()}</dd>
                {(totals.refunded.amount_minor > 0).then(|| view! {
                    <dt>"Refunded"</dt><dd>{totals.refunded.to_shopper_string()}</dd>
                })}
            </dl>
        </div>
        <crate::pages::returns::OrderReturns order=order.clone() now/>
        <p><A href="/account">"← All your orders"</A></p>
    }
}
