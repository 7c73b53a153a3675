//! Micro-benchmarks of the hot paths: sealing and opening envelopes, tickets, and drawing a
//! 10,000-line history into a terminal buffer.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use parlor::app::{App, Msg};
use parlor::proto::room::{ChatLine, Event};
use parlor::proto::ticket::Ticket;
use parlor::proto::wire::{self, MessageBody, Payload};
use parlor::proto::{EndpointAddr, MemberInfo, MessageId, SecretKey, TopicId, UnixMillis};
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
}

criterion_group!(benches, envelope, ticket, render);
criterion_main!(benches);
