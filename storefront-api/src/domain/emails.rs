//! The emails the shop sends its customers, which outbox topic each answers, and the signed
//! links they carry.
//!
//! Transactional emails (an order's confirmation, its shipping, a return's progress, a
//! refund, a password reset)
//! go to every customer; marketing emails (offers) only to those who gave consent, and each
//! carries a signed link that withdraws it without logging in.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// One kind of customer email; its templates are `templates/email/{kind}.{html,txt}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailKind {
    OrderConfirmation,
    OrderShipped,
    OrderDelivered,
    OrderRefunded,
    /// A return's progress: asked for, approved, refused, received (its refund is
    /// `OrderRefunded`).
    ReturnUpdate,
    PasswordReset,
    /// A personal offer (a discount code) from a retention campaign: marketing.
    Offer,
}

impl EmailKind {
    pub const ALL: [Self; 7] = [
        Self::OrderConfirmation,
        Self::OrderShipped,
        Self::OrderDelivered,
        Self::OrderRefunded,
        Self::ReturnUpdate,
        Self::PasswordReset,
        Self::Offer,
    ];

    /// The email an outbox message of `topic` sends its customer, if any. An order is
    /// confirmed once it is paid (an order whose payment failed was never the customer's).
    pub fn for_topic(topic: &str) -> Option<Self> {
        match topic {
            "order.paid" => Some(Self::OrderConfirmation),
            "order.shipped" => Some(Self::OrderShipped),
            "order.delivered" => Some(Self::OrderDelivered),
            "order.refunded" => Some(Self::OrderRefunded),
            "return.requested" | "return.approved" | "return.refused" | "return.received" => {
                Some(Self::ReturnUpdate)
            }
            PASSWORD_RESET_TOPIC => Some(Self::PasswordReset),
            OFFER_TOPIC => Some(Self::Offer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderConfirmation => "order_confirmation",
            Self::OrderShipped => "order_shipped",
            Self::OrderDelivered => "order_delivered",
            Self::OrderRefunded => "order_refunded",
            Self::ReturnUpdate => "return_update",
            Self::PasswordReset => "password_reset",
            Self::Offer => "offer",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }

    /// Whether only customers who consented to marketing get it; it then carries a signed
    /// unsubscribe link.
    pub fn is_marketing(self) -> bool {
        self == Self::Offer
    }
}

/// The outbox topic of a password reset a customer asked for.
pub const PASSWORD_RESET_TOPIC: &str = "customer.password_reset_requested";

/// The outbox topic of a personal offer made to a customer. Its data: `customer_id` and
/// `offer` — `code`, `headline` ("15 % off your next order"), `minimum_spend` (written out,
/// or null) and `expires_at` (RFC 3339).
pub const OFFER_TOPIC: &str = "customer.offer_made";

/// What a signed link lets its holder do; part of what is signed, so a link for one purpose
/// never works for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Set a new password (the id is a `password_resets` row: expiry and single use are
    /// checked there).
    PasswordReset,
    /// Withdraw marketing consent (the id is the account; it never expires, as an
    /// unsubscribe link must keep working).
    Unsubscribe,
}

impl LinkPurpose {
    fn label(self) -> &'static [u8] {
        match self {
            Self::PasswordReset => b"password-reset",
            Self::Unsubscribe => b"unsubscribe",
        }
    }
}

/// Signs and checks the tokens in email links: `{id}.{HMAC-SHA256(secret, purpose:id)}`,
/// both parts URL-safe. Without the shop's secret nobody can make one, so the database and
/// the outbox (which webhook receivers read) hold only ids.
#[derive(Clone)]
pub struct LinkSigner {
    secret: Vec<u8>,
}

impl LinkSigner {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            secret: secret.to_vec(),
        }
    }

    fn mac(&self, purpose: LinkPurpose, id: Uuid) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret)
            .expect("HMAC-SHA256 takes a key of any length");
        mac.update(purpose.label());
        mac.update(b":");
        mac.update(id.as_bytes());
        mac
    }

    pub fn token(&self, purpose: LinkPurpose, id: Uuid) -> String {
        use base64::Engine as _;
        let signature = self.mac(purpose, id).finalize().into_bytes();
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature);
        format!("{}.{signature}", id.simple())
    }

    /// The id a token was signed for, if it is genuine and for `purpose` (checked in
    /// constant time).
    pub fn verify(&self, purpose: LinkPurpose, token: &str) -> Option<Uuid> {
        use base64::Engine as _;
        let (id, signature) = token.trim().split_once('.')?;
        let id = Uuid::try_parse(id).ok()?;
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(signature)
            .ok()?;
        self.mac(purpose, id)
            .verify_slice(&signature)
            .ok()
            .map(|()| id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_works_only_for_its_purpose_and_secret() {
        let signer = LinkSigner::new(b"a secret of the shop, long enough to sign");
        let id = Uuid::from_u128(0x2026_1207);
        let token = signer.token(LinkPurpose::PasswordReset, id);
        assert_eq!(signer.verify(LinkPurpose::PasswordReset, &token), Some(id));
        assert_eq!(signer.verify(LinkPurpose::Unsubscribe, &token), None);
        let other = LinkSigner::new(b"another shop's secret, just as long....");
        assert_eq!(other.verify(LinkPurpose::PasswordReset, &token), None);
    }

    #[test]
    fn forged_and_mangled_tokens_are_refused() {
        let signer = LinkSigner::new(b"a secret of the shop, long enough to sign");
        let id = Uuid::from_u128(7);
        let token = signer.token(LinkPurpose::Unsubscribe, id);
        let (_, signature) = token.split_once('.').unwrap();
        let someone_else = format!("{}.{signature}", Uuid::from_u128(8).simple());
        for forged in [
            someone_else.as_str(),
            "",
            ".",
            "not-a-uuid.abc",
            &token[..token.len() - 2],
            &format!("{token}AA"),
        ] {
            assert_eq!(
                signer.verify(LinkPurpose::Unsubscribe, forged),
                None,
                "{forged:?}"
            );
        }
    }

    #[test]
    fn every_kind_round_trips_and_order_topics_map_once() {
        for kind in EmailKind::ALL {
            assert_eq!(EmailKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EmailKind::for_topic("order.placed"), None);
        assert_eq!(
            EmailKind::for_topic("order.paid"),
            Some(EmailKind::OrderConfirmation)
        );
    }
}
