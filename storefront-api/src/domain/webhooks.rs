//! Webhook endpoints as staff register them: a URL the relay may call, known topics, and the
//! rule for which network addresses a delivery may reach. A registration that names a
//! loopback, link-local or private address — literally or through what its host resolves to
//! — would let whoever holds the `integrations` permission make the shop's servers call
//! their own neighbours (server-side request forgery); it is refused unless the shop's
//! settings allow it (development, tests). The relay applies the same rule again to every
//! address it connects to, since DNS answers change.

use std::net::IpAddr;

use storefront_client::staff::webhooks::{NewWebhookEndpoint, WebhookEndpointPatch};
use storefront_client::webhooks::TOPICS;
use url::Url;

use super::{FieldError, text};

pub const MAX_URL: usize = 2000;
pub const MAX_DESCRIPTION: usize = 500;

/// Which endpoints the shop may call (`[webhooks]` settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkPolicy {
    /// Plain `http://` URLs (development only: payloads carry personal data).
    pub allow_http: bool,
    /// Loopback, link-local, private and other non-public addresses.
    pub allow_private_networks: bool,
}

impl NetworkPolicy {
    /// Whether a delivery may connect to `address`.
    pub fn allows(self, address: IpAddr) -> bool {
        self.allow_private_networks || is_public(address)
    }
}

/// Whether an address is on the public internet: not loopback, private (RFC 1918, unique
/// local), link-local (cloud metadata services live there), shared (CGNAT), unspecified,
/// multicast, broadcast, documentation or benchmarking ranges; IPv4-mapped IPv6 addresses
/// are judged as the IPv4 address they carry.
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// A webhook URL, checked for shape and scheme; its host's addresses are checked by the
/// service that resolves them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl(Url);

impl EndpointUrl {
    pub fn parse(raw: &str, policy: NetworkPolicy) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("is required".into());
        }
        if raw.chars().count() > MAX_URL {
            return Err(format!("must be at most {MAX_URL} characters"));
        }
        let url = Url::parse(raw).map_err(|e| format!("is not a URL ({e})"))?;
        match url.scheme() {
            "https" => {}
            "http" if policy.allow_http => {}
            "http" => return Err("must use https".into()),
            other => return Err(format!("must use https, not {other}")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry a user name or password".into());
        }
        if url.fragment().is_some() {
            return Err("must not have a #fragment".into());
        }
        let literal = match url.host() {
            None => return Err("must name a host".into()),
            Some(url::Host::Domain(_)) => None,
            Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        };
        if let Some(address) = literal.filter(|address| !policy.allows(*address)) {
            return Err(refused_address(address));
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The host to resolve and the port to connect to.
    pub fn host_and_port(&self) -> (String, u16) {
        let host = match self.0.host() {
            Some(url::Host::Ipv6(v6)) => v6.to_string(),
            Some(host) => host.to_string(),
            None => String::new(),
        };
        (host, self.0.port_or_known_default().unwrap_or(443))
    }
}

/// The message for an address a delivery may not reach.
pub fn refused_address(address: IpAddr) -> String {
    format!(
        "reaches {address}, a loopback, link-local or private address, which webhooks may not \
         call"
    )
}

/// Known topics, each once, in the order given.
pub fn topics(raw: &[String]) -> Result<Vec<String>, String> {
    if raw.is_empty() {
        return Err(format!("name at least one of {}", TOPICS.join(", ")));
    }
    let mut topics: Vec<String> = Vec::new();
    for topic in raw {
        if !TOPICS.contains(&topic.as_str()) {
            return Err(format!(
                "has the unknown topic `{topic}`; known: {}",
                TOPICS.join(", ")
            ));
        }
        if !topics.contains(topic) {
            topics.push(topic.clone());
        }
    }
    Ok(topics)
}

/// A new endpoint, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEndpoint {
    pub url: EndpointUrl,
    pub topics: Vec<String>,
    pub description: String,
}

impl NewEndpoint {
    pub fn parse(
        draft: &NewWebhookEndpoint,
        policy: NetworkPolicy,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let url = EndpointUrl::parse(&draft.url, policy)
            .map_err(|message| errors.push(FieldError::new("url", message)))
            .ok();
        let topics = topics(&draft.topics)
            .map_err(|message| errors.push(FieldError::new("topics", message)))
            .ok();
        let description = text::optional_line(draft.description.as_deref(), MAX_DESCRIPTION)
            .map_err(|message| errors.push(FieldError::new("description", message)))
            .ok();
        match (url, topics, description) {
            (Some(url), Some(topics), Some(description)) => Ok(Self {
                url,
                topics,
                description: description.unwrap_or_default(),
            }),
            _ => Err(errors),
        }
    }
}

/// A change to an endpoint, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointChange {
    pub url: Option<EndpointUrl>,
    pub topics: Option<Vec<String>>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

impl EndpointChange {
    pub fn parse(
        patch: &WebhookEndpointPatch,
        policy: NetworkPolicy,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut field = |name: &str, message: String| errors.push(FieldError::new(name, message));
        let url = match patch
            .url
            .as_deref()
            .map(|url| EndpointUrl::parse(url, policy))
        {
            Some(Err(message)) => {
                field("url", message);
                None
            }
            parsed => parsed.and_then(Result::ok),
        };
        let topics = match patch.topics.as_deref().map(topics) {
            Some(Err(message)) => {
                field("topics", message);
                None
            }
            parsed => parsed.and_then(Result::ok),
        };
        let description = match patch
            .description
            .as_deref()
            .map(|raw| text::optional_line(Some(raw), MAX_DESCRIPTION))
        {
            Some(Err(message)) => {
                field("description", message);
                None
            }
            parsed => parsed.and_then(Result::ok).map(Option::unwrap_or_default),
        };
        if patch == &WebhookEndpointPatch::default() {
            field(
                "url",
                "give a url, topics, a description or enabled".to_owned(),
            );
        }
        if errors.is_empty() {
            Ok(Self {
                url,
                topics,
                description,
                enabled: patch.enabled,
            })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: NetworkPolicy = NetworkPolicy {
        allow_http: false,
        allow_private_networks: false,
    };

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn urls_need_https_a_host_and_no_private_literal() {
        assert!(EndpointUrl::parse("https://erp.example.com/hooks", STRICT).is_ok());
        for (url, says) in [
            ("http://erp.example.com/hooks", "https"),
            ("ftp://erp.example.com", "https"),
            ("https://user:pw@erp.example.com", "password"),
            ("https://127.0.0.1/hooks", "loopback"),
            ("https://[::1]/hooks", "loopback"),
            ("https://169.254.169.254/latest/meta-data", "link-local"),
            ("not a url", "not a URL"),
            ("", "required"),
        ] {
            let message = EndpointUrl::parse(url, STRICT).unwrap_err();
            assert!(message.contains(says), "{url}: {message}");
        }
        let development = NetworkPolicy {
            allow_http: true,
            allow_private_networks: true,
        };
        assert!(EndpointUrl::parse("http://127.0.0.1:9000/hooks", development).is_ok());
    }

    #[test]
    fn unknown_topics_are_named() {
        let message = topics(&["order.paid".into(), "order.exploded".into()]).unwrap_err();
        assert!(message.contains("`order.exploded`"), "{message}");
        assert_eq!(
            topics(&["order.paid".into(), "order.paid".into()]).unwrap(),
            vec!["order.paid".to_owned()]
        );
        assert!(topics(&[]).is_err());
    }
}
