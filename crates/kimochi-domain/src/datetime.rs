//! Dates and times as Japanese files write them (`2024/1/5`, `2024年1月5日`, `2024-01-05 10:30`),
//! read in Asia/Tokyo. Japan has kept UTC+9 without daylight saving since 1951, so a fixed offset
//! is exact for every date a customer record can hold.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::error::ValidationError;
use crate::normalize::normalize_text;

/// Asia/Tokyo.
pub const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// The earliest and latest years a business date may carry. Anything outside is a typo
/// (`20224-01-01`, `1900-01-01` as a "missing" marker) and is refused rather than stored.
pub const PLAUSIBLE_YEARS: std::ops::RangeInclusive<i32> = 1900..=2100;

/// Parses a calendar date: `2024-01-05`, `2024/1/5`, `2024.1.5`, `2024年1月5日`, `20240105`.
pub fn parse_date(field: &'static str, input: &str) -> Result<Date, ValidationError> {
    let text = normalize_text(input);
    let parts: Vec<&str> = if text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()) {
        vec![&text[..4], &text[4..6], &text[6..]]
    } else {
        text.trim_end_matches('日').split(['-', '/', '.', '年', '月']).collect()
    };
    let [year, month, day] = parts.as_slice() else {
        return Err(ValidationError::new(field, input, "is not a date like 2024-01-31"));
    };
    let number = |s: &str| s.trim().parse::<i32>().ok();
    let (Some(year), Some(month), Some(day)) = (number(year), number(month), number(day)) else {
        return Err(ValidationError::new(field, input, "is not a date like 2024-01-31"));
    };
    if !PLAUSIBLE_YEARS.contains(&year) {
        return Err(ValidationError::new(field, input, "has a year outside 1900–2100"));
    }
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(|| ValidationError::new(field, input, "has no such month"))?;
    let day = u8::try_from(day).map_err(|_| ValidationError::new(field, input, "has no such day"))?;
    Date::from_calendar_date(year, month, day)
        .map_err(|_| ValidationError::new(field, input, "has no such day in that month"))
}

/// Parses a date with an optional time (`2024-01-05 10:30`, `2024/1/5 10:30:15`,
/// `2024-01-05T10:30:00+09:00`). A date alone means midnight; times without an offset are JST.
pub fn parse_datetime(field: &'static str, input: &str) -> Result<OffsetDateTime, ValidationError> {
    let text = normalize_text(input);
    if let Ok(parsed) = OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339) {
        if !PLAUSIBLE_YEARS.contains(&parsed.year()) {
            return Err(ValidationError::new(field, input, "has a year outside 1900–2100"));
        }
        return Ok(parsed);
    }
    let (date_part, time_part) = match text.split_once([' ', 'T']) {
        Some((date, time)) => (date, Some(time.trim())),
        None => (text.as_str(), None),
    };
    let date = parse_date(field, date_part)?;
    let time = match time_part {
        None | Some("") => Time::MIDNIGHT,
        Some(time_text) => parse_time(time_text)
            .ok_or_else(|| ValidationError::new(field, input, "has a time that is not like 10:30 or 10:30:15"))?,
    };
    Ok(PrimitiveDateTime::new(date, time).assume_offset(JST))
}

fn parse_time(text: &str) -> Option<Time> {
    let text = text.trim_end_matches('秒');
    let mut numbers = text.split([':', '時', '分']).filter(|s| !s.is_empty()).map(|s| s.parse::<u8>().ok());
    let hour = numbers.next()??;
    let minute = numbers.next().unwrap_or(Some(0))?;
    let second = numbers.next().unwrap_or(Some(0))?;
    if numbers.next().is_some() {
        return None;
    }
    Time::from_hms(hour, minute, second).ok()
}

/// Seconds since the Unix epoch, the form timestamps are stored in.
pub fn to_unix(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

/// The inverse of [`to_unix`], shown in JST.
pub fn from_unix(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH).to_offset(JST)
}

/// RFC 3339 in JST, e.g. `2024-01-05T10:30:00+09:00`.
pub fn format_jst(at: OffsetDateTime) -> String {
    at.to_offset(JST).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// ISO date, e.g. `2024-01-05`.
pub fn format_date(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(input: &str) -> Option<String> {
        parse_date("date", input).ok().map(format_date)
    }

    #[test]
    fn dates_in_japanese_forms() {
        assert_eq!(date("2024-01-05").as_deref(), Some("2024-01-05"));
        assert_eq!(date("2024/1/5").as_deref(), Some("2024-01-05"));
        assert_eq!(date("２０２４／０１／０５").as_deref(), Some("2024-01-05"));
        assert_eq!(date("2024年1月5日").as_deref(), Some("2024-01-05"));
        assert_eq!(date("20240105").as_deref(), Some("2024-01-05"));
        assert_eq!(date("2024-02-30"), None);
        assert_eq!(date("20224-01-01"), None);
        assert_eq!(date("1800-01-01"), None);
        assert_eq!(date("yesterday"), None);
    }

    #[test]
    fn datetimes_default_to_tokyo() {
        let at = parse_datetime("at", "2024/1/5 10:30").unwrap();
        assert_eq!(format_jst(at), "2024-01-05T10:30:00+09:00");
        let at = parse_datetime("at", "2024-01-05T01:30:00Z").unwrap();
        assert_eq!(format_jst(at), "2024-01-05T10:30:00+09:00");
        assert_eq!(format_jst(parse_datetime("at", "2024-01-05").unwrap()), "2024-01-05T00:00:00+09:00");
        assert!(parse_datetime("at", "2024-01-05 25:00").is_err());
        assert_eq!(from_unix(to_unix(at)), at);
    }
}
