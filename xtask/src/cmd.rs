//! Running external commands. Every command is echoed (`$ ...`, with the environment it sets)
//! before it runs, so a failing step can be re-run by hand.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// Renders a command as a shell line: explicitly set variables, program and arguments.
pub fn render(cmd: &Command) -> String {
    let env = cmd.get_envs().filter_map(|(key, value)| {
        value.map(|value| format!("{}={}", key.to_string_lossy(), quote(value)))
    });
    let words = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(quote);
    env.chain(words).collect::<Vec<_>>().join(" ")
}

/// Quotes a word for a POSIX shell when it needs it.
fn quote(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if plain {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Prints the command about to run.
pub fn echo(cmd: &Command) {
    println!("$ {}", render(cmd));
}

/// Runs a command with inherited stdio and fails unless it exits successfully.
pub fn run(cmd: &mut Command) -> Result<()> {
    echo(cmd);
    let status = cmd
        .status()
        .with_context(|| format!("cannot start `{}`", render(cmd)))?;
    if !status.success() {
        bail!("`{}` failed ({status})", render(cmd));
    }
    Ok(())
}

/// Runs a command, capturing its stdout (stderr is inherited), and fails unless it succeeds.
pub fn output(cmd: &mut Command) -> Result<String> {
    echo(cmd);
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot start `{}`", render(cmd)))?;
    if !out.status.success() {
        bail!("`{}` failed ({})", render(cmd), out.status);
    }
    String::from_utf8(out.stdout).with_context(|| format!("`{}` printed non-UTF-8", render(cmd)))
}

/// Runs a command quietly (for polling loops, which echo once before they start) and tells
/// whether it succeeded and printed `expected` (if given).
pub fn probe(cmd: &mut Command, expected: Option<&str>) -> bool {
    let Ok(out) = cmd.stdin(Stdio::null()).stderr(Stdio::null()).output() else {
        return false;
    };
    let printed = String::from_utf8_lossy(&out.stdout);
    out.status.success() && expected.is_none_or(|text| printed.contains(text))
}

/// Whether `program` is an executable file on `PATH`.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| is_executable(&dir.join(program)))
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// Sets `key=value` on the command unless the user already set `key` in the environment.
pub fn env_default(cmd: &mut Command, key: &str, value: impl AsRef<OsStr>) {
    if std::env::var_os(key).is_none() {
        cmd.env(key, value);
    }
}

/// A `cargo` command (the cargo that runs xtask) working in the workspace root.
pub fn cargo(root: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root);
    cmd
}
