//! Numbers, money and times as people read them: ₩1,234,000 and $12.34 (each currency with its own minor
//! digits and sign), times in the location's own time zone, in Korean or English.

use crate::i18n::Lang;
use domain::Currency;

/// Groups digits in threes: 1234567 → "1,234,567".
pub fn int(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn symbol(c: Currency) -> &'static str {
    match c {
        Currency::Krw => "₩",
        Currency::Usd => "$",
        Currency::Eur => "€",
        Currency::Jpy => "¥",
        Currency::Cny => "CN¥",
        Currency::Gbp => "£",
    }
}

/// An amount in minor units of `currency`: `money(1234000, "KRW")` → "₩1,234,000", `money(1234, "USD")` →
/// "$12.34", negative amounts as "−₩5,000". Unknown currency codes print as "1234 XYZ".
pub fn money(minor: i64, currency: &str) -> String {
    let Ok(c) = Currency::parse(currency) else { return format!("{minor} {currency}") };
    let sign = if minor < 0 { "−" } else { "" };
    let abs = minor.unsigned_abs();
    match c.exponent() {
        0 => format!("{sign}{}{}", symbol(c), int(abs as i64)),
        e => {
            let unit = 10u64.pow(e);
            format!("{sign}{}{}.{:0w$}", symbol(c), int((abs / unit) as i64), abs % unit, w = e as usize)
        }
    }
}

/// Parses an amount typed in a form into minor units: "12.50", "₩39,000", "39000원", "$12.50", "39,000 KRW",
/// and Korean numerals with units as staff type them ("5만원" → 50000, "1만9천" → 19000, "2.5만", "1억2천만").
/// Anything else — letters, exponents ("1e10"), a second sign — is refused, never read as some other
/// amount; the error quotes what was typed and names the currency's rule in the reader's language.
pub fn parse_money(text: &str, currency: &str, lang: Lang) -> Result<i64, String> {
    let c = Currency::parse(currency).map_err(|e| e.to_string())?;
    let refuse = || {
        let typed: String = text.trim().chars().take(40).collect();
        match (c.exponent(), lang) {
            (0, Lang::Ko) => format!("‘{typed}’은(는) 금액으로 읽을 수 없습니다. {} 금액은 39000, 39,000 또는 3만9천처럼 정수로 입력해 주세요.", c.code()),
            (0, Lang::En) => format!("‘{typed}’ is not an amount. Enter a whole {} amount, e.g. 39000 or 39,000.", c.code()),
            (_, Lang::Ko) => format!("‘{typed}’은(는) 금액으로 읽을 수 없습니다. {} 금액은 12.50처럼 입력해 주세요.", c.code()),
            (_, Lang::En) => format!("‘{typed}’ is not an amount. Enter a {} amount such as 12.50.", c.code()),
        }
    };
    let plain = amount_text(text, c).ok_or_else(refuse)?;
    domain::Money::parse_decimal(&plain, c).map(|m| m.minor).map_err(|_| refuse())
}

/// The amount typed as a plain decimal ("-1234.5"), or `None` when it holds anything but one optional sign,
/// the currency's own symbol or code (원 for won), digits with thousands commas in threes, one decimal
/// point, and Korean units.
fn amount_text(text: &str, c: Currency) -> Option<String> {
    let mut t = text.trim();
    let (neg, rest) = match t.strip_prefix('-').or_else(|| t.strip_prefix('−')) {
        Some(r) => (true, r.trim_start()),
        None => (false, t),
    };
    t = rest;
    if let Some(r) = t.strip_prefix(symbol(c)) {
        t = r.trim_start();
    }
    let won = if c == Currency::Krw { Some("원") } else { None };
    for unit in [Some(c.code()), Some(&c.code().to_ascii_lowercase()), won].into_iter().flatten() {
        if let Some(r) = t.strip_suffix(unit) {
            t = r.trim_end();
            break;
        }
    }
    if t.is_empty() || t.len() > 60 {
        return None;
    }
    let sign = if neg { "-" } else { "" };
    if !t.chars().any(|ch| matches!(ch, '억' | '만' | '천' | '백' | '십')) {
        return plain_number(t).map(|n| format!("{sign}{n}"));
    }
    let major = korean_units(t)?;
    (major <= i64::MAX as u128).then(|| format!("{sign}{major}"))
}

/// Digits with optional thousands commas (in threes: "39,000", not "12,50") and an optional fraction, without
/// the commas.
fn plain_number(s: &str) -> Option<String> {
    let (int, frac) = match s.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    if frac.is_some_and(|f| f.is_empty() || !f.chars().all(|ch| ch.is_ascii_digit())) {
        return None;
    }
    let groups: Vec<&str> = int.split(',').collect();
    let digits = groups.iter().all(|g| g.chars().all(|ch| ch.is_ascii_digit()));
    let ok = digits
        && if groups.len() == 1 {
            !int.is_empty() || frac.is_some()
        } else {
            (1..=3).contains(&groups[0].len()) && groups[1..].iter().all(|g| g.len() == 3)
        };
    ok.then(|| s.replace(',', ""))
}

/// A Korean amount in units: 억 and 만 close groups (each once, larger first), 천, 백 and 십 count within a
/// group (each once, larger first), a unit alone is one of it ("천원"), and 만 or 억 multiplies the group
/// before it ("2천만"). Shorthand that people read two ways is refused rather than guessed: a bare number
/// after a unit ("3만5": 30,005 or 35,000?) and 천, 백 or 십 after 억 with no 만 ("2억5천").
fn korean_units(t: &str) -> Option<u128> {
    let chars: Vec<char> = t.chars().collect();
    let (mut total, mut section, mut in_section) = (0u128, 0u128, false);
    let (mut last_big, mut last_small, mut open_after_eok) = (u32::MAX, u32::MAX, false);
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == ',' || chars[i] == '.') {
            i += 1;
        }
        let num = if i > start { Some(plain_number(&chars[start..i].iter().collect::<String>())?) } else { None };
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i == chars.len() {
            if num.is_some() {
                return None;
            }
            break;
        }
        let pow = match chars[i] {
            '십' => 1,
            '백' => 2,
            '천' => 3,
            '만' => 4,
            '억' => 8,
            _ => return None,
        };
        i += 1;
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if pow >= 4 {
            if pow >= last_big {
                return None;
            }
            let own = match &num {
                Some(n) => shifted(n, pow)?,
                // "1억만": 만 straight after 억 is a typo or the particle "only", not 1억1만.
                None if !in_section && last_big == 8 => return None,
                None if !in_section => 10u128.pow(pow),
                None => 0,
            };
            total = total.checked_add(section.checked_mul(10u128.pow(pow))?.checked_add(own)?)?;
            (section, in_section, last_small, last_big) = (0, false, u32::MAX, pow);
            open_after_eok = false;
        } else {
            if pow >= last_small {
                return None;
            }
            section = section.checked_add(match &num {
                Some(n) => shifted(n, pow)?,
                None => 10u128.pow(pow),
            })?;
            (in_section, last_small) = (true, pow);
            open_after_eok = last_big == 8;
        }
    }
    if open_after_eok || (last_big == u32::MAX && last_small == u32::MAX) {
        return None;
    }
    total.checked_add(section)
}

/// `num` (digits with at most one decimal point) times 10^`pow`, when that is a whole number.
fn shifted(num: &str, pow: u32) -> Option<u128> {
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if (int.is_empty() && frac.is_empty()) || frac.contains('.') || frac.len() as u32 > pow {
        return None;
    }
    let digits = format!("{int}{frac:0<w$}", w = pow as usize);
    if digits.len() > 30 {
        return None;
    }
    digits.parse().ok()
}

/// The time zone named (bundled database); Seoul when the name is unknown.
pub fn zone(name: &str) -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get(name).unwrap_or_else(|_| {
        jiff::tz::TimeZone::get(engine::catalog::locations::DEFAULT_TIME_ZONE).unwrap_or(jiff::tz::TimeZone::UTC)
    })
}

fn zoned(ms: i64, tz: &jiff::tz::TimeZone) -> Option<jiff::Zoned> {
    jiff::Timestamp::from_millisecond(ms).ok().map(|t| t.to_zoned(tz.clone()))
}

/// Date and time in `tz`: "12월 4일 (금) 15:05" / "Fri 4 Dec 15:05"; the year is added when it is not this
/// year's.
pub fn datetime(ms: i64, tz: &jiff::tz::TimeZone, lang: Lang, now_ms: i64) -> String {
    let Some(z) = zoned(ms, tz) else { return String::new() };
    let this_year = zoned(now_ms, tz).map(|n| n.year()) == Some(z.year());
    match lang {
        Lang::Ko => {
            let wd = ["월", "화", "수", "목", "금", "토", "일"][z.weekday().to_monday_zero_offset() as usize];
            let year = if this_year { String::new() } else { format!("{}년 ", z.year()) };
            format!("{year}{}월 {}일 ({wd}) {:02}:{:02}", z.month(), z.day(), z.hour(), z.minute())
        }
        Lang::En => {
            let wd = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][z.weekday().to_monday_zero_offset() as usize];
            let mon = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
                [(z.month() - 1) as usize];
            let year = if this_year { String::new() } else { format!(" {}", z.year()) };
            format!("{wd} {} {mon}{year} {:02}:{:02}", z.day(), z.hour(), z.minute())
        }
    }
}

/// The clock time only ("15:05").
pub fn clock(ms: i64, tz: &jiff::tz::TimeZone) -> String {
    zoned(ms, tz).map(|z| format!("{:02}:{:02}", z.hour(), z.minute())).unwrap_or_default()
}

/// An RFC 3339 instant from the engine, as milliseconds.
pub fn parse_instant(rfc3339: &str) -> Option<i64> {
    rfc3339.parse::<jiff::Timestamp>().ok().map(|t| t.as_millisecond())
}

/// The same, shown in `tz` (empty when it does not parse).
pub fn instant(rfc3339: &str, tz: &jiff::tz::TimeZone, lang: Lang, now_ms: i64) -> String {
    parse_instant(rfc3339).map(|ms| datetime(ms, tz, lang, now_ms)).unwrap_or_default()
}

/// How long ago or how far ahead: "3분 전" / "3 min ago", "2시간 후" / "in 2 h".
pub fn relative(ms: i64, now_ms: i64, lang: Lang) -> String {
    let d = (now_ms - ms) / 1000;
    let (n, unit_ko, unit_en) = match d.abs() {
        s if s < 60 => return lang.t("just now", "방금").to_owned(),
        s if s < 3600 => (s / 60, "분", "min"),
        s if s < 86_400 => (s / 3600, "시간", "h"),
        s => (s / 86_400, "일", "d"),
    };
    match (lang, d >= 0) {
        (Lang::Ko, true) => format!("{n}{unit_ko} 전"),
        (Lang::Ko, false) => format!("{n}{unit_ko} 후"),
        (Lang::En, true) => format!("{n} {unit_en} ago"),
        (Lang::En, false) => format!("in {n} {unit_en}"),
    }
}

/// Midnight of the day containing `now_ms` in `tz`, as ms.
pub fn start_of_day(now_ms: i64, tz: &jiff::tz::TimeZone) -> i64 {
    zoned(now_ms, tz)
        .and_then(|z| z.start_of_day().ok())
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(now_ms - now_ms.rem_euclid(86_400_000))
}

/// Midnight at the start of `date` (YYYY-MM-DD) in `tz`, as ms.
pub fn parse_date(date: &str, tz: &jiff::tz::TimeZone) -> Option<i64> {
    let d: jiff::civil::Date = date.trim().parse().ok()?;
    d.to_zoned(tz.clone()).ok().map(|z| z.timestamp().as_millisecond())
}

/// A variant's options as the reader says them ("블랙 · M 사이즈", "Black · size M"): colours from the
/// shop's one list, the rest as `name: value`. Shared by the shop, the till and the console's orders.
pub fn options_text(attrs: &std::collections::BTreeMap<String, String>, lang: Lang) -> String {
    attrs
        .iter()
        .map(|(k, val)| match k.as_str() {
            "color" => engine::discovery::assistant::texts::colour(val, lang == Lang::Ko),
            "size" => match lang {
                Lang::Ko => format!("{val} 사이즈"),
                Lang::En => format!("size {val}"),
            },
            _ => format!("{k}: {val}"),
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_per_currency() {
        assert_eq!(money(1_234_000, "KRW"), "₩1,234,000");
        assert_eq!(money(1234, "USD"), "$12.34");
        assert_eq!(money(5, "USD"), "$0.05");
        assert_eq!(money(-5000, "KRW"), "−₩5,000");
        assert_eq!(money(100, "JPY"), "¥100");
        assert_eq!(money(12, "XYZ"), "12 XYZ");
        assert_eq!(int(0), "0");
        assert_eq!(int(-1_000), "-1,000");
        assert_eq!(parse_money("₩39,000", "KRW", Lang::Ko), Ok(39_000));
        assert_eq!(parse_money("12.5", "USD", Lang::En), Ok(1250));
        assert!(parse_money("12.345", "USD", Lang::En).unwrap_err().contains("12.50"));
        assert!(parse_money("1.5", "KRW", Lang::Ko).unwrap_err().contains("정수"));
    }

    #[test]
    fn money_as_staff_type_it_or_a_clear_refusal() {
        let krw = |t: &str| parse_money(t, "KRW", Lang::Ko);
        for (typed, want) in [
            ("5만원", 50_000),
            ("5만 원", 50_000),
            ("1만9천", 19_000),
            ("1만 9천원", 19_000),
            ("2.5만", 25_000),
            ("1억2천만", 120_000_000),
            ("3천", 3_000),
            ("천원", 1_000),
            ("39000원", 39_000),
            ("₩39,000", 39_000),
            ("39,000 KRW", 39_000),
            ("-5,000", -5_000),
            ("1,500만", 15_000_000),
            ("1억 5000만원", 150_000_000),
            ("2천5백", 2_500),
            ("0.5천", 500),
            ("0천만", 0),
            ("-3만", -30_000),
        ] {
            assert_eq!(krw(typed), Ok(want), "{typed}");
        }
        assert_eq!(parse_money("$12.50", "USD", Lang::En), Ok(1250));
        assert_eq!(parse_money("12.50 usd", "USD", Lang::En), Ok(1250));
        for typed in ["₩39,000", "39000원", "12,50"] {
            assert!(parse_money(typed, "USD", Lang::En).is_err(), "{typed} is not dollars");
        }
        // Never another amount than the one typed: 1e10 was once read as 110, "5만원" as 5.
        // Also: another currency's symbol or word, commas out of threes, units repeated or out of order, and
        // shorthand read two ways.
        for typed in [
            "1e10",
            "5만x",
            "abc",
            "",
            "12-3",
            "1.2.3",
            "--5",
            ",500",
            "0x10",
            "5$",
            "$50,000",
            "12,50",
            "1,0000",
            "5.",
            "1,5만",
            "1 5만",
            "5만5만",
            "3천2천",
            "2만1억",
            "3만5",
            "2억5천",
            "1억5000",
            "50000 USD",
        ] {
            let e = krw(typed).unwrap_err();
            assert!(e.contains("읽을 수 없습니다"), "{typed}: {e}");
        }
        assert!(parse_money("1.234", "USD", Lang::En).unwrap_err().contains("‘1.234’ is not an amount"));
        assert!(krw("9999999999999억").is_err());
    }

    #[test]
    fn times_in_the_location_zone() {
        let seoul = zone("Asia/Seoul");
        // 2026-12-04T06:05:00Z is 15:05 in Seoul, a Friday.
        let ms = 1_796_364_300_000;
        assert_eq!(datetime(ms, &seoul, Lang::Ko, ms), "12월 4일 (금) 15:05");
        assert_eq!(datetime(ms, &seoul, Lang::En, ms), "Fri 4 Dec 15:05");
        assert_eq!(clock(ms, &zone("America/New_York")), "01:05");
        assert_eq!(relative(ms - 180_000, ms, Lang::Ko), "3분 전");
        assert_eq!(relative(ms + 7_200_000, ms, Lang::En), "in 2 h");
        let midnight = start_of_day(ms, &seoul);
        assert_eq!(clock(midnight, &seoul), "00:00");
        assert_eq!(parse_date("2026-12-04", &seoul), Some(midnight));
    }
}
