//! Test data shared by churn-lab's integration tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A file of the `lifetimes` wheel's `datasets/` (lifetimes 0.11.3 on PyPI: CDNOW_master.txt and
/// the CDNOW summaries Fader, Hardie & Lee fitted), fetched with pip once and kept in the target
/// directory. Never committed. Other test processes may share the target directory, so the
/// wheel is unpacked beside the final folder and renamed into place.
pub fn lifetimes_dataset(file: &str) -> PathBuf {
    static DATASETS: OnceLock<PathBuf> = OnceLock::new();
    let datasets = DATASETS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cdnow");
        let wheel_dir = dir.join("wheel");
        let datasets = wheel_dir.join("lifetimes/datasets");
        if datasets.exists() {
            return datasets;
        }
        let download = dir.join(format!("download-{}", std::process::id()));
        std::fs::create_dir_all(&download).unwrap();
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        let fetched = Command::new(&python)
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--quiet",
                "lifetimes==0.11.3",
                "-d",
            ])
            .arg(&download)
            .status()
            .expect("python3 with pip is installed");
        assert!(
            fetched.success(),
            "pip download of lifetimes==0.11.3 failed"
        );
        let wheel = std::fs::read_dir(&download)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "whl"))
            .expect("the lifetimes wheel");
        let unpacked = download.join("wheel");
        let extracted = Command::new(&python)
            .args(["-m", "zipfile", "-e"])
            .arg(&wheel)
            .arg(&unpacked)
            .status()
            .unwrap();
        assert!(extracted.success());
        // Another process may have got there first: theirs is the same wheel.
        let _ = std::fs::rename(&unpacked, &wheel_dir);
        let _ = std::fs::remove_dir_all(&download);
        assert!(datasets.exists(), "{} after unpacking", datasets.display());
        datasets
    });
    datasets.join(file)
}

/// CDNOW_master.txt (69,659 purchases of 23,570 customers, 1997-01 to 1998-06) from the
/// `lifetimes` wheel, converted once to the transactions format and cached in the target
/// directory. Never committed.
pub fn cdnow_csv() -> &'static Path {
    static CSV: OnceLock<PathBuf> = OnceLock::new();
    CSV.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cdnow");
        let csv = dir.join("cdnow.csv");
        if csv.exists() {
            return csv;
        }
        let raw = std::fs::read_to_string(lifetimes_dataset("CDNOW_master.txt")).unwrap();
        // Space-padded `id yyyymmdd cds dollars` → our CSV.
        let mut out = String::from("customer_id,ordered_at,amount,quantity\n");
        for line in raw.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if let [id, date, cds, dollars] = fields[..]
                && date.len() == 8
                && date.bytes().all(|b| b.is_ascii_digit())
            {
                out.push_str(&format!(
                    "{id},{}-{}-{},{dollars},{cds}\n",
                    &date[..4],
                    &date[4..6],
                    &date[6..]
                ));
            }
        }
        let partial = dir.join(format!("cdnow.csv.partial-{}", std::process::id()));
        std::fs::write(&partial, out).unwrap();
        std::fs::rename(&partial, &csv).unwrap();
        csv
    })
}
