//! `churn-lab deploy`: upload (and activate) a model through the API.

use churn_lab::artifact::ModelArtifact;
use churn_lab::deploy::{self, Credentials};

use crate::cli::args::DeployArgs;
use crate::cli::exit::Failure;

pub fn deploy(args: DeployArgs) -> Result<(), Failure> {
    let artifact = ModelArtifact::load(&args.model)?;
    // From the environment only: a password on the command line would stay in the history.
    let password = std::env::var("NEXUS_STAFF_PASSWORD").ok();
    let credentials = Credentials::choose(args.token, args.email, password)?;
    let deployed = super::runtime()?.block_on(deploy::deploy(
        &args.api,
        &credentials,
        &artifact,
        args.activate,
    ))?;
    println!(
        "{} {} to {}{}",
        deployed.version,
        if deployed.uploaded {
            "uploaded"
        } else {
            "was already registered"
        },
        args.api,
        if deployed.activated {
            "; now active"
        } else {
            ""
        }
    );
    Ok(())
}
