//! Writes `.zip` archives whose files are stored as they are (no compression).
//!
//! Two uses, one format every operating system opens without extra tools: the starter kit that
//! `cargo xtask render` builds into the site, and the export of a candidate's answers that the
//! site makes in the browser. Stored entries keep the code tiny (a few KB of wasm, no deflate) and
//! the output deterministic; the starter kit is mostly PNG images, which deflate would not shrink.
//!
//! The format is the classic one (APPNOTE 6.3): no ZIP64, so at most 65 535 files and 4 GiB.
//! File names are UTF-8 (general purpose bit 11) and every file gets mode 0644.

use std::fmt;

/// A date and time as a zip entry records it (local time, two-second resolution, 1980-2107).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    /// 1980 to 2107.
    pub year: u16,
    /// 1 to 12.
    pub month: u8,
    /// 1 to 31.
    pub day: u8,
    /// 0 to 23.
    pub hour: u8,
    /// 0 to 59.
    pub minute: u8,
    /// 0 to 59 (stored rounded down to an even number).
    pub second: u8,
}

impl Timestamp {
    /// MS-DOS time and date words, clamped to what they can hold.
    fn dos(self) -> (u16, u16) {
        let time = (u16::from(self.hour.min(23)) << 11)
            | (u16::from(self.minute.min(59)) << 5)
            | u16::from(self.second.min(59) / 2);
        let date = (self.year.clamp(1980, 2107) - 1980) << 9
            | (u16::from(self.month.clamp(1, 12)) << 5)
            | u16::from(self.day.clamp(1, 31));
        (time, date)
    }
}

/// Why a file could not be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveError {
    /// The name is empty, absolute, uses `\`, or has an empty, `.` or `..` segment.
    BadName(String),
    /// The same name was added twice.
    Duplicate(String),
    /// More than 65 535 files, or more than 4 GiB: the classic zip format cannot hold it.
    TooLarge,
}

impl fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArchiveError::BadName(name) => write!(
                f,
                "`{name}` cannot be a file name in an archive: use a relative path with '/' and no '..'"
            ),
            ArchiveError::Duplicate(name) => write!(f, "`{name}` is added to the archive twice"),
            ArchiveError::TooLarge => {
                f.write_str("the archive would hold more than 65535 files or 4 GiB")
            }
        }
    }
}

impl std::error::Error for ArchiveError {}

/// Builds an archive in memory: [`ZipWriter::add`] each file, then [`ZipWriter::finish`].
#[derive(Debug)]
pub struct ZipWriter {
    out: Vec<u8>,
    central: Vec<u8>,
    names: Vec<String>,
    time: u16,
    date: u16,
}

const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_CENTRAL: u32 = 0x0605_4b50;
/// Version 2.0: what every unzip reads.
const VERSION: u16 = 20;
/// "Made by" Unix (3), so that the external attributes carry a Unix mode.
const MADE_BY_UNIX: u16 = 3 << 8 | VERSION;
/// General purpose bit 11: names are UTF-8.
const UTF8_NAMES: u16 = 1 << 11;
/// A regular file, rw-r--r--, in the high half of the external attributes.
const FILE_MODE: u32 = 0o100_644 << 16;

impl ZipWriter {
    /// An empty archive whose files all carry `modified` as their time.
    pub fn new(modified: Timestamp) -> ZipWriter {
        let (time, date) = modified.dos();
        ZipWriter {
            out: Vec::new(),
            central: Vec::new(),
            names: Vec::new(),
            time,
            date,
        }
    }

    /// Adds a file under `name` (e.g. `sre-challenge/postgres/00_init.sql`).
    pub fn add(&mut self, name: &str, bytes: &[u8]) -> Result<(), ArchiveError> {
        if !is_relative_path(name) {
            return Err(ArchiveError::BadName(name.to_owned()));
        }
        if self.names.iter().any(|n| n == name) {
            return Err(ArchiveError::Duplicate(name.to_owned()));
        }
        if self.names.len() >= usize::from(u16::MAX) {
            return Err(ArchiveError::TooLarge);
        }
        let offset = small(self.out.len())?;
        let size = small(bytes.len())?;
        let name_len = u16::try_from(name.len()).map_err(|_| ArchiveError::TooLarge)?;
        let crc = crc32(bytes);

        let out = &mut self.out;
        put32(out, LOCAL_HEADER);
        put16(out, VERSION);
        put16(out, UTF8_NAMES);
        put16(out, 0); // stored
        put16(out, self.time);
        put16(out, self.date);
        put32(out, crc);
        put32(out, size);
        put32(out, size);
        put16(out, name_len);
        put16(out, 0); // no extra field
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(bytes);
        small(out.len())?;

        let c = &mut self.central;
        put32(c, CENTRAL_HEADER);
        put16(c, MADE_BY_UNIX);
        put16(c, VERSION);
        put16(c, UTF8_NAMES);
        put16(c, 0);
        put16(c, self.time);
        put16(c, self.date);
        put32(c, crc);
        put32(c, size);
        put32(c, size);
        put16(c, name_len);
        put16(c, 0); // extra
        put16(c, 0); // comment
        put16(c, 0); // disk
        put16(c, 0); // internal attributes
        put32(c, FILE_MODE);
        put32(c, offset);
        c.extend_from_slice(name.as_bytes());

        self.names.push(name.to_owned());
        Ok(())
    }

    /// The archive's bytes.
    pub fn finish(mut self) -> Result<Vec<u8>, ArchiveError> {
        let entries = u16::try_from(self.names.len()).map_err(|_| ArchiveError::TooLarge)?;
        let central_offset = small(self.out.len())?;
        let central_size = small(self.central.len())?;
        self.out.append(&mut self.central);
        let out = &mut self.out;
        put32(out, END_OF_CENTRAL);
        put16(out, 0); // this disk
        put16(out, 0); // disk with the central directory
        put16(out, entries);
        put16(out, entries);
        put32(out, central_size);
        put32(out, central_offset);
        put16(out, 0); // comment
        small(self.out.len())?;
        Ok(self.out)
    }
}

fn small(len: usize) -> Result<u32, ArchiveError> {
    u32::try_from(len).map_err(|_| ArchiveError::TooLarge)
}

fn put16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn is_relative_path(name: &str) -> bool {
    !name.is_empty()
        && !name.contains(['\\', '\0'])
        && name
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..")
}

/// CRC-32 (IEEE 802.3, the one zip uses), bit by bit: no table, so a few bytes of code; fast
/// enough for the few hundred KB these archives hold.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use super::*;

    const WHEN: Timestamp = Timestamp {
        year: 2026,
        month: 3,
        day: 14,
        hour: 15,
        minute: 9,
        second: 27,
    };

    fn read_back(bytes: Vec<u8>) -> Vec<(String, Vec<u8>, Option<u32>)> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("a valid zip");
        (0..archive.len())
            .map(|i| {
                let mut file = archive.by_index(i).expect("entry");
                let mut data = Vec::new();
                file.read_to_end(&mut data)
                    .expect("stored data with a good CRC");
                (file.name().to_owned(), data, file.unix_mode())
            })
            .collect()
    }

    #[test]
    fn another_implementation_reads_what_it_writes() {
        let mut zip = ZipWriter::new(WHEN);
        zip.add("sre-challenge/README.md", b"# SRE Challenge\n")
            .expect("add");
        zip.add("sre-challenge/postgres/empty.sql", b"")
            .expect("add");
        zip.add("sre-challenge/notes/réponse.md", "été ✓".as_bytes())
            .expect("add");
        let files = read_back(zip.finish().expect("finish"));
        assert_eq!(
            files,
            [
                (
                    "sre-challenge/README.md".to_owned(),
                    b"# SRE Challenge\n".to_vec(),
                    Some(0o100_644)
                ),
                (
                    "sre-challenge/postgres/empty.sql".to_owned(),
                    Vec::new(),
                    Some(0o100_644)
                ),
                (
                    "sre-challenge/notes/réponse.md".to_owned(),
                    "été ✓".as_bytes().to_vec(),
                    Some(0o100_644)
                ),
            ]
        );
    }

    #[test]
    fn timestamps_are_recorded_and_output_is_deterministic() {
        let make = || {
            let mut zip = ZipWriter::new(WHEN);
            zip.add("a.txt", b"a").expect("add");
            zip.finish().expect("finish")
        };
        assert_eq!(make(), make());
        let mut archive = zip::ZipArchive::new(Cursor::new(make())).expect("zip");
        let file = archive.by_index(0).expect("entry");
        let t = file.last_modified().expect("a time");
        assert_eq!(
            (
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            (2026, 3, 14, 15, 9, 26)
        );
    }

    #[test]
    fn an_empty_archive_is_valid() {
        assert!(read_back(ZipWriter::new(WHEN).finish().expect("finish")).is_empty());
    }

    #[test]
    fn unsafe_and_repeated_names_are_refused() {
        let mut zip = ZipWriter::new(WHEN);
        for bad in ["", "/etc/passwd", "../x", "a/../b", "a//b", "a\\b", "./a"] {
            assert_eq!(
                zip.add(bad, b""),
                Err(ArchiveError::BadName(bad.to_owned()))
            );
        }
        zip.add("a", b"1").expect("add");
        assert_eq!(
            zip.add("a", b"2"),
            Err(ArchiveError::Duplicate("a".to_owned()))
        );
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }
}
