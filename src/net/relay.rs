//! `parlor relay`: the real iroh relay server (the `iroh-relay` release that matches our iroh),
//! for a team that wants no public relay, or members behind two NATs with none reachable.
//!
//! Plain HTTP serves labs and LANs; with a certificate and key it serves HTTPS and QUIC address
//! discovery (which lets members behind NATs learn their public address and punch holes).

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use iroh_relay::server::{
    Access, AccessControl, CertConfig, ClientRequest, ConnectionId, QuicConfig,
    RelayConfig as RelayServerConfig, Server, ServerConfig, TlsConfig,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::proto::EndpointId;

/// The UDP port clients probe for QUIC address discovery (iroh's default).
pub const QAD_PORT: u16 = 7842;

#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// Where the relay listens (HTTPS when `tls` is set, else HTTP).
    pub bind: SocketAddr,
    /// With TLS: where the plain-HTTP captive-portal probe listens.
    pub http_bind: Option<SocketAddr>,
    pub tls: Option<TlsFiles>,
}

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Run the relay until `stop` completes or the server fails. `log` gets one line when it
/// listens and one per client connection.
pub async fn serve(
    options: RelayOptions,
    log: impl Fn(String) + Send + Sync + 'static,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let log = Arc::new(log);
    let mut relay = RelayServerConfig::new(options.bind);
    relay.access = Arc::new(LogClients {
        log: log.clone(),
        connected: AtomicUsize::new(0),
    });
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
    let mut server = Server::spawn(config)
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
        "relay listening at {scheme}://{addr} (clients: --relay {scheme}://{client_addr}){}",
        match server.quic_addr() {
            Some(quic) => format!("; QUIC address discovery on udp {quic}"),
            None => String::new(),
        }
    ));
    let exited = tokio::select! {
        () = stop => None,
        result = server.join() => Some(result),
    };
    match exited {
        // Not `shutdown()` after `join()` returned: that polls the finished task again.
        Some(Ok(Ok(()))) => anyhow::bail!("the relay stopped by itself"),
        Some(Ok(Err(err))) => Err(err).context("the relay failed"),
        Some(Err(err)) => Err(err).context("the relay task failed"),
        None => server.shutdown().await.context("relay shutdown"),
    }
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

/// Admits everyone, logging each connection.
struct LogClients {
    log: Arc<dyn Fn(String) + Send + Sync>,
    connected: AtomicUsize,
}

impl std::fmt::Debug for LogClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogClients")
    }
}

impl AccessControl for LogClients {
    async fn on_connect(&self, request: &ClientRequest) -> Access {
        let now = self.connected.fetch_add(1, Ordering::Relaxed) + 1;
        (self.log)(format!(
            "client {} connected ({now} connected)",
            request.endpoint_id().fmt_short()
        ));
        Access::Allow
    }

    fn on_disconnect(&self, _endpoint_id: EndpointId, _connection_id: ConnectionId) {
        self.connected.fetch_sub(1, Ordering::Relaxed);
    }
}
