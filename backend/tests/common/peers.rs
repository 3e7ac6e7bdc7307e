//! Real peers for tests, started on loopback ports and stopped when
//! dropped: a throwaway PostgreSQL (`initdb` + `pg_ctl` from Debian's
//! `postgresql`) and moto's S3 server (`pip install "moto[server]"`);
//! `cargo xtask test` installs both. Only `std`, so that the browser tests
//! include this file too (`#[path]`).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_for_port(port: u16, what: &str) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what} did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A PostgreSQL program: on the PATH, or in Debian's versioned folder.
pub fn pg_program(name: &str) -> PathBuf {
    let on_path = Command::new("which")
        .arg(name)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if let Some(p) = on_path {
        return p;
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|d| d.path().join("bin").join(name))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!("`{name}` is missing: install Debian's `postgresql` (cargo xtask test does)")
    })
}

/// A PostgreSQL server in a temporary folder, stopped when dropped. As
/// root, it runs as the `postgres` user (initdb refuses root).
pub struct Postgres {
    dir: PathBuf,
    pub port: u16,
    user: Option<&'static str>,
}

impl Postgres {
    fn run(&self, program: &str, args: &[&str]) -> std::process::Output {
        let program = pg_program(program);
        let mut cmd = match self.user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(program);
                c
            }
            None => Command::new(program),
        };
        cmd.args(args).output().unwrap()
    }

    pub fn start() -> Postgres {
        Postgres::start_with(false)
    }

    /// A server that takes TLS connections only (`hostssl` in
    /// `pg_hba.conf`), with a certificate for `db.example.internal` signed
    /// by a throwaway authority: its certificate is [`Postgres::ca`].
    /// The certificates come from the `openssl` command.
    pub fn start_tls() -> Postgres {
        Postgres::start_with(true)
    }

    /// The authority that signed a TLS server's certificate (PEM).
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    fn start_with(tls: bool) -> Postgres {
        let root_user = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("kiln-pg-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let pg = Postgres {
            dir: dir.clone(),
            port: free_port(),
            user: root_user.then_some("postgres"),
        };
        if let Some(u) = pg.user {
            let ok = Command::new("chown")
                .args([&format!("{u}:"), dir.to_str().unwrap()])
                .status()
                .unwrap();
            assert!(ok.success());
        }
        let data = dir.join("data");
        let init = pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "kiln",
                "--auth=trust",
                "--encoding=UTF8",
            ],
        );
        assert!(
            init.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            pg.port,
            dir.display()
        );
        if tls {
            make_certificates(&dir, &data, pg.user);
            std::fs::write(
                data.join("pg_hba.conf"),
                "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
            )
            .unwrap();
            options.push_str(" -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key");
        }
        let started = pg.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &options,
                "-l",
                dir.join("log").to_str().unwrap(),
                "-w",
                "start",
            ],
        );
        assert!(
            started.status.success(),
            "pg_ctl start: {}",
            String::from_utf8_lossy(&started.stderr)
        );
        pg
    }

    /// With a password that must never show: trust ignores it.
    pub fn url(&self) -> String {
        format!(
            "postgres://kiln:do-not-show@127.0.0.1:{}/postgres",
            self.port
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = self.run(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", "immediate", "stop"],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A throwaway authority (`dir/ca.crt`) and a server certificate for
/// `db.example.internal` only (`data/server.crt`, `data/server.key`, owned
/// by the server's user), by the `openssl` command.
fn make_certificates(dir: &std::path::Path, data: &std::path::Path, user: Option<&str>) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .expect("the `openssl` command");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec![
        "req",
        "-x509",
        "-days",
        "2",
        "-subj",
        "/CN=Kiln test authority",
    ];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(&ca);
    let mut csr = vec!["req", "-subj", "/CN=db.example.internal"];
    csr.extend(ec);
    csr.extend(["-keyout", "server.key", "-out", "server.csr"]);
    openssl(&csr);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:db.example.internal\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-days",
        "2",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-extfile",
        "server.ext",
        "-out",
        "server.crt",
    ]);
    for file in ["server.crt", "server.key"] {
        std::fs::copy(dir.join(file), data.join(file)).unwrap();
    }
    let key = data.join("server.key");
    assert!(
        Command::new("chmod")
            .arg("600")
            .arg(&key)
            .status()
            .unwrap()
            .success()
    );
    if let Some(u) = user {
        for file in ["server.crt", "server.key"] {
            let ok = Command::new("chown")
                .arg(format!("{u}:"))
                .arg(data.join(file))
                .status()
                .unwrap();
            assert!(ok.success());
        }
    }
}

/// moto's S3 server on a loopback port, killed when dropped.
pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    pub fn start() -> Moto {
        let port = free_port();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m moto.server (pip install \"moto[server]\"; cargo xtask test does)");
        let moto = Moto { child, port };
        wait_for_port(port, "moto");
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// PUT `path` (`/bucket` makes a bucket, `/bucket/key` an object) with
    /// `body`, unsigned (moto does not check signatures).
    pub fn put(&self, path: &str, body: &[u8]) {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let head = format!(
            "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "PUT {path}: {answer}");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
