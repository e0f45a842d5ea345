//! A global allocator that counts, for the tests that measure memory and
//! allocations. A test binary installs it with
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: common::counting::Counting = common::counting::Counting;
//! ```
//!
//! Everything is counted per thread: a measurement sees what its own
//! thread allocates and frees, never the test harness's threads or another
//! test running beside it, so memory tests need not run one at a time.
//! (Memory that another thread frees stays counted here, which only makes
//! a measurement larger, never smaller than the truth.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Forwards to the system allocator, counting as it goes.
pub struct Counting;

thread_local! {
    /// Allocation and reallocation calls this thread made.
    static CALLS: Cell<usize> = const { Cell::new(0) };
    /// Bytes this thread allocated and has not freed.
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// The most `LIVE` has been since the last `Peak::start`.
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn grew(delta: isize) {
    // `try_with`: the thread-locals may be gone while a thread exits.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

fn called() {
    let _ = CALLS.try_with(|calls| calls.set(calls.get() + 1));
}

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters are const-initialised thread-local cells, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        called();
        grew(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        grew(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        called();
        grew(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocation (and reallocation) calls this thread has made so far.
pub fn allocations() -> usize {
    CALLS.with(Cell::get)
}

/// Bytes this thread has allocated and not freed so far.
pub fn live() -> isize {
    LIVE.with(Cell::get)
}

/// The highest this thread's heap went above where it was when the
/// measurement started.
pub struct Peak {
    baseline: isize,
}

impl Peak {
    /// Starts measuring from this thread's heap as it is now.
    pub fn start() -> Peak {
        let baseline = live();
        PEAK.with(|peak| peak.set(baseline));
        Peak { baseline }
    }

    /// The peak so far, in bytes above the start.
    pub fn bytes(&self) -> usize {
        usize::try_from(PEAK.with(Cell::get) - self.baseline).unwrap_or(0)
    }
}
