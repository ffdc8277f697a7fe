//! The recording reader rejects bad input with file:line, column and reason.

use std::path::PathBuf;

fn dir_with(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let d = std::env::temp_dir().join(format!("instore-rec-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    for (f, text) in files {
        std::fs::write(d.join(f), text).unwrap();
    }
    d
}

const PLANOGRAM: &str =
    "gondola,shelf,plate,barcode,name,unit_weight_g\n1,1,1,0711,\"Water, still\",621.67\n1,1,2,,,\n";
const PLATES: &str = "t_unix_s,gondola,shelf,plate,grams\n1.0,1,1,1,1000.0\n1.0,1,1,2,10.0\n";

fn err(files: &[(&str, &str)], name: &str) -> String {
    instore::read_recording(&dir_with(name, files)).unwrap_err().to_string()
}

#[test]
fn good_minimal_recording_reads_and_round_trips() {
    let d = dir_with("good", &[("planogram.csv", PLANOGRAM), ("plates.csv", PLATES)]);
    let rec = instore::read_recording(&d).unwrap();
    assert_eq!(rec.planogram[0].name, "Water, still");
    assert_eq!(rec.samples.len(), 2);
    let out = d.join("copy");
    instore::write_recording(&out, &rec).unwrap();
    let back = instore::read_recording(&out).unwrap();
    assert_eq!(back.planogram, rec.planogram);
    assert_eq!(back.samples, rec.samples);
}

#[test]
fn missing_required_file() {
    let e = err(&[("plates.csv", PLATES)], "missing");
    assert!(e.contains("planogram.csv") && e.contains("missing"), "{e}");
}

#[test]
fn bad_header() {
    let e = err(&[("planogram.csv", PLANOGRAM), ("plates.csv", "t,gondola,shelf,plate,grams\n")], "header");
    assert!(e.contains("plates.csv:1") && e.contains("expected `t_unix_s,gondola,shelf,plate,grams`"), "{e}");
}

#[test]
fn nan_and_out_of_range_values() {
    let e = err(
        &[("planogram.csv", PLANOGRAM), ("plates.csv", "t_unix_s,gondola,shelf,plate,grams\n1.0,1,1,1,NaN\n")],
        "nan",
    );
    assert!(e.contains("plates.csv:2: column `grams`") && e.contains("not finite"), "{e}");
    let e = err(
        &[("planogram.csv", PLANOGRAM), ("plates.csv", "t_unix_s,gondola,shelf,plate,grams\n1.0,1,1,0,5\n")],
        "plate0",
    );
    assert!(e.contains("column `plate`") && e.contains("outside 1..=64"), "{e}");
    let e = err(
        &[("planogram.csv", PLANOGRAM), ("plates.csv", "t_unix_s,gondola,shelf,plate,grams\n1.0,1,1,1,5e9\n")],
        "huge",
    );
    assert!(e.contains("column `grams`") && e.contains("outside"), "{e}");
    let bad_w = "gondola,shelf,plate,barcode,name,unit_weight_g\n1,1,1,0711,x,-3\n";
    let e = err(&[("planogram.csv", bad_w), ("plates.csv", PLATES)], "weight");
    assert!(e.contains("planogram.csv:2: column `unit_weight_g`"), "{e}");
}

#[test]
fn time_going_backwards_and_wrong_field_count() {
    let e = err(
        &[
            ("planogram.csv", PLANOGRAM),
            ("plates.csv", "t_unix_s,gondola,shelf,plate,grams\n2.0,1,1,1,5\n1.0,1,1,1,5\n"),
        ],
        "back",
    );
    assert!(e.contains("plates.csv:3: column `t_unix_s`") && e.contains("backwards"), "{e}");
    let e = err(
        &[("planogram.csv", PLANOGRAM), ("plates.csv", "t_unix_s,gondola,shelf,plate,grams\n2.0,1,1,1\n")],
        "fields",
    );
    assert!(e.contains("plates.csv:2") && e.contains("4 fields, expected 5"), "{e}");
}

#[test]
fn bad_targets_and_facings() {
    let targets = "t_unix_s,target_id,state,joint,x_in,y_in,z_in,score\n1.0,7,S,left_knee,1,2,3,0.9\n";
    let e = err(&[("planogram.csv", PLANOGRAM), ("plates.csv", PLATES), ("targets.csv", targets)], "joint");
    assert!(e.contains("targets.csv:2: column `joint`") && e.contains("left_knee"), "{e}");
    let facings = "barcode,gondola,shelf,plates,x_m,y_m,z_m,dim_x_m,dim_y_m,dim_z_m\n0711,1,1,1 x,0,0,0,1,1,1\n";
    let e = err(&[("planogram.csv", PLANOGRAM), ("plates.csv", PLATES), ("facings.csv", facings)], "facings");
    assert!(e.contains("facings.csv:2: column `plates`"), "{e}");
    let dup = "gondola,shelf,plate,barcode,name,unit_weight_g\n1,1,1,0711,x,3\n1,1,1,0712,y,4\n";
    let e = err(&[("planogram.csv", dup), ("plates.csv", PLATES)], "dup");
    assert!(e.contains("planogram.csv:3") && e.contains("listed twice"), "{e}");
}

#[test]
fn receipts_reader_rejects_bad_lines() {
    let p = std::path::Path::new("truth.jsonl");
    let e = instore::receipt::parse_jsonl(p, "{\"target_id\":\"a\",\"items\":[{\"barcode\":\"1\",\"quantity\":0}]}\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("truth.jsonl:1: column `quantity`"), "{e}");
    let e =
        instore::receipt::parse_jsonl(p, "{\"target_id\":\"a\",\"items\":[]}\n{\"target_id\":\"a\",\"items\":[]}\n")
            .unwrap_err()
            .to_string();
    assert!(e.contains("truth.jsonl:2") && e.contains("two receipts"), "{e}");
    let e = instore::receipt::parse_jsonl(p, "not json\n").unwrap_err().to_string();
    assert!(e.contains("truth.jsonl:1: not a receipt"), "{e}");
}

#[test]
fn gate_passages_are_read_strictly_and_round_trip() {
    let gates = "t_unix_s,target_id,event\n1.0,s1,enter\n2.0,s2,enter\n5.0,s1,exit\n";
    let d = dir_with("gates", &[("planogram.csv", PLANOGRAM), ("plates.csv", PLATES), ("gates.csv", gates)]);
    let rec = instore::read_recording(&d).unwrap();
    assert_eq!(rec.gates.len(), 3);
    assert!(rec.gates[0].enter && !rec.gates[2].enter && rec.gates[2].target_id == "s1");
    let out = d.join("copy");
    instore::write_recording(&out, &rec).unwrap();
    assert_eq!(instore::read_recording(&out).unwrap().gates, rec.gates);
    for (name, text, says) in [
        ("gate-exit-first", "t_unix_s,target_id,event\n1.0,s1,exit\n", "gates.csv:2"),
        ("gate-twice", "t_unix_s,target_id,event\n1.0,s1,enter\n2.0,s1,enter\n", "enters a second time"),
        ("gate-kind", "t_unix_s,target_id,event\n1.0,s1,open\n", "neither enter nor exit"),
        ("gate-time", "t_unix_s,target_id,event\n2.0,s1,enter\n1.0,s2,enter\n", "goes backwards"),
        (
            "gate-left-twice",
            "t_unix_s,target_id,event\n1.0,s1,enter\n2.0,s1,exit\n3.0,s1,exit\n",
            "leaves a second time",
        ),
    ] {
        let e = err(&[("planogram.csv", PLANOGRAM), ("plates.csv", PLATES), ("gates.csv", text)], name);
        assert!(e.contains(says), "{name}: {e}");
    }
}
