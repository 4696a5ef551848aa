//! indicatif bars for the library's progress reports (hidden when stderr is not a terminal).

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use churn_lab::training::Progress;

/// One bar at a time: each task the library begins replaces the last.
#[derive(Default)]
pub struct Bars {
    bar: Mutex<Option<ProgressBar>>,
}

impl Progress for Bars {
    fn begin(&self, task: &str, steps: u64) {
        let bar = ProgressBar::new(steps).with_prefix(task.to_owned());
        bar.set_style(
            ProgressStyle::with_template("{prefix:>22} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        *self.bar.lock().expect("progress lock") = Some(bar);
    }

    fn advance(&self, message: &str) {
        if let Some(bar) = self.bar.lock().expect("progress lock").as_ref() {
            bar.set_message(message.to_owned());
            bar.inc(1);
        }
    }

    fn end(&self) {
        if let Some(bar) = self.bar.lock().expect("progress lock").take() {
            bar.finish_with_message("done");
        }
    }
}
