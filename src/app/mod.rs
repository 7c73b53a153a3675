//! What the user asks for: parsing typed lines into commands. (The terminal UI's Elm-style
//! `App::update` will live here too.) Contract: pure; never touches the network or terminal.

pub mod command;
