//! What `join ROOM` (and `/join`) takes its argument for: a ticket, a damaged ticket (refused
//! before anything starts), a known room's label or topic prefix, or a room on the LAN.

use super::*;
use crate::proto::SecretKey;
use crate::proto::ticket::TicketError;

fn ticket() -> String {
    let id = SecretKey::from_bytes(&[5; 32]).public();
    let addr = EndpointAddr::new(id).with_ip_addr("10.0.0.7:4242".parse().unwrap());
    Ticket::new(TopicId::from_bytes([6; 32]), vec![addr]).to_string()
}

/// `ticket` with the character at `at` changed to another base32 one.
fn mistyped(ticket: &str, at: usize) -> String {
    let mut typo = ticket.to_string();
    let with = if &ticket[at..=at] == "q" { "r" } else { "q" };
    typo.replace_range(at..=at, with);
    typo
}

#[test]
fn a_mistyped_ticket_is_refused_whatever_else_it_could_be() {
    let good = ticket();
    assert!(matches!(
        join_start(good.clone(), false, true),
        Ok(Start::Join(_))
    ));
    for at in [0, 1, 40, good.len() - 1] {
        let typo = mistyped(&good, at);
        for (ephemeral, lan) in [(false, true), (true, true), (true, false)] {
            let err = join_start(typo.clone(), ephemeral, lan).unwrap_err();
            assert!(
                matches!(err, ConfigError::Ticket(TicketError::Mistyped)),
                "{at}: {err}"
            );
            assert_eq!(
                err.to_string(),
                "this ticket is mistyped (a character is wrong or missing): copy it again"
            );
        }
        // The path of `/join` in the terminal UI: a known room first, then the LAN.
        assert!(matches!(
            lan_start(typo, true),
            Err(ConfigError::Ticket(TicketError::Mistyped))
        ));
    }
    // A character outside base32 in the middle is still a ticket's typo.
    let mut zero = good.clone();
    zero.replace_range(60..61, "0");
    let err = join_start(zero, false, true).unwrap_err().to_string();
    assert!(
        err.starts_with("'0' cannot be in a ticket (character 61)"),
        "{err}"
    );
}

#[test]
fn labels_and_topic_prefixes_are_no_tickets() {
    assert!(matches!(join_start("ops".into(), false, true), Ok(Start::Known(q)) if q == "ops"));
    let topic = TopicId::from_bytes([0xab; 32]).to_string();
    assert!(matches!(join_start(topic.clone(), false, true), Ok(Start::Known(q)) if q == topic));
    assert!(matches!(join_start("ops".into(), true, true), Ok(Start::Lan(q)) if q == "ops"));
    assert!(matches!(
        join_start("not a label".into(), true, true),
        Err(ConfigError::NotALabel(_))
    ));
}

#[test]
fn the_command_line_refuses_a_mistyped_ticket_in_one_line() {
    let typo = mistyped(&ticket(), 77);
    let cli = crate::cli::parse_from(["parlor", "--config", "/dev/null", "join", &typo]);
    let err = Config::from_cli(cli.expect("parses")).unwrap_err();
    assert!(
        matches!(err, ConfigError::Ticket(TicketError::Mistyped)),
        "{err}"
    );
}
