//! Turning the bytes of an uploaded file into text. Japanese business files come in two
//! encodings: UTF-8 (often with a BOM, as Excel writes "CSV UTF-8") and Shift_JIS as Windows
//! writes it (CP932 / Windows-31J, which `encoding_rs` calls `Shift_JIS`). Decoding is strict:
//! a byte that cannot be read is an error naming its line, never a silent replacement character.

use encoding_rs::{DecoderResult, SHIFT_JIS};

use crate::error::FileError;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The encoding the caller asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// UTF-8 with or without BOM if the bytes are valid UTF-8, else Shift_JIS.
    #[default]
    Auto,
    Utf8,
    /// Shift_JIS as Windows writes it (CP932 / Windows-31J).
    ShiftJis,
}

/// The encoding a file turned out to be in, for telling the user what was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectedEncoding {
    Utf8,
    Utf8Bom,
    ShiftJis,
}

/// Text read from a file; any BOM is removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    pub encoding: DetectedEncoding,
}

/// Decodes a whole file. Line endings are kept as they are: the CSV reader accepts both CRLF
/// and LF.
pub fn decode(bytes: &[u8], encoding: Encoding) -> Result<Decoded, FileError> {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(FileError::Utf16);
    }
    // Every xlsx file is a zip archive; saying so beats "not Shift_JIS on line 1".
    if bytes.starts_with(b"PK\x03\x04") {
        return Err(FileError::Workbook);
    }
    if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
        if encoding == Encoding::ShiftJis {
            // A BOM is proof of UTF-8; decoding it as Shift_JIS would garble every character.
            return Err(FileError::Undecodable { encoding: "Shift_JIS", line: 1 });
        }
        let text = decode_utf8(rest).map_err(|line| FileError::Undecodable { encoding: "UTF-8", line })?;
        return Ok(Decoded { text, encoding: DetectedEncoding::Utf8Bom });
    }
    match encoding {
        Encoding::Utf8 => decode_utf8(bytes)
            .map(|text| Decoded { text, encoding: DetectedEncoding::Utf8 })
            .map_err(|line| FileError::Undecodable { encoding: "UTF-8", line }),
        Encoding::ShiftJis => decode_shift_jis(bytes)
            .map(|text| Decoded { text, encoding: DetectedEncoding::ShiftJis })
            .map_err(|line| FileError::Undecodable { encoding: "Shift_JIS", line }),
        Encoding::Auto => match decode_utf8(bytes) {
            Ok(text) => Ok(Decoded { text, encoding: DetectedEncoding::Utf8 }),
            Err(utf8_line) => match decode_shift_jis(bytes) {
                Ok(text) => Ok(Decoded { text, encoding: DetectedEncoding::ShiftJis }),
                // The encoding that read further is most likely the file's own, with one
                // damaged byte; its stopping line is the one worth looking at.
                Err(shift_jis_line) => Err(FileError::UnknownEncoding { line: utf8_line.max(shift_jis_line) }),
            },
        },
    }
}

/// Strict UTF-8; the error is the 1-based line of the first invalid byte.
fn decode_utf8(bytes: &[u8]) -> Result<String, u64> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(error) => Err(line_of(bytes, error.valid_up_to())),
    }
}

/// Strict Shift_JIS (CP932); the error is the 1-based line of the first malformed sequence.
fn decode_shift_jis(bytes: &[u8]) -> Result<String, u64> {
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let capacity =
        decoder.max_utf8_buffer_length_without_replacement(bytes.len()).unwrap_or(bytes.len().saturating_mul(3));
    let mut text = String::with_capacity(capacity);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut text, true);
    match result {
        DecoderResult::InputEmpty => Ok(text),
        DecoderResult::Malformed(malformed, after) => {
            let start = read.saturating_sub(usize::from(malformed) + usize::from(after));
            Err(line_of(bytes, start))
        }
        // Cannot happen with the buffer sized above; treat it as unreadable where it stopped
        // rather than return a truncated text.
        DecoderResult::OutputFull => Err(line_of(bytes, read)),
    }
}

fn line_of(bytes: &[u8], offset: usize) -> u64 {
    let before = &bytes[..offset.min(bytes.len())];
    before.iter().filter(|byte| **byte == b'\n').count() as u64 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bytes: &[u8], encoding: Encoding, expected: Result<(&str, DetectedEncoding), FileError>) {
        let got = decode(bytes, encoding);
        let got = got.as_ref().map(|decoded| (decoded.text.as_str(), decoded.encoding)).map_err(Clone::clone);
        assert_eq!(got, expected, "decode({bytes:?}, {encoding:?})");
    }

    fn shift_jis(text: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = SHIFT_JIS.encode(text);
        assert!(!unmappable, "{text:?} is not in Shift_JIS");
        bytes.into_owned()
    }

    #[test]
    fn detects_and_decodes() {
        use DetectedEncoding as D;
        check(b"a,b\r\n", Encoding::Auto, Ok(("a,b\r\n", D::Utf8)));
        check("氏名\n".as_bytes(), Encoding::Auto, Ok(("氏名\n", D::Utf8)));
        check(b"\xEF\xBB\xBFname\n", Encoding::Auto, Ok(("name\n", D::Utf8Bom)));
        check(b"\xEF\xBB\xBFname\n", Encoding::Utf8, Ok(("name\n", D::Utf8Bom)));
        check(&shift_jis("顧客ID,氏名\r\n"), Encoding::Auto, Ok(("顧客ID,氏名\r\n", D::ShiftJis)));
        check(&shift_jis("①髙\n"), Encoding::ShiftJis, Ok(("①髙\n", D::ShiftJis)));
        check(b"", Encoding::Auto, Ok(("", D::Utf8)));
    }

    #[test]
    fn names_the_line_of_the_first_unreadable_byte() {
        let not_utf8 = |line| Err(FileError::Undecodable { encoding: "UTF-8", line });
        let neither = |line| Err(FileError::UnknownEncoding { line });
        check(b"a\nb\n\xFF\n", Encoding::Utf8, not_utf8(3));
        check(&shift_jis("顧客ID\n"), Encoding::Utf8, not_utf8(1));
        // 0xFF and a lone 0x80 are invalid in both encodings.
        check(b"a\nb\nc\xFF\n", Encoding::Auto, neither(3));
        let mut mixed = "氏名\n山田\n".as_bytes().to_vec();
        mixed.extend_from_slice(b"\x82\n");
        check(&mixed, Encoding::Auto, neither(3));
        // あ is E3 81 82 in UTF-8: 82 is a Shift_JIS lead byte and the line feed cannot follow it.
        check("あ\n".as_bytes(), Encoding::ShiftJis, Err(FileError::Undecodable { encoding: "Shift_JIS", line: 1 }));
        check(b"\xFF\xFEa\x00", Encoding::Auto, Err(FileError::Utf16));
        check(b"PK\x03\x04rest", Encoding::Auto, Err(FileError::Workbook));
    }
}
