//! A retention campaign as staff type it into the campaigns form, and how it becomes the
//! API's draft. Only typing is checked here (a number where a number belongs, an amount in
//! the offer's currency); the shop's rules — a holdout of 1-99 %, a fixed offer below the
//! minimum spend, an audience that is not empty — are the API's, and its refusals name the
//! field, which [`input_for`] finds on the form.

use serde::{Deserialize, Serialize};
use storefront_client::money::{Currency, Money};
use storefront_client::staff::campaigns::{
    AudienceRule, CampaignDraft, CampaignMode, Channel, OfferDraft,
};
use uuid::Uuid;

use crate::{CommandError, ConsoleError};

/// The churn risk bands, lowest first, as the API names them.
pub const RISK_BANDS: [&str; 3] = ["low", "medium", "high"];

/// An audience whose smallest detectable uplift is above this many percentage points cannot
/// answer whether an offer works: retention offers rarely move the purchase rate that much.
pub const TOO_SMALL_POINTS: f64 = 10.0;

/// What each treated customer is offered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferKind {
    /// A percentage off the goods.
    #[default]
    Percent,
    /// A fixed amount off the goods, in the offer's currency.
    Fixed,
}

/// The campaigns form as typed. Empty text means "no limit" where a limit is optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CampaignForm {
    pub name: String,
    /// The risk bands ticked ([`RISK_BANDS`]); none ticked is every band.
    pub bands: Vec<String>,
    /// Churn probability from and to, in percent (`60`, `72.5`).
    pub min_probability: String,
    pub max_probability: String,
    /// Predicted spend over the next year, at least, in `currency` (`50`, `49.90`).
    pub min_predicted_value: String,
    /// Whole days since the customer's last order: at least, at most.
    pub min_days_since_last_order: String,
    pub max_days_since_last_order: String,
    pub exclude_opted_out: bool,
    pub offer_kind: OfferKind,
    /// `15` (percent) or `5.00` (an amount in `currency`).
    pub offer_value: String,
    /// ISO 4217: the offer's, the amounts' and the results' currency.
    pub currency: String,
    /// The least the goods must come to for the code to work, in `currency`; empty for none.
    pub min_spend: String,
    pub days_valid: String,
    pub channels: Vec<Channel>,
    pub holdout_percent: String,
    pub frequency_cap_days: String,
    /// At most this many customers get the offer; empty for everyone who qualifies.
    pub max_recipients: String,
    pub mode: CampaignMode,
    /// Only members of this customer group or segment; `None` for everyone the rule finds.
    pub segment_id: Option<Uuid>,
}

impl Default for CampaignForm {
    /// The API's defaults, in the demo shop's currency.
    fn default() -> Self {
        Self {
            name: String::new(),
            bands: Vec::new(),
            min_probability: String::new(),
            max_probability: String::new(),
            min_predicted_value: String::new(),
            min_days_since_last_order: String::new(),
            max_days_since_last_order: String::new(),
            exclude_opted_out: true,
            offer_kind: OfferKind::Percent,
            offer_value: String::new(),
            currency: "EUR".to_owned(),
            min_spend: String::new(),
            days_valid: "14".to_owned(),
            channels: Channel::ALL.to_vec(),
            holdout_percent: "10".to_owned(),
            frequency_cap_days: "30".to_owned(),
            max_recipients: String::new(),
            mode: CampaignMode::OneOff,
            segment_id: None,
        }
    }
}

impl CampaignForm {
    /// The API's draft, or the first field staff must correct.
    pub fn to_draft(&self) -> Result<CampaignDraft, ConsoleError> {
        let currency = currency_of(&self.currency)?;
        let amount = |field: &str, text: &str| optional_amount(field, text, currency);
        let probability = |field: &str, text: &str| -> Result<Option<f64>, ConsoleError> {
            match text.trim() {
                "" => Ok(None),
                text => match hundredths_of_percent(text) {
                    Ok(basis_points) if basis_points <= 10_000 => {
                        Ok(Some(f64::from(basis_points) / 10_000.0))
                    }
                    Ok(_) => Err(ConsoleError::invalid(field, "is at most 100 %")),
                    Err(message) => Err(ConsoleError::invalid(field, message)),
                },
            }
        };

        check_bands(&self.bands)?;
        let audience = AudienceRule {
            risk_bands: self.bands.clone(),
            min_probability: probability("min_probability", &self.min_probability)?,
            max_probability: probability("max_probability", &self.max_probability)?,
            min_predicted_value_minor: amount("min_predicted_value", &self.min_predicted_value)?,
            min_days_since_last_order: whole(
                "min_days_since_last_order",
                &self.min_days_since_last_order,
            )?,
            max_days_since_last_order: whole(
                "max_days_since_last_order",
                &self.max_days_since_last_order,
            )?,
            exclude_opted_out: self.exclude_opted_out,
            segment_id: self.segment_id,
        };

        let (percent_basis_points, amount_minor) = match self.offer_kind {
            OfferKind::Percent => {
                let percent = match self.offer_value.trim() {
                    "" => Err("is required, e.g. 15 for 15 % off".to_owned()),
                    text => hundredths_of_percent(text),
                }
                .map_err(|message| ConsoleError::invalid("offer_value", message))?;
                if !(1..=10_000).contains(&percent) {
                    return Err(ConsoleError::invalid(
                        "offer_value",
                        "is a percentage above 0 and at most 100",
                    ));
                }
                (Some(percent), None)
            }
            OfferKind::Fixed => {
                let amount = amount("offer_value", &self.offer_value)?.ok_or_else(|| {
                    ConsoleError::invalid("offer_value", "is required, e.g. 5.00 off")
                })?;
                (None, Some(amount))
            }
        };
        let offer = OfferDraft {
            percent_basis_points,
            amount_minor,
            currency: currency.code().to_owned(),
            min_spend_minor: amount("min_spend", &self.min_spend)?.unwrap_or(0),
            days_valid: required("days_valid", &self.days_valid)?,
        };

        Ok(CampaignDraft {
            name: self.name.trim().to_owned(),
            audience,
            offer,
            channels: self.channels.clone(),
            holdout_percent: required(
                "holdout_percent",
                self.holdout_percent.trim().trim_end_matches('%'),
            )?,
            frequency_cap_days: required("frequency_cap_days", &self.frequency_cap_days)?,
            max_recipients: whole("max_recipients", &self.max_recipients)?,
            mode: self.mode,
        })
    }
}

/// Every ticked band is one of [`RISK_BANDS`].
pub(crate) fn check_bands(bands: &[String]) -> Result<(), ConsoleError> {
    match bands.iter().find(|b| !RISK_BANDS.contains(&b.as_str())) {
        Some(band) => Err(ConsoleError::invalid(
            "bands",
            format!("`{band}` is not a band: they are low, medium and high"),
        )),
        None => Ok(()),
    }
}

/// A form's currency as typed (`eur` is EUR).
pub(crate) fn currency_of(text: &str) -> Result<Currency, ConsoleError> {
    Currency::parse(&text.trim().to_ascii_uppercase())
        .map_err(|message| ConsoleError::invalid("currency", message))
}

/// An amount in `currency` as typed (`49.90`) in minor units; empty for none.
pub(crate) fn optional_amount(
    field: &str,
    text: &str,
    currency: Currency,
) -> Result<Option<i64>, ConsoleError> {
    match text.trim() {
        "" => Ok(None),
        text => Money::parse_amount(text, currency)
            .map(|money| Some(money.amount_minor))
            .map_err(|message| ConsoleError::invalid(field, message)),
    }
}

/// A whole number (of days, percent or customers) as typed; empty for none.
pub(crate) fn whole(field: &str, text: &str) -> Result<Option<i32>, ConsoleError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i32>() {
        Ok(n) if n >= 0 => Ok(Some(n)),
        Ok(_) => Err(ConsoleError::invalid(field, "must not be negative")),
        Err(_) => Err(ConsoleError::invalid(
            field,
            format!("`{text}` is not a whole number"),
        )),
    }
}

fn required(field: &str, text: &str) -> Result<i32, ConsoleError> {
    whole(field, text)?.ok_or_else(|| ConsoleError::invalid(field, "is required"))
}

/// A percentage as typed (`15`, `12.5`, `7,25 %`) in hundredths of a percent (basis points),
/// without floats, so `12.5` is exactly 1250.
pub(crate) fn hundredths_of_percent(text: &str) -> Result<u32, String> {
    let cleaned = text.trim().trim_end_matches('%').trim();
    let invalid = || format!("`{}` is not a percentage like 15 or 12.5", text.trim());
    let (whole, fraction) = cleaned.split_once(['.', ',']).unwrap_or((cleaned, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(invalid());
    }
    if fraction.len() > 2 {
        return Err("has 2 decimal places at most".to_owned());
    }
    let whole: u32 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| invalid())?
    };
    let fraction: u32 = format!("{fraction:0<2}").parse().map_err(|_| invalid())?;
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(invalid)
}

/// The form's input for a field the API named in a refusal (`offer.amount_minor` is the
/// offer's value); `audience` alone means nobody qualifies: the audience as a whole.
pub fn input_for(api_field: &str) -> Option<&'static str> {
    Some(match api_field {
        "name" => "name",
        "audience" => "audience",
        "audience.risk_bands" => "bands",
        "audience.min_probability" => "min_probability",
        "audience.max_probability" => "max_probability",
        "audience.min_predicted_value_minor" => "min_predicted_value",
        "audience.min_days_since_last_order" => "min_days_since_last_order",
        "audience.max_days_since_last_order" => "max_days_since_last_order",
        "audience.segment_id" => "segment_id",
        "offer.percent_basis_points" | "offer.amount_minor" => "offer_value",
        "offer.currency" => "currency",
        "offer.min_spend_minor" => "min_spend",
        "offer.days_valid" => "days_valid",
        "channels" => "channels",
        "holdout_percent" => "holdout_percent",
        "frequency_cap_days" => "frequency_cap_days",
        "max_recipients" => "max_recipients",
        "mode" => "mode",
        _ => return None,
    })
}

/// Whether `error` is about the form's `input` (named by the console's own check, or by the
/// API under its own name).
pub fn marks(error: &CommandError, input: &str) -> bool {
    error
        .fields
        .iter()
        .any(|f| f.field == input || input_for(&f.field) == Some(input))
}

#[cfg(test)]
mod tests {
    use storefront_client::error::FieldError;

    use super::*;
    use crate::{Command, ErrorKind, LaunchCampaign};

    fn typed() -> CampaignForm {
        CampaignForm {
            name: "  Winter win-back ".into(),
            bands: vec!["high".into(), "medium".into()],
            min_probability: "60".into(),
            max_probability: "97.5 %".into(),
            min_predicted_value: "49.90".into(),
            min_days_since_last_order: "30".into(),
            max_days_since_last_order: "365".into(),
            offer_value: "12.5".into(),
            holdout_percent: "20 %".into(),
            max_recipients: "500".into(),
            ..CampaignForm::default()
        }
    }

    fn field_of(form: CampaignForm) -> String {
        match form.to_draft() {
            Err(ConsoleError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_typed_campaign_becomes_the_apis_draft() {
        let draft = typed().to_draft().unwrap();
        assert_eq!(draft.name, "Winter win-back");
        assert_eq!(draft.audience.risk_bands, ["high", "medium"]);
        assert_eq!(draft.audience.min_probability, Some(0.6));
        assert_eq!(draft.audience.max_probability, Some(0.975));
        assert_eq!(draft.audience.min_predicted_value_minor, Some(4990));
        assert_eq!(draft.audience.min_days_since_last_order, Some(30));
        assert_eq!(draft.audience.max_days_since_last_order, Some(365));
        assert!(draft.audience.exclude_opted_out);
        assert_eq!(draft.offer.percent_basis_points, Some(1250));
        assert_eq!(draft.offer.amount_minor, None);
        assert_eq!(
            (draft.offer.currency.as_str(), draft.offer.min_spend_minor),
            ("EUR", 0)
        );
        assert_eq!(draft.offer.days_valid, 14);
        assert_eq!(draft.channels, [Channel::Email, Channel::Web]);
        assert_eq!((draft.holdout_percent, draft.frequency_cap_days), (20, 30));
        assert_eq!(draft.max_recipients, Some(500));
        assert_eq!(draft.mode, CampaignMode::OneOff);
    }

    #[test]
    fn empty_limits_are_no_limits() {
        let draft = CampaignForm {
            name: "Everyone".into(),
            offer_value: "10".into(),
            ..CampaignForm::default()
        }
        .to_draft()
        .unwrap();
        assert_eq!(draft.audience, AudienceRule::default());
        assert_eq!(draft.max_recipients, None);
        assert_eq!(draft.offer.min_spend_minor, 0);
    }

    #[test]
    fn amounts_are_in_the_offers_currency() {
        let fixed = CampaignForm {
            offer_kind: OfferKind::Fixed,
            offer_value: "5".into(),
            min_spend: "€40.00".into(),
            min_predicted_value: "50".into(),
            ..typed()
        };
        let draft = fixed.to_draft().unwrap();
        assert_eq!(
            (draft.offer.percent_basis_points, draft.offer.amount_minor),
            (None, Some(500))
        );
        assert_eq!(draft.offer.min_spend_minor, 4000);
        assert_eq!(draft.audience.min_predicted_value_minor, Some(5000));
        let yen = CampaignForm {
            currency: " jpy".into(),
            offer_value: "500".into(),
            min_spend: "4000".into(),
            min_predicted_value: "6000".into(),
            ..fixed.clone()
        }
        .to_draft()
        .unwrap();
        assert_eq!(yen.offer.currency, "JPY");
        assert_eq!(
            (yen.offer.amount_minor, yen.offer.min_spend_minor),
            (Some(500), 4000)
        );
        let cents_in_yen = CampaignForm {
            currency: "JPY".into(),
            offer_value: "5.50".into(),
            ..fixed
        };
        assert_eq!(field_of(cents_in_yen), "offer_value");
    }

    #[test]
    fn typos_name_the_field_to_correct() {
        type Typo = fn(&mut CampaignForm);
        let cases: [(Typo, &str); 16] = [
            (|f| f.currency = "€".into(), "currency"),
            (|f| f.bands = vec!["doomed".into()], "bands"),
            (|f| f.min_probability = "sixty".into(), "min_probability"),
            (|f| f.max_probability = "120".into(), "max_probability"),
            (
                |f| f.min_predicted_value = "-5".into(),
                "min_predicted_value",
            ),
            (
                |f| f.min_days_since_last_order = "2.5".into(),
                "min_days_since_last_order",
            ),
            (
                |f| f.max_days_since_last_order = "-1".into(),
                "max_days_since_last_order",
            ),
            (|f| f.offer_value = String::new(), "offer_value"),
            (|f| f.offer_value = "0".into(), "offer_value"),
            (|f| f.offer_value = "150".into(), "offer_value"),
            (|f| f.offer_value = "12.345".into(), "offer_value"),
            (|f| f.min_spend = "forty".into(), "min_spend"),
            (|f| f.days_valid = String::new(), "days_valid"),
            (|f| f.holdout_percent = "ten".into(), "holdout_percent"),
            (
                |f| f.frequency_cap_days = "a month".into(),
                "frequency_cap_days",
            ),
            (|f| f.max_recipients = "1e3".into(), "max_recipients"),
        ];
        for (typo, field) in cases {
            let mut form = typed();
            typo(&mut form);
            assert_eq!(field_of(form), field);
        }
    }

    #[test]
    fn percentages_are_exact_hundredths() {
        assert_eq!(hundredths_of_percent("15"), Ok(1500));
        assert_eq!(hundredths_of_percent("12.5"), Ok(1250));
        assert_eq!(hundredths_of_percent(" 7,25 % "), Ok(725));
        assert_eq!(hundredths_of_percent(".5"), Ok(50));
        assert!(hundredths_of_percent("").is_err());
        assert!(hundredths_of_percent("1.2.3").is_err());
        assert!(hundredths_of_percent("99999999999").is_err());
    }

    #[test]
    fn the_apis_refusals_mark_their_inputs() {
        assert_eq!(input_for("offer.amount_minor"), Some("offer_value"));
        assert_eq!(input_for("audience.risk_bands"), Some("bands"));
        assert_eq!(input_for("audience"), Some("audience"));
        assert_eq!(input_for("seed"), None);
        let refused = CommandError {
            kind: ErrorKind::Refused,
            message: "offer.amount minor: must be less than the minimum spend".into(),
            code: Some("validation_failed".into()),
            fields: vec![FieldError::new(
                "offer.amount_minor",
                "must be less than the minimum spend",
            )],
        };
        assert!(marks(&refused, "offer_value"));
        assert!(!marks(&refused, "min_spend"));
        let typed_wrong = CommandError::from(&ConsoleError::invalid("holdout_percent", "no"));
        assert!(marks(&typed_wrong, "holdout_percent"));
    }

    #[test]
    fn the_form_travels_whole_in_its_command() {
        let wire = serde_json::to_value(LaunchCampaign { form: typed() }.into_request()).unwrap();
        assert_eq!(wire["command"], "launch_campaign");
        assert_eq!(wire["args"]["form"]["offer_kind"], "percent");
        assert_eq!(
            wire["args"]["form"]["channels"],
            serde_json::json!(["email", "web"])
        );
        let partial: CampaignForm =
            serde_json::from_value(serde_json::json!({"name": "Only a name"})).unwrap();
        assert_eq!(partial.holdout_percent, "10", "the rest keeps its defaults");
    }
}
