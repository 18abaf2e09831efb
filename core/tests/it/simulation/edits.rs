//! The local edits of the simulation: inserts and deletes (by char and by
//! UTF-16 index, including refused ones), title writes with skewed clocks,
//! counter steps.

use super::{check_doc, Config, Sim, FRAGMENTS, TRACKED};
use quire_core::{EditError, VersionVector};

const YEAR_MS: u64 = 365 * 24 * 60 * 60 * 1000;
const COUNTERS: &[&str] = &["likes", "views", "naïve", "🔥"];

/// UTF-16 offset of each char boundary of `text` (`len + 1` entries).
fn utf16_offsets(text: &str) -> Vec<usize> {
    let mut offsets = vec![0];
    let mut at = 0;
    for c in text.chars() {
        at += c.len_utf16();
        offsets.push(at);
    }
    offsets
}

impl Sim {
    fn random_text(&mut self, max_fragments: usize) -> String {
        let n = if self.rng.percent(5) {
            self.rng.range(10, 40)
        } else {
            self.rng.range(1, max_fragments)
        };
        (0..n).map(|_| *self.rng.pick(FRAGMENTS)).collect()
    }

    /// A local edit failed as expected: the document must be unchanged.
    fn expect_refused(
        &self,
        i: usize,
        before: &(String, VersionVector),
        got: Result<(), EditError>,
        want: EditError,
    ) {
        let seed = self.seed;
        assert_eq!(got, Err(want), "seed {seed}: replica {i}");
        assert_eq!(
            self.docs[i].text(),
            before.0,
            "seed {seed}: refused edit changed the text"
        );
        assert_eq!(
            self.docs[i].version(),
            before.1,
            "seed {seed}: refused edit changed the version"
        );
    }

    pub(super) fn insert(&mut self, i: usize, cfg: Config) {
        let text = self.docs[i].text();
        let offsets = utf16_offsets(&text);
        let len = offsets.len() - 1;
        let ins = self.random_text(cfg.max_fragments);
        let before = (text, self.docs[i].version());
        match self.rng.below(100) {
            0..=2 => {
                let at = len + 1 + self.rng.below(3);
                self.trace(|| format!("d[{i}].insert({at}, {ins:?}) // out of bounds"));
                let got = self.docs[i].insert(at, &ins);
                self.expect_refused(i, &before, got, EditError::OutOfBounds { index: at, len });
                return;
            }
            3..=5 => {
                let inside = inside_pairs(&offsets);
                if !inside.is_empty() {
                    let at = *self.rng.pick(&inside);
                    self.trace(|| format!("d[{i}].insert_utf16({at}, {ins:?}) // inside a pair"));
                    let got = self.docs[i].insert_utf16(at, &ins);
                    self.expect_refused(
                        i,
                        &before,
                        got,
                        EditError::InsideSurrogatePair { index: at },
                    );
                    return;
                }
            }
            _ => {}
        }
        let at = self.rng.below(len + 1);
        let result = if self.rng.percent(25) {
            self.trace(|| format!("d[{i}].insert_utf16({}, {ins:?})", offsets[at]));
            self.docs[i].insert_utf16(offsets[at], &ins)
        } else {
            self.trace(|| format!("d[{i}].insert({at}, {ins:?})"));
            self.docs[i].insert(at, &ins)
        };
        result.unwrap_or_else(|e| panic!("seed {}: insert at {at} of {len}: {e}", self.seed));
        if i == TRACKED {
            self.mirror.local_insert(at, &ins);
        }
        let after = check_doc(self.seed, "after insert", &self.docs[i]);
        let mut want = before.0;
        let byte = want.char_indices().nth(at).map_or(want.len(), |(b, _)| b);
        want.insert_str(byte, &ins);
        assert_eq!(after, want, "seed {}: local insert", self.seed);
    }

    pub(super) fn delete(&mut self, i: usize) {
        let text = self.docs[i].text();
        let offsets = utf16_offsets(&text);
        let len = offsets.len() - 1;
        let before = (text, self.docs[i].version());
        if self.rng.percent(3) {
            let at = self.rng.below(len + 1);
            let n = len - at + 1 + self.rng.below(3);
            self.trace(|| format!("d[{i}].delete({at}, {n}) // out of bounds"));
            let got = self.docs[i].delete(at, n);
            assert!(
                matches!(got, Err(EditError::OutOfBounds { .. })),
                "seed {}: {got:?}",
                self.seed
            );
            let want = got.clone().unwrap_err();
            self.expect_refused(i, &before, got, want);
            return;
        }
        if len == 0 {
            return;
        }
        let at = self.rng.below(len);
        let n = match self.rng.below(10) {
            0..=6 => self.rng.range(1, 4),
            7 | 8 => self.rng.range(1, 20),
            _ => self.rng.range(1, len - at),
        }
        .min(len - at);
        if self.rng.percent(3) {
            let inside = inside_pairs(&offsets);
            if !inside.is_empty() {
                let bad = *self.rng.pick(&inside);
                let (start, units) = if self.rng.percent(50) {
                    (bad, offsets[len] - bad)
                } else {
                    (offsets[at].min(bad), bad - offsets[at].min(bad))
                };
                self.trace(|| format!("d[{i}].delete_utf16({start}, {units}) // inside a pair"));
                let got = self.docs[i].delete_utf16(start, units);
                self.expect_refused(
                    i,
                    &before,
                    got,
                    EditError::InsideSurrogatePair { index: bad },
                );
                return;
            }
        }
        let result = if self.rng.percent(25) {
            let (start, units) = (offsets[at], offsets[at + n] - offsets[at]);
            self.trace(|| format!("d[{i}].delete_utf16({start}, {units})"));
            self.docs[i].delete_utf16(start, units)
        } else {
            self.trace(|| format!("d[{i}].delete({at}, {n})"));
            self.docs[i].delete(at, n)
        };
        result.unwrap_or_else(|e| panic!("seed {}: delete {at}+{n} of {len}: {e}", self.seed));
        if i == TRACKED {
            self.mirror.local_delete(at, n);
        }
        let after = check_doc(self.seed, "after delete", &self.docs[i]);
        let want: String = before
            .0
            .chars()
            .take(at)
            .chain(before.0.chars().skip(at + n))
            .collect();
        assert_eq!(after, want, "seed {}: local delete", self.seed);
    }

    pub(super) fn set_title(&mut self, i: usize) {
        let title = if self.rng.percent(10) {
            String::new()
        } else {
            self.random_text(3)
        };
        let mut now = self.now + self.skew[i];
        match self.rng.below(10) {
            0 => now += YEAR_MS,
            1 => now -= self.rng.below(3_600_000) as u64,
            _ => {}
        }
        self.trace(|| format!("d[{i}].set_title({title:?}, {now})"));
        self.docs[i]
            .set_title(&title, now)
            .unwrap_or_else(|e| panic!("seed {}: set_title: {e}", self.seed));
        assert_eq!(
            self.docs[i].title(),
            title,
            "seed {}: a local title write must win locally",
            self.seed
        );
    }

    pub(super) fn increment(&mut self, i: usize) {
        let name = *self.rng.pick(COUNTERS);
        let by = match self.rng.below(20) {
            0 => i64::MAX,
            1 => i64::MIN,
            _ => self.rng.below(11) as i64 - 5,
        };
        let before = self.docs[i].counter(name);
        self.trace(|| format!("d[{i}].increment({name:?}, {by})"));
        self.docs[i]
            .increment(name, by)
            .unwrap_or_else(|e| panic!("seed {}: increment: {e}", self.seed));
        // Totals saturate per replica (defined overflow behaviour), so the
        // exact sum only holds while no huge step has touched the counter.
        if by.unsigned_abs() >= 1000 {
            self.saturated.insert((i, name));
        }
        if !self.saturated.contains(&(i, name)) && before.unsigned_abs() < (1 << 60) {
            assert_eq!(
                self.docs[i].counter(name),
                before + by,
                "seed {}: local increment",
                self.seed
            );
        }
    }
}

/// UTF-16 indexes that fall between the two halves of a surrogate pair,
/// given the UTF-16 offset of every character (and of the end).
fn inside_pairs(offsets: &[usize]) -> Vec<usize> {
    offsets
        .windows(2)
        .filter(|w| w[1] - w[0] == 2)
        .map(|w| w[0] + 1)
        .collect()
}
