//! Customer emails: written from templates (`templates/email/`, HTML with a plain-text
//! part) and sent over SMTP. The relay (`crate::relay`) decides when; this module decides
//! what an email says and hands it to the SMTP server.

use std::time::Duration;

use anyhow::Context as _;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart, header},
};
use minijinja::Environment;
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::Value;
use storefront_client::orders::Order;
use storefront_client::returns::{OrderReturn, ReturnStatus};
use uuid::Uuid;

use crate::{
    config::Settings,
    domain::emails::{EmailKind, LinkPurpose, LinkSigner},
};

/// An email ready to send.
#[derive(Debug, Clone)]
pub struct Written {
    pub subject: String,
    pub html: String,
    pub text: String,
    /// The signed unsubscribe link of a marketing email.
    pub unsubscribe_url: Option<String>,
}

/// Who gets an email.
pub struct Recipient<'a> {
    pub account_id: Uuid,
    pub email: &'a str,
    pub full_name: &'a str,
}

/// Why an email could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The server (or the address) refused it for good: trying again cannot help.
    #[error("{0}")]
    Permanent(String),
    /// Try again later.
    #[error("{0}")]
    Transient(String),
}

/// Writes and sends customer emails; one per relay, its SMTP connections pooled.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    writer: Writer,
}

impl Mailer {
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        let transport =
            AsyncSmtpTransport::<Tokio1Executor>::from_url(settings.smtp.url.expose_secret())
                .context("smtp.url is not a usable SMTP URL")?
                .timeout(Some(Duration::from_secs(settings.smtp.timeout_secs)))
                .build();
        let from = settings
            .smtp
            .from
            .parse()
            .with_context(|| format!("smtp.from {:?} is not an address", settings.smtp.from))?;
        Ok(Self {
            transport,
            from,
            writer: Writer::new(settings)?,
        })
    }

    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    /// Sends `written` to `to`. Its `Message-ID` is derived from the outbox message, so an
    /// email sent twice (a relay died between sending and recording) is the same email to
    /// the customer's mail client.
    pub async fn send(
        &self,
        to: &Recipient<'_>,
        message_id: Uuid,
        kind: EmailKind,
        written: Written,
    ) -> Result<(), SendError> {
        let mailbox = Mailbox::new(
            Some(to.full_name.to_owned()).filter(|name| !name.is_empty()),
            to.email
                .parse()
                .map_err(|error| SendError::Permanent(format!("{}: {error}", to.email)))?,
        );
        let domain = self.from.email.domain().to_owned();
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(mailbox)
            .subject(written.subject)
            .message_id(Some(format!("<{message_id}.{}@{domain}>", kind.as_str())));
        if let Some(url) = &written.unsubscribe_url {
            builder = builder.header(ListUnsubscribe(format!("<{url}>")));
        }
        let email = builder
            .multipart(MultiPart::alternative_plain_html(
                written.text,
                written.html,
            ))
            .map_err(|error| SendError::Permanent(format!("the email is malformed: {error}")))?;
        match self.transport.send(email).await {
            Ok(_) => Ok(()),
            Err(error) if error.is_permanent() => Err(SendError::Permanent(error.to_string())),
            Err(error) => Err(SendError::Transient(error.to_string())),
        }
    }
}

/// `List-Unsubscribe` (RFC 2369): mail clients show an unsubscribe button for it.
#[derive(Clone)]
struct ListUnsubscribe(String);

impl header::Header for ListUnsubscribe {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(raw: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(raw.to_owned()))
    }

    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// Turns an outbox message's body into an email of one kind, from the templates.
pub struct Writer {
    templates: Environment<'static>,
    shop: ShopView,
    links: LinkSigner,
    reset_minutes: i64,
}

/// The shop as every template sees it.
#[derive(Debug, Clone, Serialize)]
struct ShopView {
    name: String,
    url: String,
}

/// The templates, compiled into the binary: a shop that starts can write every email.
const TEMPLATES: [(&str, &str); 16] = [
    (
        "layout.html",
        include_str!("../templates/email/layout.html"),
    ),
    ("layout.txt", include_str!("../templates/email/layout.txt")),
    (
        "order_confirmation.html",
        include_str!("../templates/email/order_confirmation.html"),
    ),
    (
        "order_confirmation.txt",
        include_str!("../templates/email/order_confirmation.txt"),
    ),
    (
        "order_shipped.html",
        include_str!("../templates/email/order_shipped.html"),
    ),
    (
        "order_shipped.txt",
        include_str!("../templates/email/order_shipped.txt"),
    ),
    (
        "order_delivered.html",
        include_str!("../templates/email/order_delivered.html"),
    ),
    (
        "order_delivered.txt",
        include_str!("../templates/email/order_delivered.txt"),
    ),
    (
        "order_refunded.html",
        include_str!("../templates/email/order_refunded.html"),
    ),
    (
        "order_refunded.txt",
        include_str!("../templates/email/order_refunded.txt"),
    ),
    (
        "return_update.html",
        include_str!("../templates/email/return_update.html"),
    ),
    (
        "return_update.txt",
        include_str!("../templates/email/return_update.txt"),
    ),
    (
        "password_reset.html",
        include_str!("../templates/email/password_reset.html"),
    ),
    (
        "password_reset.txt",
        include_str!("../templates/email/password_reset.txt"),
    ),
    ("offer.html", include_str!("../templates/email/offer.html")),
    ("offer.txt", include_str!("../templates/email/offer.txt")),
];

impl Writer {
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        let mut templates = Environment::new();
        templates.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, source) in TEMPLATES {
            templates
                .add_template(name, source)
                .with_context(|| format!("email template {name}"))?;
        }
        Ok(Self {
            templates,
            shop: ShopView {
                name: settings.shop.name.clone(),
                url: settings.shop.public_url.trim_end_matches('/').to_owned(),
            },
            links: settings.shop.links(),
            reset_minutes: settings.shop.password_reset_minutes,
        })
    }

    /// The email of `kind` for a message `body` (`{id, type, timestamp, data}`, as the
    /// relay fixed it) to `to`.
    pub fn write(
        &self,
        kind: EmailKind,
        body: &Value,
        to: &Recipient<'_>,
    ) -> anyhow::Result<Written> {
        let data = body.get("data").unwrap_or(&Value::Null);
        let customer = to.full_name;
        let unsubscribe_url = kind.is_marketing().then(|| {
            let token = self.links.token(LinkPurpose::Unsubscribe, to.account_id);
            format!("{}/unsubscribe?token={token}", self.shop.url)
        });
        let (subject, context) = match kind {
            EmailKind::Offer => {
                let offer: OfferView = field(data, "offer")?;
                let context = minijinja::context! {
                    shop => &self.shop,
                    customer => customer,
                    offer => &offer,
                    expires => offer.expires_at.format("%-d %B %Y, %H:%M").to_string(),
                    unsubscribe_url => &unsubscribe_url,
                };
                (format!("{} at {}", offer.headline, self.shop.name), context)
            }
            EmailKind::PasswordReset => {
                let reset_id: Uuid = field(data, "reset_id")?;
                let token = self.links.token(LinkPurpose::PasswordReset, reset_id);
                let context = minijinja::context! {
                    shop => &self.shop,
                    customer => customer,
                    reset_url => format!("{}/account/reset-password?token={token}", self.shop.url),
                    minutes => self.reset_minutes,
                };
                (format!("Reset your {} password", self.shop.name), context)
            }
            _ => {
                let order: Order = field(data, "order")?;
                let view = OrderView::new(&order, &self.shop.url);
                let subject = match kind {
                    EmailKind::OrderConfirmation => {
                        format!("Order {} confirmed", order.number)
                    }
                    EmailKind::OrderShipped => format!("Order {} is on its way", order.number),
                    EmailKind::OrderDelivered => format!("Order {} was delivered", order.number),
                    EmailKind::ReturnUpdate => {
                        let order_return = return_of(data, &order)?;
                        let step = match return_step(body, order_return) {
                            ReturnStatus::Requested => "we have your request",
                            ReturnStatus::Approved => "approved, please send the items",
                            ReturnStatus::Refused => "refused",
                            ReturnStatus::Received => "items received",
                            ReturnStatus::Refunded => "refunded",
                        };
                        format!(
                            "Return {} for order {}: {step}",
                            order_return.number, order.number
                        )
                    }
                    _ => format!("Refund for order {}", order.number),
                };
                let order_return = match kind {
                    EmailKind::ReturnUpdate => {
                        let order_return = return_of(data, &order)?;
                        Some(ReturnView::new(
                            order_return,
                            return_step(body, order_return),
                        ))
                    }
                    _ => None,
                };
                let refund = data
                    .get("amount_minor")
                    .and_then(Value::as_i64)
                    .map(|minor| {
                        storefront_client::money::Money::new(minor, order.totals.total.currency)
                            .to_shopper_string()
                    });
                let context = minijinja::context! {
                    shop => &self.shop,
                    customer => customer,
                    order => view,
                    refund => refund,
                    order_return => order_return,
                };
                (subject, context)
            }
        };
        let render = |extension: &str| -> anyhow::Result<String> {
            let name = format!("{}.{extension}", kind.as_str());
            self.templates
                .get_template(&name)?
                .render(&context)
                .with_context(|| format!("rendering {name}"))
        };
        Ok(Written {
            subject,
            html: render("html")?,
            text: render("txt")?,
            unsubscribe_url,
        })
    }
}

/// A field of a message's data, typed.
fn field<T: serde::de::DeserializeOwned>(data: &Value, name: &str) -> anyhow::Result<T> {
    let value = data
        .get(name)
        .with_context(|| format!("the message has no {name}"))?;
    serde_json::from_value(value.clone()).with_context(|| format!("the message's {name}"))
}

/// The return a message of a return topic is about, from the order the relay attached: as
/// it stands when the email is written (a later step has its own email).
fn return_of<'a>(data: &Value, order: &'a Order) -> anyhow::Result<&'a OrderReturn> {
    let return_id: Uuid = field(data, "return_id")?;
    order
        .returns
        .iter()
        .find(|r| r.id == return_id)
        .with_context(|| format!("order {} has no return {return_id}", order.number))
}

/// The step a return message announces (its topic, `return.{status}`): the return may have
/// moved on by the time its email is written, and each step has its own email.
fn return_step(body: &Value, order_return: &OrderReturn) -> ReturnStatus {
    body.get("type")
        .and_then(Value::as_str)
        .and_then(|topic| topic.strip_prefix("return."))
        .and_then(ReturnStatus::parse)
        .unwrap_or(order_return.status)
}

/// A return as the templates show it.
#[derive(Debug, Serialize)]
struct ReturnView {
    number: i64,
    status: &'static str,
    lines: Vec<String>,
    refusal_reason: Option<String>,
}

impl ReturnView {
    fn new(order_return: &OrderReturn, step: ReturnStatus) -> Self {
        Self {
            number: order_return.number,
            status: step.as_str(),
            lines: order_return
                .lines
                .iter()
                .map(|line| {
                    format!(
                        "{} × {} ({}) — {}",
                        line.quantity,
                        line.product_name,
                        line.variant_title,
                        line.reason.label()
                    )
                })
                .collect(),
            refusal_reason: order_return.refusal_reason.clone(),
        }
    }
}

/// A personal offer as its message carries it.
#[derive(Debug, Serialize, serde::Deserialize)]
struct OfferView {
    code: String,
    headline: String,
    minimum_spend: Option<String>,
    expires_at: chrono::DateTime<chrono::Utc>,
}

/// An order as the templates show it: amounts already written out with their currency.
#[derive(Debug, Serialize)]
struct OrderView {
    number: i64,
    url: String,
    placed_at: String,
    lines: Vec<LineView>,
    subtotal: String,
    discount: Option<String>,
    shipping: String,
    shipping_method: String,
    tax: String,
    /// "Incl. VAT (19.00 %)" where prices include it, "Tax (7.25 %)" where it is added.
    tax_label: String,
    total: String,
    refunded: Option<String>,
    address: Vec<String>,
    tracking_number: Option<String>,
}

#[derive(Debug, Serialize)]
struct LineView {
    name: String,
    variant: String,
    sku: String,
    quantity: i32,
    unit_price: String,
    line_total: String,
    review_url: String,
}

impl OrderView {
    fn new(order: &Order, shop_url: &str) -> Self {
        let totals = &order.totals;
        Self {
            number: order.number,
            url: format!("{shop_url}/account/orders/{}", order.id),
            placed_at: order.placed_at.format("%-d %B %Y").to_string(),
            lines: order
                .lines
                .iter()
                .map(|line| LineView {
                    name: line.product_name.clone(),
                    variant: line.variant_title.clone(),
                    sku: line.sku.clone(),
                    quantity: line.quantity,
                    unit_price: line.unit_price.to_shopper_string(),
                    line_total: line.line_total.to_shopper_string(),
                    review_url: format!("{shop_url}/products/{}/review", line.product_slug),
                })
                .collect(),
            subtotal: totals.subtotal.to_shopper_string(),
            discount: (totals.discount.amount_minor != 0)
                .then(|| totals.discount.to_shopper_string()),
            shipping: totals.shipping.to_shopper_string(),
            shipping_method: order.shipping_method.clone(),
            tax: totals.tax.to_shopper_string(),
            tax_label: format!(
                "{} ({}.{:02} %)",
                if totals.prices_include_tax {
                    "Incl. VAT"
                } else {
                    "Tax"
                },
                totals.tax_rate_basis_points / 100,
                totals.tax_rate_basis_points % 100
            ),
            total: totals.total.to_shopper_string(),
            refunded: (totals.refunded.amount_minor != 0)
                .then(|| totals.refunded.to_shopper_string()),
            address: order.shipping_address.lines(),
            tracking_number: order.tracking_number.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn writer() -> Writer {
        Writer::new(&Settings::defaults()).expect("the templates compile")
    }

    fn order() -> Value {
        let eur = |minor: i64| json!({"amount_minor": minor, "currency": "EUR"});
        json!({
            "id": "0192f0c4-0000-7000-8000-000000000001",
            "number": 100042,
            "account_id": "0192f0c4-0000-7000-8000-0000000000aa",
            "status": "shipped",
            "lines": [{
                "line_number": 1,
                "variant_id": "0192f0c4-0000-7000-8000-000000000002",
                "product_id": "0192f0c4-0000-7000-8000-000000000003",
                "product_slug": "desk-lamp",
                "sku": "LAMP-1",
                "product_name": "Desk <Lamp> & Shade",
                "variant_title": "Brass",
                "unit_price": eur(2500),
                "quantity": 2,
                "line_total": eur(5000),
            }],
            "totals": {
                "subtotal": eur(5000), "discount": eur(0), "shipping": eur(490),
                "tax_rate_basis_points": 1900, "prices_include_tax": true, "tax": eur(876),
                "total": eur(5490),
                "refunded": eur(1000),
            },
            "shipping_method": "standard",
            "shipping_address": {
                "full_name": "Ada Lovelace", "line1": "Hauptstraße 1", "city": "Berlin",
                "postal_code": "10115", "country": "DE"
            },
            "payments": [],
            "cancel_reason": null,
            "tracking_number": "DHL-4711",
            "placed_at": "2026-12-06T10:00:00Z",
            "paid_at": "2026-12-06T10:00:01Z",
            "fulfilled_at": null,
            "shipped_at": "2026-12-06T12:00:00Z",
            "delivered_at": null,
            "cancelled_at": null,
            "returnable_until": null,
            "returns": [{
                "id": "0192f0c4-0000-7000-8000-0000000000e1",
                "number": 5001,
                "order_id": "0192f0c4-0000-7000-8000-000000000001",
                "status": "received",
                "lines": [{"line_number": 1, "sku": "LAMP-1", "product_name": "Desk <Lamp> & Shade",
                           "variant_title": "Brass", "quantity": 1, "reason": "damaged",
                           "restocked": false}],
                "customer_note": null,
                "refusal_reason": "Worn & torn",
                "refund_due": null,
                "refunded": null,
                "requested_at": "2026-12-07T10:00:00Z",
                "approved_at": null,
                "refused_at": null,
                "received_at": null,
                "refunded_at": null,
            }],
        })
    }

    fn to() -> Recipient<'static> {
        Recipient {
            account_id: Uuid::from_u128(0xaa),
            email: "ada@example.com",
            full_name: "Ada Lovelace",
        }
    }

    #[test]
    fn every_kind_is_written_in_html_and_plain_text() {
        let writer = writer();
        let order_body = json!({"data": {"order_id": "x", "order": order(), "amount_minor": 1000,
            "return_id": "0192f0c4-0000-7000-8000-0000000000e1"}});
        let offer_body = json!({"data": {"customer_id": Uuid::from_u128(0xaa), "offer": {
            "code": "COMEBACK-7Q2X", "headline": "15 % off your next order",
            "minimum_spend": "€30.00", "expires_at": "2026-12-20T23:59:00Z"}}});
        let reset_body = json!({"data": {"customer_id": Uuid::from_u128(0xaa),
            "reset_id": Uuid::from_u128(0x5e7)}});
        for kind in EmailKind::ALL {
            let body = match kind {
                EmailKind::Offer => &offer_body,
                EmailKind::PasswordReset => &reset_body,
                _ => &order_body,
            };
            let written = writer.write(kind, body, &to()).expect("written");
            assert!(
                written.text.starts_with("Hello Ada Lovelace,"),
                "{kind:?}: {}",
                written.text
            );
            assert!(written.html.contains("Hello Ada Lovelace,"), "{kind:?}");
            assert_eq!(
                written.unsubscribe_url.is_some(),
                kind.is_marketing(),
                "{kind:?}: only marketing carries an unsubscribe link"
            );
        }
    }

    #[test]
    fn names_are_escaped_in_html_and_plain_in_text() {
        let body = json!({"data": {"order": order()}});
        let written = writer()
            .write(EmailKind::OrderConfirmation, &body, &to())
            .expect("written");
        assert_eq!(written.subject, "Order 100042 confirmed");
        assert!(written.html.contains("Desk &lt;Lamp&gt; &amp; Shade"));
        assert!(!written.html.contains("<Lamp>"));
        assert!(
            written
                .text
                .contains("2 x Desk <Lamp> & Shade (Brass) at €25.00 = €50.00")
        );
        assert!(written.text.contains("Total: €54.90"), "{}", written.text);
        assert!(written.text.contains("Incl. VAT (19.00 %): €8.76"));
        assert!(
            written.text.contains("Hauptstraße 1\n10115 Berlin\n"),
            "{}",
            written.text
        );
    }

    #[test]
    fn a_return_email_says_the_step_its_message_announced() {
        let body = |topic: &str| {
            json!({"type": topic, "data": {"order": order(),
                "return_id": "0192f0c4-0000-7000-8000-0000000000e1"}})
        };
        let refused = writer()
            .write(EmailKind::ReturnUpdate, &body("return.refused"), &to())
            .expect("written");
        assert_eq!(refused.subject, "Return 5001 for order 100042: refused");
        assert!(
            refused.text.contains("Why: Worn & torn"),
            "{}",
            refused.text
        );
        assert!(refused.html.contains("Why: Worn &amp; torn"));
        assert!(
            refused
                .text
                .contains("1 × Desk <Lamp> & Shade (Brass) — Arrived damaged")
        );
        // Approved, though the return has been received since: the approval's email.
        let approved = writer()
            .write(EmailKind::ReturnUpdate, &body("return.approved"), &to())
            .expect("written");
        assert!(approved.text.contains("is approved"), "{}", approved.text);
        let unknown = json!({"type": "return.approved", "data": {"order": order(),
            "return_id": "0192f0c4-0000-7000-8000-0000000000e2"}});
        assert!(
            writer()
                .write(EmailKind::ReturnUpdate, &unknown, &to())
                .is_err()
        );
    }

    #[test]
    fn the_links_are_signed_for_their_purpose() {
        let settings = Settings::defaults();
        let links = settings.shop.links();
        let reset_id = Uuid::from_u128(0x5e7);
        let body = json!({"data": {"customer_id": Uuid::from_u128(0xaa), "reset_id": reset_id}});
        let written = writer()
            .write(EmailKind::PasswordReset, &body, &to())
            .expect("written");
        let token = written
            .text
            .split_whitespace()
            .find_map(|word| word.split_once("/account/reset-password?token="))
            .map(|(_, token)| token.to_owned())
            .expect("a reset link");
        assert_eq!(
            links.verify(LinkPurpose::PasswordReset, &token),
            Some(reset_id)
        );
        let offer = json!({"data": {"offer": {"code": "C", "headline": "10 % off",
            "minimum_spend": null, "expires_at": "2026-12-20T23:59:00Z"}}});
        let written = writer()
            .write(EmailKind::Offer, &offer, &to())
            .expect("written");
        let url = written.unsubscribe_url.expect("an unsubscribe link");
        let (_, token) = url.split_once("token=").expect("a token");
        assert_eq!(
            links.verify(LinkPurpose::Unsubscribe, token),
            Some(Uuid::from_u128(0xaa))
        );
        assert!(written.text.contains(&url));
        // HTML-escaped as every value is (`/` becomes `&#x2f;`, which browsers read back).
        assert!(written.html.contains(&url.replace('/', "&#x2f;")));
    }

    #[test]
    fn a_message_without_its_data_is_an_error_not_an_empty_email() {
        let error = writer()
            .write(EmailKind::OrderShipped, &json!({"data": {}}), &to())
            .expect_err("no order");
        assert!(error.to_string().contains("no order"), "{error}");
    }
}
