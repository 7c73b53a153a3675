//! The yardstick for file transfers: the same bytes over one plain QUIC stream between two
//! iroh endpoints on 127.0.0.1 (no relay, no lookup), measured in the same run as parlor.
//! Each endpoint runs on a thread of its own with a single-threaded runtime, as each parlor
//! process runs its network. Twice: file to file (read from disk, written to disk, as a tool
//! copying a file would) and memory to memory (the stream alone).

use std::path::Path;
use std::time::{Duration, Instant};

use iroh::endpoint::{PortmapperConfig, presets};
use iroh::{Endpoint, RelayMode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::stats::own_cpu_time;

const ALPN: &[u8] = b"parlor-bench/stream/0";
/// Bytes per read and write, on both sides.
const BLOCK: usize = 1 << 20;

/// How long each way took to move `size` bytes, from connecting to the receiver's
/// acknowledgement that it has all of them (written to disk, for the file run), and the
/// CPU both ends used for it (this process's, which runs nothing else meanwhile).
pub struct Stream {
    pub file_to_file: Duration,
    pub memory_to_memory: Duration,
    pub file_to_file_cpu: f64,
    pub memory_to_memory_cpu: f64,
}

pub fn run(source: &Path, size: u64, scratch: &Path) -> anyhow::Result<Stream> {
    let target = scratch.join("quic-stream.bin");
    let cpu = || own_cpu_time().as_secs_f64();
    let before = cpu();
    let file_to_file = transfer(Some(source), size, Some(&target))?;
    let file_to_file_cpu = cpu() - before;
    let copied = std::fs::metadata(&target)?.len();
    std::fs::remove_file(&target)?;
    anyhow::ensure!(
        copied == size,
        "the stream delivered {copied} of {size} bytes"
    );
    let before = cpu();
    let memory_to_memory = transfer(None, size, None)?;
    Ok(Stream {
        file_to_file,
        memory_to_memory,
        file_to_file_cpu,
        memory_to_memory_cpu: cpu() - before,
    })
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

async fn endpoint() -> anyhow::Result<Endpoint> {
    Ok(Endpoint::builder(presets::Minimal)
        .relay_mode(RelayMode::Disabled)
        .portmapper_config(PortmapperConfig::Disabled)
        .clear_ip_transports()
        .bind_addr("127.0.0.1:0")?
        .alpns(vec![ALPN.to_vec()])
        .bind()
        .await?)
}

/// `size` bytes from `source` (or a buffer) to `target` (or nowhere) over one stream: the
/// receiver on a thread of its own, the sender on this one.
fn transfer(source: Option<&Path>, size: u64, target: Option<&Path>) -> anyhow::Result<Duration> {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let target = target.map(Path::to_path_buf);
    let receiver = std::thread::spawn(move || {
        runtime()?.block_on(async move {
            let endpoint = endpoint().await?;
            addr_tx.send(endpoint.addr())?;
            let received = receive(&endpoint, target.as_deref()).await;
            endpoint.close().await;
            received
        })
    });
    let addr = addr_rx.recv()?;
    let took = runtime()?.block_on(async {
        let endpoint = endpoint().await?;
        let took = send(&endpoint, addr, source, size).await;
        endpoint.close().await;
        took
    });
    receiver
        .join()
        .map_err(|_| anyhow::anyhow!("the receiver panicked"))??;
    took
}

async fn receive(endpoint: &Endpoint, target: Option<&Path>) -> anyhow::Result<()> {
    let incoming = endpoint
        .accept()
        .await
        .ok_or_else(|| anyhow::anyhow!("no connection"))?;
    let conn = incoming.await?;
    let (mut ack, mut recv) = conn.accept_bi().await?;
    let mut file = match target {
        // Buffered as a copying tool would: one write per MiB, not per packet.
        Some(path) => Some(tokio::io::BufWriter::with_capacity(
            BLOCK,
            tokio::fs::File::create(path).await?,
        )),
        None => None,
    };
    let mut got = 0u64;
    while let Some(chunk) = recv.read_chunk(BLOCK).await? {
        got += chunk.len() as u64;
        if let Some(file) = &mut file {
            file.write_all(&chunk).await?;
        }
    }
    if let Some(file) = &mut file {
        file.flush().await?;
    }
    ack.write_all(&got.to_le_bytes()).await?;
    ack.finish()?;
    conn.closed().await;
    Ok(())
}

/// From connecting until the receiver acknowledged every byte.
async fn send(
    endpoint: &Endpoint,
    addr: iroh::EndpointAddr,
    source: Option<&Path>,
    size: u64,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let conn = endpoint.connect(addr, ALPN).await?;
    let (mut send, mut acked) = conn.open_bi().await?;
    let mut buf = vec![0x5au8; BLOCK];
    let mut file = match source {
        Some(path) => Some(tokio::fs::File::open(path).await?),
        None => None,
    };
    let mut sent = 0u64;
    while sent < size {
        let n = (size - sent).min(BLOCK as u64) as usize;
        if let Some(file) = &mut file {
            file.read_exact(&mut buf[..n]).await?;
        }
        send.write_all(&buf[..n]).await?;
        sent += n as u64;
    }
    send.finish()?;
    let mut got = [0u8; 8];
    acked.read_exact(&mut got).await?;
    let took = started.elapsed();
    anyhow::ensure!(u64::from_le_bytes(got) == size, "the stream lost bytes");
    conn.close(0u32.into(), b"done");
    Ok(took)
}
