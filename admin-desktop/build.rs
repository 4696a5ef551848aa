//! Tauri embeds the UI's files at compile time. When the UI has not been built yet (a plain
//! `cargo build` or `cargo clippy`), a page saying how to build it stands in.

fn main() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/dist");
    if !dist.join("index.html").exists() {
        std::fs::create_dir_all(&dist).expect("create admin-desktop/ui/dist");
        std::fs::write(
            dist.join("index.html"),
            "<!DOCTYPE html><html><body><p>The console's window has not been built: run \
             <code>cargo xtask console</code>.</p></body></html>",
        )
        .expect("write the stand-in page");
    }
    tauri_build::build();
}
