//! How things read for people, shared by both front ends (the TUI's `app`/`ui` and
//! `headless`): times (`time`), sizes (`sizes`), room events about who may say what
//! (`notices`), `/net` (`net`) and files (`files`). Pure formatting over `proto` and
//! `model` types; it imports nothing else of parlor's.

pub mod files;
pub mod net;
pub mod notices;
pub mod private;
pub mod sizes;
pub mod time;

pub use sizes::show_size;
pub use time::{clock, format_time};
