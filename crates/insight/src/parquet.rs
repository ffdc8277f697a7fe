//! A small Parquet writer (format version 1, data page v1, PLAIN values, definition levels in the
//! RLE/bit-packed hybrid, no compression) for the analytics export: enough for DuckDB, Spark and pandas
//! to read the events and rollups, without a dependency that builds Arrow. Columns are 64-bit integers
//! (with min/max statistics, so a reader skips files outside its filter), UTF-8 strings or doubles, each
//! required or optional; one row group per file.
//!
//! The metadata is Thrift's compact protocol, written by hand from the format's `parquet.thrift`.

/// A column's values.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    I64(Vec<Option<i64>>),
    F64(Vec<Option<f64>>),
    Str(Vec<Option<String>>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::I64(v) => v.len(),
            Values::F64(v) => v.len(),
            Values::Str(v) => v.len(),
        }
    }
    fn is_null(&self, i: usize) -> bool {
        match self {
            Values::I64(v) => v[i].is_none(),
            Values::F64(v) => v[i].is_none(),
            Values::Str(v) => v[i].is_none(),
        }
    }
    /// Parquet physical type: INT64 = 2, DOUBLE = 5, BYTE_ARRAY = 6.
    fn physical(&self) -> i32 {
        match self {
            Values::I64(_) => 2,
            Values::F64(_) => 5,
            Values::Str(_) => 6,
        }
    }
}

/// A named column; `optional` columns may hold nulls.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub optional: bool,
    pub values: Values,
}

/// Thrift compact protocol, the parts Parquet's metadata needs.
#[derive(Default)]
struct Thrift {
    out: Vec<u8>,
    last: Vec<i16>,
}

const T_I32: u8 = 5;
const T_I64: u8 = 6;
const T_BINARY: u8 = 8;
const T_LIST: u8 = 9;
const T_STRUCT: u8 = 12;

impl Thrift {
    fn varint(&mut self, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.out.push(b);
                return;
            }
            self.out.push(b | 0x80);
        }
    }
    fn zigzag(&mut self, v: i64) {
        self.varint(((v << 1) ^ (v >> 63)) as u64);
    }
    fn field(&mut self, id: i16, ty: u8) {
        let last = self.last.last().copied().unwrap_or(0);
        let delta = id - last;
        if (1..=15).contains(&delta) {
            self.out.push(((delta as u8) << 4) | ty);
        } else {
            self.out.push(ty);
            self.zigzag(id as i64);
        }
        if let Some(l) = self.last.last_mut() {
            *l = id;
        }
    }
    fn i32(&mut self, id: i16, v: i32) {
        self.field(id, T_I32);
        self.zigzag(v as i64);
    }
    fn i64(&mut self, id: i16, v: i64) {
        self.field(id, T_I64);
        self.zigzag(v);
    }
    fn string(&mut self, id: i16, s: &str) {
        self.field(id, T_BINARY);
        self.varint(s.len() as u64);
        self.out.extend_from_slice(s.as_bytes());
    }
    fn begin_struct_field(&mut self, id: i16) {
        self.field(id, T_STRUCT);
        self.last.push(0);
    }
    fn begin_struct(&mut self) {
        self.last.push(0);
    }
    fn end_struct(&mut self) {
        self.out.push(0);
        self.last.pop();
    }
    fn list(&mut self, id: i16, elem: u8, n: usize) {
        self.field(id, T_LIST);
        if n < 15 {
            self.out.push(((n as u8) << 4) | elem);
        } else {
            self.out.push(0xf0 | elem);
            self.varint(n as u64);
        }
    }
}

/// Definition levels (0 null, 1 present) as bit-packed runs of the hybrid encoding, with their length.
fn definition_levels(c: &Values, n: usize) -> Vec<u8> {
    let groups = n.div_ceil(8);
    let mut body = Thrift::default();
    body.varint(((groups as u64) << 1) | 1);
    let mut bits = vec![0u8; groups];
    for i in 0..n {
        if !c.is_null(i) {
            bits[i / 8] |= 1 << (i % 8);
        }
    }
    body.out.extend_from_slice(&bits);
    let mut out = (body.out.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(&body.out);
    out
}

fn plain(c: &Values) -> Vec<u8> {
    let mut out = Vec::new();
    match c {
        Values::I64(v) => v.iter().flatten().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Values::F64(v) => v.iter().flatten().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Values::Str(v) => v.iter().flatten().for_each(|s| {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }),
    }
    out
}

/// Writes the columns (all of the same length) as one Parquet file's bytes.
pub fn write(columns: &[Column]) -> Result<Vec<u8>, String> {
    let rows = columns.first().map(|c| c.values.len()).unwrap_or(0);
    if let Some(c) = columns.iter().find(|c| c.values.len() != rows) {
        return Err(format!("column `{}` has {} values, the first has {rows}", c.name, c.values.len()));
    }
    if let Some(c) = columns.iter().find(|c| !c.optional && (0..rows).any(|i| c.values.is_null(i))) {
        return Err(format!("column `{}` is required but holds a null", c.name));
    }
    let mut file = b"PAR1".to_vec();
    // (offset, compressed size) of each column's one page.
    let mut chunks = Vec::new();
    for c in columns {
        let mut page = Vec::new();
        if c.optional {
            page.extend_from_slice(&definition_levels(&c.values, rows));
        }
        page.extend_from_slice(&plain(&c.values));
        let mut h = Thrift::default();
        h.begin_struct();
        h.i32(1, 0); // DATA_PAGE
        h.i32(2, page.len() as i32);
        h.i32(3, page.len() as i32);
        h.begin_struct_field(5);
        h.i32(1, rows as i32);
        h.i32(2, 0); // PLAIN
        h.i32(3, 3); // RLE
        h.i32(4, 3); // RLE
        h.end_struct();
        h.end_struct();
        let offset = file.len() as i64;
        file.extend_from_slice(&h.out);
        file.extend_from_slice(&page);
        chunks.push((offset, (h.out.len() + page.len()) as i64));
    }
    let mut m = Thrift::default();
    m.begin_struct();
    m.i32(1, 1);
    m.list(2, T_STRUCT, columns.len() + 1);
    m.begin_struct();
    m.string(4, "schema");
    m.i32(5, columns.len() as i32);
    m.end_struct();
    for c in columns {
        m.begin_struct();
        m.i32(1, c.values.physical());
        m.i32(3, if c.optional { 1 } else { 0 });
        m.string(4, &c.name);
        if matches!(c.values, Values::Str(_)) {
            m.i32(6, 0); // UTF8
        }
        m.end_struct();
    }
    m.i64(3, rows as i64);
    m.list(4, T_STRUCT, 1);
    m.begin_struct();
    m.list(1, T_STRUCT, columns.len());
    let total: i64 = chunks.iter().map(|c| c.1).sum();
    for (c, (offset, size)) in columns.iter().zip(&chunks) {
        m.begin_struct();
        m.i64(2, *offset);
        m.begin_struct_field(3);
        m.i32(1, c.values.physical());
        m.list(2, T_I32, 2);
        m.zigzag(0);
        m.zigzag(3);
        m.list(3, T_BINARY, 1);
        m.varint(c.name.len() as u64);
        m.out.extend_from_slice(c.name.as_bytes());
        m.i32(4, 0); // UNCOMPRESSED
        m.i64(5, rows as i64);
        m.i64(6, *size);
        m.i64(7, *size);
        m.i64(9, *offset);
        // Min and max of integer columns, so that readers skip files whose range misses their filter.
        if let Values::I64(v) = &c.values {
            let present = v.iter().flatten();
            if let (Some(lo), Some(hi)) = (present.clone().min(), present.max()) {
                m.begin_struct_field(12);
                m.i64(3, v.iter().filter(|x| x.is_none()).count() as i64);
                m.field(5, T_BINARY);
                m.varint(8);
                m.out.extend_from_slice(&hi.to_le_bytes());
                m.field(6, T_BINARY);
                m.varint(8);
                m.out.extend_from_slice(&lo.to_le_bytes());
                m.end_struct();
            }
        }
        m.end_struct();
        m.end_struct();
    }
    m.i64(2, total);
    m.i64(3, rows as i64);
    m.end_struct();
    m.string(6, "borderless insight");
    m.end_struct();
    file.extend_from_slice(&m.out);
    file.extend_from_slice(&(m.out.len() as u32).to_le_bytes());
    file.extend_from_slice(b"PAR1");
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_has_its_magic_and_footer_and_refuses_bad_columns() {
        let cols = vec![
            Column { name: "n".into(), optional: false, values: Values::I64(vec![Some(1), Some(2)]) },
            Column { name: "s".into(), optional: true, values: Values::Str(vec![Some("가".into()), None]) },
        ];
        let f = write(&cols).unwrap();
        assert_eq!(&f[..4], b"PAR1");
        assert_eq!(&f[f.len() - 4..], b"PAR1");
        let meta = u32::from_le_bytes(f[f.len() - 8..f.len() - 4].try_into().unwrap()) as usize;
        assert!(meta > 20 && meta < f.len());
        let short = vec![cols[0].clone(), Column { name: "x".into(), optional: true, values: Values::I64(vec![None]) }];
        assert!(write(&short).unwrap_err().contains("`x` has 1 values"));
        let null = vec![Column { name: "r".into(), optional: false, values: Values::I64(vec![None]) }];
        assert!(write(&null).unwrap_err().contains("required"));
    }

    #[test]
    fn compact_protocol_field_headers_and_lists() {
        let mut t = Thrift::default();
        t.begin_struct();
        t.i32(1, -1);
        t.i64(20, 300);
        t.list(2, T_I32, 20);
        t.end_struct();
        // Delta 1, type i32, zigzag(-1) = 1; a jump past 15 (and back) writes the type, then the id in
        // zigzag (20 → 40, 2 → 4); 300 is zigzag 600 → d8 04; a list of 20 has its size after 0xf_.
        assert_eq!(t.out, vec![0x15, 0x01, 0x06, 40, 0xd8, 0x04, 0x09, 0x04, 0xf5, 20, 0x00]);
    }
}
