//! Store model shared by every module: plate keys, 3D geometry, body joints, products and the
//! dense [`StoreLayout`] (plate index tables, shelves, home products, plate boxes).

use std::collections::HashMap;

use crate::error::{Error, Result};

/// Largest gondola number accepted.
pub const MAX_GONDOLA: u16 = 256;
/// Largest shelf number accepted on a gondola.
pub const MAX_SHELF: u16 = 32;
/// Largest plate number accepted on a shelf.
pub const MAX_PLATE: u16 = 64;
/// Largest number of plates in one store.
pub const MAX_PLATES: usize = 16_384;
/// Largest number of distinct products in one store.
pub const MAX_PRODUCTS: usize = 100_000;

/// One weight plate: gondola, shelf and plate numbers (all 1-based as in the recordings).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct PlateKey {
    pub gondola: u16,
    pub shelf: u16,
    pub plate: u16,
}

impl PlateKey {
    /// Builds a key, checking the numbers against [`MAX_GONDOLA`], [`MAX_SHELF`], [`MAX_PLATE`].
    pub fn new(gondola: u16, shelf: u16, plate: u16) -> Result<Self> {
        if gondola == 0 || gondola > MAX_GONDOLA || shelf == 0 || shelf > MAX_SHELF || plate == 0 || plate > MAX_PLATE {
            return Err(Error::invalid(format!(
                "plate ({gondola},{shelf},{plate}) out of range: gondola 1..={MAX_GONDOLA}, shelf 1..={MAX_SHELF}, plate 1..={MAX_PLATE}"
            )));
        }
        Ok(PlateKey { gondola, shelf, plate })
    }
}

/// A point in metres (store / facings frame).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Vec3 {
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

impl Vec3 {
    pub const fn new(x: f64, y: f64, z: f64) -> Self {
        Vec3 { x, y, z }
    }
    pub fn distance(self, o: Vec3) -> f64 {
        ((self.x - o.x).powi(2) + (self.y - o.y).powi(2) + (self.z - o.z).powi(2)).sqrt()
    }
    pub fn lerp(self, o: Vec3, u: f64) -> Vec3 {
        Vec3::new(self.x + (o.x - self.x) * u, self.y + (o.y - self.y) * u, self.z + (o.z - self.z) * u)
    }
}

/// An axis-aligned box in metres.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Aabb {
    pub min: Vec3,
    pub max: Vec3,
}

impl Aabb {
    /// Box from a corner and its size along each axis (the `facings.csv` convention).
    pub fn from_corner(corner: Vec3, dim: Vec3) -> Self {
        let a = corner;
        let b = Vec3::new(corner.x + dim.x, corner.y + dim.y, corner.z + dim.z);
        Aabb {
            min: Vec3::new(a.x.min(b.x), a.y.min(b.y), a.z.min(b.z)),
            max: Vec3::new(a.x.max(b.x), a.y.max(b.y), a.z.max(b.z)),
        }
    }
    /// Euclidean distance from `p` to the box (0 inside).
    pub fn distance(&self, p: Vec3) -> f64 {
        let dx = (self.min.x - p.x).max(0.0).max(p.x - self.max.x);
        let dy = (self.min.y - p.y).max(0.0).max(p.y - self.max.y);
        let dz = (self.min.z - p.z).max(0.0).max(p.z - self.max.z);
        (dx * dx + dy * dy + dz * dz).sqrt()
    }
    pub fn contains(&self, p: Vec3) -> bool {
        self.distance(p) == 0.0
    }
    /// Whether the floor projection (x, y) of `p` lies in the box's floor projection.
    pub fn contains_xy(&self, p: Vec3) -> bool {
        p.x >= self.min.x && p.x <= self.max.x && p.y >= self.min.y && p.y <= self.max.y
    }
    pub fn union(&self, o: &Aabb) -> Aabb {
        Aabb {
            min: Vec3::new(self.min.x.min(o.min.x), self.min.y.min(o.min.y), self.min.z.min(o.min.z)),
            max: Vec3::new(self.max.x.max(o.max.x), self.max.y.max(o.max.y), self.max.z.max(o.max.z)),
        }
    }
    pub fn center(&self) -> Vec3 {
        self.min.lerp(self.max, 0.5)
    }
}

/// Body joints reported by the tracker (the AiFi set plus hands).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Joint {
    Head = 0,
    Neck,
    LShoulder,
    RShoulder,
    LElbow,
    RElbow,
    LWrist,
    RWrist,
    LHand,
    RHand,
}

/// Number of [`Joint`] variants.
pub const JOINT_COUNT: usize = 10;

impl Joint {
    pub const ALL: [Joint; JOINT_COUNT] = [
        Joint::Head,
        Joint::Neck,
        Joint::LShoulder,
        Joint::RShoulder,
        Joint::LElbow,
        Joint::RElbow,
        Joint::LWrist,
        Joint::RWrist,
        Joint::LHand,
        Joint::RHand,
    ];
    /// Joints that touch products: wrists and hands.
    pub const REACH: [Joint; 4] = [Joint::LWrist, Joint::RWrist, Joint::LHand, Joint::RHand];
    /// Name used in `targets.csv`.
    pub fn name(self) -> &'static str {
        match self {
            Joint::Head => "head",
            Joint::Neck => "neck",
            Joint::LShoulder => "l_shoulder",
            Joint::RShoulder => "r_shoulder",
            Joint::LElbow => "l_elbow",
            Joint::RElbow => "r_elbow",
            Joint::LWrist => "l_wrist",
            Joint::RWrist => "r_wrist",
            Joint::LHand => "l_hand",
            Joint::RHand => "r_hand",
        }
    }
    pub fn from_name(s: &str) -> Option<Joint> {
        Joint::ALL.iter().copied().find(|j| j.name() == s)
    }
    pub fn index(self) -> usize {
        self as usize
    }
}

/// One body-track frame of one target: joints in metres (facings frame), `None` when not seen.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackFrame {
    pub t_s: f64,
    pub target_id: String,
    /// Tracker state string (e.g. `TARGETSTATE_VALID_ENTRANCE`); informational.
    pub state: String,
    pub joints: [Option<Vec3>; JOINT_COUNT],
    /// Per-joint detection score in 0..=1 (1 when unknown).
    pub scores: [f32; JOINT_COUNT],
}

impl TrackFrame {
    pub fn new(t_s: f64, target_id: impl Into<String>) -> Self {
        TrackFrame {
            t_s,
            target_id: target_id.into(),
            state: String::new(),
            joints: [None; JOINT_COUNT],
            scores: [1.0; JOINT_COUNT],
        }
    }
    pub fn joint(&self, j: Joint) -> Option<Vec3> {
        self.joints[j.index()]
    }
    /// Body position: mean of neck, head and shoulders that are present.
    pub fn body(&self) -> Option<Vec3> {
        let mut sum = Vec3::default();
        let mut n = 0.0;
        for j in [Joint::Neck, Joint::Head, Joint::LShoulder, Joint::RShoulder] {
            if let Some(p) = self.joint(j) {
                sum = Vec3::new(sum.x + p.x, sum.y + p.y, sum.z + p.z);
                n += 1.0;
            }
        }
        (n > 0.0).then(|| Vec3::new(sum.x / n, sum.y / n, sum.z / n))
    }
}

/// A product of the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub barcode: String,
    pub name: String,
    pub unit_weight_g: f64,
}

/// One shelf: its key and its plates (dense indices) in plate-number order.
#[derive(Debug, Clone)]
pub struct Shelf {
    pub gondola: u16,
    pub shelf: u16,
    pub plates: Vec<u32>,
}

/// Dense store layout: every plate gets an index `0..plate_count()`; shelves, home products and
/// plate boxes are arrays indexed by it, so the 60 Hz path never hashes.
#[derive(Debug, Clone)]
pub struct StoreLayout {
    plates: Vec<PlateKey>,
    lookup: HashMap<PlateKey, u32>,
    /// Shelf index of each plate.
    pub plate_shelf: Vec<u32>,
    /// Position of each plate within its shelf's `plates`.
    pub plate_pos: Vec<u32>,
    pub shelves: Vec<Shelf>,
    pub products: Vec<Product>,
    product_lookup: HashMap<String, u32>,
    /// Home product of each plate (from the planogram), `None` for empty plates.
    pub home_product: Vec<Option<u32>>,
    /// Box of each plate in metres when facings are known.
    pub plate_box: Vec<Option<Aabb>>,
    /// Facing boxes (barcode may be empty for empty shelf space) with their plates.
    pub facings: Vec<(Option<u32>, Vec<u32>, Aabb)>,
}

impl StoreLayout {
    /// Builds the layout from planogram rows, optional facings and extra plates seen in data.
    pub fn build(planogram: &[PlanogramRow], facings: &[FacingRow], extra_plates: &[PlateKey]) -> Result<Self> {
        let mut keys: Vec<PlateKey> = planogram.iter().map(|r| r.plate).chain(extra_plates.iter().copied()).collect();
        for f in facings {
            for &p in &f.plates {
                keys.push(PlateKey { gondola: f.gondola, shelf: f.shelf, plate: p });
            }
        }
        keys.sort();
        keys.dedup();
        if keys.len() > MAX_PLATES {
            return Err(Error::limit("plates in store", MAX_PLATES as u64, keys.len() as u64));
        }
        let lookup: HashMap<PlateKey, u32> = keys.iter().enumerate().map(|(i, k)| (*k, i as u32)).collect();
        let mut shelves: Vec<Shelf> = Vec::new();
        let mut plate_shelf = vec![0u32; keys.len()];
        let mut plate_pos = vec![0u32; keys.len()];
        for (i, k) in keys.iter().enumerate() {
            let new_shelf = shelves.last().is_none_or(|s| s.gondola != k.gondola || s.shelf != k.shelf);
            if new_shelf {
                shelves.push(Shelf { gondola: k.gondola, shelf: k.shelf, plates: Vec::new() });
            }
            let s = shelves.len() - 1;
            plate_shelf[i] = s as u32;
            plate_pos[i] = shelves[s].plates.len() as u32;
            shelves[s].plates.push(i as u32);
        }
        let mut products: Vec<Product> = Vec::new();
        let mut product_lookup: HashMap<String, u32> = HashMap::new();
        let mut home_product = vec![None; keys.len()];
        for r in planogram {
            let Some(barcode) = r.barcode.as_ref() else { continue };
            let idx = match product_lookup.get(barcode) {
                Some(&i) => {
                    let known = products[i as usize].unit_weight_g;
                    if (known - r.unit_weight_g).abs() > 1e-6 * known.max(1.0) {
                        return Err(Error::invalid(format!(
                            "barcode {barcode} has two unit weights in the planogram: {known} g and {} g",
                            r.unit_weight_g
                        )));
                    }
                    i
                }
                None => {
                    if products.len() >= MAX_PRODUCTS {
                        return Err(Error::limit("products", MAX_PRODUCTS as u64, products.len() as u64 + 1));
                    }
                    products.push(Product {
                        barcode: barcode.clone(),
                        name: r.name.clone(),
                        unit_weight_g: r.unit_weight_g,
                    });
                    product_lookup.insert(barcode.clone(), products.len() as u32 - 1);
                    products.len() as u32 - 1
                }
            };
            home_product[lookup[&r.plate] as usize] = Some(idx);
        }
        let mut layout = StoreLayout {
            plates: keys,
            lookup,
            plate_shelf,
            plate_pos,
            shelves,
            products,
            product_lookup,
            home_product,
            plate_box: Vec::new(),
            facings: Vec::new(),
        };
        layout.plate_box = vec![None; layout.plates.len()];
        layout.apply_facings(facings);
        Ok(layout)
    }

    /// Derives plate boxes from facing boxes: a facing's box is cut into equal slices along the
    /// horizontal axis on which the gondola's facings spread, in plate-number order.
    fn apply_facings(&mut self, facings: &[FacingRow]) {
        let mut axis_by_gondola: HashMap<u16, (bool, bool)> = HashMap::new();
        for g in facings.iter().map(|f| f.gondola).collect::<std::collections::BTreeSet<_>>() {
            let rows: Vec<&FacingRow> = facings.iter().filter(|f| f.gondola == g).collect();
            let spread = |sel: fn(&FacingRow) -> f64| {
                let lo = rows.iter().map(|r| sel(r)).fold(f64::INFINITY, f64::min);
                let hi = rows.iter().map(|r| sel(r)).fold(f64::NEG_INFINITY, f64::max);
                hi - lo
            };
            let along_x = spread(|r| r.corner.x) >= spread(|r| r.corner.y);
            // Direction: does the corner grow with the first plate number?
            let mut pairs: Vec<(f64, f64)> = rows
                .iter()
                .map(|r| {
                    (r.plates.iter().copied().min().unwrap_or(0) as f64, if along_x { r.corner.x } else { r.corner.y })
                })
                .collect();
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            let increasing = pairs.first().zip(pairs.last()).is_none_or(|(a, b)| b.1 >= a.1);
            axis_by_gondola.insert(g, (along_x, increasing));
        }
        for f in facings {
            let (along_x, increasing) = axis_by_gondola[&f.gondola];
            let mut plates: Vec<u32> = f
                .plates
                .iter()
                .filter_map(|&p| self.lookup.get(&PlateKey { gondola: f.gondola, shelf: f.shelf, plate: p }).copied())
                .collect();
            plates.sort();
            let bx = Aabb::from_corner(f.corner, f.dim);
            let n = plates.len().max(1) as f64;
            for (k, &pi) in plates.iter().enumerate() {
                let slot = if increasing { k as f64 } else { n - 1.0 - k as f64 };
                let mut b = bx;
                if along_x {
                    let w = (bx.max.x - bx.min.x) / n;
                    b.min.x = bx.min.x + w * slot;
                    b.max.x = b.min.x + w;
                } else {
                    let w = (bx.max.y - bx.min.y) / n;
                    b.min.y = bx.min.y + w * slot;
                    b.max.y = b.min.y + w;
                }
                let cell = &mut self.plate_box[pi as usize];
                *cell = Some(cell.map_or(b, |c| c.union(&b)));
            }
            let product = f.barcode.as_ref().and_then(|b| self.product_lookup.get(b).copied());
            self.facings.push((product, plates, bx));
        }
    }

    pub fn plate_count(&self) -> usize {
        self.plates.len()
    }
    pub fn plate_key(&self, idx: u32) -> PlateKey {
        self.plates[idx as usize]
    }
    pub fn plate_keys(&self) -> &[PlateKey] {
        &self.plates
    }
    pub fn plate_index(&self, key: PlateKey) -> Option<u32> {
        self.lookup.get(&key).copied()
    }
    pub fn product_index(&self, barcode: &str) -> Option<u32> {
        self.product_lookup.get(barcode).copied()
    }
    pub fn product(&self, idx: u32) -> &Product {
        &self.products[idx as usize]
    }
    /// Whether plate geometry is known for every plate in `plates`.
    pub fn has_geometry(&self, plates: &[u32]) -> bool {
        plates.iter().all(|&p| self.plate_box[p as usize].is_some())
    }
    /// Union box of the given plates (None if any plate lacks geometry).
    pub fn plates_box(&self, plates: &[u32]) -> Option<Aabb> {
        let mut acc: Option<Aabb> = None;
        for &p in plates {
            let b = self.plate_box[p as usize]?;
            acc = Some(acc.map_or(b, |a| a.union(&b)));
        }
        acc
    }
    /// Plates whose home product is `product`, on the given shelf.
    pub fn home_plates_on_shelf(&self, product: u32, shelf: u32) -> impl Iterator<Item = u32> + '_ {
        self.shelves[shelf as usize]
            .plates
            .iter()
            .copied()
            .filter(move |&p| self.home_product[p as usize] == Some(product))
    }
}

/// One `planogram.csv` row; `barcode` is `None` for an empty plate.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanogramRow {
    pub plate: PlateKey,
    pub barcode: Option<String>,
    pub name: String,
    pub unit_weight_g: f64,
}

/// One `facings.csv` row: a product facing's box (corner + size, metres) and its plates.
#[derive(Debug, Clone, PartialEq)]
pub struct FacingRow {
    pub barcode: Option<String>,
    pub gondola: u16,
    pub shelf: u16,
    pub plates: Vec<u16>,
    pub corner: Vec3,
    pub dim: Vec3,
}
