//! The arithmetic of vectors kept one byte a dimension: quantising a float vector (normalised, one scale
//! per vector) and the integer dot product, with an AVX2 path chosen at run time. Shared by the dense
//! index (`dense`) and its inverted-file lists (`ivf`).

/// Normalises `v` and quantises it to one byte a dimension; `(codes, scale)` with `code × scale` ≈ the unit
/// vector's component.
pub fn quantise(v: &[f32]) -> Option<(Vec<i8>, f32)> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if !norm.is_finite() || norm == 0.0 {
        return None;
    }
    let peak = v.iter().fold(0f32, |m, x| m.max(x.abs())) / norm;
    let scale = peak / 127.0;
    let codes = v.iter().map(|x| ((x / norm) / scale).round().clamp(-127.0, 127.0) as i8).collect();
    Some((codes, scale))
}

/// The integer dot product of two rows (codes in -127..=127, as [`quantise`] and `Dense::import` make
/// them): with AVX2 instructions where the CPU has them (chosen at run time; 32 products per instruction),
/// otherwise the portable loop the compiler widens for the baseline x86-64 SSE2.
pub fn dot(a: &[i8], b: &[i8]) -> i32 {
    #[cfg(target_arch = "x86_64")]
    {
        static AVX2: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        if *AVX2.get_or_init(|| std::arch::is_x86_feature_detected!("avx2")) {
            // SAFETY: the CPU was just found to have AVX2, the only requirement of `dot_avx2`.
            return unsafe { dot_avx2(a, b) };
        }
    }
    dot_portable(a, b)
}

/// 32 bytes at a time: `maddubs` multiplies |a| (unsigned) by b carrying a's sign and adds neighbouring
/// pairs into 16 bits (at most 2 × 128 × 127, no saturation while b stays within -127..=127), `madd`
/// widens the pairs into 32-bit sums.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot_avx2(a: &[i8], b: &[i8]) -> i32 {
    use std::arch::x86_64::*;
    let n = a.len().min(b.len());
    let mut acc = _mm256_setzero_si256();
    let ones = _mm256_set1_epi16(1);
    let mut i = 0;
    while i + 32 <= n {
        // SAFETY: i + 32 <= n, within both slices; unaligned loads.
        let (va, vb) = unsafe {
            (
                _mm256_loadu_si256(a.as_ptr().add(i) as *const __m256i),
                _mm256_loadu_si256(b.as_ptr().add(i) as *const __m256i),
            )
        };
        let pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(va, va), _mm256_sign_epi8(vb, va));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, ones));
        i += 32;
    }
    let s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256::<1>(acc));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
    _mm_cvtsi128_si32(s) + dot_portable(&a[i..n], &b[i..n])
}

#[inline(always)]
fn dot_portable(a: &[i8], b: &[i8]) -> i32 {
    // Sixteen lanes at a time so the compiler widens and multiplies whole registers.
    let mut acc = [0i32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..16 {
            acc[i] += x[i] as i32 * y[i] as i32;
        }
    }
    acc.iter().sum::<i32>() + ra.iter().zip(rb).map(|(x, y)| *x as i32 * *y as i32).sum::<i32>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dot_product_is_the_same_on_every_path() {
        let a: Vec<i8> = (0..389).map(|i| ((i * 37) % 255 - 127) as i8).collect();
        let b: Vec<i8> = (0..389).map(|i| ((i * 91 + 7) % 255 - 127) as i8).collect();
        let exact: i32 = a.iter().zip(&b).map(|(x, y)| *x as i32 * *y as i32).sum();
        assert_eq!(dot(&a, &b), exact);
        assert_eq!(dot_portable(&a, &b), exact);
        assert_eq!(dot_portable(&[-128, 127], &[-128, -128]), 16384 - 16256);
        // The widest codes, every length around the 32-byte steps.
        let mut seed = 3u64;
        let mut code = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (((seed >> 33) % 255) as i32 - 127) as i8
        };
        for len in [0, 1, 31, 32, 33, 63, 64, 65, 384, 385, 1024] {
            let a: Vec<i8> = (0..len).map(|_| code()).collect();
            let b: Vec<i8> = (0..len).map(|_| code()).collect();
            let exact: i32 = a.iter().zip(&b).map(|(x, y)| *x as i32 * *y as i32).sum();
            assert_eq!(dot(&a, &b), exact, "length {len}");
            let max = vec![127i8; len];
            let min = vec![-127i8; len];
            assert_eq!(dot(&max, &min), -(127 * 127) * len as i32);
            assert_eq!(dot(&min, &min), 127 * 127 * len as i32);
        }
    }
}
