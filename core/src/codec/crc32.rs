//! CRC-32/ISO-HDLC in portable Rust, slice-by-8, for targets without
//! crc32fast's SIMD path (wasm32). The tables (8 KiB) are built on first
//! use rather than stored in the module, where they would not compress.

use std::sync::OnceLock;

/// The reflected polynomial of CRC-32/ISO-HDLC.
const POLY: u32 = 0xedb8_8320;

type Tables = [[u32; 256]; 8];

/// `t[0]` is the bytewise table; `t[k][b]` is the CRC of byte `b`
/// followed by `k` zero bytes, so eight bytes take eight lookups at once.
fn tables() -> &'static Tables {
    static TABLES: OnceLock<Box<Tables>> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut t = Box::new([[0u32; 256]; 8]);
        for b in 0..256 {
            let mut crc = b as u32;
            for _ in 0..8 {
                crc = (crc >> 1) ^ (POLY & (crc & 1).wrapping_neg());
            }
            t[0][b] = crc;
        }
        for k in 1..8 {
            for b in 0..256 {
                let prev = t[k - 1][b];
                t[k][b] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            }
        }
        t
    })
}

/// CRC-32/ISO-HDLC (the zlib/PNG CRC) of `bytes`.
pub(crate) fn hash(bytes: &[u8]) -> u32 {
    let t = tables();
    let mut crc = !0u32;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let lo = crc ^ u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        let hi = u32::from_le_bytes([c[4], c[5], c[6], c[7]]);
        crc = t[7][(lo & 0xff) as usize]
            ^ t[6][(lo >> 8 & 0xff) as usize]
            ^ t[5][(lo >> 16 & 0xff) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][(hi & 0xff) as usize]
            ^ t[2][(hi >> 8 & 0xff) as usize]
            ^ t[1][(hi >> 16 & 0xff) as usize]
            ^ t[0][(hi >> 24) as usize];
    }
    for &b in chunks.remainder() {
        crc = (crc >> 8) ^ t[0][((crc ^ u32::from(b)) & 0xff) as usize];
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::hash;
    use proptest::prelude::*;

    #[test]
    fn check_value_matches_the_standard() {
        assert_eq!(hash(b"123456789"), 0xcbf4_3926);
        assert_eq!(hash(b""), 0);
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest! {
        #[test]
        fn matches_crc32fast(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(hash(&bytes), crc32fast::hash(&bytes));
        }
    }
}
