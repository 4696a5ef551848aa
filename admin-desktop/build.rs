//! Tauri embeds the UI's files at compile time. When the UI has not been built yet (a plain
//! `cargo build` or `cargo clippy`), a page saying how to build it stands in.

fn main() {
    // This checkout's, at run time: a build script compiled in another checkout that shares
    // the target directory carries that checkout's path.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dist = std::path::Path::new(&manifest_dir).join("ui/dist");
    if !dist.join("index.html").exists() {
        std::fs::create_dir_all(&dist).expect("create admin-desktop/ui/dist");
        std::fs::write(
            dist.join("index.html"),
            "<!DOCTYPE html><html><body><p>The console's window has not been built: run \
             <code>cargo xtask console</code>.</p></body></html>",
        )
        .expect("write the stand-in page");
    }
    // Run again when the page goes missing (a new checkout sharing a target directory).
    println!("cargo:rerun-if-changed=ui/dist/index.html");
    tauri_build::build();
}
