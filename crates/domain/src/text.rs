//! Checks on free text that crosses into the system: lengths, emails, phone numbers, and the characters
//! nothing should carry (controls, NUL, invisible and direction-changing marks), with Unicode normalised
//! (NFC for text, NFKC for identifiers people type such as emails).

use unicode_normalization::UnicodeNormalization;

/// A character no identifier or text field accepts: C0/C1 controls other than tab and line breaks, NUL,
/// zero-width and invisible marks that make two different strings look the same, and bidirectional
/// overrides that make text read differently from how it is stored.
pub fn hostile_char(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// Checks text from outside for [`hostile_char`]s (in an identifier, line breaks too) and answers it in
/// NFC, so that the same words typed on different devices are the same string.
pub fn clean(v: &str, identifier: bool) -> Result<std::borrow::Cow<'_, str>, String> {
    if let Some(c) = v.chars().find(|c| hostile_char(*c) || (identifier && matches!(c, '\n' | '\t' | '\r'))) {
        return Err(format!(
            "contains the invisible or control character U+{:04X}; remove it and send again",
            c as u32
        ));
    }
    if v.is_ascii() || unicode_normalization::is_nfc_quick(v.chars()) == unicode_normalization::IsNormalized::Yes {
        return Ok(std::borrow::Cow::Borrowed(v));
    }
    Ok(std::borrow::Cow::Owned(v.nfc().collect()))
}

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
    if t.chars().any(hostile_char) {
        return Err(format!("`{field}` contains control or invisible characters"));
    }
    Ok(t.nfc().collect())
}

/// Normalises an email address (trimmed, lowercased) after a structural check.
pub fn email(v: &str) -> Result<String, String> {
    if v.chars().any(|c| hostile_char(c) || c.is_control()) {
        return Err("the email address contains control or invisible characters".to_owned());
    }
    // NFKC: a full-width `ｍｉｎ＠ｅｘａｍｐｌｅ．ｃｏｍ` typed on a Korean keyboard is the same address.
    let t: String = v.trim().nfkc().collect::<String>().to_lowercase();
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
        assert_eq!(super::email("ＭＩＮ＠ｅｘａｍｐｌｅ．ｃｏｍ").unwrap(), "min@example.com", "NFKC");
        assert!(super::email("min\u{200B}@example.com").is_err(), "zero-width");
        assert!(super::email("min\0@example.com").is_err(), "NUL");
        // Hangul typed as jamo (NFD, as macOS does) is the same title as the composed syllables.
        let nfd = "\u{1100}\u{1161}\u{11A8}";
        assert_eq!(super::required("title", nfd, 10).unwrap(), "각");
        assert!(super::required("title", "a\u{202E}b", 10).is_err(), "a bidi override");
        assert!(super::clean("SKU\n1", true).is_err() && super::clean("two\nlines", false).is_ok());
        assert!(super::clean("a\u{0}", false).is_err());
    }
}

/// The Korean particle that follows `word`: `with` after a final consonant (받침: "상품은", "상품이에요"),
/// `without` after a vowel ("운동화는", "운동화예요"), read from its last Hangul syllable or digit (as it is
/// said: 1 일, 2 이, …); `either` ("은(는)") after anything else (a Latin name, a symbol).
pub fn particle(word: &str, with: &'static str, without: &'static str, either: &'static str) -> &'static str {
    match word.trim_end().chars().last() {
        Some(c @ '\u{AC00}'..='\u{D7A3}') => {
            if !(c as u32 - 0xAC00).is_multiple_of(28) {
                with
            } else {
                without
            }
        }
        // 영 일 삼 육 칠 팔 end in a consonant; 이 사 오 구 do not.
        Some('0' | '1' | '3' | '6' | '7' | '8') => with,
        Some('2' | '4' | '5' | '9') => without,
        _ => either,
    }
}

#[cfg(test)]
mod particle_tests {
    #[test]
    fn particles_follow_the_last_sound() {
        let topic = |w| super::particle(w, "은", "는", "은(는)");
        let copula = |w| super::particle(w, "이에요", "예요", "이에요");
        assert_eq!((topic("상품"), topic("운동화"), topic("바지 "), topic("iPhone")), ("은", "는", "는", "은(는)"));
        assert_eq!((copula("상의"), copula("티셔츠"), copula("신발")), ("예요", "예요", "이에요"));
        assert_eq!((topic("270"), topic("2"), topic("갤럭시 S24")), ("은", "는", "는"));
    }
}
