//! What comes into the app ([`Msg`]) and what it asks the outside world to do ([`Effect`]).

use crossterm::event::{KeyEvent, MouseEvent};

use super::views::ViewKey;
use super::{complete_path, direct, lobby};
use crate::model::StoredMessage;
use crate::proto::room::Event;
use crate::proto::ticket::Ticket;
use crate::proto::{MemberInfo, TopicId};

/// A fetch in progress, as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub name: String,
    pub done: u64,
    pub total: u64,
    /// Bytes a second.
    pub rate: u64,
    /// A file of ours being read and hashed for `/send` (no rate: it is local work).
    pub hashing: bool,
}

#[derive(Debug, Clone)]
pub enum Msg {
    /// A message about one view (a room's session or a conversation), current or not.
    /// Messages without it are about the current view.
    For(ViewKey, Box<Msg>),
    Key(KeyEvent),
    /// A bracketed paste: one message however many lines it has.
    Paste(String),
    Mouse(MouseEvent),
    Resize(u16, u16),
    /// The terminal gained (`true`) or lost the focus (focus reporting).
    Focus(bool),
    /// Time passed: sent at [`App::next_deadline`](super::App::next_deadline), so an error
    /// leaves the status bar on time with nothing else coming in.
    Tick,
    /// The session can send; `opened`: we created the room (show the invite at once).
    Ready {
        me: MemberInfo,
        topic: TopicId,
        ticket: String,
        /// The room's name so far (a member's signed one, else the ticket's).
        room_name: Option<String>,
        opened: bool,
    },
    Room(Event),
    Members(Vec<MemberInfo>),
    /// A private room's state, with `Ready` and after every change.
    RoomState(crate::model::RoomStateView),
    /// We were removed from this private room (the room's session ends).
    Removed {
        /// Who removed us (shown as the room's state shows them); `None`: learnt while away.
        by: Option<crate::proto::EndpointId>,
        reason: String,
        ban: bool,
    },
    /// Someone knocks at this private room (we are an admin), or stopped (`gone`).
    Knock {
        id: crate::proto::EndpointId,
        name: String,
        gone: bool,
    },
    /// A fresh ticket, asked for with [`Effect::ShowTicket`].
    Ticket(String),
    /// Our address changed: the invite, if shown, gets the new ticket.
    TicketChanged(String),
    /// The room's connectivity changed.
    Net(crate::model::NetState),
    /// The answer to `/net` ([`Effect::ShowNet`]).
    NetView(crate::model::NetView),
    /// Rooms announced on the LAN, for the lobby.
    Nearby(Vec<lobby::NearbyRoom>),
    /// Something to tell the user in the current view.
    Notice(String),
    /// A file being fetched: shown in the status bar (`None`: no transfer any more).
    Transfer(Option<Transfer>),
    /// Several messages at once (a conversation loaded from disk).
    Batch(Vec<Msg>),
    /// A direct message to `peer` could not be queued: give it back to the input.
    Unsent {
        peer: crate::proto::EndpointId,
        text: String,
        action: bool,
    },
    /// A direct message arrived, was sent (pending) or was loaded from disk.
    Direct(direct::DirectLine),
    /// Our direct message `id` to `peer` was delivered.
    Delivered {
        peer: crate::proto::EndpointId,
        id: crate::proto::MessageId,
    },
    /// The rooms we were in when parlor last ran, for the lobby to offer.
    StoredRooms(Vec<lobby::StoredRoom>),
    /// Members reached only through a relay, to mark in the member list.
    Relayed(Vec<crate::proto::EndpointId>),
    /// Starting or joining the session failed: back to the lobby with the reason.
    Failed(String),
    /// Something the user should know (e.g. a message could not be saved).
    Warning(String),
    /// The answer to [`Effect::CompletePath`]: the entries of `prefix`'s directory whose
    /// names start as its last part does.
    PathCompletions {
        prefix: String,
        candidates: Vec<complete_path::PathCandidate>,
    },
    /// Answers to [`Effect::Search`] for `words`, newest first.
    Found {
        words: String,
        found: Vec<StoredMessage>,
    },
}

/// What the outside world must do. Effects about "the room" (`Say`, `Rename`, `ShowTicket`,
/// ...) are about the current view: the front end carries them out right after the update
/// that made them, before any other message could switch views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Open a new room in view `view` (labelled `label`).
    Open {
        view: ViewKey,
        name: String,
        label: Option<String>,
    },
    Join {
        view: ViewKey,
        name: String,
        ticket: Box<Ticket>,
    },
    /// `/lock`: open room `from`'s private successor in view `view`.
    Lock {
        from: ViewKey,
        view: ViewKey,
        name: String,
        label: Option<String>,
    },
    /// Join a private room by redeeming an invite.
    Redeem {
        view: ViewKey,
        name: String,
        invite: Box<crate::proto::invite::Invite>,
    },
    /// Join a room announced on the LAN.
    JoinNearby {
        view: ViewKey,
        name: String,
        topic: TopicId,
    },
    /// Enter a room known by label or topic (stored, else announced on the LAN).
    JoinKnown {
        view: ViewKey,
        name: String,
        room: String,
    },
    /// Leave the room of `view` for good (`/part`).
    Part(ViewKey),
    /// The lobby's Delete on a room we were in: no longer offer it (the run layer removes
    /// it from the store's open rooms; its history stays).
    ForgetRoom(TopicId),
    /// One line to the room of `view` (`/to`).
    SayIn(ViewKey, String),
    /// A direct message to `peer`.
    SendDirect {
        peer: crate::proto::EndpointId,
        text: String,
        action: bool,
    },
    /// `/send PATH` in the current room.
    SendFile(String),
    /// `/get HANDLE`; `force`: asked twice, so even above `--max-get`.
    GetFile {
        handle: String,
        force: bool,
    },
    /// `/files` for the current room.
    ListFiles,
    /// Tab after `/send `: list the directory of the path `prefix` (`~/` is home, relative
    /// to the current directory) and answer with [`Msg::PathCompletions`].
    CompletePath {
        prefix: String,
    },
    /// Load the stored conversation with `peer` into view `view` (as [`Msg::Direct`]s).
    LoadConversation {
        view: ViewKey,
        peer: crate::proto::EndpointId,
    },
    Say(String),
    Act(String),
    Rename(String),
    /// Compute a fresh ticket and send back [`Msg::Ticket`].
    ShowTicket,
    /// Look at the network and send back [`Msg::NetView`].
    ShowNet,
    /// Search the stored history; answers come back as [`Msg::Found`].
    Search(String),
    /// `/ignore` or `/unignore`; the room answers with an event.
    Ignore {
        who: String,
        ignore: bool,
    },
    ListIgnored,
    /// The user is typing in the room shown (the room says so at most every 3 s).
    Typing,
    /// Put this text on the clipboard (OSC 52).
    Copy(String),
    Bell,
    /// A desktop notification (the terminal lacks the focus): title and body are cleaned
    /// (one line, no control characters, bounded); the run layer sends it as `notify` says.
    Notify {
        title: String,
        body: String,
    },
    /// Have the terminal report the mouse (`true`: wheel scrolling) or not (`false`: the
    /// terminal selects text).
    Mouse(bool),
    Quit,
    /// A command the app leaves to the front-end core, about the view shown.
    Run(super::command::Command),
}
