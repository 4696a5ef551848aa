//! `storefront-api`: see `storefront_api::cli` for the commands.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match storefront_api::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
