//! The rate limits and the newcomers' shared allowance.

use super::newcomers::NEWCOMERS_HISTORY;
use super::*;
use crate::proto::SecretKey;

#[test]
fn a_flood_is_cut_to_the_rate_and_reported_once_a_minute() {
    let flooder = SecretKey::from_bytes(&[1; 32]).public();
    let honest = SecretKey::from_bytes(&[2; 32]).public();
    let mut limiter = Limiter::new(RateLimits::default());
    let start = Instant::now();
    // 200 lines a second for 10 s (10x the limit).
    let mut allowed = 0;
    for i in 0..2000u64 {
        let at = start + Duration::from_millis(i * 5);
        if limiter.allow(flooder, Kind::Message, at) {
            allowed += 1;
        }
        if i % 25 == 0 {
            assert!(
                limiter.allow(honest, Kind::Message, at),
                "8 lines a second pass"
            );
        }
    }
    // The burst of 50, then 20 a second for the 10 s.
    assert!((240..=252).contains(&allowed), "{allowed}");
    let first = limiter.due_reports(start + Duration::from_secs(10));
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].0, flooder);
    assert_eq!(first[0].1, 2000 - allowed);
    // More drops within the minute wait for the next report.
    let later = start + Duration::from_secs(10);
    while limiter.allow(flooder, Kind::Message, later) {}
    assert!(
        limiter
            .due_reports(start + Duration::from_secs(30))
            .is_empty()
    );
    let next = limiter.next_deadline().expect("a report is pending");
    assert_eq!(limiter.due_reports(next), vec![(flooder, 1)]);
}

#[test]
fn kinds_have_their_own_buckets_and_memory_is_bounded() {
    let mut limiter = Limiter::new(RateLimits::default());
    let now = Instant::now();
    let a = SecretKey::from_bytes(&[3; 32]).public();
    for _ in 0..3 {
        assert!(limiter.allow(a, Kind::Question, now));
    }
    assert!(!limiter.allow(a, Kind::Question, now));
    assert!(limiter.allow(a, Kind::Presence, now));
    for n in 0..(MAX_BUCKETS as u32 + 10) {
        let mut seed = [0u8; 32];
        seed[..4].copy_from_slice(&n.to_le_bytes());
        let key = SecretKey::from_bytes(&seed).public();
        limiter.allow(key, Kind::Message, now);
    }
    assert!(limiter.buckets.len() <= MAX_BUCKETS);
}

#[test]
fn a_bucket_says_how_long_to_wait() {
    let limit = RateLimit {
        per_second: 0.5,
        burst: 1,
    };
    let now = Instant::now();
    let mut bucket = Bucket::full(limit, now);
    assert!(bucket.take(limit, now).is_ok());
    assert_eq!(bucket.take(limit, now), Err(Duration::from_secs(2)));
    assert!(bucket.take(limit, now + Duration::from_secs(2)).is_ok());
}

fn key(n: u32) -> EndpointId {
    let mut seed = [9u8; 32];
    seed[..4].copy_from_slice(&n.to_le_bytes());
    SecretKey::from_bytes(&seed).public()
}

#[test]
fn keys_first_heard_after_we_joined_share_one_allowance_until_they_are_old() {
    let mut limiter = Limiter::new(RateLimits::default());
    let start = Instant::now();
    limiter.joined(start);
    let member = key(0);
    assert!(limiter.allow_sized(member, Kind::Message, 100, start));
    // Two minutes later, 500 fresh keys each send a line a second for 10 s.
    let later = start + Duration::from_secs(120);
    let mut allowed = 0;
    let mut member_allowed = 0;
    for s in 0..10u64 {
        let at = later + Duration::from_secs(s);
        for n in 1..=500 {
            if limiter.allow_sized(key(n), Kind::Message, 100, at) {
                allowed += 1;
            }
        }
        if limiter.allow_sized(member, Kind::Message, 100, at) {
            member_allowed += 1;
        }
    }
    let one = RateLimits::default().messages;
    let share = f64::from(one.burst) + 10.0 * one.per_second;
    assert!(f64::from(allowed) <= share + 1.0, "{allowed} of 5,000");
    assert_eq!(member_allowed, 10, "a member keeps its own share");
    // Ten minutes on, a newcomer has a share of its own.
    let old = later + NEWCOMER_FOR + Duration::from_secs(1);
    let passed = (0..40).filter(|_| limiter.allow_sized(key(1), Kind::Message, 100, old));
    assert_eq!(passed.count(), 40);
}

#[test]
fn keys_heard_as_we_join_and_restored_ones_are_no_newcomers() {
    let mut limiter = Limiter::new(RateLimits::default());
    let start = Instant::now();
    limiter.establish([key(7)]);
    limiter.joined(start);
    let soon = start + Duration::from_secs(5);
    for n in 0..300 {
        // Each of a large room's members, heard at once as we join.
        assert!(limiter.allow_sized(key(100 + n), Kind::Message, 100, soon));
    }
    let much_later = start + Duration::from_secs(3600);
    let passed = (0..40).filter(|_| limiter.allow_sized(key(7), Kind::Message, 100, much_later));
    assert_eq!(passed.count(), 40);
}

#[test]
fn a_key_is_limited_in_bytes_too() {
    let mut limiter = Limiter::new(RateLimits::default());
    let start = Instant::now();
    let big = key(3);
    let mut bytes = 0;
    // 20 lines of 32 KiB a second for 10 s: within the line rate, far over the byte rate.
    for i in 0..200u64 {
        let at = start + Duration::from_millis(i * 50);
        if limiter.allow_sized(big, Kind::Message, 32 * 1024, at) {
            bytes += 32 * 1024;
        }
    }
    let limit = RateLimits::default().bytes;
    let most = f64::from(limit.burst) + 10.0 * limit.per_second;
    assert!(f64::from(bytes) <= most + 32.0 * 1024.0, "{bytes}");
    assert!(bytes >= 512 * 1024);
}

#[test]
fn catch_up_lines_from_unknown_keys_share_an_allowance() {
    let mut limiter = Limiter::new(RateLimits::default());
    let now = Instant::now();
    limiter.establish([key(1)]);
    let kept = (0..20_000u32)
        .filter(|n| limiter.allow_history(key(1_000 + n % 1_000), 100, now))
        .count();
    assert_eq!(kept, NEWCOMERS_HISTORY.burst as usize);
    assert!((0..20_000).all(|_| limiter.allow_history(key(1), 100, now)));
}
