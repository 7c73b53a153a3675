//! What `/search` takes: each word matches the start of a word (`hel` finds "hello"), a
//! "quoted phrase" matches those words in that order; every term must match. Turned into an
//! FTS5 query for the disk, and matched directly for conversations kept in memory, the same
//! way: text is cut into words as FTS5's default tokenizer (unicode61) cuts it, letters and
//! digits, case folded.

/// One thing to find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// Words in order, the last one a prefix: a typed word (`don't` is `don` then `t`).
    Prefix(Vec<String>),
    /// Words in order, the last one whole: a quoted phrase.
    Phrase(Vec<String>),
}

/// The terms of what the user typed. A quote left open runs to the end; terms without a
/// letter or digit (`-`, `*`, `""`) find nothing and are left out.
pub fn terms(typed: &str) -> Vec<Term> {
    let mut terms = Vec::new();
    let mut rest = typed;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return terms;
        }
        let (term, quoted, next) = match rest.strip_prefix('"') {
            Some(after) => {
                let (phrase, next) = after.split_once('"').unwrap_or((after, ""));
                (phrase, true, next)
            }
            None => {
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == '"')
                    .unwrap_or(rest.len());
                (&rest[..end], false, &rest[end..])
            }
        };
        let words = words_of(term);
        if !words.is_empty() {
            terms.push(match quoted {
                true => Term::Phrase(words),
                false => Term::Prefix(words),
            });
        }
        rest = next;
    }
}

/// The FTS5 query for `typed`: each term a quoted string (so `AND`, `NEAR`, `*` and `-` are
/// words, never query syntax), a typed word's marked as a prefix. Empty: nothing to find.
pub(super) fn fts_query(typed: &str) -> String {
    terms(typed)
        .iter()
        .map(|term| match term {
            Term::Prefix(words) => format!("\"{}\"*", words.join(" ")),
            Term::Phrase(words) => format!("\"{}\"", words.join(" ")),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `text` has every one of `terms` (none: no).
pub fn matches(terms: &[Term], text: &str) -> bool {
    let text = words_of(text);
    !terms.is_empty()
        && terms.iter().all(|term| {
            let (words, prefix) = match term {
                Term::Prefix(words) => (words, true),
                Term::Phrase(words) => (words, false),
            };
            text.windows(words.len()).any(|at| {
                at.iter().zip(words).enumerate().all(|(i, (have, want))| {
                    match prefix && i + 1 == words.len() {
                        true => have.starts_with(want.as_str()),
                        false => have == want,
                    }
                })
            })
        })
}

/// The words of `text`: runs of letters and digits, lower case.
fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_prefixes_and_quotes_make_phrases() {
        assert_eq!(
            terms(r#"hel "deploy  Failed" don't"#),
            [
                Term::Prefix(vec!["hel".into()]),
                Term::Phrase(vec!["deploy".into(), "failed".into()]),
                Term::Prefix(vec!["don".into(), "t".into()]),
            ]
        );
        assert_eq!(
            fts_query(r#"hel "deploy failed""#),
            r#""hel"* "deploy failed""#
        );
        // Query syntax is words; terms with nothing to find are left out.
        assert_eq!(fts_query(r#"NEAR( a* -"#), r#""near"* "a"*"#);
        assert_eq!(fts_query(r#"- * "" ""#), "");
        // A quote left open runs to the end.
        assert_eq!(
            terms(r#"ok "deploy fail"#)[1],
            Term::Phrase(vec!["deploy".into(), "fail".into()])
        );
    }

    #[test]
    fn stored_messages_are_found_by_word_prefix_and_by_phrase() {
        use crate::store::Store;
        use crate::store::tests::message_record;
        let store = Store::in_memory().unwrap();
        let topic = crate::proto::TopicId::from_bytes([9; 32]);
        for text in [
            "hello there",
            "help is on its way",
            "the deploy failed again",
            "failed to deploy",
            "Deploy Failed: disk full",
        ] {
            store.save(topic, &message_record(text), NOW).unwrap();
        }
        let found = |typed: &str| -> Vec<String> {
            let mut texts: Vec<String> = store
                .search(topic, typed, 10)
                .unwrap()
                .into_iter()
                .map(|m| m.text)
                .collect();
            texts.sort();
            texts
        };
        assert_eq!(found("hel"), ["hello there", "help is on its way"]);
        assert_eq!(found("HELL"), ["hello there"]);
        assert_eq!(
            found(r#""deploy failed""#),
            ["Deploy Failed: disk full", "the deploy failed again"]
        );
        assert_eq!(
            found(r#""deploy failed" dis"#),
            ["Deploy Failed: disk full"]
        );
        assert!(
            found(r#""deploy fail""#).is_empty(),
            "a phrase's words are whole"
        );
        assert!(found("ello").is_empty(), "a word matches from its start");
        for odd in ["\"", "AND", "a*", "-x", "NEAR(", "", "*", "\"\""] {
            store.search(topic, odd, 10).unwrap();
        }
    }

    const NOW: crate::proto::UnixMillis = crate::proto::UnixMillis(1_750_000_000_000);

    #[test]
    fn matching_in_memory_is_the_index_s_matching() {
        let find = |typed: &str, text: &str| matches(&terms(typed), text);
        assert!(find("hel", "Hello there"));
        assert!(!find("ello", "Hello there"));
        assert!(find(r#""deploy failed""#, "the deploy failed again"));
        assert!(!find(r#""deploy failed""#, "failed to deploy"));
        assert!(
            !find(r#""deploy fail""#, "the deploy failed"),
            "a phrase's words are whole"
        );
        assert!(find(r#""deploy failed" ag"#, "the deploy failed again"));
        assert!(!find(r#""deploy failed" ok"#, "the deploy failed again"));
        assert!(!find("-", "anything"));
    }
}
