//! Product media as data: 3D models in glTF 2.0's binary container (GLB), checked before they are stored,
//! so that a shopper's phone never downloads a file its viewer cannot open.

/// Largest 3D model accepted (a product model for a phone should stay well under this).
pub const MAX_MODEL_BYTES: usize = 8 << 20;

/// What a checked model holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlbSummary {
    pub bytes: usize,
    pub meshes: usize,
    pub generator: Option<String>,
}

const MAGIC: &[u8; 4] = b"glTF";
const CHUNK_JSON: u32 = 0x4E4F_534A;
const CHUNK_BIN: u32 = 0x004E_4942;

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Checks that `b` is one self-contained glTF 2.0 binary file: the GLB header, its length, a JSON chunk
/// that parses with `asset.version` 2.0, at least one mesh, and no reference to files outside it. The
/// error says what is wrong and how to export the model correctly.
pub fn check_glb(b: &[u8]) -> Result<GlbSummary, String> {
    if b.len() > MAX_MODEL_BYTES {
        return Err(format!(
            "a 3D model may be at most {} MB; this one is {:.1} MB (reduce its textures or polygons)",
            MAX_MODEL_BYTES >> 20,
            b.len() as f64 / (1 << 20) as f64
        ));
    }
    if b.len() < 20 || &b[0..4] != MAGIC {
        return Err("not a GLB file (binary glTF): export the model as .glb (glTF 2.0 binary)".into());
    }
    let version = u32_at(b, 4).unwrap_or(0);
    if version != 2 {
        return Err(format!("GLB version {version}: only glTF 2.0 is supported"));
    }
    let declared = u32_at(b, 8).unwrap_or(0) as usize;
    if declared != b.len() {
        return Err(format!("the file is cut off or padded: its header says {declared} bytes, it has {}", b.len()));
    }
    let json_len = u32_at(b, 12).unwrap_or(0) as usize;
    if u32_at(b, 16) != Some(CHUNK_JSON) || 20 + json_len > b.len() {
        return Err("the GLB's first chunk is not its JSON description".into());
    }
    let mut at = 20 + json_len;
    while at < b.len() {
        let (Some(len), Some(kind)) = (u32_at(b, at), u32_at(b, at + 4)) else {
            return Err("the GLB ends in the middle of a chunk header".into());
        };
        let _ = kind;
        if at + 8 + (len as usize) > b.len() {
            return Err("a GLB chunk runs past the end of the file".into());
        }
        at += 8 + len as usize;
    }
    let json: serde_json::Value =
        serde_json::from_slice(&b[20..20 + json_len]).map_err(|e| format!("the GLB's JSON does not parse: {e}"))?;
    if json["asset"]["version"].as_str() != Some("2.0") {
        return Err("the model is not glTF 2.0 (`asset.version` must be \"2.0\")".into());
    }
    let meshes = json["meshes"].as_array().map_or(0, Vec::len);
    if meshes == 0 {
        return Err("the model has no mesh: nothing to show".into());
    }
    for list in ["buffers", "images"] {
        for item in json[list].as_array().into_iter().flatten() {
            if let Some(uri) = item["uri"].as_str() {
                if !uri.starts_with("data:") {
                    return Err(format!(
                        "the model refers to a file outside it (`{}`): export it as one self-contained .glb",
                        uri.chars().take(80).collect::<String>()
                    ));
                }
            }
        }
    }
    Ok(GlbSummary { bytes: b.len(), meshes, generator: json["asset"]["generator"].as_str().map(str::to_owned) })
}

/// A minimal valid GLB for tests and examples: one triangle, one mesh.
pub fn triangle_glb() -> Vec<u8> {
    let mut bin = Vec::new();
    for v in [[0f32, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]] {
        for c in v {
            bin.extend_from_slice(&c.to_le_bytes());
        }
    }
    let json = format!(
        r#"{{"asset":{{"version":"2.0","generator":"borderless"}},"scene":0,"scenes":[{{"nodes":[0]}}],"nodes":[{{"mesh":0}}],"meshes":[{{"primitives":[{{"attributes":{{"POSITION":0}}}}]}}],"buffers":[{{"byteLength":{}}}],"bufferViews":[{{"buffer":0,"byteLength":{}}}],"accessors":[{{"bufferView":0,"componentType":5126,"count":3,"type":"VEC3","min":[0,0,0],"max":[1,1,0]}}]}}"#,
        bin.len(),
        bin.len()
    );
    glb(&json, &bin)
}

/// Packs a glTF JSON and its binary buffer into a GLB (each chunk padded to 4 bytes as the format asks).
pub fn glb(json: &str, bin: &[u8]) -> Vec<u8> {
    let mut j = json.as_bytes().to_vec();
    while !j.len().is_multiple_of(4) {
        j.push(b' ');
    }
    let mut b = bin.to_vec();
    while !b.len().is_multiple_of(4) {
        b.push(0);
    }
    let total = 12 + 8 + j.len() + if b.is_empty() { 0 } else { 8 + b.len() };
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(j.len() as u32).to_le_bytes());
    out.extend_from_slice(&CHUNK_JSON.to_le_bytes());
    out.extend_from_slice(&j);
    if !b.is_empty() {
        out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        out.extend_from_slice(&CHUNK_BIN.to_le_bytes());
        out.extend_from_slice(&b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_and_bad_models() {
        let ok = triangle_glb();
        assert_eq!(check_glb(&ok).unwrap().meshes, 1);
        assert!(check_glb(b"PK\x03\x04 a zip file, not a model").unwrap_err().contains("export the model as .glb"));
        let mut cut = ok.clone();
        cut.truncate(ok.len() - 4);
        assert!(check_glb(&cut).unwrap_err().contains("cut off"));
        let external =
            glb(r#"{"asset":{"version":"2.0"},"meshes":[{}],"buffers":[{"uri":"model.bin","byteLength":4}]}"#, &[]);
        assert!(check_glb(&external).unwrap_err().contains("model.bin"));
        let v1 = glb(r#"{"asset":{"version":"1.0"},"meshes":[{}]}"#, &[]);
        assert!(check_glb(&v1).unwrap_err().contains("2.0"));
        let empty = glb(r#"{"asset":{"version":"2.0"}}"#, &[]);
        assert!(check_glb(&empty).unwrap_err().contains("no mesh"));
        assert!(check_glb(&vec![0u8; MAX_MODEL_BYTES + 1]).unwrap_err().contains("at most 8 MB"));
    }
}
