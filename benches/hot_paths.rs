//! Micro-benchmarks of the hot paths: sealing and opening envelopes (signed, and encrypted per
//! epoch for private rooms), tickets, drawing a 10,000-line history into a terminal buffer, a
//! received line's `--json` output, and a message's trip through the store thread.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use parlor::app::{App, Msg};
use parlor::headless::json::terminal_safe;
use parlor::headless::{Report, RoomTag, format_in, to_json};
use parlor::proto::room::{ChangeKind, ChatLine, Event, LineChange, Record};
use parlor::proto::seal;
use parlor::proto::ticket::Ticket;
use parlor::proto::wire::{self, MessageBody, Payload};
use parlor::proto::{EndpointAddr, MemberInfo, MessageId, SecretKey, TopicId, UnixMillis};
use parlor::store::{Store, StoreThread};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

fn envelope(c: &mut Criterion) {
    let key = SecretKey::from_bytes(&[1; 32]);
    let topic = TopicId::from_bytes([2; 32]);
    let payload = Payload {
        nonce: 42,
        sent: 1_750_000_000_000,
        body: MessageBody::Message {
            from: key.public(),
            text: "x".repeat(200),
            action: false,
            file: None,
            reply_to: None,
            change: None,
        },
    };
    c.bench_function("envelope seal (encode + sign)", |b| {
        b.iter(|| wire::seal(black_box(&key), &topic, black_box(&payload)))
    });
    let sealed = wire::seal(&key, &topic, &payload).unwrap();
    let now = UnixMillis(1_750_000_000_000);
    c.bench_function("envelope open (decode + verify)", |b| {
        b.iter(|| wire::open(black_box(&sealed), &topic, now))
    });
    // What a room does: the author's key was seen before, so it is not decompressed again.
    let mut verifier = wire::Verifier::default();
    c.bench_function("envelope open, known author (decode + verify)", |b| {
        b.iter(|| verifier.open(black_box(&sealed), &topic, now))
    });
}

/// A private room's cost per line on top of the signed envelope (issue 23: at most 5 µs each).
fn sealing(c: &mut Criterion) {
    let key = seal::message_key(&seal::EpochKey::from_bytes([3; 32]));
    let line = [b'x'; 200];
    c.bench_function("seal a 200-byte line (XChaCha20-Poly1305)", |b| {
        b.iter(|| seal::seal(black_box(&key), black_box(&line)))
    });
    let sealed = seal::seal(&key, &line);
    c.bench_function("open a 200-byte line (XChaCha20-Poly1305)", |b| {
        b.iter(|| seal::open(black_box(&key), black_box(&sealed)))
    });
}

fn ticket(c: &mut Criterion) {
    let peers = (0..4u8)
        .map(|i| {
            EndpointAddr::new(SecretKey::from_bytes(&[i + 1; 32]).public())
                .with_ip_addr(format!("192.0.2.{i}:4242").parse().unwrap())
        })
        .collect();
    let ticket = Ticket::new(TopicId::from_bytes([3; 32]), peers);
    c.bench_function("ticket encode (4 peers)", |b| {
        b.iter(|| black_box(&ticket).to_string())
    });
    let text = ticket.to_string();
    c.bench_function("ticket decode (4 peers)", |b| {
        b.iter(|| black_box(&text).parse::<Ticket>())
    });
}

fn render(c: &mut Criterion) {
    let offset = chrono::FixedOffset::east_opt(0).unwrap();
    let mut app = App::new(None, Rect::new(0, 0, 120, 40), offset);
    let author = MemberInfo {
        id: SecretKey::from_bytes(&[5; 32]).public(),
        name: "sam".into(),
        display: "sam".into(),
    };
    for i in 0..10_000u64 {
        let line = ChatLine {
            id: MessageId::of(&i.to_le_bytes()),
            author: author.clone(),
            text: format!(
                "message {i}: the quick brown fox jumps over the lazy dog, twice over the fence"
            ),
            action: false,
            sent: UnixMillis(1_750_000_000_000 + i * 1000),
            history: false,
            envelope: Arc::from(&b""[..]),
            file: None,
            reply_to: None,
            change: None,
        };
        app.update(Msg::Room(Event::MessageReceived(line)), UnixMillis(0));
    }
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    c.bench_function("draw 10,000-line history (120x40)", |b| {
        b.iter(|| {
            terminal
                .draw(|frame| parlor::ui::view(&app, frame))
                .map(|_| ())
        })
    });
    // Issue 24's target: a line with 1,000 reactions (1,000 members, the usual eight emoji)
    // still draws a frame within 16 ms.
    let newest = MessageId::of(&9_999u64.to_le_bytes());
    let usual = ["👍", "❤️", "😂", "🎉", "😮", "😢", "👀", "🙏"];
    for n in 0..1_000u32 {
        let mut seed = [0u8; 32];
        seed[..4].copy_from_slice(&n.to_le_bytes());
        seed[31] = 9;
        let by = SecretKey::from_bytes(&seed).public();
        let reaction = ChatLine {
            id: MessageId::of(&seed),
            author: MemberInfo {
                id: by,
                name: format!("m{n}"),
                display: format!("m{n}"),
            },
            text: String::new(),
            action: false,
            sent: UnixMillis(1_750_000_000_000 + 10_000_000 + u64::from(n)),
            history: false,
            envelope: Arc::from(&b""[..]),
            file: None,
            reply_to: None,
            change: Some(Box::new(LineChange {
                to: newest,
                kind: ChangeKind::React {
                    emoji: usual[n as usize % usual.len()].into(),
                    on: true,
                },
            })),
        };
        app.update(Msg::Room(Event::Changed(reaction)), UnixMillis(0));
    }
    c.bench_function("draw with 1,000 reactions on one line (120x40)", |b| {
        b.iter(|| {
            terminal
                .draw(|frame| parlor::ui::view(&app, frame))
                .map(|_| ())
        })
    });
}

/// What "saved before shown" costs a received message: hand one record to the store thread
/// (a real file database in WAL mode) and wait for its commit to be acknowledged.
fn store(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("parlor-bench-store-{}", std::process::id()));
    let thread = StoreThread::spawn(Store::open(&dir).expect("store")).expect("thread");
    let store = thread.handle();
    let topic = TopicId::from_bytes([2; 32]);
    let author = MemberInfo {
        id: SecretKey::from_bytes(&[1; 32]).public(),
        name: "ann".into(),
        display: "ann".into(),
    };
    let line = |seq: u64| {
        Record::Message(ChatLine {
            id: MessageId::of(&seq.to_le_bytes()),
            author: author.clone(),
            text: "x".repeat(200),
            action: false,
            sent: UnixMillis(1_750_000_000_000 + seq),
            history: false,
            envelope: Arc::from(vec![7u8; 400]),
            file: None,
            reply_to: None,
            change: None,
        })
    };
    // The database's part alone, on this thread.
    let direct_dir = dir.with_extension("direct");
    let direct = Store::open(&direct_dir).expect("store");
    let mut seq = 0u64;
    c.bench_function(
        "store: one message in its own transaction, same thread",
        |b| {
            b.iter(|| {
                seq += 1;
                let record = line(seq);
                direct.save_all(std::iter::once((topic, &record, UnixMillis(1))))
            })
        },
    );
    drop(direct);
    let _ = std::fs::remove_dir_all(direct_dir);
    let (done, mut acks) = tokio::sync::mpsc::unbounded_channel();
    // Someone's line waits for its commit; our own line goes to the journal and is
    // acknowledged there, the commit coming with the next ones.
    for (label, awaited) in [
        ("store: save a message and wait for its commit", false),
        (
            "store: save our own line and wait until it is on disk",
            true,
        ),
    ] {
        c.bench_function(label, |b| {
            b.iter(|| {
                seq += 1;
                let record = line(seq);
                store
                    .save(topic, vec![record], UnixMillis(1), seq, &done, awaited)
                    .expect("store thread");
                acks.blocking_recv()
            })
        });
    }
    drop(store);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(thread.close(std::time::Duration::from_secs(5)));
    let _ = std::fs::remove_dir_all(dir);
}

/// The `--json` line a member prints for each line received (the room bench's 180-character
/// text), straight to text as headless mode prints it, and by the general path through a
/// `serde_json::Value` tree that it prints every other report by.
fn json_line(c: &mut Criterion) {
    let line = ChatLine {
        id: MessageId::of(b"a line"),
        author: MemberInfo {
            id: SecretKey::from_bytes(&[5; 32]).public(),
            name: "sam".into(),
            display: "sam".into(),
        },
        text: format!("3:17:4242:{}", "x".repeat(180)),
        action: false,
        sent: UnixMillis(1_750_000_000_000),
        history: false,
        envelope: Arc::from(&b""[..]),
        file: None,
        reply_to: None,
        change: None,
    };
    let report = Report::Room(Event::MessageReceived(line));
    let topic = TopicId::from_bytes([3; 32]);
    let tag = RoomTag {
        topic: &topic,
        name: "room",
        prefix_text: false,
    };
    c.bench_function("json line of a received message (--json)", |b| {
        b.iter(|| format_in(black_box(&report), true, Some(tag), None))
    });
    c.bench_function("json line of a received message, general path", |b| {
        b.iter(|| terminal_safe(&to_json(black_box(&report), Some(&topic), None)))
    });
}

criterion_group!(benches, envelope, sealing, ticket, render, json_line, store);
criterion_main!(benches);
