//! What the fuzz targets share.

/// `data` with its last four bytes replaced by the CRC-32 of the rest, as
/// every frame ends: without it nearly every input would stop at the
/// checksum, and the fuzzer would never reach the body's parsers.
pub fn resealed(data: &[u8]) -> Vec<u8> {
    let mut frame = data.to_vec();
    if let Some(split) = frame.len().checked_sub(4) {
        let crc = crc32fast::hash(&frame[..split]);
        frame[split..].copy_from_slice(&crc.to_le_bytes());
    }
    frame
}
