//! The little the peer needs to read from SDP.

use super::text::split_first;

/// The first `a=ice-ufrag:` value in `sdp`.
fn ice_ufrag(sdp: &str) -> Option<&str> {
    let mut rest = sdp;
    loop {
        let (line, next) = split_first(rest, b'\n').unwrap_or((rest, ""));
        if let Some(ufrag) = line.trim_ascii_end().strip_prefix("a=ice-ufrag:") {
            return Some(ufrag);
        }
        if next.is_empty() {
            return None;
        }
        rest = next;
    }
}

/// True when `next` restarts ICE relative to `previous`: an ICE restart
/// changes the username fragment, and no other renegotiation does.
pub fn is_ice_restart(previous: &str, next: &str) -> bool {
    matches!((ice_ufrag(previous), ice_ufrag(next)), (Some(a), Some(b)) if a != b)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::is_ice_restart;

    const OLD: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=ice-ufrag:abcd\r\na=ice-pwd:x\r\n";

    #[test]
    fn a_new_ufrag_is_a_restart() {
        let next = OLD.replace("ice-ufrag:abcd", "ice-ufrag:efgh");
        assert!(is_ice_restart(OLD, &next));
    }

    #[test]
    fn same_ufrag_or_none_is_not() {
        assert!(!is_ice_restart(OLD, OLD));
        assert!(!is_ice_restart(OLD, "v=0\r\n"));
        assert!(!is_ice_restart("", OLD));
    }
}
