//! Identifiers: a type prefix (`ord_`, `prod_`, …) and 26 Crockford base32 characters, time-ordered
//! (48-bit milliseconds then 80 random bits, as ULID) so that ids sort by creation and index well.

use rand::Rng;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// A new id such as `ord_01jd8m3x…`.
pub fn new_id(prefix: &str) -> String {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let rnd: u128 = rand::rng().random::<u128>() & ((1u128 << 80) - 1);
    let mut v = (ms << 80) | rnd;
    let mut buf = [0u8; 26];
    for b in buf.iter_mut().rev() {
        *b = ALPHABET[(v & 31) as usize];
        v >>= 5;
    }
    let mut s = String::with_capacity(prefix.len() + 27);
    s.push_str(prefix);
    s.push('_');
    s.push_str(std::str::from_utf8(&buf).unwrap_or_default());
    s
}

/// A random secret of `bytes` bytes, hex encoded (API keys, session tokens, webhook secrets).
pub fn random_token(bytes: usize) -> String {
    let mut out = String::with_capacity(bytes * 2);
    let mut rng = rand::rng();
    for _ in 0..bytes {
        out.push_str(&format!("{:02x}", rng.random::<u8>()));
    }
    out
}

/// A numeric code of `digits` digits (pickup codes, member codes).
pub fn random_digits(digits: usize) -> String {
    let mut rng = rand::rng();
    (0..digits).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_prefixed_and_sortable() {
        let a = super::new_id("ord");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = super::new_id("ord");
        assert!(a.starts_with("ord_") && a.len() == 30);
        assert!(a < b);
    }
}
