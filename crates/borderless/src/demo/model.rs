//! The demo's 3D model: a charging case for the earbuds, built from numbers here (a rounded pebble with a
//! lid seam and a status light) and packed as a GLB, so the storefront's 3D viewer has something real to
//! show without shipping a binary file in the repository.

use std::f32::consts::PI;

/// The product that gets the model.
pub const PRODUCT: &str = "wireless-noise-cancelling-earbuds-lite";

struct Mesh {
    positions: Vec<[f32; 3]>,
    normals: Vec<[f32; 3]>,
    indices: Vec<u16>,
}

/// A superellipsoid-like pebble (rounder than a box, flatter than an egg), half-sizes in metres, with
/// vertical range `y0..y1` of the unit sphere (to cut the lid from the body).
fn pebble(half: [f32; 3], v0: f32, v1: f32, rings: u16, segments: u16) -> Mesh {
    let mut m = Mesh { positions: Vec::new(), normals: Vec::new(), indices: Vec::new() };
    let shape = |x: f32| x.signum() * x.abs().powf(0.7);
    for r in 0..=rings {
        let v = v0 + (v1 - v0) * r as f32 / rings as f32;
        let theta = v * PI;
        let (st, ct) = theta.sin_cos();
        for s in 0..=segments {
            let phi = 2.0 * PI * s as f32 / segments as f32;
            let (sp, cp) = phi.sin_cos();
            let (ux, uy, uz) = (shape(st * cp), shape(ct), shape(st * sp));
            m.positions.push([half[0] * ux, half[1] * uy, half[2] * uz]);
            // The normal of the scaled surface: the unit direction divided by the scale, renormalised.
            let n = [ux / half[0], uy / half[1], uz / half[2]];
            let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt().max(1e-6);
            m.normals.push([n[0] / len, n[1] / len, n[2] / len]);
        }
    }
    let row = segments + 1;
    for r in 0..rings {
        for s in 0..segments {
            let a = r * row + s;
            let b = a + row;
            m.indices.extend_from_slice(&[a, b, a + 1, a + 1, b, b + 1]);
        }
    }
    m
}

fn offset(mut m: Mesh, d: [f32; 3]) -> Mesh {
    for p in &mut m.positions {
        for i in 0..3 {
            p[i] += d[i];
        }
    }
    m
}

/// The GLB of the earbuds' charging case: body and lid in white, a thin grey seam, a green status light.
pub fn earbuds_case_glb() -> Vec<u8> {
    let half = [0.032f32, 0.024, 0.014];
    let parts = [
        (pebble(half, 0.0, 0.36, 12, 40), 0usize),
        (pebble([half[0] * 0.995, half[1] * 0.995, half[2] * 0.995], 0.36, 0.40, 2, 40), 1),
        (pebble(half, 0.40, 1.0, 20, 40), 0),
        (offset(pebble([0.0018, 0.0018, 0.0012], 0.0, 1.0, 8, 12), [0.0, -0.004, half[2] * 0.93]), 2),
    ];
    let mut bin: Vec<u8> = Vec::new();
    let (mut views, mut accessors, mut primitives) = (Vec::new(), Vec::new(), Vec::new());
    for (mesh, material) in &parts {
        let mut min = [f32::MAX; 3];
        let mut max = [f32::MIN; 3];
        for p in &mesh.positions {
            for i in 0..3 {
                min[i] = min[i].min(p[i]);
                max[i] = max[i].max(p[i]);
            }
        }
        let mut push = |bytes: Vec<u8>, target: u32| {
            while !bin.len().is_multiple_of(4) {
                bin.push(0);
            }
            let view =
                format!(r#"{{"buffer":0,"byteOffset":{},"byteLength":{},"target":{target}}}"#, bin.len(), bytes.len());
            bin.extend_from_slice(&bytes);
            views.push(view);
            views.len() - 1
        };
        let floats =
            |v: &[[f32; 3]]| v.iter().flat_map(|p| p.iter().flat_map(|c| c.to_le_bytes())).collect::<Vec<u8>>();
        let pv = push(floats(&mesh.positions), 34962);
        let nv = push(floats(&mesh.normals), 34962);
        let iv = push(mesh.indices.iter().flat_map(|i| i.to_le_bytes()).collect(), 34963);
        let n = mesh.positions.len();
        let a = accessors.len();
        accessors.push(format!(
            r#"{{"bufferView":{pv},"componentType":5126,"count":{n},"type":"VEC3","min":[{},{},{}],"max":[{},{},{}]}}"#,
            min[0], min[1], min[2], max[0], max[1], max[2]
        ));
        accessors.push(format!(r#"{{"bufferView":{nv},"componentType":5126,"count":{n},"type":"VEC3"}}"#));
        accessors.push(format!(
            r#"{{"bufferView":{iv},"componentType":5123,"count":{},"type":"SCALAR"}}"#,
            mesh.indices.len()
        ));
        primitives.push(format!(
            r#"{{"attributes":{{"POSITION":{a},"NORMAL":{}}},"indices":{},"material":{material}}}"#,
            a + 1,
            a + 2
        ));
    }
    let json = format!(
        r#"{{"asset":{{"version":"2.0","generator":"borderless demo"}},"scene":0,"scenes":[{{"nodes":[0]}}],"nodes":[{{"mesh":0,"name":"charging case"}}],"meshes":[{{"name":"charging case","primitives":[{}]}}],"materials":[{{"name":"case","pbrMetallicRoughness":{{"baseColorFactor":[0.95,0.95,0.93,1],"metallicFactor":0.0,"roughnessFactor":0.35}}}},{{"name":"seam","pbrMetallicRoughness":{{"baseColorFactor":[0.55,0.56,0.58,1],"metallicFactor":0.2,"roughnessFactor":0.5}}}},{{"name":"status light","emissiveFactor":[0.1,0.9,0.3],"pbrMetallicRoughness":{{"baseColorFactor":[0.1,0.8,0.3,1]}}}}],"buffers":[{{"byteLength":{}}}],"bufferViews":[{}],"accessors":[{}]}}"#,
        primitives.join(","),
        bin.len().next_multiple_of(4),
        views.join(","),
        accessors.join(",")
    );
    catalog_io::media::glb(&json, &bin)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_model_is_a_valid_glb() {
        let glb = super::earbuds_case_glb();
        let summary = catalog_io::media::check_glb(&glb).expect("valid");
        assert_eq!(summary.meshes, 1);
        assert!(glb.len() < 200 * 1024, "small enough for a phone: {} bytes", glb.len());
    }
}
