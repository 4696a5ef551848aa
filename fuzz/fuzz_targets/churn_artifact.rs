//! The model artifact loader (what `deploy` and the API's registry read), given any bytes: an
//! artifact or `Malformed`, never a panic; and an artifact it accepts can score — its own
//! reference customer and any other — with probabilities in [0, 1] and an explanation.
#![no_main]

use churn_lab::artifact::ModelArtifact;
use libfuzzer_sys::fuzz_target;
use ndarray::Array2;

fuzz_target!(|bytes: &[u8]| {
    let Ok(artifact) = ModelArtifact::from_json(bytes) else {
        return;
    };
    let width = artifact.feature_names.len();
    let mut customers = Array2::zeros((2, width));
    for (j, typical) in artifact.reference_features.iter().enumerate() {
        customers[[0, j]] = *typical;
        customers[[1, j]] = typical * 3.0 + 1.0;
    }
    let probabilities = artifact.probabilities(&customers);
    for p in &probabilities {
        assert!((0.0..=1.0).contains(p), "probability {p}");
        let _ = artifact.band(*p);
    }
    let _ = artifact.explain(customers.row(1));
});
