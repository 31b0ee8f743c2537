//! Stateless TURN nonces: the NONCE a client gets in a 401 or 438 is
//! computed, not stored, so a flood of unauthenticated requests (from
//! spoofable sources) costs the server no memory. A nonce is the time it was
//! issued and an HMAC of that time and the client's address under a key that
//! lives as long as the process: the client's retry proves it heard our
//! answer at that address, recently.

use std::net::SocketAddr;

use ring::hmac;

/// How long a nonce is accepted (the lifetime webrtc-rs `turn` used).
pub const NONCE_LIFETIME_SECS: u64 = 3600;

/// Hex digits of the timestamp, then of the truncated MAC: 32 in all.
const TIME_HEX: usize = 8;
const MAC_BYTES: usize = 12;

/// Issues and checks nonces under a per-process key.
pub struct NonceKey {
    key: hmac::Key,
}

impl NonceKey {
    /// A key from `secret` (at least 32 random bytes in production).
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// A key of fresh random bytes.
    pub fn random() -> Self {
        Self::new(&rand::random::<[u8; 32]>())
    }

    /// The nonce for `client` at `now` (Unix seconds).
    pub fn issue(&self, client: SocketAddr, now: u64) -> String {
        let time = (now & 0xffff_ffff) as u32;
        format!("{time:08x}{}", hex(&self.mac(time, client)))
    }

    /// True when `nonce` was issued to `client` by this key less than
    /// [`NONCE_LIFETIME_SECS`] before `now`.
    pub fn accepts(&self, nonce: &str, client: SocketAddr, now: u64) -> bool {
        if nonce.len() != TIME_HEX + 2 * MAC_BYTES || !nonce.is_ascii() {
            return false;
        }
        let (time, mac) = nonce.split_at(TIME_HEX);
        let Ok(time) = u32::from_str_radix(time, 16) else {
            return false;
        };
        // The time wraps in 2106; compare in u32 arithmetic.
        let age = (now as u32).wrapping_sub(time);
        if u64::from(age) >= NONCE_LIFETIME_SECS {
            return false;
        }
        // Every byte compared, whatever differs first: no timing oracle.
        let expected = hex(&self.mac(time, client));
        let difference = expected
            .bytes()
            .zip(mac.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        difference == 0
    }

    fn mac(&self, time: u32, client: SocketAddr) -> [u8; MAC_BYTES] {
        let mut context = hmac::Context::with_key(&self.key);
        context.update(&time.to_be_bytes());
        match client.ip() {
            std::net::IpAddr::V4(ip) => context.update(&ip.octets()),
            std::net::IpAddr::V6(ip) => context.update(&ip.octets()),
        }
        context.update(&client.port().to_be_bytes());
        let tag = context.sign();
        let mut mac = [0u8; MAC_BYTES];
        mac.copy_from_slice(&tag.as_ref()[..MAC_BYTES]);
        mac
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_nonce_is_accepted_from_its_client_within_its_lifetime_only() {
        let key = NonceKey::new(b"k");
        let client = addr("198.51.100.1:5000");
        let nonce = key.issue(client, 1_000_000);
        assert_eq!(nonce.len(), 32);
        assert!(key.accepts(&nonce, client, 1_000_000));
        assert!(key.accepts(&nonce, client, 1_000_000 + NONCE_LIFETIME_SECS - 1));
        assert!(!key.accepts(&nonce, client, 1_000_000 + NONCE_LIFETIME_SECS));
        // Issued "in the future": a forged time.
        assert!(!key.accepts(&nonce, client, 999_999));
        assert!(!key.accepts(&nonce, addr("198.51.100.1:5001"), 1_000_000));
        assert!(!key.accepts(&nonce, addr("198.51.100.2:5000"), 1_000_000));
        assert!(!NonceKey::new(b"other").accepts(&nonce, client, 1_000_000));
    }

    #[test]
    fn garbage_is_refused() {
        let key = NonceKey::new(b"k");
        let client = addr("[2001:db8::1]:5000");
        let good = key.issue(client, 50);
        let mut tampered = good.clone();
        tampered.replace_range(31.., if good.ends_with('0') { "1" } else { "0" });
        for bad in [
            "",
            "n1",
            "zzzzzzzz000000000000000000000000",
            tampered.as_str(),
            &good[..31],
        ] {
            assert!(!key.accepts(bad, client, 50), "{bad:?}");
        }
        assert!(key.accepts(&good, client, 50));
    }
}
