//! Japanese phone numbers (電話番号) in any written form: `03-1234-5678`, `０３（１２３４）５６７８`,
//! `090 1234 5678`, `+81 90-1234-5678`. Stored as domestic digits only (`0312345678`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

/// A validated Japanese phone number, kept as its domestic digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(input: &str) -> Result<PhoneNumber, ValidationError> {
        let digits = phone_digits(input).ok_or_else(|| {
            ValidationError::new("phone", input, "contains characters that are not part of a phone number")
        })?;
        let domestic = if let Some(rest) = digits.strip_prefix("81").filter(|_| input_has_plus(input)) {
            format!("0{rest}")
        } else {
            digits
        };
        if !domestic.starts_with('0') {
            return Err(ValidationError::new("phone", input, "a Japanese phone number starts with 0 or +81"));
        }
        if !(10..=11).contains(&domestic.len()) {
            return Err(ValidationError::new("phone", input, "a Japanese phone number has 10 or 11 digits"));
        }
        Ok(PhoneNumber(domestic))
    }

    /// The domestic digits, e.g. `0312345678`.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// The number with all but the last four digits hidden, for roles that must not see it.
    pub fn masked(&self) -> String {
        let keep = &self.0[self.0.len() - 4..];
        format!("***-****-{keep}")
    }
}

fn input_has_plus(input: &str) -> bool {
    input.trim_start().starts_with('+') || input.trim_start().starts_with('＋')
}

/// The digits of a phone number as typed, with every separator people use removed; `None` if
/// the input holds anything else.
pub fn phone_digits(input: &str) -> Option<String> {
    let mut digits = String::with_capacity(16);
    for ch in input.chars() {
        match ch {
            '0'..='9' => digits.push(ch),
            // Full-width digits ０ (U+FF10) … ９.
            '\u{FF10}'..='\u{FF19}' => digits.push(char::from(b'0' + (ch as u32 - 0xFF10) as u8)),
            // Hyphens, dashes and the long-vowel mark that Japanese IMEs produce in phone numbers,
            // brackets, spaces and the plus sign.
            '-' | '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' | 'ー' | '－' | 'ｰ' | '(' | ')' | '（' | '）' | ' '
            | '　' | '+' | '＋' | '.' => {}
            _ => return None,
        }
    }
    if digits.is_empty() { None } else { Some(digits) }
}

impl fmt::Display for PhoneNumber {
    /// A readable grouping: mobile and IP numbers 3-4-4, free dial 4-3-3, Tokyo and Osaka 2-4-4,
    /// other landlines 3-3-4 (an approximation: area codes vary in length).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        if d.len() == 11 {
            write!(f, "{}-{}-{}", &d[..3], &d[3..7], &d[7..])
        } else if d.starts_with("0120") || d.starts_with("0800") {
            write!(f, "{}-{}-{}", &d[..4], &d[4..7], &d[7..])
        } else if d.starts_with("03") || d.starts_with("06") {
            write!(f, "{}-{}-{}", &d[..2], &d[2..6], &d[6..])
        } else {
            write!(f, "{}-{}-{}", &d[..3], &d[3..6], &d[6..])
        }
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        PhoneNumber::parse(&value)
    }
}

impl From<PhoneNumber> for String {
    fn from(value: PhoneNumber) -> String {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Option<&str>) {
        let got = PhoneNumber::parse(input).ok().map(|p| p.digits().to_owned());
        assert_eq!(got.as_deref(), expected, "PhoneNumber::parse({input:?})");
    }

    #[test]
    fn accepts_every_common_japanese_form() {
        check("03-1234-5678", Some("0312345678"));
        check("０３（１２３４）５６７８", Some("0312345678"));
        check("03(1234)5678", Some("0312345678"));
        check("090 1234 5678", Some("09012345678"));
        check("０９０ー１２３４ー５６７８", Some("09012345678"));
        check("+81 90-1234-5678", Some("09012345678"));
        check("+81-3-1234-5678", Some("0312345678"));
        check("0120-123-456", Some("0120123456"));
    }

    #[test]
    fn refuses_what_is_not_a_phone_number() {
        check("", None);
        check("abc", None);
        check("1234", None);
        check("03-1234-5678 内線12", None);
        check("123-4567-8901", None);
        check("090-1234-5678-9", None);
    }

    #[test]
    fn displays_and_masks() {
        let p = PhoneNumber::parse("09012345678").unwrap();
        assert_eq!(p.to_string(), "090-1234-5678");
        assert_eq!(p.masked(), "***-****-5678");
        assert_eq!(PhoneNumber::parse("0312345678").unwrap().to_string(), "03-1234-5678");
    }
}
