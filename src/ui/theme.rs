//! Every style the UI uses, in one place, for three palettes: dark terminals (the default),
//! light ones, and none at all (`theme = "mono"` or `NO_COLOR`), where what colour told apart
//! is told by bold, dim, underline and reverse video instead.

use std::cell::Cell;

use ratatui::style::{Color, Modifier, Style};

use crate::proto::EndpointId;

/// The colours to draw with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Palette {
    #[default]
    Dark,
    Light,
    /// No colours: attributes only.
    Mono,
}

thread_local! {
    // The UI draws on one thread; tests, each on its own, keep the default.
    static PALETTE: Cell<Palette> = const { Cell::new(Palette::Dark) };
}

/// Draw with `palette` on this thread from now on.
pub fn set_palette(palette: Palette) {
    PALETTE.with(|p| p.set(palette));
}

fn palette() -> Palette {
    PALETTE.with(Cell::get)
}

/// `dark`, `light` or `mono` by the palette in use.
fn pick(dark: Style, light: Style, mono: Style) -> Style {
    match palette() {
        Palette::Dark => dark,
        Palette::Light => light,
        Palette::Mono => mono,
    }
}

/// Name colours: the 16-colour palette minus what is unreadable on dark backgrounds.
const NAME_COLORS: [Color; 10] = [
    Color::Cyan,
    Color::Green,
    Color::Yellow,
    Color::Magenta,
    Color::LightRed,
    Color::LightBlue,
    Color::LightGreen,
    Color::LightCyan,
    Color::LightMagenta,
    Color::Blue,
];
/// On light backgrounds: no yellow and no light variants.
const LIGHT_NAME_COLORS: [Color; 6] = [
    Color::Blue,
    Color::Red,
    Color::Magenta,
    Color::Green,
    Color::Cyan,
    Color::DarkGray,
];

/// A member's colour, stable for their key (not their name: two "sam"s differ).
pub fn name(id: &EndpointId) -> Style {
    let bytes = id.as_bytes();
    let index = (u16::from(bytes[0]) << 8 | u16::from(bytes[1])) as usize;
    let bold = Style::new().add_modifier(Modifier::BOLD);
    match palette() {
        Palette::Dark => bold.fg(NAME_COLORS[index % NAME_COLORS.len()]),
        Palette::Light => bold.fg(LIGHT_NAME_COLORS[index % LIGHT_NAME_COLORS.len()]),
        Palette::Mono => bold,
    }
}

/// Grey on both backgrounds; dim without colours.
fn quiet() -> Style {
    pick(
        Style::new().fg(Color::DarkGray),
        Style::new().fg(Color::DarkGray),
        Style::new().add_modifier(Modifier::DIM),
    )
}

pub fn time() -> Style {
    quiet()
}

pub fn notice() -> Style {
    quiet()
}

pub fn hint() -> Style {
    quiet()
}

/// A private room's member who is not here now (never announced itself, or left): its
/// name without its colour, dimmed.
pub fn absent() -> Style {
    quiet()
}

/// A private room's role marks (`~` owner, `@` admin) and our role in the status bar.
pub fn role_mark() -> Style {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    pick(bold.fg(Color::Yellow), bold.fg(Color::Red), bold)
}

pub fn rule() -> Style {
    quiet()
}

pub fn error() -> Style {
    pick(
        Style::new().fg(Color::Red),
        Style::new().fg(Color::Red),
        Style::new().add_modifier(Modifier::BOLD),
    )
}

/// Messages from history (caught up or from disk): dimmed, so live talk stands out.
pub fn earlier() -> Style {
    Style::new().add_modifier(Modifier::DIM)
}

/// A deleted line's tombstone.
pub fn tombstone() -> Style {
    quiet().add_modifier(Modifier::ITALIC)
}

/// A reply's quote of the line it answers.
pub fn quote() -> Style {
    quiet().add_modifier(Modifier::ITALIC)
}

/// The reactions row under a line.
pub fn reactions() -> Style {
    pick(
        Style::new().fg(Color::Cyan),
        Style::new().fg(Color::Blue),
        Style::new(),
    )
}

/// Our direct message, not delivered yet.
pub fn pending() -> Style {
    quiet().add_modifier(Modifier::ITALIC)
}

/// A message that names me (and, in the room list, a room where one came).
pub fn mention() -> Style {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    pick(
        bold.fg(Color::Yellow),
        bold.fg(Color::Magenta),
        bold.add_modifier(Modifier::UNDERLINED),
    )
}

pub fn status_bar() -> Style {
    pick(
        Style::new().fg(Color::White).bg(Color::DarkGray),
        Style::new().fg(Color::Black).bg(Color::Gray),
        Style::new().add_modifier(Modifier::REVERSED),
    )
}

pub fn status_error() -> Style {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    pick(
        bold.fg(Color::LightRed).bg(Color::DarkGray),
        bold.fg(Color::Red).bg(Color::Gray),
        bold.add_modifier(Modifier::REVERSED),
    )
}

/// The room shown now, in the room list.
pub fn current_room() -> Style {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    pick(
        bold.fg(Color::Black).bg(Color::Cyan),
        bold.fg(Color::White).bg(Color::Blue),
        bold.add_modifier(Modifier::REVERSED),
    )
}

/// The file line picked to fetch (Ctrl-G): a selection bar across the pane, never dimmed
/// (a line from history is, otherwise), reversed without colours.
pub fn picked() -> Style {
    let bright = Style::new().remove_modifier(Modifier::DIM);
    pick(
        bright.fg(Color::Black).bg(Color::Cyan),
        bright.fg(Color::White).bg(Color::Blue),
        bright.add_modifier(Modifier::REVERSED),
    )
}

/// The one-row room list on narrow terminals.
pub fn tab_bar() -> Style {
    pick(
        Style::new().bg(Color::Black),
        Style::new().bg(Color::Gray),
        Style::new(),
    )
}

pub fn marker() -> Style {
    pick(
        Style::new().fg(Color::Black).bg(Color::Yellow),
        Style::new().fg(Color::Black).bg(Color::Yellow),
        Style::new().add_modifier(Modifier::REVERSED),
    )
}

/// A link in a line (clickable where the terminal takes OSC 8): underlined on top of the
/// line's own style, in every palette.
pub fn link() -> Style {
    Style::new().add_modifier(Modifier::UNDERLINED)
}

/// The `── new ──` rule above the first line not seen yet: red, as chat tools mark it, and
/// bold without colours (the day separators are dim).
pub fn read_marker() -> Style {
    pick(
        Style::new().fg(Color::LightRed),
        Style::new().fg(Color::Red),
        Style::new().add_modifier(Modifier::BOLD),
    )
}

pub fn prompt() -> Style {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    pick(bold.fg(Color::Cyan), bold.fg(Color::Blue), bold)
}

pub fn focused() -> Style {
    let bold = Style::new().add_modifier(Modifier::BOLD);
    pick(
        bold.fg(Color::Yellow),
        bold.fg(Color::Magenta),
        bold.add_modifier(Modifier::UNDERLINED),
    )
}

pub fn title() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

/// QR code modules: black on white whatever the palette (even without colours), so phones
/// can read it: a code drawn in the terminal's own colours is inverted on dark terminals,
/// and many readers do not take inverted codes.
pub fn qr() -> Style {
    Style::new().fg(Color::Black).bg(Color::White)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mono_has_no_colours_but_keeps_every_distinction() {
        set_palette(Palette::Mono);
        let styles = [
            time(),
            error(),
            mention(),
            status_bar(),
            current_room(),
            marker(),
            read_marker(),
            prompt(),
            focused(),
            pending(),
            picked(),
            name(&crate::proto::SecretKey::from_bytes(&[1; 32]).public()),
        ];
        for style in styles {
            assert_eq!((style.fg, style.bg), (None, None), "{style:?}");
        }
        // What colour told apart, attributes still do.
        assert_ne!(mention(), Style::new());
        assert_ne!(error(), notice());
        assert_ne!(current_room(), title());
        assert_ne!(
            read_marker(),
            rule(),
            "the read marker is not a day separator"
        );
        assert!(picked().add_modifier.contains(Modifier::REVERSED));
        set_palette(Palette::Light);
        assert_eq!(mention().fg, Some(Color::Magenta), "no yellow on white");
        set_palette(Palette::Dark);
        assert_eq!(mention().fg, Some(Color::Yellow));
    }
}
