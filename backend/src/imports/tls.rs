//! TLS to PostgreSQL, with libpq's `sslmode` and `sslrootcert` read from
//! the connection string, so that the string a team already uses for
//! `psql` works here too (tokio-postgres itself knows only `disable`,
//! `prefer` and `require`, and no certificate options).
//!
//! | `sslmode`             | TLS                        | the server's certificate        |
//! |-----------------------|----------------------------|---------------------------------|
//! | `disable`             | never                      | -                               |
//! | `allow`, `prefer` (default) | when the server offers it | not checked                 |
//! | `require`             | always                     | not checked, unless `sslrootcert` is given (then as `verify-ca`) |
//! | `verify-ca`           | always                     | signed by a trusted authority   |
//! | `verify-full`         | always                     | signed, and for the host named  |
//!
//! The trusted authorities are `sslrootcert` (a PEM file, read at start) or
//! else the system's store (`sslrootcert=system`, as libpq 16 spells it).
//! Handshake signatures are always checked; only what the mode leaves out
//! is.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::config::SslMode;
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};

/// How much of the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Encryption only (`prefer`, `require`).
    Nothing,
    /// The chain to a trusted authority (`verify-ca`).
    Chain,
    /// The chain and the host name (`verify-full`).
    Full,
}

/// A connection string made ready to connect: tokio-postgres's own
/// configuration, and the TLS that goes with it.
#[derive(Clone)]
pub struct Target {
    pub config: tokio_postgres::Config,
    pub verify: Verify,
    tls: MakeRustls,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the configuration: it holds the password.
        f.debug_struct("Target")
            .field("ssl_mode", &self.config.get_ssl_mode())
            .field("verify", &self.verify)
            .finish()
    }
}

impl Target {
    /// Reads `conn` (a `postgres://` URL or `key=value` pairs) with libpq's
    /// TLS options, loading `sslrootcert` now so that a wrong path is an
    /// error at start, not at the first import.
    pub fn parse(conn: &str) -> Result<Target, String> {
        let (rest, options) = split_tls_options(conn)?;
        let mut config: tokio_postgres::Config = rest
            .parse()
            .map_err(|e| format!("the PostgreSQL connection string does not read: {e}"))?;
        let mode = options.mode.as_deref().unwrap_or("prefer");
        let root = options.root_cert.as_deref();
        let (ssl, verify) = match mode {
            "disable" => (SslMode::Disable, Verify::Nothing),
            "allow" | "prefer" => (SslMode::Prefer, Verify::Nothing),
            "require" if root.is_some() => (SslMode::Require, Verify::Chain),
            "require" => (SslMode::Require, Verify::Nothing),
            "verify-ca" => (SslMode::Require, Verify::Chain),
            "verify-full" => (SslMode::Require, Verify::Full),
            other => {
                return Err(format!(
                    "sslmode `{other}` is not one of disable, allow, prefer, require, verify-ca, verify-full"
                ));
            }
        };
        config.ssl_mode(ssl);
        let tls = MakeRustls::new(verify, root)?;
        Ok(Target {
            config,
            verify,
            tls,
        })
    }

    /// Connects, with TLS as the string asks.
    pub async fn connect(
        &self,
    ) -> Result<
        (
            tokio_postgres::Client,
            tokio_postgres::Connection<tokio_postgres::Socket, RustlsStream>,
        ),
        tokio_postgres::Error,
    > {
        self.config.connect(self.tls.clone()).await
    }
}

#[derive(Debug, Default)]
struct TlsOptions {
    mode: Option<String>,
    root_cert: Option<String>,
}

/// `conn` without `sslmode` and `sslrootcert`, and their values.
fn split_tls_options(conn: &str) -> Result<(String, TlsOptions), String> {
    let mut options = TlsOptions::default();
    let mut take = |key: &str, value: String| match key {
        "sslmode" => {
            options.mode = Some(value);
            true
        }
        "sslrootcert" => {
            options.root_cert = Some(value);
            true
        }
        _ => false,
    };
    let trimmed = conn.trim();
    if trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://") {
        let Some((base, query)) = trimmed.split_once('?') else {
            return Ok((trimmed.to_owned(), options));
        };
        let kept: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .filter(|(k, v)| !take(k, v.clone()))
            .collect();
        if kept.is_empty() {
            return Ok((base.to_owned(), options));
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(kept)
            .finish();
        return Ok((format!("{base}?{query}"), options));
    }
    // `key = value` pairs, values optionally single-quoted with `\` escapes.
    let mut kept = String::new();
    let mut chars = trimmed.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut key = String::new();
        while let Some(&(_, c)) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|&(_, c)| c.is_whitespace()) {
            chars.next();
        }
        if chars.next().is_none_or(|(_, c)| c != '=') {
            return Err(format!(
                "the PostgreSQL connection string does not read: `{key}` has no `=`"
            ));
        }
        while chars.peek().is_some_and(|&(_, c)| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek().is_some_and(|&(_, c)| c == '\'') {
            chars.next();
            loop {
                match chars.next() {
                    Some((_, '\\')) => value.extend(chars.next().map(|(_, c)| c)),
                    Some((_, '\'')) => break,
                    Some((_, c)) => value.push(c),
                    None => {
                        return Err(format!(
                            "the PostgreSQL connection string does not read: the quote after `{key}=` never closes"
                        ));
                    }
                }
            }
        } else {
            while let Some(&(_, c)) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        let end = chars.peek().map_or(trimmed.len(), |&(i, _)| i);
        if !take(&key, value) {
            if !kept.is_empty() {
                kept.push(' ');
            }
            kept.push_str(&trimmed[start..end]);
        }
    }
    Ok((kept, options))
}

/// tokio-postgres's TLS, by rustls (already in the tree through
/// `object_store`), with ring as its provider.
#[derive(Clone)]
pub struct MakeRustls {
    config: Arc<ClientConfig>,
}

impl MakeRustls {
    fn new(verify: Verify, root_cert: Option<&str>) -> Result<MakeRustls, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain = match verify {
            Verify::Nothing => None,
            Verify::Chain | Verify::Full => Some(
                WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots(root_cert)?),
                    Arc::clone(&provider),
                )
                .build()
                .map_err(|e| format!("the trusted certificates cannot be used: {e}"))?,
            ),
        };
        let verifier = Arc::new(Verifier {
            provider: Arc::clone(&provider),
            chain,
            name: verify == Verify::Full,
        });
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS cannot be set up: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeRustls {
            config: Arc::new(config),
        })
    }
}

/// The authorities `sslrootcert` names (a PEM file), or the system's.
fn roots(root_cert: Option<&str>) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    match root_cert {
        None | Some("system") => {
            let found = rustls_native_certs::load_native_certs();
            for cert in found.certs {
                let _ = store.add(cert);
            }
            if store.is_empty() {
                return Err(
                    "the system has no trusted certificates to check the database's against: give `sslrootcert=/path/to/root.crt`".into(),
                );
            }
        }
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("sslrootcert `{path}` cannot be read: {e}"))?;
            for cert in certs {
                let cert =
                    cert.map_err(|e| format!("sslrootcert `{path}` is not PEM certificates: {e}"))?;
                store
                    .add(cert)
                    .map_err(|e| format!("sslrootcert `{path}` holds a bad certificate: {e}"))?;
            }
            if store.is_empty() {
                return Err(format!("sslrootcert `{path}` holds no certificate"));
            }
        }
    }
    Ok(store)
}

/// What a mode checks of the server: nothing of its certificate
/// (`prefer`, `require`, as libpq), its chain (`verify-ca`: rustls's
/// checks, a wrong name forgiven), or both (`verify-full`); the handshake
/// is always checked to be signed by the certificate's key.
#[derive(Debug)]
struct Verifier {
    provider: Arc<CryptoProvider>,
    /// The chain's checks; `None` for encryption only.
    chain: Option<Arc<WebPkiServerVerifier>>,
    /// Whether the certificate must name the host.
    name: bool,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

impl<S> MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, host: &str) -> io::Result<RustlsConnect> {
        let name = ServerName::try_from(host.to_owned()).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{host}` is not a host name TLS can check: {e}"),
            )
        })?;
        Ok(RustlsConnect {
            connector: tokio_rustls::TlsConnector::from(Arc::clone(&self.config)),
            name,
        })
    }
}

pub struct RustlsConnect {
    connector: tokio_rustls::TlsConnector,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let tls = self.connector.connect(self.name, stream).await?;
            Ok(RustlsStream(tls))
        })
    }
}

/// The encrypted stream. No channel binding: SCRAM authenticates without
/// it (`channel_binding=prefer`, tokio-postgres's default).
pub struct RustlsStream<S = tokio_postgres::Socket>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_tls_options_are_taken_out_of_both_forms() {
        let (rest, o) = split_tls_options(
            "postgres://a:b@db.example.com:6543/shop?sslmode=verify-full&application_name=kiln&sslrootcert=%2Fetc%2Froot.crt",
        )
        .unwrap();
        assert_eq!(
            rest,
            "postgres://a:b@db.example.com:6543/shop?application_name=kiln"
        );
        assert_eq!(o.mode.as_deref(), Some("verify-full"));
        assert_eq!(o.root_cert.as_deref(), Some("/etc/root.crt"));

        let (rest, o) =
            split_tls_options("host=db user=a password='a b\\'c' sslmode = verify-ca  dbname=shop")
                .unwrap();
        assert_eq!(o.mode.as_deref(), Some("verify-ca"));
        assert_eq!(rest, "host=db user=a password='a b\\'c' dbname=shop");

        let (rest, o) = split_tls_options("postgres://a@h/db").unwrap();
        assert_eq!((rest.as_str(), o.mode), ("postgres://a@h/db", None));
        assert!(split_tls_options("host=db sslmode='require").is_err());
        assert!(split_tls_options("host").is_err());
    }

    #[test]
    fn modes_map_as_libpq_does() {
        let mode = |s: &str| {
            let t = Target::parse(s).unwrap();
            (t.config.get_ssl_mode(), t.verify)
        };
        assert_eq!(mode("postgres://h/db"), (SslMode::Prefer, Verify::Nothing));
        assert_eq!(
            mode("postgres://h/db?sslmode=disable"),
            (SslMode::Disable, Verify::Nothing)
        );
        assert_eq!(
            mode("host=h sslmode=require"),
            (SslMode::Require, Verify::Nothing)
        );
        let err = Target::parse("postgres://h/db?sslmode=verify-full&sslrootcert=/nowhere.crt")
            .unwrap_err();
        assert!(err.contains("/nowhere.crt"), "{err}");
        let err = Target::parse("postgres://h/db?sslmode=sometimes").unwrap_err();
        assert!(err.contains("sometimes"), "{err}");
    }
}
