//! The recording format (see `FORMAT.md`): a directory with `plates.csv` and `planogram.csv`
//! (required) and `targets.csv`, `facings.csv`, `gates.csv` (optional; a store without a body tracker has
//! gates and no targets). Owns the typed rows, the strict reader
//! (errors name file, line, column and reason; inputs are bounded) and the writer.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
pub use crate::model::{FacingRow, PlanogramRow};
use crate::model::{Joint, PlateKey, StoreLayout, TrackFrame, Vec3, JOINT_COUNT, MAX_GONDOLA, MAX_PLATE, MAX_SHELF};

/// Largest `plates.csv` accepted (bytes).
pub const MAX_PLATES_FILE_BYTES: u64 = 4 << 30;
/// Largest number of plate samples in one recording.
pub const MAX_PLATE_ROWS: u64 = 100_000_000;
/// Largest `targets.csv` accepted (bytes).
pub const MAX_TARGETS_FILE_BYTES: u64 = 1 << 30;
/// Largest number of joint rows in `targets.csv`.
pub const MAX_TARGET_ROWS: u64 = 20_000_000;
/// Largest planogram or facings file (bytes) and rows.
pub const MAX_SMALL_FILE_BYTES: u64 = 64 << 20;
pub const MAX_SMALL_ROWS: u64 = 200_000;
/// Largest plausible plate reading magnitude (grams); beyond this the value is a fault.
pub const MAX_ABS_GRAMS: f64 = 1.0e6;
/// Largest plausible unit weight (grams).
pub const MAX_UNIT_WEIGHT_G: f64 = 100_000.0;
/// Largest plausible joint coordinate magnitude (inches, as stored in `targets.csv`).
pub const MAX_ABS_JOINT_IN: f64 = 40_000.0;
/// Timestamps must lie in this range (seconds since the Unix epoch); catches ms-vs-s mix-ups.
pub const MIN_T_S: f64 = 0.0;
pub const MAX_T_S: f64 = 1.0e11;
/// Inches to metres.
pub const M_PER_IN: f64 = 0.0254;

/// One plate reading. `plate` indexes [`Recording::plate_keys`] (and the layout built from it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlateSample {
    pub t_s: f64,
    pub plate: u32,
    pub grams: f32,
}

/// A shopper passing the entry or exit gate.
#[derive(Debug, Clone, PartialEq)]
pub struct GateEvent {
    pub t_s: f64,
    pub target_id: String,
    /// `true` entering, `false` leaving.
    pub enter: bool,
}

/// A whole recording in memory.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    /// Plate table: [`PlateSample::plate`] indexes it.
    pub plate_keys: Vec<PlateKey>,
    /// Samples in file order (time-sorted per plate).
    pub samples: Vec<PlateSample>,
    pub planogram: Vec<PlanogramRow>,
    pub facings: Vec<FacingRow>,
    /// Track frames (one per target per time), time-sorted.
    pub frames: Vec<TrackFrame>,
    /// Gate passages, time-sorted (each target enters once, then leaves at most once).
    pub gates: Vec<GateEvent>,
}

impl Recording {
    /// Builds the store layout of this recording. Sample plate indices are remapped to it.
    pub fn layout(&self) -> Result<StoreLayout> {
        StoreLayout::build(&self.planogram, &self.facings, &self.plate_keys)
    }
    /// Samples with plate indices translated from the recording's plate table to `layout`.
    pub fn samples_for(&self, layout: &StoreLayout) -> Result<Vec<PlateSample>> {
        let map: Vec<u32> = self
            .plate_keys
            .iter()
            .map(|k| layout.plate_index(*k).ok_or_else(|| Error::Unknown { what: format!("plate {k:?}") }))
            .collect::<Result<_>>()?;
        Ok(self.samples.iter().map(|s| PlateSample { plate: map[s.plate as usize], ..*s }).collect())
    }
}

/// Splits one CSV line into fields (RFC 4180 quoting: `"a, b"` and `""` escapes).
pub(crate) fn split_csv(line: &str, out: &mut Vec<String>) -> std::result::Result<(), String> {
    out.clear();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut in_quotes = false;
    let mut quoted_field = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
        } else if c == '"' {
            if !field.is_empty() || quoted_field {
                return Err("quote inside an unquoted field".into());
            }
            in_quotes = true;
            quoted_field = true;
        } else if c == ',' {
            out.push(std::mem::take(&mut field));
            quoted_field = false;
        } else {
            if quoted_field {
                return Err("text after a closing quote".into());
            }
            field.push(c);
        }
    }
    if in_quotes {
        return Err("unterminated quoted field".into());
    }
    out.push(field);
    Ok(())
}

/// Quotes a CSV field when needed.
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Line-by-line CSV reader that checks the header and size limits and reports `file:line`.
struct CsvReader {
    path: PathBuf,
    lines: std::io::Lines<BufReader<File>>,
    line_no: usize,
    max_rows: u64,
    header: Vec<&'static str>,
    fields: Vec<String>,
}

impl CsvReader {
    fn open(path: &Path, header: &[&'static str], max_bytes: u64, max_rows: u64) -> Result<Self> {
        let file = File::open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::MissingFile { path: path.to_path_buf() }
            } else {
                Error::io(path, e)
            }
        })?;
        let size = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if size > max_bytes {
            return Err(Error::limit(format!("{} size in bytes", path.display()), max_bytes, size));
        }
        let mut r = CsvReader {
            path: path.to_path_buf(),
            lines: BufReader::with_capacity(1 << 16, file).lines(),
            line_no: 0,
            max_rows,
            header: header.to_vec(),
            fields: Vec::new(),
        };
        match r.next_fields()? {
            None => return Err(Error::parse(path, 1, None, "empty file: expected a header line")),
            Some(()) => {
                let got: Vec<&str> = r.fields.iter().map(|s| s.trim()).collect();
                if got != r.header {
                    return Err(Error::parse(
                        path,
                        1,
                        None,
                        format!("header is `{}`, expected `{}`", got.join(","), r.header.join(",")),
                    ));
                }
            }
        }
        Ok(r)
    }

    /// Reads the next non-empty line into `self.fields`; `None` at end of file.
    fn next_fields(&mut self) -> Result<Option<()>> {
        loop {
            let Some(line) = self.lines.next() else { return Ok(None) };
            self.line_no += 1;
            let line = line.map_err(|e| Error::io(&self.path, e))?;
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            if self.line_no as u64 > self.max_rows + 1 {
                return Err(Error::limit(
                    format!("{} rows", self.path.display()),
                    self.max_rows,
                    self.line_no as u64 - 1,
                ));
            }
            split_csv(line, &mut self.fields).map_err(|r| Error::parse(&self.path, self.line_no, None, r))?;
            if self.line_no > 1 && self.fields.len() != self.header.len() {
                return Err(Error::parse(
                    &self.path,
                    self.line_no,
                    None,
                    format!("{} fields, expected {} ({})", self.fields.len(), self.header.len(), self.header.join(",")),
                ));
            }
            return Ok(Some(()));
        }
    }

    fn err(&self, col: usize, reason: impl Into<String>) -> Error {
        Error::parse(&self.path, self.line_no, Some(self.header[col]), reason)
    }
    fn str(&self, col: usize) -> &str {
        self.fields[col].trim()
    }
    fn f64(&self, col: usize) -> Result<f64> {
        let s = self.str(col);
        let v: f64 = s.parse().map_err(|_| self.err(col, format!("`{s}` is not a number")))?;
        if !v.is_finite() {
            return Err(self.err(col, format!("`{s}` is not finite")));
        }
        Ok(v)
    }
    fn ranged(&self, col: usize, lo: f64, hi: f64) -> Result<f64> {
        let v = self.f64(col)?;
        if v < lo || v > hi {
            return Err(self.err(col, format!("{v} is outside {lo}..={hi}")));
        }
        Ok(v)
    }
    fn u16_in(&self, col: usize, max: u16) -> Result<u16> {
        let s = self.str(col);
        let v: u16 = s.parse().map_err(|_| self.err(col, format!("`{s}` is not a whole number")))?;
        if v == 0 || v > max {
            return Err(self.err(col, format!("{v} is outside 1..={max}")));
        }
        Ok(v)
    }
    fn plate_key(&self, g: usize, s: usize, p: usize) -> Result<PlateKey> {
        Ok(PlateKey {
            gondola: self.u16_in(g, MAX_GONDOLA)?,
            shelf: self.u16_in(s, MAX_SHELF)?,
            plate: self.u16_in(p, MAX_PLATE)?,
        })
    }
    fn barcode(&self, col: usize) -> Result<Option<String>> {
        let s = self.str(col);
        if s.is_empty() {
            return Ok(None);
        }
        if s.len() > 64 || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(self.err(col, format!("`{s}` is not a barcode (1-64 letters, digits, - or _)")));
        }
        Ok(Some(s.to_string()))
    }
}

const PLATES_HEADER: [&str; 5] = ["t_unix_s", "gondola", "shelf", "plate", "grams"];
const TARGETS_HEADER: [&str; 8] = ["t_unix_s", "target_id", "state", "joint", "x_in", "y_in", "z_in", "score"];
const PLANOGRAM_HEADER: [&str; 6] = ["gondola", "shelf", "plate", "barcode", "name", "unit_weight_g"];
const GATES_HEADER: [&str; 3] = ["t_unix_s", "target_id", "event"];
const FACINGS_HEADER: [&str; 10] =
    ["barcode", "gondola", "shelf", "plates", "x_m", "y_m", "z_m", "dim_x_m", "dim_y_m", "dim_z_m"];

/// Reads a recording directory. `plates.csv` and `planogram.csv` are required.
pub fn read_recording(dir: &Path) -> Result<Recording> {
    if !dir.is_dir() {
        return Err(Error::MissingFile { path: dir.to_path_buf() });
    }
    let planogram = read_planogram(&dir.join("planogram.csv"))?;
    let facings_path = dir.join("facings.csv");
    let facings = if facings_path.exists() { read_facings(&facings_path)? } else { Vec::new() };
    let (plate_keys, samples) = read_plates(&dir.join("plates.csv"))?;
    let targets_path = dir.join("targets.csv");
    let frames = if targets_path.exists() { read_targets(&targets_path)? } else { Vec::new() };
    let gates_path = dir.join("gates.csv");
    let gates = if gates_path.exists() { read_gates(&gates_path)? } else { Vec::new() };
    Ok(Recording { plate_keys, samples, planogram, facings, frames, gates })
}

/// Reads `gates.csv`: `enter` and `exit` passages in time order; a target enters once, before it leaves,
/// and leaves at most once.
pub fn read_gates(path: &Path) -> Result<Vec<GateEvent>> {
    let mut r = CsvReader::open(path, &GATES_HEADER, MAX_SMALL_FILE_BYTES, MAX_SMALL_ROWS)?;
    let mut out: Vec<GateEvent> = Vec::new();
    let mut state: std::collections::HashMap<String, bool> = std::collections::HashMap::new();
    while r.next_fields()?.is_some() {
        let t_s = r.ranged(0, MIN_T_S, MAX_T_S)?;
        if let Some(prev) = out.last() {
            if t_s < prev.t_s {
                return Err(r.err(0, format!("time {t_s} goes backwards (previous passage at {})", prev.t_s)));
            }
        }
        let target = r.str(1);
        if target.is_empty() || target.len() > 128 {
            return Err(r.err(1, "target id must be 1-128 characters"));
        }
        let enter = match r.str(2) {
            "enter" => true,
            "exit" => false,
            other => return Err(r.err(2, format!("`{other}` is neither enter nor exit"))),
        };
        match (state.get(target).copied(), enter) {
            (None, true) => {}
            (Some(true), false) => {}
            (None, false) => return Err(r.err(2, format!("{target} leaves without having entered"))),
            (Some(_), true) => return Err(r.err(2, format!("{target} enters a second time"))),
            (Some(false), false) => return Err(r.err(2, format!("{target} leaves a second time"))),
        }
        state.insert(target.to_string(), enter);
        out.push(GateEvent { t_s, target_id: target.to_string(), enter });
    }
    Ok(out)
}

/// Reads `planogram.csv`; a plate may appear once, unit weights must be positive for products.
pub fn read_planogram(path: &Path) -> Result<Vec<PlanogramRow>> {
    let mut r = CsvReader::open(path, &PLANOGRAM_HEADER, MAX_SMALL_FILE_BYTES, MAX_SMALL_ROWS)?;
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    while r.next_fields()?.is_some() {
        let plate = r.plate_key(0, 1, 2)?;
        if !seen.insert(plate) {
            return Err(r.err(2, format!("plate ({},{},{}) listed twice", plate.gondola, plate.shelf, plate.plate)));
        }
        let barcode = r.barcode(3)?;
        let name = r.str(4).to_string();
        let unit_weight_g = if barcode.is_some() {
            let w = r.f64(5)?;
            if w <= 0.0 || w > MAX_UNIT_WEIGHT_G {
                return Err(r.err(5, format!("{w} g is not a plausible unit weight (0 < w <= {MAX_UNIT_WEIGHT_G})")));
            }
            w
        } else {
            0.0
        };
        rows.push(PlanogramRow { plate, barcode, name, unit_weight_g });
    }
    Ok(rows)
}

/// Reads `facings.csv` (plates space-separated; empty barcode = empty shelf space).
pub fn read_facings(path: &Path) -> Result<Vec<FacingRow>> {
    let mut r = CsvReader::open(path, &FACINGS_HEADER, MAX_SMALL_FILE_BYTES, MAX_SMALL_ROWS)?;
    let mut rows = Vec::new();
    while r.next_fields()?.is_some() {
        let barcode = r.barcode(0)?;
        let gondola = r.u16_in(1, MAX_GONDOLA)?;
        let shelf = r.u16_in(2, MAX_SHELF)?;
        let mut plates = Vec::new();
        for tok in r.str(3).split_whitespace() {
            let p: u16 = tok.parse().map_err(|_| r.err(3, format!("`{tok}` is not a plate number")))?;
            if p == 0 || p > MAX_PLATE {
                return Err(r.err(3, format!("plate {p} is outside 1..={MAX_PLATE}")));
            }
            plates.push(p);
        }
        if plates.is_empty() {
            return Err(r.err(3, "no plates listed"));
        }
        let corner = Vec3::new(r.ranged(4, -1e4, 1e4)?, r.ranged(5, -1e4, 1e4)?, r.ranged(6, -1e4, 1e4)?);
        let dim = Vec3::new(r.ranged(7, 0.0, 100.0)?, r.ranged(8, 0.0, 100.0)?, r.ranged(9, 0.0, 100.0)?);
        rows.push(FacingRow { barcode, gondola, shelf, plates, corner, dim });
    }
    Ok(rows)
}

/// Reads `plates.csv`: returns the plate table and the samples. Time must not go backwards per plate.
pub fn read_plates(path: &Path) -> Result<(Vec<PlateKey>, Vec<PlateSample>)> {
    let mut r = CsvReader::open(path, &PLATES_HEADER, MAX_PLATES_FILE_BYTES, MAX_PLATE_ROWS)?;
    let mut keys: Vec<PlateKey> = Vec::new();
    let mut index: std::collections::HashMap<PlateKey, u32> = std::collections::HashMap::new();
    let mut last_t: Vec<f64> = Vec::new();
    let mut samples = Vec::new();
    while r.next_fields()?.is_some() {
        let t_s = r.ranged(0, MIN_T_S, MAX_T_S)?;
        let key = r.plate_key(1, 2, 3)?;
        let grams = r.ranged(4, -MAX_ABS_GRAMS, MAX_ABS_GRAMS)?;
        let plate = match index.get(&key) {
            Some(&i) => i,
            None => {
                if keys.len() >= crate::model::MAX_PLATES {
                    return Err(Error::limit(
                        "distinct plates in plates.csv",
                        crate::model::MAX_PLATES as u64,
                        keys.len() as u64 + 1,
                    ));
                }
                keys.push(key);
                last_t.push(f64::NEG_INFINITY);
                index.insert(key, keys.len() as u32 - 1);
                keys.len() as u32 - 1
            }
        };
        if t_s < last_t[plate as usize] {
            return Err(
                r.err(0, format!("time {t_s} goes backwards for this plate (previous {})", last_t[plate as usize]))
            );
        }
        last_t[plate as usize] = t_s;
        samples.push(PlateSample { t_s, plate, grams: grams as f32 });
    }
    Ok((keys, samples))
}

/// Reads `targets.csv` into frames: consecutive rows with the same time and target form a frame.
/// Joints are converted from inches to metres with y mirrored (x·0.0254, −y·0.0254, z·0.0254).
pub fn read_targets(path: &Path) -> Result<Vec<TrackFrame>> {
    let mut r = CsvReader::open(path, &TARGETS_HEADER, MAX_TARGETS_FILE_BYTES, MAX_TARGET_ROWS)?;
    let mut frames: Vec<TrackFrame> = Vec::new();
    while r.next_fields()?.is_some() {
        let t_s = r.ranged(0, MIN_T_S, MAX_T_S)?;
        let target = r.str(1);
        if target.is_empty() || target.len() > 128 {
            return Err(r.err(1, "target id must be 1-128 characters"));
        }
        let joint_name = r.str(3);
        let joint = Joint::from_name(joint_name).ok_or_else(|| r.err(3, format!("unknown joint `{joint_name}`")))?;
        let lim = MAX_ABS_JOINT_IN;
        let p = Vec3::new(
            r.ranged(4, -lim, lim)? * M_PER_IN,
            -r.ranged(5, -lim, lim)? * M_PER_IN,
            r.ranged(6, -lim, lim)? * M_PER_IN,
        );
        let score = r.ranged(7, 0.0, 1.0)? as f32;
        let same = frames.last().is_some_and(|f| f.t_s == t_s && f.target_id == target);
        if !same {
            if let Some(prev) = frames.last() {
                if t_s < prev.t_s {
                    return Err(r.err(0, format!("time {t_s} goes backwards (previous frame at {})", prev.t_s)));
                }
            }
            let mut f = TrackFrame::new(t_s, target);
            f.state = r.str(2).to_string();
            frames.push(f);
        }
        let f = frames.last_mut().expect("frame pushed above");
        f.joints[joint.index()] = Some(p);
        f.scores[joint.index()] = score;
    }
    Ok(frames)
}

fn create(path: &Path) -> Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(1 << 16, File::create(path).map_err(|e| Error::io(path, e))?))
}

fn io(p: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(p, e)
}

/// Writes a recording directory in the same format (creates the directory).
pub fn write_recording(dir: &Path, rec: &Recording) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let path = dir.join("plates.csv");
    let mut w = create(&path)?;
    writeln!(w, "{}", PLATES_HEADER.join(",")).map_err(io(&path))?;
    for s in &rec.samples {
        let k = rec.plate_keys[s.plate as usize];
        writeln!(w, "{:.4},{},{},{},{:.2}", s.t_s, k.gondola, k.shelf, k.plate, s.grams).map_err(io(&path))?;
    }
    w.flush().map_err(io(&path))?;

    let path = dir.join("planogram.csv");
    let mut w = create(&path)?;
    writeln!(w, "{}", PLANOGRAM_HEADER.join(",")).map_err(io(&path))?;
    for r in &rec.planogram {
        let k = r.plate;
        let (b, wgt) = match &r.barcode {
            Some(b) => (b.as_str(), format!("{}", r.unit_weight_g)),
            None => ("", String::new()),
        };
        writeln!(w, "{},{},{},{},{},{}", k.gondola, k.shelf, k.plate, b, csv_field(&r.name), wgt).map_err(io(&path))?;
    }
    w.flush().map_err(io(&path))?;

    if !rec.facings.is_empty() {
        let path = dir.join("facings.csv");
        let mut w = create(&path)?;
        writeln!(w, "{}", FACINGS_HEADER.join(",")).map_err(io(&path))?;
        for f in &rec.facings {
            let plates: Vec<String> = f.plates.iter().map(|p| p.to_string()).collect();
            writeln!(
                w,
                "{},{},{},{},{},{},{},{},{},{}",
                f.barcode.as_deref().unwrap_or(""),
                f.gondola,
                f.shelf,
                plates.join(" "),
                f.corner.x,
                f.corner.y,
                f.corner.z,
                f.dim.x,
                f.dim.y,
                f.dim.z
            )
            .map_err(io(&path))?;
        }
        w.flush().map_err(io(&path))?;
    }

    if !rec.frames.is_empty() {
        let path = dir.join("targets.csv");
        let mut w = create(&path)?;
        writeln!(w, "{}", TARGETS_HEADER.join(",")).map_err(io(&path))?;
        for f in &rec.frames {
            for j in Joint::ALL {
                let Some(p) = f.joints[j.index()] else { continue };
                writeln!(
                    w,
                    "{:.4},{},{},{},{:.2},{:.2},{:.2},{:.3}",
                    f.t_s,
                    f.target_id,
                    csv_field(&f.state),
                    j.name(),
                    p.x / M_PER_IN,
                    -p.y / M_PER_IN,
                    p.z / M_PER_IN,
                    f.scores[j.index()]
                )
                .map_err(io(&path))?;
            }
        }
        w.flush().map_err(io(&path))?;
    }
    write_gates(dir, &rec.gates)
}

/// Writes `gates.csv` when the recording has gate passages.
fn write_gates(dir: &Path, gates: &[GateEvent]) -> Result<()> {
    if gates.is_empty() {
        return Ok(());
    }
    let path = dir.join("gates.csv");
    let mut w = create(&path)?;
    writeln!(w, "{}", GATES_HEADER.join(",")).map_err(io(&path))?;
    for g in gates {
        writeln!(w, "{:.4},{},{}", g.t_s, g.target_id, if g.enter { "enter" } else { "exit" }).map_err(io(&path))?;
    }
    w.flush().map_err(io(&path))
}

#[allow(dead_code)]
const _: () = assert!(JOINT_COUNT == 10);
