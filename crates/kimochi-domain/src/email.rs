//! Email addresses: normalised (width folded, trimmed, domain lower-cased) and checked for shape.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::normalize::normalize_text;

/// A syntactically plausible email address. Deliverability is not checked here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Email, ValidationError> {
        let text = normalize_text(input);
        if text.len() > 254 {
            return Err(ValidationError::new("email", input, "is longer than 254 characters"));
        }
        let Some((local, domain)) = text.rsplit_once('@') else {
            return Err(ValidationError::new("email", input, "has no @"));
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local
                .chars()
                .all(|c| c.is_ascii_graphic() && !matches!(c, '@' | '<' | '>' | '(' | ')' | ',' | ';' | '"' | '\\'));
        if !local_ok || !domain_ok {
            return Err(ValidationError::new("email", input, "is not an email address"));
        }
        Ok(Email(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// First character of the local part and the domain, e.g. `t***@example.jp`.
    pub fn masked(&self) -> String {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or((&self.0, ""));
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Email::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> String {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_validates() {
        assert_eq!(Email::parse(" Taro@Example.JP ").unwrap().as_str(), "Taro@example.jp");
        assert_eq!(Email::parse("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ").unwrap().as_str(), "taro@example.jp");
        assert!(Email::parse("taro").is_err());
        assert!(Email::parse("taro@localhost").is_err());
        assert!(Email::parse("<script>@x.jp").is_err());
        assert_eq!(Email::parse("taro@example.jp").unwrap().masked(), "t***@example.jp");
    }
}
