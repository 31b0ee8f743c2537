//! Text helpers for messages that need a number or two, and for splitting
//! on a byte.

/// `n` in decimal. Digits pushed as `&str`s: `char`s would bring in UTF-8
/// encoding, and `to_string` the formatting machinery.
pub fn decimal(n: u32) -> String {
    const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    let mut out = if n >= 10 {
        decimal(n / 10)
    } else {
        String::new()
    };
    out.push_str(DIGITS[(n % 10) as usize]);
    out
}

/// `parts` joined.
pub fn concat(parts: &[&str]) -> String {
    let mut out = String::new();
    for part in parts {
        out.push_str(part);
    }
    out
}

/// `s` around the first `byte`, which must be ASCII (so both halves are
/// whole UTF-8).
pub fn split_first(s: &str, byte: u8) -> Option<(&str, &str)> {
    let at = s.bytes().position(|b| b == byte)?;
    let (before, after) = s.split_at(at);
    Some((before, &after[1..]))
}

/// `s` around the last `byte` (ASCII), as [`split_first`].
pub fn split_last(s: &str, byte: u8) -> Option<(&str, &str)> {
    let at = s.bytes().rposition(|b| b == byte)?;
    let (before, after) = s.split_at(at);
    Some((before, &after[1..]))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::{concat, decimal, split_first, split_last};

    #[test]
    fn concat_matches_std() {
        for parts in [&[][..], &[""], &["a"], &["ab", "", "é", "cd"]] {
            assert_eq!(concat(parts), parts.concat());
        }
    }

    #[test]
    fn splits_match_std() {
        for s in ["", ":", "a:b", "a:b:c", "é:ü:", "no colon", "::"] {
            assert_eq!(split_first(s, b':'), s.split_once(':'), "{s}");
            assert_eq!(split_last(s, b':'), s.rsplit_once(':'), "{s}");
        }
    }

    #[test]
    fn decimals() {
        for n in [0, 1, 9, 10, 401, 65_535, u32::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
    }
}
