//! Property tests (proptest) over the public decoders and sanitisers: round trips, no panic on
//! arbitrary input, and the promises the sanitisers make. The coverage-guided fuzz targets in
//! `fuzz/` check the same properties for much longer; these run in every `cargo test`.

mod properties {
    mod chars;
    mod history;
    mod json_line;
    mod lan;
    mod names;
    mod ticket;
    mod wire;
}
