//! Helpers shared by the fuzz targets: how an input chooses the chunking of
//! the bytes it feeds, small checks on HTTP heads, and a cap on the size of
//! any one allocation.
//!
//! Several targets start with a *chunk plan*: one byte `n` (its low five
//! bits), then `n` descriptor bytes. The bytes after the plan are fed in
//! pieces whose lengths the descriptors give in turn, cycling through them;
//! with no descriptors the bytes are fed whole. Each descriptor's low five
//! bits index [`PIECE_LENGTHS`]; the top three bits are flags the target
//! interprets (which input method to use, whether to poll in between, ...).

/// Piece lengths a descriptor can choose: every small length (most bugs of
/// incremental parsers hide in the first few bytes of a header), the
/// boundaries of the frame length encodings, and "all that is left".
pub const PIECE_LENGTHS: [usize; 32] = [
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
    12,
    13,
    14,
    15,
    16,
    17,
    24,
    31,
    32,
    33,
    63,
    64,
    100,
    125,
    126,
    127,
    128,
    255,
    256,
    1024,
    usize::MAX,
];

/// Splits `input` into the chunk plan's descriptors and the bytes to feed.
pub fn split_plan(input: &[u8]) -> (&[u8], &[u8]) {
    let Some((&n, rest)) = input.split_first() else {
        return (&[], &[]);
    };
    let n = usize::from(n & 0x1F).min(rest.len());
    rest.split_at(n)
}

/// The pieces of `data` under `descriptors`, each with the descriptor that
/// cut it (0 when there are none: the data comes whole, as one piece).
pub fn pieces<'a>(descriptors: &'a [u8], data: &'a [u8]) -> Pieces<'a> {
    pieces_in_units(descriptors, data, 1)
}

/// [`pieces`], with each length of [`PIECE_LENGTHS`] counted in `unit`
/// bytes: 1024 gives the large reads a socket under load returns.
pub fn pieces_in_units<'a>(descriptors: &'a [u8], data: &'a [u8], unit: usize) -> Pieces<'a> {
    Pieces {
        descriptors,
        data,
        next: 0,
        unit,
    }
}

/// Iterator returned by [`pieces`].
#[derive(Debug)]
pub struct Pieces<'a> {
    descriptors: &'a [u8],
    data: &'a [u8],
    next: usize,
    unit: usize,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = (&'a [u8], u8);

    fn next(&mut self) -> Option<Self::Item> {
        if self.data.is_empty() {
            return None;
        }
        let descriptor = if self.descriptors.is_empty() {
            PIECE_LENGTHS.len() as u8 - 1
        } else {
            self.descriptors[self.next % self.descriptors.len()]
        };
        self.next += 1;
        let len = PIECE_LENGTHS[usize::from(descriptor & 0x1F)]
            .saturating_mul(self.unit)
            .min(self.data.len());
        let (piece, rest) = self.data.split_at(len);
        self.data = rest;
        Some((piece, descriptor))
    }
}

/// A complete HTTP/1.1 response head parsed by `httparse`, independent of
/// the crate's own parser.
#[derive(Debug)]
pub struct ParsedResponse {
    /// The status code.
    pub status: u16,
    /// Header fields, names as sent.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Everything after the head.
    pub body: Vec<u8>,
}

impl ParsedResponse {
    /// Parses `bytes`, panicking unless they start with a complete,
    /// well-formed HTTP/1.1 response head.
    pub fn parse(bytes: &[u8]) -> ParsedResponse {
        let mut slots = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut slots);
        let status = response.parse(bytes).unwrap_or_else(|error| {
            panic!(
                "malformed response ({error}): {:?}",
                String::from_utf8_lossy(bytes)
            )
        });
        let httparse::Status::Complete(len) = status else {
            panic!("incomplete response: {:?}", String::from_utf8_lossy(bytes));
        };
        assert_eq!(response.version, Some(1), "not HTTP/1.1");
        ParsedResponse {
            status: response.code.expect("a status code"),
            headers: response
                .headers
                .iter()
                .map(|h| (h.name.to_owned(), h.value.to_vec()))
                .collect(),
            body: bytes[len..].to_vec(),
        }
    }

    /// The values of every field named `name` (ignoring ASCII case).
    pub fn all(&self, name: &str) -> Vec<&[u8]> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
            .collect()
    }

    /// The value of the only field named `name`; panics if there is not
    /// exactly one.
    pub fn one(&self, name: &str) -> &[u8] {
        match self.all(name)[..] {
            [value] => value,
            ref values => panic!("{} `{name}` fields, expected one", values.len()),
        }
    }
}

/// A random source that replays fixed bytes: it makes a
/// `ClientHandshake` send a chosen `Sec-WebSocket-Key`.
#[derive(Debug)]
pub struct Replay(pub Vec<u8>);

impl rand::RngCore for Replay {
    fn next_u32(&mut self) -> u32 {
        let mut bytes = [0; 4];
        self.fill_bytes(&mut bytes);
        u32::from_le_bytes(bytes)
    }

    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0; 8];
        self.fill_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        assert!(self.0.len() >= dest.len(), "replay source exhausted");
        let rest = self.0.split_off(dest.len());
        dest.copy_from_slice(&self.0);
        self.0 = rest;
    }
}

/// The largest single allocation a target may make: 64 MiB. The targets
/// configure limits of at most 1 MiB, so anything near this was sized from
/// a length the input declared, not from bytes that arrived.
pub const MALLOC_LIMIT: usize = 64 << 20;

/// The global allocator of every target: the system allocator, aborting
/// (which libFuzzer reports as a crash, saving the input) on any allocation
/// over [`MALLOC_LIMIT`], whether or not its memory is ever touched.
///
/// libFuzzer's own `-malloc_limit_mb` needs a sanitizer's allocator hooks:
/// in a build without one (`--sanitizer none`, the stable build) it is
/// silently ignored, and `-rss_limit_mb` misses untouched or lazily zeroed
/// memory. This catches both, on any toolchain.
#[derive(Debug)]
pub struct LimitedAlloc;

#[global_allocator]
static ALLOCATOR: LimitedAlloc = LimitedAlloc;

fn check_size(size: usize) {
    if size > MALLOC_LIMIT {
        // Nothing here may allocate: a fixed message, digits on the stack.
        use std::io::Write as _;
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut n = size;
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let mut stderr = std::io::stderr();
        let _ = stderr.write_all(b"\n==== allocation of ");
        let _ = stderr.write_all(&digits[at..]);
        let _ = stderr.write_all(b" bytes exceeds the fuzz targets' 64 MiB limit\n");
        std::process::abort();
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// size check only aborts.
unsafe impl std::alloc::GlobalAlloc for LimitedAlloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        check_size(layout.size());
        // SAFETY: the caller upholds `alloc`'s contract.
        unsafe { std::alloc::System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        check_size(layout.size());
        // SAFETY: the caller upholds `alloc_zeroed`'s contract.
        unsafe { std::alloc::System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        check_size(new_size);
        // SAFETY: the caller upholds `realloc`'s contract.
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: the caller upholds `dealloc`'s contract.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
}
