//! Catalog CSV import and export: borderless's own one-row-per-variant format (read and write, round-trips;
//! `own`) and Shopify's product CSV export (read; `shopify`). Pure: bytes in, `ProductInput`s out, no
//! database; catalog rules (text lengths, handle syntax, …) stay in [`crate::validate`], which importers run
//! on every product read.
//!
//! Every error names the 1-based line and the column. Lines count CSV records the way a spreadsheet numbers
//! its rows (header = line 1), so a quoted cell that spans several text lines still counts as one line.

mod own;
mod shopify;
#[cfg(test)]
mod tests;

pub use own::{read_catalog, read_catalog_all, write_catalog};
pub use shopify::{read_shopify, read_shopify_all};

use std::io::{Cursor, Read};

/// Most data rows (header excluded) one file may have.
pub const MAX_ROWS: usize = 200_000;
/// Most bytes in one cell.
pub(super) const MAX_FIELD_BYTES: usize = 65_536;
/// Most characters of a description taken from Shopify (`products::validate` allows 10,000).
pub(super) const MAX_DESCRIPTION_CHARS: usize = 10_000;
/// Most characters of a SKU (`domain::Sku`).
pub(super) const MAX_SKU_CHARS: usize = 64;
pub(super) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    /// The bytes could not be read or decoded as CSV.
    #[error("line {line}: cannot read the CSV file: {message}")]
    Read { line: u64, message: String },
    #[error("line 1: the file is empty; a header row naming the columns is required")]
    Empty,
    #[error("line 1, {}: not a column of this format; {hint}", columns_phrase(.columns))]
    UnknownColumns { columns: Vec<String>, hint: String },
    #[error("line 1, {}: required but missing", columns_phrase(.columns))]
    MissingColumns { columns: Vec<String> },
    #[error("line 1, column `{column}`: appears more than once")]
    DuplicateColumn { column: String },
    #[error("line {line}: more than {max} rows; split the file", max = MAX_ROWS)]
    TooManyRows { line: u64 },
    #[error("line {line}, column `{column}`: the value is {bytes} bytes long; at most {max} are allowed", max = MAX_FIELD_BYTES)]
    FieldTooLong { line: u64, column: String, bytes: usize },
    /// A cell's value is wrong; `message` says why.
    #[error("line {line}, column `{column}`: {message}")]
    Invalid { line: u64, column: String, message: String },
    /// The output could not be written.
    #[error("writing CSV: {0}")]
    Write(String),
}

fn columns_phrase(columns: &[String]) -> String {
    let list = columns.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
    if columns.len() == 1 {
        format!("column {list}")
    } else {
        format!("columns {list}")
    }
}

impl CsvError {
    /// The 1-based line the problem is on, when it is on one.
    pub fn line(&self) -> Option<u64> {
        match self {
            CsvError::Read { line, .. }
            | CsvError::TooManyRows { line }
            | CsvError::FieldTooLong { line, .. }
            | CsvError::Invalid { line, .. } => Some(*line),
            CsvError::Empty
            | CsvError::UnknownColumns { .. }
            | CsvError::MissingColumns { .. }
            | CsvError::DuplicateColumn { .. } => Some(1),
            CsvError::Write(_) => None,
        }
    }

    /// The column the problem is in, when it is in one.
    pub fn column(&self) -> Option<String> {
        match self {
            CsvError::FieldTooLong { column, .. }
            | CsvError::Invalid { column, .. }
            | CsvError::DuplicateColumn { column } => Some(column.clone()),
            CsvError::UnknownColumns { columns, .. } | CsvError::MissingColumns { columns } => columns.first().cloned(),
            _ => None,
        }
    }
}

/// At most this many problems are reported from one file (a file this broken needs fixing at the source).
pub const MAX_PROBLEMS: usize = 1_000;

/// A product read from a file, with the line of its first row (for messages about it).
#[derive(Debug, Clone)]
pub struct ReadProduct {
    pub line: u64,
    pub product: crate::ProductInput,
}

/// Every problem of a file, in line order (at most [`MAX_PROBLEMS`]).
#[derive(Debug)]
pub struct Problems(pub Vec<CsvError>);

impl std::fmt::Display for Problems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_slice() {
            [] => write!(f, "no problems"),
            [one] => write!(f, "{one}"),
            [first, rest @ ..] => write!(f, "{} problems; the first: {first}", rest.len() + 1),
        }
    }
}

/// A quoted cell that is never closed swallows the rest of the file into one cell; it is found before
/// parsing and reported where the quote opened.
pub(super) fn check_quotes(bytes: &[u8]) -> Result<(), CsvError> {
    let (mut line, mut column, mut at_cell_start) = (1u64, 1usize, true);
    let mut open: Option<(u64, usize)> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match (open, b) {
            (None, b'"') if at_cell_start => {
                open = Some((line, column));
                at_cell_start = false;
            }
            (Some(_), b'"') => {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 1; // an escaped quote inside the cell
                } else {
                    open = None;
                }
            }
            (None, b',') => {
                column += 1;
                at_cell_start = true;
            }
            (_, b'\n') => {
                line += 1;
                if open.is_none() {
                    column = 1;
                    at_cell_start = true;
                }
            }
            (None, b'\r') => {}
            (None, _) => at_cell_start = false,
            _ => {}
        }
        i += 1;
    }
    match open {
        None => Ok(()),
        Some((line, column)) => Err(invalid(
            line,
            &format!("#{column}"),
            "a quoted cell opens here but is never closed (a missing `\"`); everything after it would be read as this one cell",
        )),
    }
}

pub(super) fn invalid(line: u64, column: &str, message: impl Into<String>) -> CsvError {
    CsvError::Invalid { line, column: column.to_owned(), message: message.into() }
}

/// A value quoted in an error message, shortened so a 10,000-character description does not flood it.
pub(super) fn short(v: &str) -> String {
    const MAX: usize = 60;
    if v.chars().count() <= MAX {
        v.to_owned()
    } else {
        format!("{}…", v.chars().take(MAX).collect::<String>())
    }
}

// ---------------------------------------------------------------------------------------------------------
// Reading: one sheet of trimmed UTF-8 cells, with the limits applied.

pub(super) struct Row {
    line: u64,
    /// Trimmed cells, exactly one per header column.
    cells: Vec<String>,
}

pub(super) struct Sheet<R: Read> {
    rdr: csv::Reader<std::io::Chain<Cursor<Vec<u8>>, R>>,
    /// Header names as written, trimmed, without the BOM.
    names: Vec<String>,
    line: u64,
    rows: usize,
    rec: csv::ByteRecord,
}

/// Drops a UTF-8 byte-order mark at the very start of the input (Excel's "CSV UTF-8" writes one).
fn strip_bom<R: Read>(mut r: R) -> Result<std::io::Chain<Cursor<Vec<u8>>, R>, CsvError> {
    let mut head = Vec::with_capacity(3);
    let mut buf = [0u8; 3];
    while head.len() < 3 {
        match r.read(&mut buf[..3 - head.len()]) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CsvError::Read { line: 1, message: e.to_string() }),
        }
    }
    if head == UTF8_BOM {
        head.clear();
    }
    Ok(Cursor::new(head).chain(r))
}

impl<R: Read> Sheet<R> {
    fn open(r: R) -> Result<Sheet<R>, CsvError> {
        let rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(strip_bom(r)?);
        let mut sheet = Sheet { rdr, names: Vec::new(), line: 0, rows: 0, rec: csv::ByteRecord::new() };
        if !sheet.read_record()? {
            return Err(CsvError::Empty);
        }
        let mut names = Vec::with_capacity(sheet.rec.len());
        for (i, f) in sheet.rec.iter().enumerate() {
            names.push(decode_cell(f, 1, || format!("#{}", i + 1))?);
        }
        if names.iter().all(|n| n.is_empty()) {
            return Err(CsvError::Empty);
        }
        sheet.names = names;
        Ok(sheet)
    }

    fn read_record(&mut self) -> Result<bool, CsvError> {
        let line = self.line + 1;
        let got =
            self.rdr.read_byte_record(&mut self.rec).map_err(|e| CsvError::Read { line, message: e.to_string() })?;
        if got {
            self.line = line;
        }
        Ok(got)
    }

    /// The name of column `i` for messages: as written in the header, or `#n` when it has none.
    fn column(&self, i: usize) -> String {
        match self.names.get(i) {
            Some(n) if !n.is_empty() => n.clone(),
            _ => format!("#{}", i + 1),
        }
    }

    /// The next row that has any value; rows of empty cells (spreadsheets leave them) are skipped. The outer
    /// error stops the reading (unreadable input, too many rows); the inner one is that row's problem.
    fn next_row(&mut self) -> Result<Option<Result<Row, CsvError>>, CsvError> {
        loop {
            if !self.read_record()? {
                return Ok(None);
            }
            self.rows += 1;
            if self.rows > MAX_ROWS {
                return Err(CsvError::TooManyRows { line: self.line });
            }
            let mut cells = Vec::with_capacity(self.names.len());
            for (i, f) in self.rec.iter().enumerate() {
                let v = match decode_cell(f, self.line, || self.column(i)) {
                    Ok(v) => v,
                    Err(e) => return Ok(Some(Err(e))),
                };
                if i < self.names.len() {
                    cells.push(v);
                } else if !v.is_empty() {
                    return Ok(Some(Err(invalid(
                        self.line,
                        &self.column(i),
                        format!("`{}` is beyond the header's {} columns", short(&v), self.names.len()),
                    ))));
                }
            }
            // Spreadsheets may drop trailing empty cells; a short row means those cells are empty.
            cells.resize(self.names.len(), String::new());
            if cells.iter().any(|c| !c.is_empty()) {
                return Ok(Some(Ok(Row { line: self.line, cells })));
            }
        }
    }
}

pub(super) fn decode_cell(f: &[u8], line: u64, column: impl Fn() -> String) -> Result<String, CsvError> {
    if f.len() > MAX_FIELD_BYTES {
        return Err(CsvError::FieldTooLong { line, column: column(), bytes: f.len() });
    }
    let s = std::str::from_utf8(f).map_err(|_| {
        invalid(
            line,
            &column(),
            "is not UTF-8 text; save the file as UTF-8 (in Excel: \"CSV UTF-8 (Comma delimited)\")",
        )
    })?;
    // Line breaks inside a cell become `\n` (the catalog refuses `\r` as a control character).
    let s = s.trim();
    Ok(if s.contains('\r') { s.replace("\r\n", "\n").replace('\r', "\n") } else { s.to_owned() })
}
