//! What `join ROOM` names: a ticket, a known room (looked up in the store) or a room on the
//! LAN, told apart before anything starts.

use super::{ConfigError, Start};
use crate::proto::invite::Invite;
use crate::proto::ticket::{Ticket, TicketError, looks_like_ticket};

/// `join LABEL` for a room on the LAN: only something that can be an announced label (or a
/// topic prefix), and only with LAN discovery on; refused before anything starts otherwise.
pub fn lan_start(query: String, lan: bool) -> Result<Start, ConfigError> {
    // Every path for a room that is no ticket ends here (`/join` in the terminal UI too): a
    // damaged ticket says so, not that no room has its text as a label.
    if looks_like_ticket(&query) {
        query.parse::<Ticket>()?;
    }
    let hex_prefix = !query.is_empty() && query.chars().all(|c| c.is_ascii_hexdigit());

    if !hex_prefix && crate::proto::lan::clean_label(&query).as_deref() != Some(query.as_str()) {
        return Err(ConfigError::NotALabel(query));
    }
    if !lan {
        return Err(ConfigError::NoLanToSearch(query));
    }
    Ok(Start::Lan(query))
}

/// One room of `join A B ...`: a ticket, else a known room (looked up in the store), else a
/// room on the LAN (with no store, nothing is known).
pub fn join_start(room: String, ephemeral: bool, lan: bool) -> Result<Start, ConfigError> {
    match room.parse::<Ticket>() {
        Ok(ticket) => Ok(Start::Join(ticket)),
        // An invite to a private room: one that can no longer be used is refused now.
        Err(TicketError::Invite) => {
            let invite: Invite = room.parse()?;
            invite.check(crate::proto::UnixMillis::now())?;
            Ok(Start::Invite(Box::new(invite)))
        }
        // Something ticket-shaped that does not parse is a damaged ticket (mistyped, most
        // often), refused before anything starts.
        Err(err) if looks_like_ticket(&room) => Err(err.into()),
        Err(_) if ephemeral => lan_start(room, lan),
        Err(_) => Ok(Start::Known(room)),
    }
}
