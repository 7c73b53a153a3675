//! A pseudo-terminal of a given size, for the tests that run the real terminal UI.

use portable_pty::{PtyPair, PtySize, native_pty_system};

pub fn open(cols: u16, rows: u16) -> PtyPair {
    native_pty_system()
        .openpty(PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pty")
}
