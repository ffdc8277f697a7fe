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

/// Parses an amount typed in a form ("12.50", "₩39,000", "39000") into minor units; the error names the
/// currency's rule in the reader's language.
pub fn parse_money(text: &str, currency: &str, lang: Lang) -> Result<i64, String> {
    let c = Currency::parse(currency).map_err(|e| e.to_string())?;
    let cleaned: String = text.trim().chars().filter(|ch| ch.is_ascii_digit() || *ch == '.' || *ch == '-').collect();
    domain::Money::parse_decimal(&cleaned, c).map(|m| m.minor).map_err(|_| match (c.exponent(), lang) {
        (0, Lang::Ko) => format!("{} 금액은 39000처럼 정수로 입력해 주세요.", c.code()),
        (0, Lang::En) => format!("Enter a whole {} amount, e.g. 39000.", c.code()),
        (_, Lang::Ko) => format!("{} 금액은 12.50처럼 입력해 주세요.", c.code()),
        (_, Lang::En) => format!("Enter a {} amount such as 12.50.", c.code()),
    })
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
