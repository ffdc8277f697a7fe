//! Checks on free text that crosses into the system: lengths, emails, phone numbers.

/// Trims and checks a required text field's length in characters.
pub fn required(field: &str, v: &str, max_chars: usize) -> Result<String, String> {
    let t = v.trim();
    if t.is_empty() {
        return Err(format!("`{field}` must not be empty"));
    }
    optional(field, t, max_chars)
}

/// Checks an optional text field's length in characters.
pub fn optional(field: &str, v: &str, max_chars: usize) -> Result<String, String> {
    let t = v.trim();
    let n = t.chars().count();
    if n > max_chars {
        return Err(format!("`{field}` is {n} characters; at most {max_chars} are allowed"));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(format!("`{field}` contains control characters"));
    }
    Ok(t.to_owned())
}

/// Normalises an email address (trimmed, lowercased) after a structural check.
pub fn email(v: &str) -> Result<String, String> {
    let t = v.trim().to_lowercase();
    let ok = t.len() <= 254
        && t.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty()
                && d.contains('.')
                && !d.starts_with('.')
                && !d.ends_with('.')
                && !t[l.len() + 1..].contains('@')
        })
        && !t.chars().any(char::is_whitespace);
    if ok {
        Ok(t)
    } else {
        Err(format!("`{}` is not a valid email address", v.trim()))
    }
}

/// Normalises a phone number to digits with an optional leading `+` (8–16 digits).
pub fn phone(v: &str) -> Result<String, String> {
    let t = v.trim();
    let plus = t.starts_with('+');
    let digits: String = t.chars().filter(|c| c.is_ascii_digit()).collect();
    let junk = t.chars().any(|c| !(c.is_ascii_digit() || " -+().".contains(c)));
    if junk || digits.len() < 8 || digits.len() > 16 {
        return Err(format!("`{t}` is not a valid phone number"));
    }
    Ok(if plus { format!("+{digits}") } else { digits })
}

#[cfg(test)]
mod tests {
    #[test]
    fn email_and_phone() {
        assert_eq!(super::email(" Min@Example.COM ").unwrap(), "min@example.com");
        assert!(super::email("nope").is_err());
        assert!(super::email("a@b").is_err());
        assert!(super::email("a@@b.com").is_err());
        assert_eq!(super::phone("010-1234-5678").unwrap(), "01012345678");
        assert_eq!(super::phone("+82 10 1234 5678").unwrap(), "+821012345678");
        assert!(super::phone("call me").is_err());
        assert!(super::required("title", "  ", 10).is_err());
        assert!(super::required("title", "가나다", 2).is_err());
    }
}
