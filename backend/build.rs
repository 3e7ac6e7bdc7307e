//! Embeds the built studio in the `kiln` binary: `$OUT_DIR/site.rs` lists
//! every file of the site with its bytes, the `.br` and `.gz` copies
//! included. The site is
//! - the folder `KILN_EMBED_SITE` names (`cargo xtask run` and `cargo
//!   xtask dist` set it after `cargo xtask site`);
//! - none when `KILN_EMBED_SITE` is set but empty, or in a debug build
//!   (tests and development: `kiln serve` reads `--site` or `target/site`);
//! - otherwise, in a release build without it (`cargo install --path
//!   backend`, `cargo build --release`), built here by `cargo xtask site`
//!   in a target folder of its own under `$OUT_DIR`, so that one command
//!   gives a binary that serves the studio from any folder.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Environment variables cargo sets for this build script that must not
/// reach the nested build of the studio (another target, another profile).
fn leaks_into_nested_build(key: &str) -> bool {
    (key.starts_with("CARGO_") && key != "CARGO_HOME")
        || matches!(
            key,
            "TARGET"
                | "HOST"
                | "OUT_DIR"
                | "OPT_LEVEL"
                | "PROFILE"
                | "DEBUG"
                | "NUM_JOBS"
                | "RUSTC_WRAPPER"
                | "RUSTC_WORKSPACE_WRAPPER"
                | "RUSTFLAGS"
        )
}

/// Builds the studio with `cargo xtask site` into `$OUT_DIR/studio`; its folder.
fn build_site(out_dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the backend is in the workspace");
    for watched in ["frontend", "assets", "api", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let target = out_dir.join("studio");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["run", "--quiet", "-p", "xtask", "--", "site"])
        .current_dir(root)
        .env("CARGO_TARGET_DIR", &target);
    for (key, _) in std::env::vars() {
        if leaks_into_nested_build(&key) {
            cmd.env_remove(key);
        }
    }
    let ok = cmd.status().is_ok_and(|s| s.success());
    assert!(
        ok,
        "building the studio to embed in kiln failed (see above); set KILN_EMBED_SITE to a site \
         built by `cargo xtask site`, or to an empty value to build kiln without the studio"
    );
    target.join("site")
}

fn main() {
    println!("cargo:rerun-if-env-changed=KILN_EMBED_SITE");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let mut code = String::from(
        "/// The embedded studio: (path under the site, bytes).\npub static SITE: &[(&str, &[u8])] = &[\n",
    );
    let site = match std::env::var_os("KILN_EMBED_SITE") {
        Some(dir) if dir.is_empty() => None,
        Some(dir) => Some(PathBuf::from(dir)),
        None if std::env::var("PROFILE").as_deref() == Ok("release") => Some(build_site(&out_dir)),
        None => None,
    };
    if let Some(dir) = site {
        let dir = dir.canonicalize().unwrap_or(dir);
        assert!(
            dir.join("index.html").is_file(),
            "KILN_EMBED_SITE={} holds no index.html: run `cargo xtask site` first",
            dir.display()
        );
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut all = Vec::new();
        files(&dir, &mut all);
        for path in all {
            println!("cargo:rerun-if-changed={}", path.display());
            let rel = path
                .strip_prefix(&dir)
                .expect("under the site")
                .to_string_lossy()
                .replace('\\', "/");
            writeln!(
                code,
                "    ({rel:?}, include_bytes!({:?})),",
                path.display().to_string()
            )
            .expect("write");
        }
    }
    code.push_str("];\n");
    std::fs::write(out_dir.join("site.rs"), code).expect("writing site.rs");
}
