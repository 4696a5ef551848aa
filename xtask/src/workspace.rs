//! Paths of the workspace and of the local stack's state under `.nexus/` (git-ignored).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The workspace root and the paths derived from it.
#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
}

impl Workspace {
    /// The workspace root is the parent of the xtask crate's directory. Read at run time
    /// (`cargo run` sets `CARGO_MANIFEST_DIR`): checkouts sharing one target directory share
    /// the xtask binary too, and the path compiled into it may be another checkout's.
    pub fn locate() -> Self {
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let root = manifest_dir
            .parent()
            .expect("the xtask crate lives inside the workspace")
            .to_path_buf();
        Self { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `.nexus/`: all local state of the stack.
    pub fn nexus_dir(&self) -> PathBuf {
        self.root.join(".nexus")
    }

    pub fn run_dir(&self) -> PathBuf {
        self.nexus_dir().join("run")
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.nexus_dir().join("logs")
    }

    /// `.nexus/run/<name>.pid`
    pub fn pid_file(&self, name: &str) -> PathBuf {
        self.run_dir().join(format!("{name}.pid"))
    }

    /// `.nexus/logs/<name>.log`
    pub fn log_file(&self, name: &str) -> PathBuf {
        self.logs_dir().join(format!("{name}.log"))
    }

    /// `.nexus/postgres`: the project-local cluster (owned by the postgres user).
    pub fn postgres_dir(&self) -> PathBuf {
        self.nexus_dir().join("postgres")
    }

    pub fn postgres_data_dir(&self) -> PathBuf {
        self.postgres_dir().join("data")
    }

    pub fn postgres_socket_dir(&self) -> PathBuf {
        self.postgres_dir().join("socket")
    }

    pub fn redis_dir(&self) -> PathBuf {
        self.nexus_dir().join("redis")
    }

    pub fn mongo_dir(&self) -> PathBuf {
        self.nexus_dir().join("mongo")
    }

    /// `.venv-mongo/`: the Python venv holding the MongoDB-wire server.
    pub fn mongo_venv(&self) -> PathBuf {
        self.root.join(".venv-mongo")
    }

    pub fn secantusd(&self) -> PathBuf {
        self.mongo_venv().join("bin").join("secantusd-py")
    }

    /// The API fuzzer, in `.venv-schemathesis/`.
    pub fn schemathesis(&self) -> PathBuf {
        self.root.join(".venv-schemathesis/bin/schemathesis")
    }

    /// `.venv-infra/`: the deployment's validators and renderer, a venv each
    /// (`infrastructure/tools.txt`).
    pub fn infra_venv(&self) -> PathBuf {
        self.root.join(".venv-infra")
    }

    /// Cargo's target directory as the nested cargo invocations will use it.
    pub fn target_dir(&self) -> PathBuf {
        ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"]
            .iter()
            .find_map(std::env::var_os)
            .map(PathBuf::from)
            .map(|dir| {
                if dir.is_absolute() {
                    dir
                } else {
                    self.root.join(dir)
                }
            })
            .unwrap_or_else(|| self.root.join("target"))
    }

    /// A path relative to the workspace root, for messages.
    pub fn rel(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// Creates `.nexus/run` and `.nexus/logs`.
    pub fn ensure_state_dirs(&self) -> Result<()> {
        for dir in [self.run_dir(), self.logs_dir()] {
            create_dir(&dir)?;
        }
        Ok(())
    }
}

/// `mkdir -p` with context.
pub fn create_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create directory {}", dir.display()))
}
