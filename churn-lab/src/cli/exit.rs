//! Exit codes scripts can rely on, and which code each library error exits with.
//!
//! The codes are those of BSD `sysexits.h`, with one exception: bad arguments exit with 2,
//! not `EX_USAGE` (64), because clap already exits with 2 for an unknown option and a script
//! should see one code for "this command line cannot work". [`HELP`] is what `--help` says
//! about them; change both together.

use std::process::ExitCode;

use churn_lab::artifact::ArtifactError;
use churn_lab::dataset::DatasetError;
use churn_lab::deploy::{CredentialsError, DeployError};
use churn_lab::report::ReportError;
use churn_lab::run::{ReadRunError, RedrawError};
use churn_lab::scoring::ScoringError;
use churn_lab::shop::ShopReadError;
use churn_lab::training::TrainingError;
use churn_lab::transactions::LoadError;

/// Why a command failed, as the process's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Code {
    /// 2 (clap's usage code): the command line cannot work — an unknown option or bad value,
    /// an SQL query that does not run, only baselines in `--models`, an unreadable MongoDB URI.
    Usage = 2,
    /// 65 `EX_DATAERR`: the input's contents are wrong — a bad value in a file, data that
    /// cannot answer the question (no customers, a label window past the data, nothing
    /// before `--as-of`, not the file a model was trained on), or a model the API refuses.
    DataError = 65,
    /// 66 `EX_NOINPUT`: an input file is missing or unreadable (transactions, events,
    /// model.json, metrics.json, the test predictions).
    NoInput = 66,
    /// 69 `EX_UNAVAILABLE`: the API or the shop's databases cannot be reached, or failed.
    Unavailable = 69,
    /// 70 `EX_SOFTWARE`: an internal error (a fit, a Polars computation, a chart).
    Software = 70,
    /// 73 `EX_CANTCREAT`: an output cannot be written.
    CannotCreate = 73,
    /// 77 `EX_NOPERM`: no credentials were given, or the API refused them.
    NoPermission = 77,
}

/// The exit codes as `--help` lists them.
pub const HELP: &str = "\
Exit codes: 0 success · 2 bad arguments (also an SQL query that does not run) · 65 bad input data (a file's contents, data that \
cannot answer the question, or a model the API refuses) · 66 an input file is missing or \
unreadable · 69 the API cannot be reached or failed · 70 an internal error · 73 an output cannot \
be written · 77 the API refused the credentials.";

/// A failure with the exit code it maps to.
pub struct Failure {
    code: Code,
    error: anyhow::Error,
}

impl Failure {
    pub fn new(code: Code, error: impl Into<anyhow::Error>) -> Self {
        Self {
            code,
            error: error.into(),
        }
    }

    /// For `map_err`, where every error of one call means the same code.
    pub fn with<E: Into<anyhow::Error>>(code: Code) -> impl Fn(E) -> Self {
        move |error| Self::new(code, error)
    }

    /// Prints the error on stderr; the process exits with the code.
    pub fn exit(self) -> ExitCode {
        eprintln!("error: {}", message(&self.error));
        ExitCode::from(self.code as u8)
    }
}

/// The error and its causes, each once: most of our errors already quote their cause (`cannot
/// read FILE: No such file or directory`), and printing the chain again would repeat it.
fn message(error: &anyhow::Error) -> String {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !message.contains(&cause) {
            message.push_str(": ");
            message.push_str(&cause);
        }
    }
    message
}

/// A library error that always means the same exit code, so `?` turns it into a [`Failure`].
pub trait Classify {
    fn code(&self) -> Code;
}

impl<E> From<E> for Failure
where
    E: Classify + std::error::Error + Send + Sync + 'static,
{
    fn from(error: E) -> Self {
        Self::new(error.code(), error)
    }
}

impl Classify for LoadError {
    fn code(&self) -> Code {
        match self {
            Self::Io { .. } => Code::NoInput,
            _ => Code::DataError,
        }
    }
}

impl Classify for DatasetError {
    fn code(&self) -> Code {
        match self {
            Self::Polars(_) => Code::Software,
            _ => Code::DataError,
        }
    }
}

impl Classify for TrainingError {
    fn code(&self) -> Code {
        match self {
            Self::Data(e) => e.code(),
            Self::TooFew(_) | Self::NoCandidate => Code::DataError,
            Self::Fit(_) | Self::Calibration(..) => Code::Software,
            // The CLI never asks to cancel; an interrupted run exits by signal.
            Self::Cancelled => Code::Software,
        }
    }
}

impl Classify for ArtifactError {
    fn code(&self) -> Code {
        match self {
            Self::Io { .. } => Code::NoInput,
            _ => Code::DataError,
        }
    }
}

impl Classify for ScoringError {
    fn code(&self) -> Code {
        match self {
            Self::EventsRequired(_) | Self::NothingBefore { .. } => Code::DataError,
            Self::Polars(_) => Code::Software,
            Self::Io { .. } => Code::CannotCreate,
        }
    }
}

impl Classify for ReportError {
    fn code(&self) -> Code {
        match self {
            Self::Io { .. } | Self::Artifact(_) => Code::CannotCreate,
            Self::Predictions { .. } => Code::NoInput,
            Self::Draw { .. } | Self::Polars(_) => Code::Software,
        }
    }
}

impl Classify for ReadRunError {
    fn code(&self) -> Code {
        match self {
            Self::Unreadable { .. } | Self::Malformed { .. } => Code::NoInput,
            Self::Predictions(e) => e.code(),
        }
    }
}

impl Classify for RedrawError {
    fn code(&self) -> Code {
        match self {
            Self::NotTrainedOn { .. } => Code::DataError,
            Self::Data(e) => e.code(),
            Self::Report(e) => e.code(),
        }
    }
}

impl Classify for CredentialsError {
    fn code(&self) -> Code {
        Code::NoPermission
    }
}

impl Classify for DeployError {
    fn code(&self) -> Code {
        match self {
            Self::Unreachable { .. } | Self::Failed { .. } => Code::Unavailable,
            Self::Unauthorized(_) => Code::NoPermission,
            Self::Rejected(_) => Code::DataError,
        }
    }
}

impl Classify for ShopReadError {
    fn code(&self) -> Code {
        match self {
            Self::MongoUri(_) => Code::Usage,
            _ => Code::Unavailable,
        }
    }
}
