//! Build orchestration for Kiln, in Rust (no shell scripts, no cargo-leptos):
//!
//! - `cargo xtask run`: install what is missing, build the frontend (wasm
//!   built for size, wasm-bindgen, wasm-opt, precompressed) and the backend, serve the studio on
//!   http://127.0.0.1:8080 with data in `./kiln-data`.
//! - `cargo xtask test`: fmt check, clippy (warnings denied, host and wasm),
//!   every test, the wasm build, and the browser tests in headless Chromium.
//! - `cargo xtask site`: only build the frontend bundle into `target/site`.
//! - `cargo xtask dist`: the studio embedded in a release `kiln`
//!   (`KILN_EMBED_SITE`, read by `backend/build.rs`), archived with the
//!   README and SECURITY.md as `target/dist/kiln-VERSION-OS-ARCH.tar.gz`:
//!   one binary that serves the studio from any folder.
//! - `cargo xtask bench load [CLIENTS] [SECONDS]`: a bounded load test of a
//!   release `kiln` on loopback (default 50 clients for 30 s).
//! - `cargo xtask bench gbdt|shap|automl [N] [SPLITS]`: Kiln against
//!   LightGBM and FLAML on the same 80/20 splits (`bench/`; the AutoML
//!   bench on SPLITS of them, 3 by default).
//! - `cargo xtask bench fairness [ROWS]`: the pre- and post-training bias
//!   reports on a ROWS-row table against reading it (bar: pre-training < 1 s).
//! - `cargo xtask bench explore [FILE]`: Explore (segments, map, unusual
//!   rows) on flights.csv against reading it (bar: < 5 s).
//! - `cargo xtask bench forecast [SECONDS]`: Kiln's forecast build against
//!   statsforecast's SeasonalNaive, AutoETS, AutoARIMA and AutoTheta on the
//!   final-horizon holdout of the forecast tables (MASE, WAPE).
//! - `cargo xtask bench ingest [MB]`: Kiln's ingest + profile against Python
//!   Polars on the same files, and its peak memory on a generated CSV of MB
//!   megabytes (default 1024; 0 skips it).

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const ASSETS: &[&str] = &["index.html", "style.css", "boot.js", "favicon.svg"];

fn main() -> Result<()> {
    let args: Vec<String> = env::args().skip(1).collect();
    let root = root();
    env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("run") => run(&root, &args[1..]),
        Some("test") => test(&root),
        Some("bench") => match args.get(1).map(String::as_str) {
            Some("load") => bench_load(&root, &args[2..]),
            Some(
                mode
                @ ("gbdt" | "shap" | "automl" | "ingest" | "fairness" | "explore" | "forecast"),
            ) => bench_models(&root, mode, &args[2..]),
            _ => {
                eprintln!(
                    "usage: cargo xtask bench <load [CLIENTS] [SECONDS] | gbdt [ROUNDS] | shap [ROUNDS] | automl [SECONDS] [SPLITS] | ingest [MB] | fairness [ROWS] | explore [FILE] | forecast [SECONDS]>"
                );
                std::process::exit(2);
            }
        },
        Some("site") => {
            prepare_toolchain()?;
            build_site(&root)
        }
        Some("dist") => dist(&root),
        _ => {
            eprintln!("usage: cargo xtask <run [serve args…] | test | site | dist | bench …>");
            std::process::exit(2);
        }
    }
}

fn dist(root: &Path) -> Result<()> {
    prepare_toolchain()?;
    build_site(root)?;
    let site = target_dir(root).join("site");
    status(
        cargo()
            .args(["build", "--release", "-p", "backend"])
            .env("KILN_EMBED_SITE", &site),
    )?;
    let version = env!("CARGO_PKG_VERSION");
    let name = format!("kiln-{version}-{}-{}", env::consts::OS, env::consts::ARCH);
    let stage = root.join("target/dist").join(&name);
    let _ = fs::remove_dir_all(&stage);
    fs::create_dir_all(&stage)?;
    fs::copy(root.join("target/release/kiln"), stage.join("kiln"))?;
    for doc in ["README.md", "SECURITY.md"] {
        fs::copy(root.join(doc), stage.join(doc))?;
    }
    let archive = root.join("target/dist").join(format!("{name}.tar.gz"));
    status(
        Command::new("tar")
            .arg("-czf")
            .arg(&archive)
            .arg("-C")
            .arg(root.join("target/dist"))
            .arg(&name),
    )?;
    eprintln!(
        "xtask: wrote {} (the studio is inside `kiln`: `./kiln serve` from any folder)",
        archive.display()
    );
    Ok(())
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}

fn cargo() -> Command {
    Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn status(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: {cmd:?}");
    let st = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
    if !st.success() {
        bail!("{cmd:?} failed with {st}");
    }
    Ok(())
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The wasm target and the wasm-bindgen CLI at the version in Cargo.lock.
fn prepare_toolchain() -> Result<()> {
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if !installed.lines().any(|l| l.trim() == WASM_TARGET) {
        status(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
    }
    let want = wasm_bindgen_version()?;
    let have = output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    if have.split_whitespace().nth(1) != Some(want.as_str()) {
        eprintln!(
            "xtask: installing wasm-bindgen-cli {want} (found `{}`)",
            have.trim()
        );
        status(cargo().args([
            "install",
            "--locked",
            "wasm-bindgen-cli",
            "--version",
            &want,
        ]))?;
    }
    Ok(())
}

fn wasm_bindgen_version() -> Result<String> {
    let lock = fs::read_to_string("Cargo.lock").context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\""
            && let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_owned());
        }
    }
    bail!("wasm-bindgen is not in Cargo.lock")
}

/// The wasm built for size (`[profile.wasm]`: fat LTO, one codegen unit,
/// `opt-level = "z"`), `wasm-opt -Os` over it, wasm-bindgen's output, and
/// the static assets into `target/site`, each text and wasm file beside
/// its Brotli (`.br`) and gzip (`.gz`) forms, which `kiln serve` sends to
/// browsers that accept them.
/// Cargo's target folder: `CARGO_TARGET_DIR` (the backend's build script
/// builds the studio to embed in a folder of its own), else `target/`.
fn target_dir(root: &Path) -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map_or_else(|| root.join("target"), PathBuf::from)
}

/// The frontend built for size into `site/` of the target folder.
fn build_site(root: &Path) -> Result<()> {
    status(cargo().args([
        "build",
        "--profile",
        "wasm",
        "-p",
        "frontend",
        "--target",
        WASM_TARGET,
    ]))?;
    let target = target_dir(root);
    let site = target.join("site");
    let _ = fs::remove_dir_all(&site);
    fs::create_dir_all(site.join("pkg"))?;
    let built = target.join(format!("{WASM_TARGET}/wasm/frontend.wasm"));
    // wasm-opt runs before wasm-bindgen: Debian's binaryen 108, run on
    // wasm-bindgen's output, points the exported externref table at the
    // function table, and the page fails to start ("failed to grow table").
    let wasm = target.join("site-wasm/frontend.wasm");
    fs::create_dir_all(target.join("site-wasm"))?;
    fs::copy(&built, &wasm).with_context(|| format!("copying {}", built.display()))?;
    let before = fs::metadata(&wasm).map_or(0, |m| m.len());
    optimise_wasm(&wasm)?;
    status(
        Command::new("wasm-bindgen")
            .args(["--target", "web", "--no-typescript", "--out-dir"])
            .arg(site.join("pkg"))
            .arg(&wasm),
    )?;
    for a in ASSETS {
        fs::copy(root.join("assets").join(a), site.join(a))
            .with_context(|| format!("copying assets/{a}"))?;
    }
    let mut compressed = Vec::new();
    for file in ["pkg/frontend_bg.wasm", "pkg/frontend.js"]
        .iter()
        .chain(ASSETS)
    {
        compressed.push((*file, precompress(&site.join(file))?));
    }
    let size = |f: &str| fs::metadata(site.join(f)).map_or(0, |m| m.len());
    let (br, gz) = compressed
        .iter()
        .find(|(f, _)| *f == "pkg/frontend_bg.wasm")
        .map_or((0, 0), |(_, sizes)| *sizes);
    eprintln!(
        "xtask: site built in {} (wasm {} KiB from rustc, {} KiB after wasm-opt and wasm-bindgen; {} KiB brotli, {} KiB gzip over the wire)",
        site.display(),
        before / 1024,
        size("pkg/frontend_bg.wasm") / 1024,
        br / 1024,
        gz / 1024
    );
    Ok(())
}

/// The WebAssembly features rustc's `wasm32-unknown-unknown` emits, which
/// wasm-opt must be told of.
const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// `wasm-opt -Os` over the bundle, in place: `-Os` rather than `-Oz`,
/// because what goes over the wire is Brotli, and `-Os` output compresses
/// to about 1 KB less (449,184 against 450,258 bytes, 2026-11-30) though it
/// is 3% larger uncompressed. Binaryen is installed from
/// Debian's package when missing and running as root; elsewhere, or if
/// wasm-opt cannot read the module, the bundle stays as wasm-bindgen made
/// it (it works, only larger) and the reason is printed.
fn optimise_wasm(bundle: &Path) -> Result<()> {
    let have = || output(Command::new("wasm-opt").arg("--version")).is_some();
    if !have() && is_root() {
        let _ = apt_install(&["binaryen"]);
    }
    if !have() {
        eprintln!(
            "xtask: wasm-opt not found (Debian package `binaryen`): the bundle is not size-optimised"
        );
        return Ok(());
    }
    let out = bundle.with_extension("opt.wasm");
    let done = status(
        Command::new("wasm-opt")
            .arg("-Os")
            .args(WASM_FEATURES)
            .arg(bundle)
            .arg("-o")
            .arg(&out),
    );
    match done {
        Ok(()) => {
            fs::rename(&out, bundle).with_context(|| format!("replacing {}", bundle.display()))
        }
        Err(e) => {
            let _ = fs::remove_file(&out);
            eprintln!("xtask: wasm-opt failed, the bundle is not size-optimised: {e:#}");
            Ok(())
        }
    }
}

/// Writes `file.br` (Brotli, quality 11) and `file.gz` (gzip, level 9)
/// beside `file`; returns their sizes.
fn precompress(file: &Path) -> Result<(u64, u64)> {
    use std::io::Write;
    let bytes = fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let name = |ext: &str| {
        let mut n = file.as_os_str().to_owned();
        n.push(ext);
        PathBuf::from(n)
    };
    let mut br = Vec::new();
    {
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: 22,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut bytes.as_slice(), &mut br, &params)
            .with_context(|| format!("compressing {}", file.display()))?;
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&bytes)?;
    let gz = gz.finish()?;
    fs::write(name(".br"), &br)?;
    fs::write(name(".gz"), &gz)?;
    Ok((br.len() as u64, gz.len() as u64))
}

fn run(root: &Path, extra: &[String]) -> Result<()> {
    prepare_toolchain()?;
    build_site(root)?;
    // The site just built is embedded too, so the binary also serves it alone.
    status(
        cargo()
            .args(["build", "--release", "-p", "backend"])
            .env("KILN_EMBED_SITE", target_dir(root).join("site")),
    )?;
    let mut serve = Command::new(target_dir(root).join("release/kiln"));
    serve
        .arg("serve")
        .args(serve_args(&target_dir(root).join("site"), extra));
    status(&mut serve)
}

/// The options of `kiln serve` that take a value (as `--name value` or
/// `--name=value`).
const SERVE_VALUE_OPTIONS: &[&str] = &[
    "addr",
    "data",
    "site",
    "token",
    "allow-host",
    "max-upload-mb",
];

/// The arguments of `kiln serve` for `cargo xtask run EXTRA…`: the defaults
/// `--addr 127.0.0.1:8080 --data ./kiln-data --site <site>`, less those
/// that `extra` gives itself (`--addr X` or `--addr=X`; clap refuses an
/// option given twice), then `extra` (without a leading `--`).
fn serve_args(site: &Path, extra: &[String]) -> Vec<OsString> {
    let extra = match extra.first().map(String::as_str) {
        Some("--") => &extra[1..],
        _ => extra,
    };
    let mut given: Vec<&str> = Vec::new();
    let mut args = extra.iter();
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        let Some(option) = arg.strip_prefix("--") else {
            continue;
        };
        match option.split_once('=') {
            Some((name, _)) => given.push(name),
            None => {
                given.push(option);
                if SERVE_VALUE_OPTIONS.contains(&option) {
                    // Its value, which may itself start with `--`.
                    args.next();
                }
            }
        }
    }
    let defaults: [(&str, OsString); 3] = [
        ("addr", "127.0.0.1:8080".into()),
        ("data", "./kiln-data".into()),
        ("site", site.as_os_str().to_owned()),
    ];
    let mut out: Vec<OsString> = Vec::new();
    for (name, value) in defaults {
        if !given.contains(&name) {
            out.push(format!("--{name}").into());
            out.push(value);
        }
    }
    out.extend(extra.iter().map(OsString::from));
    out
}

fn test(root: &Path) -> Result<()> {
    prepare_toolchain()?;
    status(cargo().args(["fmt", "--all", "--check"]))?;
    status(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    status(cargo().args([
        "clippy",
        "-p",
        "frontend",
        "--target",
        WASM_TARGET,
        "--",
        "-D",
        "warnings",
    ]))?;
    ensure_python_peers()?;
    ensure_postgres()?;
    status(cargo().args(["test", "--workspace", "--exclude", "e2e-tests"]))?;
    build_site(root)?;
    if env::var_os("KILN_SKIP_BROWSER").is_some() {
        eprintln!("xtask: KILN_SKIP_BROWSER is set: skipping the browser tests");
        return Ok(());
    }
    ensure_chromium()?;
    let axe = ensure_axe(root)?;
    // `cargo test` above built the binary for the backend's tests; build it only if missing.
    if !root.join("target/debug/kiln").is_file() {
        status(cargo().args(["build", "-p", "backend", "--bin", "kiln"]))?;
    }
    status(
        cargo()
            .args([
                "test",
                "-p",
                "e2e-tests",
                "--",
                "--ignored",
                "--test-threads=1",
            ])
            .env("KILN_BIN", root.join("target/debug/kiln"))
            .env("KILN_SITE", root.join("target/site"))
            .env("KILN_SAMPLES", root.join("assets/samples"))
            .env("KILN_AXE", axe),
    )
}

/// The axe-core release the accessibility test injects into each page.
const AXE_VERSION: &str = "4.10.2";

/// `target/axe/axe-<version>.min.js`, fetched from the npm registry (curl
/// and tar) when missing.
fn ensure_axe(root: &Path) -> Result<PathBuf> {
    let dir = root.join("target/axe");
    let script = dir.join(format!("axe-{AXE_VERSION}.min.js"));
    if script.is_file() {
        return Ok(script);
    }
    fs::create_dir_all(&dir)?;
    if output(Command::new("curl").arg("--version")).is_none() && is_root() {
        apt_install(&["curl", "ca-certificates"])?;
    }
    let tarball = dir.join(format!("axe-core-{AXE_VERSION}.tgz"));
    status(
        Command::new("curl")
            .args([
                "--fail",
                "--silent",
                "--show-error",
                "--location",
                "--output",
            ])
            .arg(&tarball)
            .arg(format!(
                "https://registry.npmjs.org/axe-core/-/axe-core-{AXE_VERSION}.tgz"
            )),
    )?;
    status(
        Command::new("tar")
            .arg("-xzf")
            .arg(&tarball)
            .arg("-C")
            .arg(&dir)
            .arg("package/axe.min.js"),
    )?;
    fs::rename(dir.join("package/axe.min.js"), &script)
        .with_context(|| format!("keeping {}", script.display()))?;
    Ok(script)
}

fn bench_load(root: &Path, args: &[String]) -> Result<()> {
    let clients = args.first().map_or("50", String::as_str);
    let secs = args.get(1).map_or("30", String::as_str);
    // The load test needs the API only: no studio in the binary.
    status(
        cargo()
            .args([
                "build",
                "--release",
                "-p",
                "backend",
                "-p",
                "e2e-tests",
                "--bin",
                "kiln",
                "--bin",
                "kiln-load",
            ])
            .env("KILN_EMBED_SITE", ""),
    )?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let data = env::temp_dir().join(format!("kiln-load-{}", std::process::id()));
    let _ = fs::remove_dir_all(&data);
    let mut kiln = Command::new(root.join("target/release/kiln"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--data"])
        .arg(&data)
        .env("RUST_LOG", "warn")
        .spawn()
        .context("starting kiln")?;
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if start.elapsed() > std::time::Duration::from_secs(30) {
            let _ = kiln.kill();
            bail!("kiln did not start");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let result = status(
        Command::new(root.join("target/release/kiln-load"))
            .arg(port.to_string())
            .arg(kiln.id().to_string())
            .args([clients, secs])
            .arg(root.join("assets/samples/penguins.csv")),
    );
    let _ = kiln.kill();
    let _ = kiln.wait();
    let _ = fs::remove_dir_all(&data);
    result
}

/// Kiln against LightGBM and FLAML, or its ingest against Python Polars
/// (pip-installed when missing); see `bench/src/main.rs`.
fn bench_models(root: &Path, mode: &str, args: &[String]) -> Result<()> {
    status(cargo().args(["build", "--release", "-p", "bench", "--bin", "kiln-bench"]))?;
    status(
        Command::new(root.join("target/release/kiln-bench"))
            .arg(mode)
            .args(args)
            .current_dir(root),
    )
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|s| s.trim() == "0")
}

fn ensure_chromium() -> Result<()> {
    let have = |bin: &str| output(Command::new("which").arg(bin)).is_some();
    if have("chromium") && have("chromedriver") {
        return Ok(());
    }
    if !is_root() {
        bail!(
            "the browser tests need Chromium and ChromeDriver: install the Debian packages `chromium` and `chromium-driver` (or set KILN_SKIP_BROWSER=1 to skip them)"
        );
    }
    apt_install(&["chromium", "chromium-driver"])
}

/// The Python packages the tests drive as real peers, installed with pip
/// when missing (Python 3 and pip from apt-get first, as root, when they
/// are missing): onnxruntime scores the ONNX exports (`data/tests/onnx.rs`,
/// `TreeEnsemble` of `ai.onnx.ml` 5 needs 1.21 or newer), moto's server is
/// the S3 of the import tests (`backend/tests/imports.rs`), schemathesis
/// fuzzes the OpenAPI contract (`backend/tests/contract.rs`).
const PYTHON_PEERS: &[(&str, &str)] = &[
    ("onnxruntime>=1.21", "import onnxruntime, numpy"),
    ("moto[server]>=5", "import moto.server"),
    ("schemathesis>=4.32", "import schemathesis.cli"),
];

fn ensure_python_peers() -> Result<()> {
    let python = || {
        let mut c = Command::new("python3");
        c.stdout(Stdio::null()).stderr(Stdio::null());
        c
    };
    let imports = |check: &str| {
        python()
            .args(["-c", check])
            .status()
            .is_ok_and(|s| s.success())
    };
    let missing: Vec<&str> = PYTHON_PEERS
        .iter()
        .filter(|(_, check)| !imports(check))
        .map(|(package, _)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let has_pip = || {
        python()
            .args(["-m", "pip", "--version"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !has_pip() {
        if !is_root() {
            bail!(
                "the tests need Python 3 with pip (to install {}): install the Debian packages `python3` and `python3-pip`",
                missing.join(", ")
            );
        }
        apt_install(&["python3", "python3-pip"])?;
    }
    let pip = |extra: &[&str]| {
        Command::new("python3")
            .args(["-m", "pip", "install", "--quiet"])
            .args(&missing)
            .args(extra)
            .status()
            .is_ok_and(|s| s.success())
    };
    // Debian's own Python refuses pip outside a virtual environment unless told.
    if !(pip(&[])
        || pip(&["--break-system-packages"])
        || pip(&["--user", "--break-system-packages"]))
    {
        bail!(
            "could not install {} with pip for the tests",
            missing.join(", ")
        );
    }
    for (package, check) in PYTHON_PEERS {
        if !imports(check) {
            bail!("{package} was installed but `{check}` still fails");
        }
    }
    Ok(())
}

/// PostgreSQL's server programs (`initdb`, `pg_ctl`), which the import
/// tests start a throwaway database with, and the `openssl` command the
/// TLS one makes certificates with: Debian's `postgresql` and `openssl`,
/// installed as root when missing.
fn ensure_postgres() -> Result<()> {
    // The TLS import test makes its certificates with the `openssl` command.
    let has_openssl = output(Command::new("which").arg("openssl")).is_some();
    let on_path = output(Command::new("which").arg("initdb")).is_some();
    let in_debian_folder = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .any(|d| d.path().join("bin/initdb").is_file());
    let mut missing = Vec::new();
    if !(on_path || in_debian_folder) {
        missing.push("postgresql");
    }
    if !has_openssl {
        missing.push("openssl");
    }
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        bail!(
            "the import tests need PostgreSQL's server and the openssl command: install the Debian packages {}",
            missing.join(" ")
        );
    }
    apt_install(&missing)
}

/// Installs Debian `packages` (as root), the package lists updated first.
fn apt_install(packages: &[&str]) -> Result<()> {
    status(Command::new("apt-get").arg("update"))?;
    status(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(extra: &[&str]) -> Vec<String> {
        let extra: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        serve_args(Path::new("/repo/target/site"), &extra)
            .into_iter()
            .map(|a| a.into_string().expect("UTF-8 test arguments"))
            .collect()
    }

    #[test]
    fn run_serves_with_the_defaults() {
        assert_eq!(
            merged(&[]),
            [
                "--addr",
                "127.0.0.1:8080",
                "--data",
                "./kiln-data",
                "--site",
                "/repo/target/site"
            ]
        );
    }

    #[test]
    fn given_options_replace_the_defaults_in_either_form() {
        assert_eq!(
            merged(&["--addr", "127.0.0.1:9000"]),
            [
                "--data",
                "./kiln-data",
                "--site",
                "/repo/target/site",
                "--addr",
                "127.0.0.1:9000"
            ]
        );
        assert_eq!(
            merged(&["--data=/tmp/d", "--site", "dist", "--addr=0.0.0.0:80"]),
            ["--data=/tmp/d", "--site", "dist", "--addr=0.0.0.0:80"]
        );
    }

    #[test]
    fn other_options_are_passed_on_with_the_defaults() {
        // A value that looks like an option is still a value.
        assert_eq!(
            merged(&["--", "--token", "--addr", "--max-upload-mb=5"]),
            [
                "--addr",
                "127.0.0.1:8080",
                "--data",
                "./kiln-data",
                "--site",
                "/repo/target/site",
                "--token",
                "--addr",
                "--max-upload-mb=5"
            ]
        );
    }
}
