//! CRC-32/ISO-HDLC in portable Rust, slice-by-16, for targets without
//! crc32fast's SIMD path (wasm32). The tables (16 KiB) are built on first
//! use rather than stored in the module, where they would not compress.

use std::sync::OnceLock;

/// The reflected polynomial of CRC-32/ISO-HDLC.
const POLY: u32 = 0xedb8_8320;

type Tables = [[u32; 256]; 16];

/// `t[0]` is the bytewise table; `t[k][b]` is the CRC of byte `b`
/// followed by `k` zero bytes, so 16 bytes take 16 independent lookups.
fn tables() -> &'static Tables {
    static TABLES: OnceLock<Box<Tables>> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut t = Box::new([[0u32; 256]; 16]);
        for b in 0..256 {
            let mut crc = b as u32;
            for _ in 0..8 {
                crc = (crc >> 1) ^ (POLY & (crc & 1).wrapping_neg());
            }
            t[0][b] = crc;
        }
        for k in 1..16 {
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
    let mut chunks = bytes.chunks_exact(16);
    for c in &mut chunks {
        let a = crc ^ u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        let b = u32::from_le_bytes([c[4], c[5], c[6], c[7]]);
        let d = u32::from_le_bytes([c[8], c[9], c[10], c[11]]);
        let e = u32::from_le_bytes([c[12], c[13], c[14], c[15]]);
        crc = t[15][(a & 0xff) as usize]
            ^ t[14][(a >> 8 & 0xff) as usize]
            ^ t[13][(a >> 16 & 0xff) as usize]
            ^ t[12][(a >> 24) as usize]
            ^ t[11][(b & 0xff) as usize]
            ^ t[10][(b >> 8 & 0xff) as usize]
            ^ t[9][(b >> 16 & 0xff) as usize]
            ^ t[8][(b >> 24) as usize]
            ^ t[7][(d & 0xff) as usize]
            ^ t[6][(d >> 8 & 0xff) as usize]
            ^ t[5][(d >> 16 & 0xff) as usize]
            ^ t[4][(d >> 24) as usize]
            ^ t[3][(e & 0xff) as usize]
            ^ t[2][(e >> 8 & 0xff) as usize]
            ^ t[1][(e >> 16 & 0xff) as usize]
            ^ t[0][(e >> 24) as usize];
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
