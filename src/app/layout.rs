//! Screen geometry, shared by the view (where to draw) and the app (how far a page scrolls).

use ratatui::layout::{Constraint, Layout, Rect};

use super::editor::Editor;
use super::wrap::wrap_input;

/// From this width the rooms are listed in a sidebar; below it, in a one-row tab bar.
pub const ROOM_LIST_MIN_WIDTH: u16 = 90;
pub const ROOM_LIST_WIDTH: u16 = 18;
/// Below this width the member list is hidden.
pub const MEMBER_LIST_MIN_WIDTH: u16 = 70;
pub const MEMBER_LIST_WIDTH: u16 = 20;
/// The input grows with its text up to this many rows, then scrolls.
pub const MAX_INPUT_ROWS: u16 = 5;
/// `"> "` before the input text.
pub const PROMPT_WIDTH: u16 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatLayout {
    /// The room list (with several rooms or conversations open): a sidebar or a tab bar.
    pub rooms: Option<RoomList>,
    pub history: Rect,
    pub members: Option<Rect>,
    pub status: Rect,
    /// The input rows (below a one-row rule).
    pub input: Rect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomList {
    Sidebar(Rect),
    TabBar(Rect),
}

/// Rows the input needs for `editor` at `width` columns.
pub fn input_rows(editor: &Editor, width: u16) -> u16 {
    let cols = width.saturating_sub(PROMPT_WIDTH) as usize;
    let (rows, _) = wrap_input(editor.text(), editor.cursor(), cols);
    (rows.len() as u16).clamp(1, MAX_INPUT_ROWS)
}

/// The chat screen's panes; `views`: rooms and conversations open (one needs no list).
/// `members`: the view has a member list (a room; a conversation has none).
pub fn chat_layout(area: Rect, editor: &Editor, views: usize, members: bool) -> ChatLayout {
    let (rooms, area) = match views {
        0 | 1 => (None, area),
        _ if area.width >= ROOM_LIST_MIN_WIDTH => {
            let [list, rest] =
                Layout::horizontal([Constraint::Length(ROOM_LIST_WIDTH), Constraint::Min(1)])
                    .areas(area);
            (Some(RoomList::Sidebar(list)), rest)
        }
        _ => {
            let [bar, rest] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
            (Some(RoomList::TabBar(bar)), rest)
        }
    };
    let input_height = input_rows(editor, area.width);
    let [main, status, rule_and_input] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(input_height + 1),
    ])
    .areas(area);
    let input = Rect {
        y: rule_and_input.y + 1,
        height: rule_and_input.height.saturating_sub(1),
        ..rule_and_input
    };
    let (history, members) = if members && area.width >= MEMBER_LIST_MIN_WIDTH {
        let [history, members] =
            Layout::horizontal([Constraint::Min(1), Constraint::Length(MEMBER_LIST_WIDTH)])
                .areas(main);
        (history, Some(members))
    } else {
        (main, None)
    };
    ChatLayout {
        rooms,
        history,
        members,
        status,
        input,
    }
}
