//! `storefront-api`: see `storefront_api::cli` for the commands.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Fail points (`FAILPOINTS=checkout::placed=return`) exist only in builds with the
    // `failpoints` feature, which the crash tests use; elsewhere this does nothing.
    let _fail_points = fail::FailScenario::setup();
    match storefront_api::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
