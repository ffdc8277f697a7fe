//! Opaque page cursors. Every list answers `{data, has_more, next_cursor}` and takes `after=<next_cursor>`;
//! a cursor names the list it belongs to, so a made-up or foreign cursor is refused (`invalid_cursor`)
//! instead of silently starting over.

use crate::ApiError;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The cursor for the item `key` of list `kind`.
pub fn encode(kind: &str, key: &str) -> String {
    let raw = format!("{kind}:{key}");
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// The key a cursor of list `kind` points after.
pub fn decode(kind: &str, cursor: &str) -> Result<String, ApiError> {
    let invalid = || {
        ApiError::bad(
            "invalid_cursor",
            "`after` takes the `next_cursor` of the previous page of this same list, unchanged",
        )
    };
    if cursor.len() > 512 {
        return Err(invalid());
    }
    let mut bytes = Vec::with_capacity(cursor.len() * 3 / 4);
    let digits: Option<Vec<u32>> =
        cursor.bytes().map(|c| ALPHABET.iter().position(|a| *a == c).map(|p| p as u32)).collect();
    let digits = digits.ok_or_else(invalid)?;
    if digits.len() % 4 == 1 {
        return Err(invalid());
    }
    for chunk in digits.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, d)| n | d << (18 - 6 * i));
        for i in 0..chunk.len() - 1 {
            bytes.push((n >> (16 - 8 * i)) as u8);
        }
    }
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (k, key) = text.split_once(':').ok_or_else(invalid)?;
    if k != kind || key.is_empty() {
        return Err(invalid());
    }
    Ok(key.to_owned())
}

/// `after` decoded for list `kind`, if given.
pub fn after(kind: &str, after: Option<&str>) -> Result<Option<String>, ApiError> {
    match after {
        None | Some("") => Ok(None),
        Some(c) => decode(kind, c).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_strangers() {
        for key in ["prod_01jd8m3x", "0-42", "17", "한글-키", "a"] {
            let c = encode("products", key);
            assert!(c.bytes().all(|b| ALPHABET.contains(&b)), "{c}");
            assert_eq!(decode("products", &c).unwrap(), key);
            assert!(decode("orders", &c).is_err(), "a cursor belongs to its list");
        }
        for bad in ["garbage!", "yesterday", "A", "%%", ""] {
            assert!(decode("products", bad).is_err(), "{bad}");
        }
    }
}
