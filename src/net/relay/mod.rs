//! `parlor relay`: the real iroh relay server (the `iroh-relay` release that matches our iroh),
//! for a team that wants no public relay, or members behind two NATs with none reachable.
//!
//! Plain HTTP serves labs and LANs; with a certificate and key it serves HTTPS and QUIC address
//! discovery (which lets members behind NATs learn their public address and punch holes).
//!
//! Who may use it (`--allow FILE`, else everyone) and how fast each client may send
//! (`--rate-limit`, iroh-relay's own per-client limit) are the operator's; its log of clients
//! is bounded in rate (`log_budget`).

mod access;
mod log_budget;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use iroh_relay::server::{
    CertConfig, ClientRateLimit, Limits, QuicConfig, RelayConfig as RelayServerConfig, Server,
    ServerConfig, TlsConfig,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub use access::AllowList;
use access::Clients;

/// The UDP port clients probe for QUIC address discovery (iroh's default).
pub const QAD_PORT: u16 = 7842;

#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// Where the relay listens (HTTPS when `tls` is set, else HTTP).
    pub bind: SocketAddr,
    /// With TLS: where the plain-HTTP captive-portal probe listens.
    pub http_bind: Option<SocketAddr>,
    pub tls: Option<TlsFiles>,
    /// The allow file (`--allow`): only the endpoint ids in it may connect (the caller reads
    /// it, see [`AllowList::parse`]); `None`: everyone.
    pub allow_file: Option<PathBuf>,
    /// Bytes a second each client may send (a burst of two seconds' worth first); `None`: no
    /// limit.
    pub rate_limit: Option<NonZeroU32>,
}

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// iroh-relay's per-client limit for `bytes_per_second`: a burst of two seconds' worth, so a
/// client that was quiet sends its first lines and a small file at once.
fn client_limits(bytes_per_second: Option<NonZeroU32>) -> Limits {
    let mut limits = Limits::default();
    limits.client_rx = bytes_per_second.map(|rate| {
        let mut limit = ClientRateLimit::new(rate);
        limit.max_burst_bytes = Some(rate.saturating_add(rate.get()));
        limit
    });
    limits
}

/// A rate as the flag takes it: `4M`, `512k`, or bytes.
fn per_second(bytes: u32) -> String {
    match bytes {
        b if b % (1 << 20) == 0 => format!("{}M", b >> 20),
        b if b % (1 << 10) == 0 => format!("{}k", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// Run the relay until `stop` completes or the server fails. `log` gets one line when it
/// listens and lines about clients at a bounded rate.
pub async fn serve(
    options: RelayOptions,
    allow: Option<AllowList>,
    log: impl Fn(String) + Send + Sync + 'static,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let mut server = start(options, allow, log).await?;
    let exited = tokio::select! {
        () = stop => None,
        result = server.server.join() => Some(result),
    };
    match exited {
        // Not `shutdown()` after `join()` returned: that polls the finished task again.
        Some(Ok(Ok(()))) => anyhow::bail!("the relay stopped by itself"),
        Some(Ok(Err(err))) => Err(err).context("the relay failed"),
        Some(Err(err)) => Err(err).context("the relay task failed"),
        None => server.server.shutdown().await.context("relay shutdown"),
    }
}

/// A relay that runs, and the task that writes its log's summaries on time.
struct Running {
    server: Server,
    _summaries: n0_future::task::AbortOnDropHandle<()>,
}

/// Start the relay and log its first line.
async fn start(
    options: RelayOptions,
    allow: Option<AllowList>,
    log: impl Fn(String) + Send + Sync + 'static,
) -> anyhow::Result<Running> {
    let log: Arc<dyn Fn(String) + Send + Sync> = Arc::new(log);
    let mut relay = RelayServerConfig::new(options.bind);
    let allowed = allow.as_ref().map(AllowList::len);
    let clients = Arc::new(Clients::new(log.clone(), allow));
    relay.access = clients.clone();
    relay.limits = client_limits(options.rate_limit);
    let mut config = ServerConfig::default();
    config.metrics_addr = None;
    let scheme = if let Some(tls) = &options.tls {
        let server_config = load_tls(tls)?;
        let http = options
            .http_bind
            .unwrap_or_else(|| SocketAddr::new(options.bind.ip(), 80));
        relay.http_bind_addr = http;
        relay.tls = Some(TlsConfig::new(
            options.bind,
            CertConfig::Manual {
                server_config: server_config.clone(),
            },
        ));
        config.quic = Some(QuicConfig::new(SocketAddr::new(
            options.bind.ip(),
            QAD_PORT,
        )));
        "https"
    } else {
        "http"
    };
    config.relay = Some(relay);
    let listeners = match &options.tls {
        Some(_) => format!(
            "{} (HTTPS), {} (HTTP; --http-bind moves it) and udp {}:{QAD_PORT}",
            options.bind,
            options
                .http_bind
                .unwrap_or_else(|| SocketAddr::new(options.bind.ip(), 80)),
            options.bind.ip()
        ),
        None => options.bind.to_string(),
    };
    let access = match allowed {
        Some(n) => format!("{n} endpoint id(s) allowed"),
        None => "open to every endpoint".to_string(),
    };
    let rate = match options.rate_limit {
        Some(rate) => format!("{} a second per client", per_second(rate.get())),
        None => "no rate limit".to_string(),
    };
    let server = Server::spawn(config)
        .await
        .with_context(|| format!("cannot start the relay on {listeners}"))?;
    let addr = server
        .https_addr()
        .or(server.http_addr())
        .unwrap_or(options.bind);
    // Clients need an address they can reach: not 0.0.0.0 or [::].
    let client_addr = if addr.ip().is_unspecified() {
        format!("THIS-HOST:{}", addr.port())
    } else {
        addr.to_string()
    };
    log(format!(
        "relay listening at {scheme}://{addr} (clients: --relay {scheme}://{client_addr}){}; {access}, {rate}",
        match server.quic_addr() {
            Some(quic) => format!("; QUIC address discovery on udp {quic}"),
            None => String::new(),
        }
    ));
    let summaries = tokio::spawn(async move {
        let mut every = tokio::time::interval(log_budget::WINDOW / 2);
        loop {
            every.tick().await;
            clients.tick();
        }
    });
    Ok(Running {
        server,
        _summaries: n0_future::task::AbortOnDropHandle::new(summaries),
    })
}

/// The certificates in a PEM file (at least one).
pub fn read_certificates(path: &std::path::Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("cannot read certificates from {}", path.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("bad certificate in {}", path.display()))?;
    anyhow::ensure!(!certs.is_empty(), "no certificate in {}", path.display());
    Ok(certs)
}

fn load_tls(tls: &TlsFiles) -> anyhow::Result<rustls::ServerConfig> {
    let certs = read_certificates(&tls.cert)?;
    let key = PrivateKeyDer::from_pem_file(&tls.key)
        .with_context(|| format!("cannot read a private key from {}", tls.key.display()))?;
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the certificate and key do not make a TLS configuration")
}
