//! Latin-1 (Windows-1252) files transcoded to UTF-8 before they are read,
//! on request: every byte is a Latin-1 character, so a file that is not
//! text is named by its magic number first.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::IngestError;
use super::sniff::check_magic;

/// Windows-1252 for bytes 0x80..=0x9F; Latin-1 (the byte's own code point) elsewhere.
const CP1252: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

/// Rewrites a Latin-1 / Windows-1252 file at `from` as UTF-8 at `to`, in chunks.
/// A file that is not text (an image, a workbook, an archive) is refused
/// as such first: every byte is valid Latin-1, so after transcoding it would
/// no longer be recognised.
pub fn latin1_to_utf8(from: &Path, to: &Path) -> Result<(), IngestError> {
    use std::io::{BufWriter, Write};
    let mut input = File::open(from)?;
    let mut out = BufWriter::new(File::create(to)?);
    let mut buf = vec![0u8; 1 << 20];
    let mut text = String::with_capacity(2 << 20);
    let mut first = true;
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if std::mem::take(&mut first) {
            check_magic(&buf[..n])?;
        }
        text.clear();
        text.extend(buf[..n].iter().map(|&b| match b {
            0x80..=0x9F => CP1252[usize::from(b - 0x80)],
            _ => char::from(b),
        }));
        out.write_all(text.as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::write;
    use super::super::{ReadOptions, read_csv};
    use super::*;

    #[test]
    fn latin1_files_read_after_transcoding() {
        let src = write("latin1.csv", b"name,city\nJos\xe9,Z\xfcrich\nA\x80,x\n");
        assert!(
            read_csv(&src, &ReadOptions::default())
                .unwrap_err()
                .to_string()
                .contains("Latin-1")
        );
        let dst = src.with_extension("utf8");
        latin1_to_utf8(&src, &dst).unwrap();
        let f = read_csv(&dst, &ReadOptions::default()).unwrap().frame;
        let names: Vec<Option<&str>> = f.column("name").unwrap().str().unwrap().iter().collect();
        assert_eq!(names, vec![Some("José"), Some("A€")]);
        std::fs::remove_file(src).unwrap();
        std::fs::remove_file(dst).unwrap();
    }

    #[test]
    fn a_binary_file_read_as_latin1_is_still_named() {
        // Every byte is Latin-1, so the check must come before transcoding.
        let src = write("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR");
        let dst = src.with_extension("utf8");
        let err = latin1_to_utf8(&src, &dst).unwrap_err().to_string();
        assert!(err.contains("a PNG image"), "{err}");
        std::fs::remove_file(src).unwrap();
        let _ = std::fs::remove_file(dst);
    }
}
