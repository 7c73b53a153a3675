//! The one-shot network commands: `parlor nearby` (rooms announced on the LAN) and
//! `parlor relay` (a relay server in the foreground).

use std::io::Write;
use std::process::ExitCode;

use super::{fail, shutdown_signal};
use crate::config::Config;
use crate::front::start::LAN_LISTEN;
use crate::net::relay::{self, AllowList, RelayOptions};
use crate::net::{Nearby, Node};

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| fail(1, &format!("cannot start the async runtime: {err}")))
}

/// Listen to the LAN for [`LAN_LISTEN`] and list what is announced.
pub fn nearby(config: &Config) -> ExitCode {
    if !config.net.lan {
        return fail(
            2,
            "parlor nearby needs LAN discovery: drop --no-lan (and bind no loopback address)",
        );
    }
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let rooms = runtime.block_on(async {
        // No file store: it belongs to the chat that may be running on this data directory.
        let net = crate::net::NetConfig {
            blobs_dir: None,
            ..config.net.clone()
        };
        let node = Node::spawn(&net).await?;
        let Some(lan) = node.lan() else {
            anyhow::bail!("{}", node.lan_error().unwrap_or("LAN discovery is off"));
        };
        tokio::time::sleep(LAN_LISTEN).await;
        let rooms = lan.nearby();
        node.shutdown(crate::front::start::CLOSE_LIMIT).await;
        Ok(rooms)
    });
    runtime.shutdown_background();
    let rooms = match rooms {
        Ok(rooms) => rooms,
        Err(err) => return fail(1, &format!("{err:#}")),
    };
    let mut out = std::io::stdout().lock();
    match write_nearby(&mut out, &rooms, config.json) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(1, &format!("cannot write: {err}")),
    }
}

fn write_nearby(out: &mut impl Write, rooms: &[Nearby], json: bool) -> std::io::Result<()> {
    if json {
        for room in rooms {
            let line = serde_json::json!({
                "type": "nearby",
                "label": room.label,
                "topic": room.topic.to_string(),
                "members": room.announcers.len(),
                "kind": if room.private.is_some() { "private" } else { "public" },
                "room_id": room.private.map(|id| id.to_string()),
                // Who says so: records are unauthenticated, so many announcers from nowhere
                // known deserve a second look (short ids, as the text shows them).
                "sources": room.sources,
                "announcers": room.announcers.iter().map(|id| id.fmt_short().to_string()).collect::<Vec<_>>(),
            });
            writeln!(out, "{line}")?;
        }
        return Ok(());
    }
    if rooms.is_empty() {
        return writeln!(
            out,
            "No room is announced on this LAN (rooms opened with `parlor open --lan` show here)."
        );
    }
    let width = rooms
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(0);
    for room in rooms {
        let n = room.announcers.len();
        writeln!(
            out,
            "{:width$}  {}  {n} member{} announcing ({}){}{}",
            room.label,
            room.topic.fmt_short(),
            if n == 1 { "" } else { "s" },
            announcers(&room.announcers),
            // Ids are free to mint: say when several come from one address.
            match room.sources {
                s if s >= n => String::new(),
                1 => " from 1 address".to_string(),
                s => format!(" from {s} addresses"),
            },
            match room.private {
                Some(_) => "  private: joining asks an admin",
                None => "",
            }
        )?;
    }
    writeln!(out, "Join with: parlor join LABEL (or a topic prefix)")
}

/// Announcers shown in a line: the first few short ids, then how many more.
fn announcers(ids: &[crate::proto::EndpointId]) -> String {
    const SHOWN: usize = 3;
    let mut text: Vec<String> = ids
        .iter()
        .take(SHOWN)
        .map(|id| id.fmt_short().to_string())
        .collect();
    if ids.len() > SHOWN {
        text.push(format!("+{} more", ids.len() - SHOWN));
    }
    text.join(", ")
}

/// Run a relay server until Ctrl-C or SIGTERM. A bad allow file is the user's (exit 2),
/// before anything listens.
pub fn relay(options: RelayOptions) -> ExitCode {
    let allow = match &options.allow_file {
        Some(path) => match read_allow_file(path) {
            Ok(list) => Some(list),
            Err(err) => return fail(2, &err),
        },
        None => None,
    };
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let log = |line: String| {
        let time = chrono::Local::now().format("%Y-%m-%d %H:%M:%S");
        // A closed stdout (the log piped to something that ended) must not stop the relay.
        let _ = writeln!(std::io::stdout().lock(), "{time} {line}");
    };
    let result = runtime.block_on(relay::serve(options, allow, log, shutdown_signal()));
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(1, &format!("{err:#}")),
    }
}

fn read_allow_file(path: &std::path::Path) -> Result<AllowList, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read the allow file {}: {err}", path.display()))?;
    let list =
        AllowList::parse(&text).map_err(|err| format!("allow file {}: {err}", path.display()))?;
    if list.is_empty() {
        return Err(format!(
            "the allow file {} names no endpoint id: nobody could use the relay",
            path.display()
        ));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{SecretKey, TopicId};

    #[test]
    fn nearby_lists_as_text_and_json() {
        let rooms = vec![Nearby {
            topic: TopicId::from_bytes([0xab; 32]),
            label: "standup".into(),
            announcers: vec![SecretKey::from_bytes(&[1; 32]).public()],
            sources: 1,
            private: None,
        }];
        let mut text = Vec::new();
        write_nearby(&mut text, &rooms, false).unwrap();
        let text = String::from_utf8(text).unwrap();
        let one = rooms[0].announcers[0].fmt_short().to_string();
        assert!(
            text.starts_with(&format!(
                "standup  ababababab  1 member announcing ({one})\n"
            )),
            "{text}"
        );
        let mut json = Vec::new();
        write_nearby(&mut json, &rooms, true).unwrap();
        let line: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(line["type"], "nearby");
        assert_eq!(line["label"], "standup");
        assert_eq!(line["members"], 1);
        assert_eq!(line["topic"], "ab".repeat(32));
        assert_eq!(line["kind"], "public");
        assert!(line["room_id"].is_null());
        assert_eq!(line["announcers"], serde_json::json!([one]));
        let room = crate::proto::state::RoomId::from_bytes([3; 32]);
        let private = vec![Nearby {
            private: Some(room),
            ..rooms[0].clone()
        }];
        let mut text = Vec::new();
        write_nearby(&mut text, &private, false).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.contains(&format!(
                "announcing ({one})  private: joining asks an admin"
            )),
            "{text}"
        );
        let mut json = Vec::new();
        write_nearby(&mut json, &private, true).unwrap();
        let line: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(line["kind"], "private");
        assert_eq!(line["room_id"], room.to_string());
        // Many announcers: a few shown, the rest counted.
        let crowd = vec![Nearby {
            announcers: (1..=5)
                .map(|n| SecretKey::from_bytes(&[n; 32]).public())
                .collect(),
            ..rooms[0].clone()
        }];
        let mut text = Vec::new();
        write_nearby(&mut text, &crowd, false).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("5 members announcing ("), "{text}");
        assert!(text.contains(", +2 more) from 1 address\n"), "{text}");
        let mut json = Vec::new();
        write_nearby(&mut json, &crowd, true).unwrap();
        let line: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(line["members"], 5);
        assert_eq!(line["sources"], 1);
        assert_eq!(line["announcers"].as_array().map(Vec::len), Some(5));
        let mut none = Vec::new();
        write_nearby(&mut none, &[], true).unwrap();
        assert!(none.is_empty());
    }
}
