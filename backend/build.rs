//! Embeds the built studio in the `kiln` binary when `KILN_EMBED_SITE`
//! names its folder (`cargo xtask run` and `cargo xtask dist` set it after
//! `cargo xtask site`): `$OUT_DIR/site.rs` lists every file with its bytes,
//! the `.br` and `.gz` copies included. Without it the list is empty, and
//! `kiln serve` reads the site from `--site` or `target/site`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

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

fn main() {
    println!("cargo:rerun-if-env-changed=KILN_EMBED_SITE");
    let mut code = String::from(
        "/// The embedded studio: (path under the site, bytes).\npub static SITE: &[(&str, &[u8])] = &[\n",
    );
    if let Some(dir) = std::env::var_os("KILN_EMBED_SITE").map(PathBuf::from) {
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
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("site.rs");
    std::fs::write(out, code).expect("writing site.rs");
}
