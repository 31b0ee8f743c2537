//! Text without `core::fmt`: the formatting machinery costs the wasm
//! kilobytes, and the messages here only ever need a number or two.

/// `n` in decimal.
pub fn decimal(mut n: u32) -> String {
    let mut digits = Vec::with_capacity(10);
    loop {
        digits.push(char::from(b'0' + (n % 10) as u8));
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits.iter().rev().collect()
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::decimal;

    #[test]
    fn decimals() {
        for n in [0, 1, 9, 10, 401, 65_535, u32::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
    }
}
