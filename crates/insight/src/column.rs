//! The table's column storage: memory mapped from the system directly, so that a column of hundreds of
//! megabytes grows without a second copy beside it (Linux moves the pages with `mremap`) and goes back
//! to the system the moment it is dropped or shrunk. Through the allocator, a column that grew was
//! copied and its old copy kept until the allocator purged it: measured at ten million events, a live
//! refresh that grew the table held up to 85 MB more than the table for a moment.

use std::alloc::Layout;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

/// Bytes mapped at a time (the system's page).
const PAGE: usize = 4096;

/// A growable array of plain values in its own mapping (`Vec`'s interface, the part the table uses).
pub struct Column<T: Copy> {
    ptr: NonNull<T>,
    len: usize,
    /// Bytes mapped (a multiple of the page; 0: nothing mapped, `ptr` dangles).
    mapped: usize,
}

// SAFETY: a column owns its values as a `Vec` does; `T: Send`/`Sync` carry over.
unsafe impl<T: Copy + Send> Send for Column<T> {}
// SAFETY: as above; shared access only reads.
unsafe impl<T: Copy + Sync> Sync for Column<T> {}

impl<T: Copy> Default for Column<T> {
    fn default() -> Self {
        // Values of one byte to a page (the table's are 1 to 8 bytes): a page always holds one.
        assert!(std::mem::size_of::<T>() > 0 && std::mem::size_of::<T>() <= PAGE && std::mem::align_of::<T>() <= PAGE);
        Column { ptr: NonNull::dangling(), len: 0, mapped: 0 }
    }
}

impl<T: Copy> Column<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Values that fit without mapping more.
    pub fn capacity(&self) -> usize {
        self.mapped / std::mem::size_of::<T>()
    }

    /// Maps room for exactly `cap` values (rounded up to the page), keeping the first `len`.
    fn remap(&mut self, cap: usize) {
        let bytes = cap
            .checked_mul(std::mem::size_of::<T>())
            .and_then(|b| b.checked_next_multiple_of(PAGE))
            .expect("a column of fewer than 2^64 bytes");
        if bytes == self.mapped {
            return;
        }
        let fail = || {
            std::alloc::handle_alloc_error(
                Layout::from_size_align(bytes.max(1), PAGE).unwrap_or_else(|_| Layout::new::<[u8; PAGE]>()),
            )
        };
        if bytes == 0 {
            self.unmap();
            return;
        }
        let old = self.ptr.as_ptr().cast::<libc::c_void>();
        let new = if self.mapped == 0 {
            // SAFETY: a fresh private anonymous mapping; no memory is aliased.
            unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    bytes,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            }
        } else {
            // SAFETY: `old` is this column's own mapping of `self.mapped` bytes; the kernel moves it
            // (its pages, not a copy) when it cannot grow in place, and nothing else points into it.
            unsafe { remap(old, self.mapped, bytes, self.len * std::mem::size_of::<T>()) }
        };
        if new == libc::MAP_FAILED || new.is_null() {
            fail();
        }
        self.ptr = NonNull::new(new.cast::<T>()).unwrap_or_else(fail);
        self.mapped = bytes;
    }

    fn unmap(&mut self) {
        if self.mapped > 0 {
            // SAFETY: this column's own mapping, unmapped once.
            unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.mapped) };
        }
        self.ptr = NonNull::dangling();
        self.mapped = 0;
    }

    /// Makes room for `n` more values, exactly (to the page).
    pub fn reserve_exact(&mut self, n: usize) {
        let need = self.len.checked_add(n).expect("a column of fewer than 2^64 values");
        if need > self.capacity() {
            self.remap(need);
        }
    }

    /// Gives back the pages beyond the values held.
    pub fn shrink_to_fit(&mut self) {
        self.remap(self.len);
    }

    pub fn push(&mut self, v: T) {
        if self.len == self.capacity() {
            // Doubling, as a `Vec` does, for a column built a value at a time.
            self.remap((self.len * 2).max(PAGE / std::mem::size_of::<T>()).max(1));
        }
        // SAFETY: `len < capacity`, within the mapping.
        unsafe { self.ptr.as_ptr().add(self.len).write(v) };
        self.len += 1;
    }

    /// Values from `pos` on, as a column of their own; this column keeps those before.
    pub fn split_off(&mut self, pos: usize) -> Column<T> {
        let pos = pos.min(self.len);
        let mut tail = Column::new();
        tail.reserve_exact(self.len - pos);
        tail.extend_from_slice(&self[pos..]);
        self.len = pos;
        tail
    }

    /// Drops the first `n` values (the rest move to the front; the mapping stays).
    pub fn drain_front(&mut self, n: usize) {
        let n = n.min(self.len);
        self.copy_within(n.., 0);
        self.len -= n;
    }

    pub fn extend_from_slice(&mut self, vs: &[T]) {
        self.reserve_exact(vs.len());
        // SAFETY: room for `vs.len()` more values was made above; `vs` is not in this mapping (a
        // `&mut self` excludes it).
        unsafe { std::ptr::copy_nonoverlapping(vs.as_ptr(), self.ptr.as_ptr().add(self.len), vs.len()) };
        self.len += vs.len();
    }
}

/// Grows or shrinks a mapping: on Linux by moving its pages; on other Unix systems by mapping anew,
/// copying the values and unmapping the old.
///
/// # Safety
/// `old` is a mapping of `from` bytes owned by the caller, holding `keep` bytes of values.
unsafe fn remap(old: *mut libc::c_void, from: usize, to: usize, keep: usize) -> *mut libc::c_void {
    #[cfg(target_os = "linux")]
    {
        let _ = keep;
        // SAFETY: the caller's contract.
        unsafe { libc::mremap(old, from, to, libc::MREMAP_MAYMOVE) }
    }
    #[cfg(not(target_os = "linux"))]
    {
        // SAFETY: a fresh private anonymous mapping, then the caller's own values copied into it.
        unsafe {
            let new = libc::mmap(
                std::ptr::null_mut(),
                to,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if new != libc::MAP_FAILED {
                std::ptr::copy_nonoverlapping(old.cast::<u8>(), new.cast::<u8>(), keep.min(to));
                libc::munmap(old, from);
            }
            new
        }
    }
}

impl<T: Copy> Drop for Column<T> {
    fn drop(&mut self) {
        self.unmap();
    }
}

impl<T: Copy> Deref for Column<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        // SAFETY: the first `len` values are written; a dangling pointer with length 0 is a valid slice.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl<T: Copy> DerefMut for Column<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as in `deref`, with `&mut self` exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl<T: Copy> Clone for Column<T> {
    fn clone(&self) -> Self {
        let mut c = Column::new();
        c.reserve_exact(self.len);
        c.extend_from_slice(self);
        c
    }
}

impl<T: Copy + std::fmt::Debug> std::fmt::Debug for Column<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: Copy + PartialEq> PartialEq<Vec<T>> for Column<T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        self[..] == other[..]
    }
}

impl<T: Copy> FromIterator<T> for Column<T> {
    fn from_iter<I: IntoIterator<Item = T>>(it: I) -> Self {
        let mut c = Column::new();
        it.into_iter().for_each(|v| c.push(v));
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_grows_shrinks_splits_and_drops_its_front_keeping_every_value() {
        let mut c: Column<i64> = Column::new();
        assert!(c.is_empty() && c.capacity() == 0);
        for i in 0..10_000 {
            c.push(i * 3);
        }
        assert_eq!(c.len(), 10_000);
        c.reserve_exact(1_000_000);
        assert!(c.capacity() >= 1_010_000);
        assert!((0..10_000).all(|i| c[i] == i as i64 * 3), "values kept when the mapping moved");
        c.shrink_to_fit();
        assert_eq!(c.capacity(), 10_240, "to the page: 4096 bytes hold 512 values");
        let tail = c.split_off(9_998);
        assert_eq!(tail, vec![29_994, 29_997]);
        assert_eq!(c.len(), 9_998);
        c.drain_front(9_990);
        assert_eq!(c, vec![29_970, 29_973, 29_976, 29_979, 29_982, 29_985, 29_988, 29_991]);
        c.push(1);
        let copy = c.clone();
        c.drain_front(100);
        assert!(c.is_empty());
        assert_eq!(copy.len(), 9);
        assert_eq!(copy.iter().copied().collect::<Column<i64>>(), copy[..].to_vec());
        c.shrink_to_fit();
        assert_eq!(c.capacity(), 0);
        c.extend_from_slice(&[7; 3]);
        assert_eq!(c, vec![7, 7, 7]);
    }

    #[test]
    #[should_panic]
    fn values_bigger_than_a_page_are_refused() {
        let _: Column<[u8; 5_000]> = Column::new();
    }

    #[test]
    fn one_byte_values_use_a_page_for_4096() {
        let mut c: Column<u8> = (0..=255u8).cycle().take(5_000).collect();
        c.shrink_to_fit();
        assert_eq!((c.len(), c.capacity()), (5_000, 8_192));
        assert_eq!(c[4_999], (4_999 % 256) as u8);
    }
}
