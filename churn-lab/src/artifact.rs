//! The model artifact: everything needed to score a customer later, anywhere — the fitted and
//! calibrated model, the feature names in order, the feature-definition version they were
//! computed with, what data trained it, how well it did, where the risk bands start, and the
//! lifetime-value models fitted on the same customers.
//! Stored as one JSON document (`model.json`), which is also what the API's registry keeps.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use ndarray::{Array1, Array2, ArrayView1};
use serde::{Deserialize, Serialize};

use crate::features::{BASE_FEATURES, ENGAGEMENT_FEATURES, FEATURE_DEFINITION_VERSION};
use crate::lifetime::{Lifetime, LifetimeModels};
use crate::metrics::Evaluation;
use crate::models::{CalibratedModel, ModelKind};
use crate::transactions::DataManifest;

/// Bump when the artifact's layout changes.
pub const ARTIFACT_FORMAT_VERSION: u32 = 1;

pub const ARTIFACT_FILE: &str = "model.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelArtifact {
    pub format_version: u32,
    /// Unique name of this trained model, e.g. `gradient_boosting-20261129T171500Z`.
    pub version: String,
    pub kind: ModelKind,
    pub feature_definition_version: u32,
    pub feature_names: Vec<String>,
    pub model: CalibratedModel,
    pub training: TrainingManifest,
    pub metrics: ArtifactMetrics,
    pub risk_bands: RiskBands,
    /// Median of each feature over the training customers: the "typical customer" that
    /// explanations compare against.
    pub reference_features: Vec<f64>,
    pub created_at: DateTime<Utc>,
    /// BG/NBD and Gamma-Gamma fitted on the training customers as of the cut-off. Absent from
    /// artifacts written before lifetime value existed and when the shop had too few repeat
    /// customers to fit them: such an artifact scores churn without lifetime predictions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<LifetimeModels>,
}

/// What the model was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingManifest {
    pub transactions: DataManifest,
    pub events: Option<DataManifest>,
    pub cutoff: NaiveDate,
    pub window_days: u32,
    pub customers: usize,
    pub churn_rate: f64,
    pub train_customers: usize,
    pub validation_customers: usize,
    pub test_customers: usize,
    pub seed: u64,
    pub hyperparameters: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ArtifactMetrics {
    pub validation: Evaluation,
    pub test: Evaluation,
}

/// Probabilities at which a customer becomes medium and high risk.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RiskBands {
    pub medium: f64,
    pub high: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskBand {
    Low,
    Medium,
    High,
}

impl RiskBand {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// How much one feature moves a customer's probability compared with the typical customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub feature: String,
    pub value: f64,
    pub typical: f64,
    /// Probability with this customer's value minus probability with the typical value.
    pub effect: f64,
    /// The same in the shop's words, for staff ([`crate::explain::describe`]).
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("not a churn model artifact: {0}")]
    Malformed(String),
    #[error(
        "the artifact's features are definition version {found}, this build computes version \
         {expected}: retrain the model with this version of churn-lab"
    )]
    FeatureVersion { found: u32, expected: u32 },
}

impl ModelArtifact {
    /// Reads `model.json` from a directory, or the given file.
    pub fn load(path: &Path) -> Result<Self, ArtifactError> {
        let file = if path.is_dir() {
            path.join(ARTIFACT_FILE)
        } else {
            path.to_owned()
        };
        let bytes = std::fs::read(&file).map_err(|source| ArtifactError::Io {
            path: file.clone(),
            source,
        })?;
        let artifact = Self::from_json(&bytes).map_err(|e| match e {
            ArtifactError::Malformed(reason) => {
                ArtifactError::Malformed(format!("{}: {reason}", file.display()))
            }
            other => other,
        })?;
        artifact.check_feature_version()?;
        Ok(artifact)
    }

    /// Parses and checks the document's inner consistency (not its feature version: a registry
    /// may list old artifacts).
    pub fn from_json(bytes: &[u8]) -> Result<Self, ArtifactError> {
        let artifact: Self =
            serde_json::from_slice(bytes).map_err(|e| ArtifactError::Malformed(e.to_string()))?;
        artifact.validate()?;
        Ok(artifact)
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an artifact serialises")
    }

    pub fn save(&self, dir: &Path) -> Result<PathBuf, ArtifactError> {
        let io = |source| ArtifactError::Io {
            path: dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let path = dir.join(ARTIFACT_FILE);
        std::fs::write(&path, self.to_json()).map_err(io)?;
        Ok(path)
    }

    fn validate(&self) -> Result<(), ArtifactError> {
        let bad = |m: &str| Err(ArtifactError::Malformed(m.to_owned()));
        if self.format_version != ARTIFACT_FORMAT_VERSION {
            return bad(&format!(
                "format version {} (this build reads {ARTIFACT_FORMAT_VERSION})",
                self.format_version
            ));
        }
        if self.version.trim().is_empty() || self.version.len() > 128 {
            return bad("version must be 1-128 characters");
        }
        if self.model.model.kind() != self.kind {
            return bad("kind does not match the model inside");
        }
        if self.feature_names.is_empty() {
            return bad("feature_names is empty");
        }
        let known = |n: &String| {
            BASE_FEATURES.contains(&n.as_str()) || ENGAGEMENT_FEATURES.contains(&n.as_str())
        };
        if let Some(unknown) = self.feature_names.iter().find(|n| !known(n)) {
            return bad(&format!("unknown feature `{unknown}`"));
        }
        if !self.model.model.is_well_formed(self.feature_names.len()) {
            return bad("the model does not fit its feature list (columns or tree structure)");
        }
        if self.reference_features.len() != self.feature_names.len() {
            return bad("reference_features must have one value per feature");
        }
        if let Some(lifetime) = &self.lifetime
            && !lifetime.is_well_formed(&self.feature_names)
        {
            return bad(
                "the lifetime models do not fit the feature list or have parameters that are \
                 not finite and positive",
            );
        }
        let bands = self.risk_bands;
        if !(0.0..=1.0).contains(&bands.medium) || !(bands.medium..=1.0).contains(&bands.high) {
            return bad("risk bands must satisfy 0 <= medium <= high <= 1");
        }
        // A model that cannot score its own reference customer is broken.
        let probe = Array2::from_shape_vec(
            (1, self.feature_names.len()),
            self.reference_features.clone(),
        )
        .map_err(|e| ArtifactError::Malformed(e.to_string()))?;
        let scored = std::panic::catch_unwind(|| self.model.probabilities(&probe));
        match scored {
            Ok(p) if p.len() == 1 && p[0].is_finite() => Ok(()),
            _ => bad("the model cannot score a customer with these features"),
        }
    }

    pub fn check_feature_version(&self) -> Result<(), ArtifactError> {
        if self.feature_definition_version == FEATURE_DEFINITION_VERSION {
            Ok(())
        } else {
            Err(ArtifactError::FeatureVersion {
                found: self.feature_definition_version,
                expected: FEATURE_DEFINITION_VERSION,
            })
        }
    }

    /// Whether scoring needs behaviour events.
    pub fn uses_events(&self) -> bool {
        self.feature_names
            .iter()
            .any(|n| ENGAGEMENT_FEATURES.contains(&n.as_str()))
    }

    /// Churn probabilities of customers whose features are in the artifact's order.
    pub fn probabilities(&self, features: &Array2<f64>) -> Array1<f64> {
        self.model.probabilities(features)
    }

    pub fn band(&self, probability: f64) -> RiskBand {
        if probability >= self.risk_bands.high {
            RiskBand::High
        } else if probability >= self.risk_bands.medium {
            RiskBand::Medium
        } else {
            RiskBand::Low
        }
    }

    /// This customer's coming year from their features (in the artifact's order) as of
    /// `as_of`; `None` when the artifact carries no lifetime models.
    pub fn lifetime_of(&self, features: ArrayView1<f64>, as_of: NaiveDate) -> Option<Lifetime> {
        self.lifetime
            .as_ref()
            .map(|models| models.predict(features, as_of))
    }

    /// The features that push this customer's probability up, strongest first: each feature in
    /// turn is set to its typical value and the drop in probability is its effect. Each is
    /// worded for staff with the customer's own features.
    pub fn explain(&self, features: ArrayView1<f64>) -> Vec<Contribution> {
        let n = self.feature_names.len();
        let mut probes = Array2::zeros((n + 1, n));
        for mut row in probes.rows_mut() {
            row.assign(&features);
        }
        for j in 0..n {
            probes[[j + 1, j]] = self.reference_features[j];
        }
        let p = self.model.probabilities(&probes);
        let mut contributions: Vec<Contribution> = (0..n)
            .map(|j| Contribution {
                feature: self.feature_names[j].clone(),
                value: features[j],
                typical: self.reference_features[j],
                effect: p[0] - p[j + 1],
                description: String::new(),
            })
            .filter(|c| c.effect > 1e-6)
            .collect();
        contributions.sort_by(|a, b| b.effect.total_cmp(&a.effect));
        let named: Vec<(String, f64)> = self
            .feature_names
            .iter()
            .cloned()
            .zip(features.iter().copied())
            .collect();
        for contribution in &mut contributions {
            contribution.description = crate::explain::describe(contribution, &named);
        }
        contributions
    }
}
