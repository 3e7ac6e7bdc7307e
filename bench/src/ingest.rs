//! `kiln-bench ingest [MB]`: Kiln's ingest and profile against Python
//! Polars `read_csv` + `describe()` on the same files (the bundled samples
//! and `../shared/datasets/*.csv` when there), then Kiln's peak memory on a
//! generated CSV of MB megabytes (default 1024) and on the same table as a
//! Parquet file, each measured in a child process (`kiln-bench ingest-child
//! FILE`, reading it as an upload is read) from its own `VmHWM`.
//!
//! Bars: Kiln's throughput is at least half of Python Polars', the CSV
//! child's peak resident memory is under 3 × the file's size, and the
//! Parquet upload of the same table peaks below the CSV upload.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use data::{ingest, profile};

/// Runs of each file; the fastest counts.
const REPEATS: usize = 3;
const SEED: u64 = 42;
/// Throughput of Kiln / throughput of Python Polars must be at least this.
const THROUGHPUT_BAR: f64 = 0.5;
/// Peak resident memory / file size must be under this.
const MEMORY_BAR: f64 = 3.0;

pub fn bench_ingest(root: &Path, args: &[String]) -> Result<()> {
    let megabytes: u64 = match args.first() {
        Some(v) => v
            .parse()
            .with_context(|| format!("`{v}` is not a size in MB"))?,
        None => 1024,
    };
    ensure_polars()?;
    let files = files(root)?;
    if files.is_empty() {
        bail!("no CSV files in assets/samples or ../shared/datasets");
    }
    let speed_ok = compare_with_polars(root, &files)?;
    let memory_ok = if megabytes > 0 {
        peak_memory(root, megabytes)?
    } else {
        true
    };
    if !(speed_ok && memory_ok) {
        bail!("a bar was missed (see above)");
    }
    Ok(())
}

/// The bundled samples, plus the shared datasets not among them, smallest first.
fn files(root: &Path) -> Result<Vec<PathBuf>> {
    let only: Option<Vec<String>> = std::env::var("KILN_BENCH_DATASETS")
        .ok()
        .map(|v| v.split(',').map(str::to_owned).collect());
    let mut out: Vec<PathBuf> = Vec::new();
    for dir in ["assets/samples", "../shared/datasets"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            eprintln!("skipping {dir}: not here");
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "csv"))
            .collect();
        found.sort();
        for p in found {
            let name = p.file_name().map(|n| n.to_owned());
            let stem = p
                .file_stem()
                .map_or(String::new(), |s| s.to_string_lossy().into_owned());
            if only.as_ref().is_some_and(|o| !o.contains(&stem)) {
                continue;
            }
            if !out
                .iter()
                .any(|q| q.file_name().map(|n| n.to_owned()) == name)
            {
                out.push(p);
            }
        }
    }
    out.sort_by_key(|p| std::fs::metadata(p).map_or(0, |m| m.len()));
    Ok(out)
}

/// Installs Python Polars with pip when it is missing.
fn ensure_polars() -> Result<()> {
    let ok = Command::new(crate::python())
        .args(["-c", "import polars"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Ok(());
    }
    eprintln!("installing polars with pip");
    let st = Command::new(crate::python())
        .args(["-m", "pip", "install", "--quiet", "polars"])
        .status()
        .context("running pip (is Python 3 installed?)")?;
    if !st.success() {
        bail!("pip could not install polars");
    }
    Ok(())
}

/// Kiln's ingest: what an upload does before storing (read, then profile).
struct Timing {
    rows: usize,
    read: f64,
    profile: f64,
}

fn kiln(path: &Path) -> Result<Timing> {
    let mut best: Option<Timing> = None;
    for _ in 0..REPEATS {
        let start = Instant::now();
        let got = ingest::read_csv(path, &ingest::ReadOptions::default())
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let read = start.elapsed().as_secs_f64();
        let start = Instant::now();
        profile::profile(&got.frame)?;
        let profile = start.elapsed().as_secs_f64();
        if best
            .as_ref()
            .is_none_or(|b| read + profile < b.read + b.profile)
        {
            best = Some(Timing {
                rows: got.frame.height(),
                read,
                profile,
            });
        }
    }
    best.context("at least one run")
}

fn compare_with_polars(root: &Path, files: &[PathBuf]) -> Result<bool> {
    let nulls = serde_json::to_string(ingest::NULL_TOKENS)?;
    let out = Command::new(crate::python())
        .arg(root.join("bench/python/ingest.py"))
        .arg(REPEATS.to_string())
        .arg(&nulls)
        .args(files)
        .output()
        .context("running bench/python/ingest.py")?;
    if !out.status.success() {
        bail!("ingest.py failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let reference: serde_json::Value = serde_json::from_str(text.lines().last().unwrap_or(""))
        .with_context(|| format!("ingest.py output: {text}"))?;
    let version = reference
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(|v| v["polars"].as_str())
        .unwrap_or("?")
        .to_owned();
    println!(
        "\nIngest + profile: Kiln (read_csv + profile) vs Python Polars {version} (read_csv + describe), fastest of {REPEATS}, {} threads\n",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "| file | MB | rows | Kiln s (read + profile) | Polars s (read + describe) | Kiln MB/s | Polars MB/s | ratio |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut ok = true;
    let (mut kiln_total, mut polars_total, mut mb_total) = (0.0, 0.0, 0.0);
    for path in files {
        let mb = std::fs::metadata(path)?.len() as f64 / 1e6;
        let k = kiln(path)?;
        let r = &reference[path.to_string_lossy().as_ref()];
        let (p_read, p_describe) = (
            r["read"].as_f64().context("read time")?,
            r["describe"].as_f64().context("describe time")?,
        );
        let rows = r["rows"].as_u64().unwrap_or(0);
        if rows != k.rows as u64 {
            eprintln!(
                "note: {}: Kiln read {} rows, Python Polars {rows}",
                path.display(),
                k.rows
            );
        }
        let (ks, ps) = (k.read + k.profile, p_read + p_describe);
        let ratio = ps / ks;
        ok &= ratio >= THROUGHPUT_BAR;
        kiln_total += ks;
        polars_total += ps;
        mb_total += mb;
        println!(
            "| {} | {mb:.2} | {} | {ks:.3} ({:.3} + {:.3}) | {ps:.3} ({p_read:.3} + {p_describe:.3}) | {:.1} | {:.1} | {ratio:.2}{} |",
            path.file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
            k.rows,
            k.read,
            k.profile,
            mb / ks,
            mb / ps,
            if ratio >= THROUGHPUT_BAR { "" } else { " ✗" },
        );
    }
    println!(
        "| all | {mb_total:.2} | | {kiln_total:.3} | {polars_total:.3} | {:.1} | {:.1} | {:.2} |",
        mb_total / kiln_total,
        mb_total / polars_total,
        polars_total / kiln_total
    );
    println!(
        "\nratio = Kiln throughput / Python Polars throughput; bar: at least {THROUGHPUT_BAR} on every file: {}",
        if ok { "met" } else { "MISSED" }
    );
    Ok(ok)
}

/// A seeded CSV of mixed columns (whole numbers, decimals, categories,
/// dates, booleans, free text with quotes; about 5% missing) of at least
/// `megabytes` MB, kept under `target/bench-ingest/` for the next run.
fn generated_csv(root: &Path, megabytes: u64) -> Result<PathBuf> {
    let dir = root.join("target/bench-ingest");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("mixed-{megabytes}mb-seed{SEED}.csv"));
    if path.exists() {
        return Ok(path);
    }
    eprintln!("writing {} ...", path.display());
    const WORDS: &[&str] = &[
        "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "order", "arrived", "late",
        "again", "great", "service", "would", "buy", "never", "broken", "box", "and", "but",
        "price", "was", "fair", "support", "helped", "me", "quickly", "colour", "faded",
    ];
    const CATEGORIES: &[&str] = &[
        "books", "garden", "toys", "music", "kitchen", "sports", "office", "beauty", "tools",
        "games", "baby", "pets",
    ];
    let tmp = path.with_extension("tmp");
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
    let mut rng = automl::Rng::from_state(SEED);
    let target = megabytes << 20;
    let mut written = 0u64;
    let mut line = String::with_capacity(512);
    let header = "id,amount,score,quantity,category,city,day,returned,review\n";
    out.write_all(header.as_bytes())?;
    written += header.len() as u64;
    let mut id = 0u64;
    while written < target {
        line.clear();
        id += 1;
        let missing = |rng: &mut automl::Rng| rng.next_u64().is_multiple_of(20);
        use std::fmt::Write as _;
        write!(line, "{id},")?;
        if !missing(&mut rng) {
            write!(line, "{:.2}", (rng.next_u64() % 1_000_000) as f64 / 100.0)?;
        }
        line.push(',');
        write!(line, "{:.6},", (rng.next_u64() % 1_000_000) as f64 / 1e6)?;
        if missing(&mut rng) {
            line.push_str("NA");
        } else {
            write!(line, "{}", rng.next_u64() % 1000)?;
        }
        line.push(',');
        line.push_str(CATEGORIES[(rng.next_u64() % CATEGORIES.len() as u64) as usize]);
        write!(line, ",city_{},", rng.next_u64() % 300)?;
        let day = rng.next_u64() % 3650;
        write!(
            line,
            "{:04}-{:02}-{:02},",
            2014 + day / 365,
            1 + (day % 365) / 31 % 12,
            1 + day % 28
        )?;
        line.push_str(if rng.next_u64().is_multiple_of(2) {
            "true"
        } else {
            "false"
        });
        line.push(',');
        if !missing(&mut rng) {
            line.push('"');
            for w in 0..4 + rng.next_u64() % 9 {
                if w > 0 {
                    line.push_str(if rng.next_u64().is_multiple_of(8) {
                        ", "
                    } else {
                        " "
                    });
                }
                line.push_str(WORDS[(rng.next_u64() % WORDS.len() as u64) as usize]);
            }
            line.push('"');
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
        written += line.len() as u64;
    }
    out.flush()?;
    drop(out);
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// The generated table as Parquet (kept beside the CSV).
fn generated_parquet(csv: &Path) -> Result<PathBuf> {
    let path = csv.with_extension("parquet");
    if path.is_file() {
        return Ok(path);
    }
    let got = ingest::read_csv(csv, &ingest::ReadOptions::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut frame = got.frame;
    let tmp = path.with_extension("parquet.partial");
    ingest::write_parquet(&mut frame, &tmp).map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

fn peak_memory(root: &Path, megabytes: u64) -> Result<bool> {
    let csv = generated_csv(root, megabytes)?;
    let (csv_peak, csv_ok) = child_peak(&csv, Some(MEMORY_BAR))?;
    let parquet = generated_parquet(&csv)?;
    let (parquet_peak, _) = child_peak(&parquet, None)?;
    let ratio = parquet_peak as f64 / csv_peak as f64;
    let ok = ratio < 1.0;
    println!(
        "\nthe same table uploaded as Parquet / as CSV: peak RSS {:.0} MB / {:.0} MB = {ratio:.2} (bar: under 1): {}",
        parquet_peak as f64 / 1e6,
        csv_peak as f64 / 1e6,
        if ok { "met" } else { "MISSED" }
    );
    Ok(csv_ok && ok)
}

/// The child's peak resident memory reading `path`, and whether it is
/// under `bar` × the file's size (when given).
fn child_peak(path: &Path, bar: Option<f64>) -> Result<(u64, bool)> {
    let size = std::fs::metadata(path)?.len();
    let exe = std::env::current_exe()?;
    let out = Command::new(exe)
        .arg("ingest-child")
        .arg(path)
        .output()
        .context("running the ingest child")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "the ingest child failed ({}): {stdout}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    println!(
        "\nPeak memory of Kiln's ingest (read + Parquet + profile) of {} ({:.0} MB), in a child process:\n",
        path.display(),
        size as f64 / 1e6
    );
    print!("{stdout}");
    let peak: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_bytes="))
        .context("the child printed no peak")?
        .trim()
        .parse()?;
    let ratio = peak as f64 / size as f64;
    let ok = bar.is_none_or(|b| ratio < b);
    println!(
        "\npeak RSS / file size = {:.0} MB / {:.0} MB = {ratio:.2}{}",
        peak as f64 / 1e6,
        size as f64 / 1e6,
        match bar {
            Some(b) => format!(" (bar: under {b}): {}", if ok { "met" } else { "MISSED" }),
            None => String::new(),
        }
    );
    Ok((peak, ok))
}

/// `VmHWM` (peak) and `VmRSS` (now) of this process, in bytes.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// The child: ingest `path` (any upload format) as an upload does, printing time and memory
/// after each step, then `peak_rss_bytes=N`.
pub fn ingest_child(path: &Path) -> Result<()> {
    let step = |name: &str, start: Instant| {
        let (peak, now) = memory();
        println!(
            "  {name:<10} {:>7.2} s   peak {:>6.0} MB   now {:>6.0} MB",
            start.elapsed().as_secs_f64(),
            peak as f64 / 1e6,
            now as f64 / 1e6
        );
    };
    let start = Instant::now();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let got = ingest::read_file(
        path,
        &name,
        &ingest::ReadOptions::default(),
        &ingest::FileOptions::default(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut frame = got.frame;
    step("read", start);
    let parquet = std::env::temp_dir().join(format!("kiln-bench-{}.parquet", std::process::id()));
    let start = Instant::now();
    let written = ingest::write_parquet(&mut frame, &parquet);
    let _ = std::fs::remove_file(&parquet);
    written.map_err(|e| anyhow::anyhow!("{e}"))?;
    step("parquet", start);
    let start = Instant::now();
    profile::profile(&frame)?;
    step("profile", start);
    println!("  {} rows x {} columns", frame.height(), frame.width());
    println!("peak_rss_bytes={}", memory().0);
    Ok(())
}
