use quire_core::{Doc, ReplicaId};
use std::io::Read;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut s).unwrap();
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    let mut patches = vec![];
    for t in v["txns"].as_array().unwrap() {
        for p in t["patches"].as_array().unwrap() {
            patches.push((p[0].as_u64().unwrap() as usize, p[1].as_u64().unwrap() as usize, p[2].as_str().unwrap().to_string()));
        }
    }
    let iters: usize = std::env::var("ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    for _ in 0..iters {
    let t = std::time::Instant::now();
    let mut doc = Doc::new(ReplicaId(1));
    for (pos, del, ins) in &patches {
        if *del > 0 { doc.delete(*pos, *del).unwrap(); }
        if !ins.is_empty() { doc.insert(*pos, ins).unwrap(); }
    }
    let el = t.elapsed();
    let ok = doc.text() == v["endContent"].as_str().unwrap();
    let t = std::time::Instant::now();
    let d = doc.delta_since(&Default::default());
    let dt = t.elapsed();
    let t = std::time::Instant::now();
    let mut other = Doc::new(ReplicaId(2));
    other.apply(&d).unwrap();
    let mt = t.elapsed();
    let t = std::time::Instant::now();
    let enc = doc.encode();
    let et = t.elapsed();
    let t = std::time::Instant::now();
    let dec = Doc::decode(&enc, ReplicaId(3)).unwrap();
    let dtext = dec.text();
    let dect = t.elapsed();
    let mut best = std::time::Duration::MAX;
    let mut bestm = std::time::Duration::MAX;
    for _ in 0..30 {
        let t = std::time::Instant::now();
        let dec = Doc::decode(&enc, ReplicaId(3)).unwrap();
        let _ = dec.text();
        best = best.min(t.elapsed());
        let t = std::time::Instant::now();
        let mut o = Doc::new(ReplicaId(2));
        o.apply(&d).unwrap();
        bestm = bestm.min(t.elapsed());
    }
    println!("decode_min={best:?} merge_min={bestm:?}");
    let denc = d.encode();
    let d2 = quire_core::Delta::decode(&denc).unwrap();
    assert_eq!(d2, d);
    println!("enc={} encode={et:?} decode={dect:?} dec_ok={} reenc_same={} delta_bytes={}", enc.len(), dtext == doc.text(), dec.encode() == enc, denc.len());
    println!("ok={ok} apply={el:?} delta={dt:?} ops={} merge={mt:?} merged_ok={} heap={}", d.op_count(), other.text() == doc.text(), doc.heap_bytes());
    }
}
