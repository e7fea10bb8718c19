//! Rate limits: token buckets for the frames of one connection and the connections of one
//! client address.
//!
//! Time comes in as milliseconds from the caller; the core reads no clock. A clock that goes
//! backwards refills nothing rather than failing.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::{error_frame, Effect, ErrorCode, PeerId};

/// `amount` events per `period_ms`, in bursts of up to `burst`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub amount: u32,
    pub period_ms: u32,
    pub burst: u32,
}

impl Rate {
    pub fn per_second(amount: u32, burst: u32) -> Self {
        Self {
            amount,
            period_ms: 1000,
            burst,
        }
    }

    pub fn per_minute(amount: u32, burst: u32) -> Self {
        Self {
            amount,
            period_ms: 60_000,
            burst,
        }
    }

    /// What one event costs, in the bucket's units (see [`TokenBucket`]).
    fn cost(self) -> u64 {
        u64::from(self.period_ms)
    }

    fn capacity(self) -> u64 {
        u64::from(self.burst).saturating_mul(self.cost())
    }

    /// How long an empty bucket takes to fill, in ms.
    fn refill_ms(self) -> u64 {
        self.capacity()
            .checked_div(u64::from(self.amount))
            .unwrap_or(u64::MAX)
    }
}

/// A token bucket kept in exact integers: one event costs `period_ms` units and every
/// millisecond adds `amount` units, so `amount` events per period refill with no rounding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenBucket {
    level: u64,
    last_ms: u64,
}

impl TokenBucket {
    /// A full bucket: a newcomer may burst at once.
    pub fn full(rate: Rate, now_ms: u64) -> Self {
        Self {
            level: rate.capacity(),
            last_ms: now_ms,
        }
    }

    fn refill(&mut self, rate: Rate, now_ms: u64) {
        let elapsed = now_ms.saturating_sub(self.last_ms);
        self.last_ms = self.last_ms.max(now_ms);
        self.level = self
            .level
            .saturating_add(elapsed.saturating_mul(u64::from(rate.amount)))
            .min(rate.capacity());
    }

    /// Takes one event's worth if there is one; `false` means over the limit.
    pub fn take(&mut self, rate: Rate, now_ms: u64) -> bool {
        self.refill(rate, now_ms);
        if self.level >= rate.cost() {
            self.level -= rate.cost();
            true
        } else {
            false
        }
    }

    /// Takes `n` events' worth (bytes, for a byte budget) if there is that much; `false`
    /// takes nothing.
    pub fn take_n(&mut self, rate: Rate, now_ms: u64, n: u64) -> bool {
        self.refill(rate, now_ms);
        let cost = rate.cost().saturating_mul(n);
        if self.level >= cost {
            self.level -= cost;
            true
        } else {
            false
        }
    }

    /// Whether the bucket would be full at `now_ms`: forgetting it then changes nothing.
    pub fn is_full_at(&self, rate: Rate, now_ms: u64) -> bool {
        let mut probe = *self;
        probe.refill(rate, now_ms);
        probe.level >= rate.capacity()
    }
}

/// What to do with a frame, as decided by [`FloodGuard::on_frame`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Within the limit: handle the frame.
    Pass,
    /// Over the limit: drop the frame and perform these effects (an error frame to the sender).
    Drop(Vec<Effect>),
    /// Over the limit for too long: perform these effects (an error frame and a close), then
    /// remove the sender from the stream.
    Expel(Vec<Effect>),
}

/// The frame rate limit of every connection in one stream.
///
/// Each connection has its own bucket, so one client's flood never costs another client
/// anything. A frame over the limit is dropped with a `rate-limited` error; a connection that
/// has had `close_after` frames dropped without once letting its bucket fill up again is
/// flooding, and is closed (`flooding`, close 4022). `close_after == 0` never closes.
///
/// The buckets live in memory only. After a hibernation wake-up every connection starts with a
/// full bucket, which is harmless: the object only hibernates after seconds without a frame,
/// long enough for any bucket to have refilled anyway.
#[derive(Clone, Debug)]
pub struct FloodGuard {
    rate: Rate,
    close_after: u32,
    peers: HashMap<PeerId, PeerBucket>,
}

#[derive(Clone, Copy, Debug)]
struct PeerBucket {
    bucket: TokenBucket,
    dropped: u32,
    /// When the last frame was dropped.
    last_drop: u64,
}

impl FloodGuard {
    pub fn new(rate: Rate, close_after: u32) -> Self {
        Self {
            rate,
            close_after,
            peers: HashMap::new(),
        }
    }

    /// Counts a frame (of any kind) from `id` at `now_ms`.
    pub fn on_frame(&mut self, id: &PeerId, now_ms: u64) -> Verdict {
        let rate = self.rate;
        let peer = self.peers.entry(id.clone()).or_insert(PeerBucket {
            bucket: TokenBucket::full(rate, now_ms),
            dropped: 0,
            last_drop: now_ms,
        });
        // Quiet long enough to refill completely: past drops are forgiven. "Completely" is
        // counted from the last drop too: a frame refused by another budget (see `refuse`)
        // takes nothing from this bucket, which a sender at a modest frame rate keeps full.
        let quiet = now_ms.saturating_sub(peer.last_drop) >= rate.refill_ms();
        if peer.bucket.is_full_at(rate, now_ms) && quiet {
            peer.dropped = 0;
        }
        if peer.bucket.take(rate, now_ms) {
            return Verdict::Pass;
        }
        self.count_drop(id, now_ms, ErrorCode::RateLimited, ErrorCode::Flooding)
    }

    /// A frame that passed the rate limit was refused by another budget (`code`, e.g. the
    /// relay byte budget): it counts as a dropped frame, so a client that keeps at it is
    /// closed like a flooder, with `close` as the reason.
    pub fn refuse(
        &mut self,
        id: &PeerId,
        now_ms: u64,
        code: ErrorCode,
        close: ErrorCode,
    ) -> Verdict {
        self.count_drop(id, now_ms, code, close)
    }

    fn count_drop(
        &mut self,
        id: &PeerId,
        now_ms: u64,
        code: ErrorCode,
        close: ErrorCode,
    ) -> Verdict {
        let rate = self.rate;
        let peer = self.peers.entry(id.clone()).or_insert(PeerBucket {
            bucket: TokenBucket::full(rate, now_ms),
            dropped: 0,
            last_drop: now_ms,
        });
        peer.dropped = peer.dropped.saturating_add(1);
        peer.last_drop = now_ms;
        if self.close_after > 0 && peer.dropped >= self.close_after {
            self.peers.remove(id);
            return Verdict::Expel(vec![
                Effect::Send {
                    to: id.clone(),
                    text: error_frame(close, None),
                },
                Effect::Close {
                    to: id.clone(),
                    code: close.close_code(),
                    reason: close.code().into(),
                },
            ]);
        }
        Verdict::Drop(vec![Effect::Send {
            to: id.clone(),
            text: error_frame(code, None),
        }])
    }

    /// The connection is gone: drop its bucket.
    pub fn forget(&mut self, id: &PeerId) {
        self.peers.remove(id);
    }

    /// How many connections have a bucket (for tests: buckets must not outlive connections).
    pub fn tracked(&self) -> usize {
        self.peers.len()
    }
}

/// The rate-limiting key of a client address (`CF-Connecting-IP`): an IPv4 address as is, an
/// IPv6 address by its /64 (the block one subscriber line or host is given, so rotating
/// addresses inside it gains nothing). IPv6 is read in every form (`::` shorthand, leading
/// zeros, upper case, an embedded dotted quad, brackets, a zone); an IPv4-mapped IPv6 address
/// (`::ffff:192.0.2.1`) is its IPv4 address. Text that is no address (never sent by Cloudflare's
/// edge) is its own key, cut to 64 characters, so it is limited like any other.
pub fn client_key(address: &str) -> String {
    let text = address.trim();
    if let Ok(v4) = text.parse::<Ipv4Addr>() {
        return format!("ip4:{v4}");
    }
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    let bare = bare
        .split_once('%')
        .map_or(bare, |(address, _zone)| address);
    match bare.parse::<Ipv6Addr>() {
        Ok(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("ip4:{v4}"),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                format!("ip6:{a:x}:{b:x}:{c:x}:{d:x}::/64")
            }
        },
        Err(_) => format!("other:{}", text.chars().take(64).collect::<String>()),
    }
}

/// Connection attempts per key (a client address), best effort: the table lives in one
/// isolate's memory, so it limits what one Worker instance sees, not the whole deployment.
#[derive(Clone, Debug)]
pub struct KeyedLimiter {
    rate: Rate,
    max_keys: usize,
    buckets: HashMap<String, TokenBucket>,
}

/// How many addresses a [`KeyedLimiter`] tracks before it prunes.
pub const DEFAULT_MAX_KEYS: usize = 10_000;

impl KeyedLimiter {
    pub fn new(rate: Rate, max_keys: usize) -> Self {
        Self {
            rate,
            max_keys,
            buckets: HashMap::new(),
        }
    }

    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// Counts an attempt by `key` at `now_ms`; `false` means refuse it.
    pub fn allow(&mut self, key: &str, now_ms: u64) -> bool {
        let rate = self.rate;
        if let Some(bucket) = self.buckets.get_mut(key) {
            return bucket.take(rate, now_ms);
        }
        if self.buckets.len() >= self.max_keys {
            // A full bucket is the same as no bucket, so those go first. If every tracked key is
            // still limited (many addresses at once), a newcomer is refused until one refills:
            // memory stays bounded and the limit never opens up under the very load it is for.
            self.buckets.retain(|_, b| !b.is_full_at(rate, now_ms));
            if self.buckets.len() >= self.max_keys {
                return false;
            }
        }
        let mut bucket = TokenBucket::full(rate, now_ms);
        let allowed = bucket.take(rate, now_ms);
        self.buckets.insert(key.to_owned(), bucket);
        allowed
    }

    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let rate = Rate::per_second(10, 5);
        let mut b = TokenBucket::full(rate, 0);
        for _ in 0..5 {
            assert!(b.take(rate, 0));
        }
        assert!(!b.take(rate, 0));
        assert!(!b.take(rate, 99));
        assert!(b.take(rate, 100), "one event per 100 ms at 10/s");
        assert!(!b.take(rate, 150));
        // A long pause refills only up to the burst.
        let later = 1_000_000;
        for _ in 0..5 {
            assert!(b.take(rate, later));
        }
        assert!(!b.take(rate, later));
    }

    #[test]
    fn a_clock_going_backwards_refills_nothing() {
        let rate = Rate::per_second(1, 1);
        let mut b = TokenBucket::full(rate, 10_000);
        assert!(b.take(rate, 10_000));
        assert!(!b.take(rate, 0));
        assert!(!b.take(rate, 10_500));
        assert!(b.take(rate, 11_000));
    }

    #[test]
    fn extreme_rates_saturate_instead_of_overflowing() {
        let rate = Rate {
            amount: u32::MAX,
            period_ms: u32::MAX,
            burst: u32::MAX,
        };
        let mut b = TokenBucket::full(rate, 0);
        assert!(b.take(rate, u64::MAX));
        let none = Rate::per_second(0, 0);
        let mut b = TokenBucket::full(none, 0);
        assert!(!b.take(none, u64::MAX));
    }

    fn peer(s: &str) -> PeerId {
        PeerId::from(s)
    }

    #[test]
    fn frames_over_the_rate_are_dropped_with_an_error_to_the_sender_only() {
        let mut guard = FloodGuard::new(Rate::per_second(10, 3), 0);
        let a = peer("a");
        for _ in 0..3 {
            assert_eq!(guard.on_frame(&a, 0), Verdict::Pass);
        }
        let Verdict::Drop(effects) = guard.on_frame(&a, 0) else {
            panic!("expected a drop");
        };
        assert_eq!(
            effects,
            vec![Effect::Send {
                to: a.clone(),
                text: error_frame(ErrorCode::RateLimited, None)
            }]
        );
        // Another connection has its own bucket.
        assert_eq!(guard.on_frame(&peer("b"), 0), Verdict::Pass);
        // close_after == 0: dropping goes on forever without closing.
        for _ in 0..1000 {
            assert!(matches!(guard.on_frame(&a, 0), Verdict::Drop(_)));
        }
    }

    #[test]
    fn persistent_flooding_closes_the_connection() {
        let mut guard = FloodGuard::new(Rate::per_second(10, 2), 3);
        let a = peer("a");
        assert_eq!(guard.on_frame(&a, 0), Verdict::Pass);
        assert_eq!(guard.on_frame(&a, 0), Verdict::Pass);
        assert!(matches!(guard.on_frame(&a, 0), Verdict::Drop(_)));
        // A frame let through on the refill does not forgive past drops.
        assert_eq!(guard.on_frame(&a, 100), Verdict::Pass);
        assert!(matches!(guard.on_frame(&a, 100), Verdict::Drop(_)));
        let Verdict::Expel(effects) = guard.on_frame(&a, 100) else {
            panic!("expected an expulsion");
        };
        assert_eq!(
            effects,
            vec![
                Effect::Send {
                    to: a.clone(),
                    text: error_frame(ErrorCode::Flooding, None)
                },
                Effect::Close {
                    to: a.clone(),
                    code: 4022,
                    reason: "flooding".into()
                },
            ]
        );
        assert_eq!(guard.tracked(), 0);
    }

    #[test]
    fn a_quiet_spell_forgives_past_drops() {
        let mut guard = FloodGuard::new(Rate::per_second(10, 1), 2);
        let a = peer("a");
        assert_eq!(guard.on_frame(&a, 0), Verdict::Pass);
        assert!(matches!(guard.on_frame(&a, 0), Verdict::Drop(_)));
        // The bucket is full again after 100 ms of silence.
        assert_eq!(guard.on_frame(&a, 1000), Verdict::Pass);
        assert!(matches!(guard.on_frame(&a, 1000), Verdict::Drop(_)));
        assert!(matches!(guard.on_frame(&a, 1000), Verdict::Expel(_)));
    }

    #[test]
    fn forgotten_connections_leave_no_bucket() {
        let mut guard = FloodGuard::new(Rate::per_second(10, 1), 2);
        guard.on_frame(&peer("a"), 0);
        guard.on_frame(&peer("b"), 0);
        guard.forget(&peer("a"));
        assert_eq!(guard.tracked(), 1);
    }

    #[test]
    fn connection_attempts_are_limited_per_key() {
        let mut limiter = KeyedLimiter::new(Rate::per_minute(2, 2), 100);
        assert!(limiter.allow("10.0.0.1", 0));
        assert!(limiter.allow("10.0.0.1", 0));
        assert!(!limiter.allow("10.0.0.1", 0));
        assert!(
            limiter.allow("10.0.0.2", 0),
            "another address is unaffected"
        );
        assert!(!limiter.allow("10.0.0.1", 29_999));
        assert!(
            limiter.allow("10.0.0.1", 30_000),
            "2 per minute: one per 30 s"
        );
    }

    #[test]
    fn the_key_table_stays_bounded_and_does_not_fail_open_when_full() {
        let mut limiter = KeyedLimiter::new(Rate::per_minute(1, 1), 3);
        for key in ["a", "b", "c"] {
            assert!(limiter.allow(key, 0));
        }
        // All three still limited: a newcomer is refused, and a known key stays limited.
        assert!(!limiter.allow("d", 0));
        assert!(!limiter.allow("a", 0));
        assert_eq!(limiter.tracked(), 3);
        // After a minute a, b and c are full again: they are pruned and d gets in.
        assert!(limiter.allow("d", 60_000));
        assert_eq!(limiter.tracked(), 1);
    }

    #[test]
    fn client_keys_are_ipv4_addresses_and_ipv6_64s_however_written() {
        let same_v4 = [
            "192.0.2.1",
            " 192.0.2.1 ",
            "::ffff:192.0.2.1",
            "::FFFF:c000:0201",
            "[::ffff:192.0.2.1]",
        ];
        for address in same_v4 {
            assert_eq!(client_key(address), "ip4:192.0.2.1", "{address}");
        }
        let same_64 = [
            "2001:db8:1:2::1",
            "2001:db8:1:2:ffff:ffff:ffff:ffff",
            "2001:0DB8:0001:0002:0000:0000:0000:0001",
            "[2001:db8:1:2::99]",
            "2001:db8:1:2::1%eth0",
            "2001:db8:1:2:0:0:192.0.2.1",
        ];
        for address in same_64 {
            assert_eq!(client_key(address), "ip6:2001:db8:1:2::/64", "{address}");
        }
        assert_eq!(client_key("2001:db8:1:3::1"), "ip6:2001:db8:1:3::/64");
        assert_eq!(client_key("::1"), "ip6:0:0:0:0::/64");
        assert_eq!(client_key("::"), "ip6:0:0:0:0::/64");
        assert_eq!(client_key("fe80::1"), "ip6:fe80:0:0:0::/64");
        assert_ne!(client_key("192.0.2.1"), client_key("192.0.2.2"));
        assert_eq!(client_key("not an address"), "other:not an address");
        assert_eq!(client_key(&"x".repeat(1000)).len(), "other:".len() + 64);
        for odd in [
            "",
            "1.2.3",
            "1.2.3.4.5",
            "2001:db8::1::2",
            "[::1",
            "01.2.3.4",
            "é",
        ] {
            assert!(client_key(odd).starts_with("other:"), "{odd}");
        }
    }
}
