//! The one error type of the binary decoders.

/// Why a byte string could not be decoded.
///
/// Decoding never panics and never trusts a length or count it reads: every
/// malformed, truncated or hostile input ends in one of these variants.
///
/// Offsets are byte positions in the slice being decoded. For an object body
/// (inside a frame) they count from the first byte of the body, which is
/// byte 6 of an envelope and byte 1 of a compact delta frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before the item starting at `offset` was complete.
    ///
    /// Cause: the bytes were cut short (a partial read or write, a truncated
    /// file or message), or a length field claims more bytes than exist.
    /// Fix: pass the complete encoding, exactly as produced by the encoder.
    #[error("input truncated: the item at byte {offset} is incomplete")]
    Truncated {
        /// Where the incomplete item starts.
        offset: usize,
    },

    /// The input starts neither with the four magic bytes `QUIR` nor with
    /// the lead byte of a compact delta frame.
    ///
    /// Cause: the bytes are not a Quire encoding at all (another format, or
    /// the wrong buffer). Fix: pass bytes produced by `Doc::encode` or
    /// `Delta::encode`.
    #[error("not a Quire encoding: no magic bytes \"QUIR\" or compact delta lead byte")]
    BadMagic,

    /// The envelope names a format version this build cannot read.
    ///
    /// Cause: the bytes were written by a newer (or unknown) version of
    /// Quire. Fix: upgrade this library to one that supports version
    /// `found`, or have the writer produce version `supported`.
    #[error("unsupported format version {found} (this build reads version {supported})")]
    UnsupportedVersion {
        /// The version stored in the input.
        found: u8,
        /// The version this build reads.
        supported: u8,
    },

    /// The envelope holds a different kind of object than the one asked for.
    ///
    /// Cause: e.g. delta bytes were passed to the document decoder. Fix: call
    /// the decoder that matches the bytes (`Doc::decode` for documents,
    /// `Delta::decode` for deltas).
    #[error("wrong object kind {found} (expected kind {expected})")]
    WrongKind {
        /// The kind stored in the input.
        found: u8,
        /// The kind the caller asked for.
        expected: u8,
    },

    /// The checksum at the end of the envelope does not match its contents.
    ///
    /// Cause: the bytes were corrupted (storage or transport damage) or
    /// modified after encoding. Fix: fetch or re-encode the object again;
    /// corrupted bytes cannot be repaired.
    #[error("checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    ChecksumMismatch {
        /// The CRC-32 stored in the input.
        stored: u32,
        /// The CRC-32 of the bytes actually received.
        computed: u32,
    },

    /// The varint at `offset` is longer than 10 bytes, or its value does not
    /// fit the integer type the field requires.
    ///
    /// Cause: corrupted or hostile input. Fix: none on the reading side; the
    /// encoder never produces such a value.
    #[error("varint at byte {offset} overflows its integer type")]
    VarintOverflow {
        /// Where the varint starts.
        offset: usize,
    },

    /// The varint at `offset` has an overlong encoding (it ends in a zero
    /// byte, e.g. `0x80 0x00` for 0).
    ///
    /// Cause: the bytes were written by a non-conforming encoder or altered;
    /// every value has exactly one valid encoding so that equal objects encode
    /// to equal bytes. Fix: re-encode with a conforming encoder.
    #[error("non-canonical (overlong) varint at byte {offset}")]
    NonCanonicalVarint {
        /// Where the varint starts.
        offset: usize,
    },

    /// A length, count or value is larger than the decoder accepts.
    ///
    /// Cause: corrupted or hostile input, or an object larger than this
    /// build's limits. Fix: if the object is genuine, split it or raise the
    /// limit named by `what`.
    #[error("{what} is {value}, above the limit of {limit}")]
    LimitExceeded {
        /// What was being read (e.g. `"string length"`).
        what: &'static str,
        /// The value found in the input.
        value: u64,
        /// The largest value accepted.
        limit: u64,
    },

    /// A string field is not valid UTF-8; `offset` is the first bad byte.
    ///
    /// Cause: corrupted input or a non-conforming encoder. Fix: re-encode
    /// from valid text.
    #[error("invalid UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// Position of the first byte that is not valid UTF-8.
        offset: usize,
    },

    /// A tag (discriminant) has a value this build does not know.
    ///
    /// Cause: corrupted input, or a newer writer using a variant this build
    /// does not support. Fix: upgrade this library, or re-encode with a
    /// version that matches it.
    #[error("unknown {what} tag {tag}")]
    UnknownTag {
        /// Which kind of tag was being read (e.g. `"operation"`).
        what: &'static str,
        /// The tag found in the input.
        tag: u64,
    },

    /// A value is well formed but structurally impossible (e.g. a run of
    /// length zero).
    ///
    /// Cause: corrupted input or a non-conforming encoder. Fix: re-encode
    /// with a conforming encoder.
    #[error("invalid {what}")]
    Invalid {
        /// What is impossible (e.g. `"zero-length run"`).
        what: &'static str,
    },

    /// The input continues after the end of the encoded object.
    ///
    /// Cause: two encodings were concatenated, or garbage was appended. Fix:
    /// pass exactly one encoding.
    #[error("{count} unexpected trailing byte(s) after the encoded object")]
    TrailingBytes {
        /// How many bytes were left over.
        count: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::DecodeError;

    #[test]
    fn unsupported_version_message_names_both_versions() {
        let msg = DecodeError::UnsupportedVersion {
            found: 7,
            supported: 1,
        }
        .to_string();
        assert!(msg.contains("version 7"), "{msg}");
        assert!(msg.contains("version 1"), "{msg}");
    }

    #[test]
    fn limit_exceeded_message_names_what_value_and_limit() {
        let msg = DecodeError::LimitExceeded {
            what: "string length",
            value: 1 << 60,
            limit: 1024,
        }
        .to_string();
        assert!(msg.contains("string length"), "{msg}");
        assert!(msg.contains(&(1u64 << 60).to_string()), "{msg}");
        assert!(msg.contains("1024"), "{msg}");
    }

    #[test]
    fn decode_error_is_send_sync_and_static() {
        fn check<T: std::error::Error + Send + Sync + 'static>() {}
        check::<DecodeError>();
    }
}
