//! Local calendar arithmetic at a fixed UTC offset: the hour, weekday, day and year of an instant.

const DAY_MS: i64 = 86_400_000;

fn local(at_ms: i64, offset_min: i32) -> i64 {
    at_ms + offset_min as i64 * 60_000
}

/// Hour of the day, 0–23.
pub fn hour(at_ms: i64, offset_min: i32) -> u8 {
    (local(at_ms, offset_min).rem_euclid(DAY_MS) / 3_600_000) as u8
}

/// Days since 1970-01-01 in local time.
pub fn day_number(at_ms: i64, offset_min: i32) -> i64 {
    local(at_ms, offset_min).div_euclid(DAY_MS)
}

/// Day of the week, 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday).
pub fn weekday(at_ms: i64, offset_min: i32) -> u8 {
    ((day_number(at_ms, offset_min) + 3).rem_euclid(7)) as u8
}

/// (year, month, day) of a day number (the civil-from-days algorithm).
pub fn civil(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

/// The local date as `YYYY-MM-DD`.
pub fn date(at_ms: i64, offset_min: i32) -> String {
    let (y, m, d) = civil(day_number(at_ms, offset_min));
    format!("{y:04}-{m:02}-{d:02}")
}

/// The local year.
pub fn year(at_ms: i64, offset_min: i32) -> i32 {
    civil(day_number(at_ms, offset_min)).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_in_seoul() {
        // 2026-12-04T15:30:00Z is 2026-12-05 00:30 in Seoul, a Saturday.
        let t = 1_796_398_200_000;
        assert_eq!(date(t, 0), "2026-12-04");
        assert_eq!(date(t, 540), "2026-12-05");
        assert_eq!(hour(t, 540), 0);
        assert_eq!(hour(t, 0), 15);
        assert_eq!(weekday(t, 540), 5);
        assert_eq!(year(t, 540), 2026);
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(date(-1, 0), "1969-12-31");
    }
}
