//! The plain data both front ends display but lower layers produce: the room's connectivity
//! and `/net`'s paths (`net`), stored messages (`message`), files offered (`files`) and the
//! rooms a front end is in (`rooms`). A leaf above `proto`: it imports nothing else of
//! parlor's, so `session`, `net`, `store` and `front` fill these in and `app`, `ui` and
//! `headless` read them without importing those layers. How they read for people is
//! `present`'s.

pub mod files;
pub mod message;
pub mod net;
pub mod private;
pub mod rooms;

pub use files::{FileState, Offer, Place, SharedFile};
pub use message::StoredMessage;
pub use net::{Connectivity, NetReport, NetState, NetView, PathKind, PeerPath};
pub use private::{IssuedInvite, RoomKind, RoomStateView, StateMember};
pub use rooms::RoomInfo;
