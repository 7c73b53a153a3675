//! LAN discovery over mDNS: rooms opened or joined with `--lan` are announced in the node's
//! record (see [`crate::proto::lan`] for the format and what it reveals), and a node that
//! announces a room is found by its endpoint id (so a ticket whose addresses went stale still
//! works there). A node with no room announced only listens: its endpoint id, which lasts
//! across runs, is not broadcast to every LAN it visits.
//!
//! Only parlor nodes take part (service name `parlor`), and mDNS never leaves the LAN. What is
//! heard is bounded per source (see [`table`]).

mod table;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use iroh::Endpoint;
use iroh::address_lookup::{AddressLookup, EndpointData, Error, Item, UserData};
use iroh_mdns_address_lookup::{DiscoveryEvent, MdnsAddressLookup};
use n0_future::StreamExt;
use n0_future::boxed::BoxStream;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::proto::lan::{self, LanRoom};
use crate::proto::state::RoomId;
use crate::proto::{EndpointId, TopicId};

use table::{Table, source_of};

/// The mDNS service name: parlor nodes see only each other.
const SERVICE: &str = "parlor";

/// A room seen on the LAN, with who announces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nearby {
    pub topic: TopicId,
    /// The label most announcers use (ties: the smallest).
    pub label: String,
    pub announcers: Vec<EndpointId>,
    /// The addresses the announcers' records come from: one host minting ids counts once.
    pub sources: usize,
    /// A private room's id (joining it is a knock at its admins).
    pub private: Option<RoomId>,
}

#[derive(Default)]
struct State {
    /// What each node on the LAN announces (nodes announcing nothing are not kept).
    seen: Table,
    /// What we announce.
    ours: Vec<LanRoom>,
}

/// mDNS as the endpoint sees it, with our LAN record put into what mDNS publishes, and
/// nowhere else. (The endpoint's own user data would also go to every other lookup service,
/// such as n0's public DNS: the room's topic, which is the capability to join, must not.)
#[derive(Debug)]
struct LanLookup {
    mdns: MdnsAddressLookup,
    /// Our record while we announce a room; `None`: we announce none.
    record: Mutex<Option<UserData>>,
    /// What the endpoint published last, to republish when our record changes.
    last: Mutex<Option<EndpointData>>,
}

impl LanLookup {
    fn publish_with_record(&self, data: &EndpointData) {
        let record = self
            .record
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        self.mdns.publish(&advertised(data, record));
    }
}

/// What mDNS publishes of `data`: with a room to announce, our addresses and the record;
/// without, nothing at all (mDNS then answers for nobody, and our id is not on the air).
fn advertised(data: &EndpointData, record: Option<UserData>) -> EndpointData {
    match record {
        Some(record) => {
            let mut data = data.clone();
            data.set_user_data(Some(record));
            data
        }
        None => EndpointData::default(),
    }
}

impl AddressLookup for LanLookup {
    fn publish(&self, data: &EndpointData) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(data.clone());
        self.publish_with_record(data);
    }

    fn resolve(&self, endpoint_id: EndpointId) -> Option<BoxStream<Result<Item, Error>>> {
        self.mdns.resolve(endpoint_id)
    }
}

/// LAN discovery for one endpoint. Cheap to clone.
#[derive(Clone)]
pub struct Lan {
    lookup: Arc<LanLookup>,
    state: Arc<Mutex<State>>,
    /// Bumped whenever what the LAN announces changes, so rooms can dial new members at once.
    changed: watch::Sender<u64>,
    _task: Arc<AbortOnDrop>,
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Lan {
    /// Start mDNS on `endpoint`: listen, and announce the endpoint once it has a room to
    /// announce ([`Self::announce`]). Fails where the network allows no multicast (no
    /// interface with a route).
    pub async fn start(endpoint: &Endpoint) -> anyhow::Result<Self> {
        // Advertising on, but what it publishes is empty until a room is announced (see
        // `advertised`): the crate cannot switch advertising on later.
        let mdns = MdnsAddressLookup::builder()
            .service_name(SERVICE)
            .advertise(true)
            .build(endpoint.id())?;
        // Subscribe before adding it to the endpoint: there is no replay of earlier events.
        let events = mdns.subscribe().await;
        let lookup = Arc::new(LanLookup {
            mdns,
            record: Mutex::new(None),
            last: Mutex::new(None),
        });
        endpoint.address_lookup()?.add(lookup.clone());
        let state = Arc::new(Mutex::new(State::default()));
        let (changed, _) = watch::channel(0);
        let task = tokio::spawn(listen(events, state.clone(), changed.clone()));
        Ok(Self {
            lookup,
            state,
            changed,
            _task: Arc::new(AbortOnDrop(task)),
        })
    }

    /// Announce `room` (or, `None`, stop announcing `topic`) and republish, on mDNS only.
    pub fn announce(&self, topic: TopicId, room: Option<LanRoom>) -> usize {
        let record = {
            let mut state = lock(&self.state);
            state.ours.retain(|r| r.topic != topic);
            if let Some(room) = room {
                state.ours.push(room);
            }
            (!state.ours.is_empty()).then(|| lan::encode(&state.ours))
        };
        let (record, left_out) = match record {
            Some((record, left_out)) => (Some(record), left_out),
            None => (None, 0),
        };
        let record = record.and_then(|record| match UserData::try_from(record) {
            Ok(data) => Some(data),
            Err(err) => {
                tracing::warn!("LAN record too long: {err}");
                None
            }
        });
        *self.lookup.record.lock().unwrap_or_else(|p| p.into_inner()) = record;
        let last = self
            .lookup
            .last
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(data) = last {
            self.lookup.publish_with_record(&data);
        }
        left_out
    }

    /// The rooms announced on the LAN now, most announced first.
    pub fn nearby(&self) -> Vec<Nearby> {
        nearby_in(&lock(&self.state).seen)
    }

    /// Nodes on the LAN announcing `topic`.
    pub fn peers(&self, topic: TopicId) -> Vec<EndpointId> {
        let state = lock(&self.state);
        state
            .seen
            .iter()
            .filter(|(_, heard)| heard.rooms.iter().any(|r| r.topic == topic))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Wakes whenever what the LAN announces changes.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}

/// The rooms in `seen`, those announced from the most addresses first (then by most
/// announcers): a host minting ids does not outrank rooms many hosts announce.
fn nearby_in(seen: &Table) -> Vec<Nearby> {
    #[derive(Default)]
    struct Heard<'a> {
        announcers: Vec<EndpointId>,
        sources: HashSet<table::Source>,
        labels: HashMap<&'a str, usize>,
        private: Option<RoomId>,
    }
    let mut rooms: HashMap<TopicId, Heard> = HashMap::new();
    for (id, heard) in seen.iter() {
        for room in &heard.rooms {
            let entry = rooms.entry(room.topic).or_default();
            entry.announcers.push(*id);
            entry.sources.insert(heard.source);
            *entry.labels.entry(room.label.as_str()).or_default() += 1;
            // A private room's topic derives from its id: one id per topic.
            entry.private = entry.private.or(room.private);
        }
    }
    let mut nearby: Vec<Nearby> = rooms
        .into_iter()
        .map(|(topic, mut heard)| {
            heard.announcers.sort();
            let label = heard
                .labels
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
                .map(|(label, _)| label.to_string())
                .unwrap_or_default();
            Nearby {
                topic,
                label,
                announcers: heard.announcers,
                sources: heard.sources.len(),
                private: heard.private,
            }
        })
        .collect();
    let rank = |room: &Nearby| std::cmp::Reverse((room.sources, room.announcers.len()));
    nearby.sort_by(|a, b| (rank(a), &a.label, a.topic).cmp(&(rank(b), &b.label, b.topic)));
    nearby
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    // A panic while holding the lock leaves plain data behind: keep using it.
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn listen(
    mut events: impl n0_future::Stream<Item = DiscoveryEvent> + Unpin,
    state: Arc<Mutex<State>>,
    changed: watch::Sender<u64>,
) {
    while let Some(event) = events.next().await {
        let updated = {
            let mut state = lock(&state);
            match event {
                DiscoveryEvent::Discovered { endpoint_info, .. } => {
                    let rooms = endpoint_info
                        .data
                        .user_data()
                        .map(|data| lan::parse(data.as_ref()))
                        .unwrap_or_default();
                    let source = source_of(endpoint_info.data.ip_addrs().map(|addr| addr.ip()));
                    let now = std::time::Instant::now();
                    state
                        .seen
                        .heard(endpoint_info.endpoint_id, rooms, source, now)
                }
                DiscoveryEvent::Expired { endpoint_id } => state.seen.forget(&endpoint_id),
                _ => false,
            }
        };
        if updated {
            changed.send_modify(|n| *n += 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use iroh::address_lookup::EndpointInfo;

    use super::*;
    use crate::proto::SecretKey;

    /// A record as mDNS hands it over: `id` at `ip` announcing `rooms`.
    fn record(id: EndpointId, ip: [u8; 4], rooms: &[LanRoom]) -> DiscoveryEvent {
        let addr = std::net::SocketAddr::from((ip, 4433));
        let mut data = EndpointData::from_iter([iroh::TransportAddr::Ip(addr)]);
        let user_data = UserData::try_from(lan::encode(rooms).0).unwrap();
        data.set_user_data(Some(user_data));
        DiscoveryEvent::Discovered {
            endpoint_info: EndpointInfo::from_parts(id, data),
            last_updated: None,
        }
    }

    fn minted(n: u32) -> EndpointId {
        let mut seed = [9u8; 32];
        seed[..4].copy_from_slice(&n.to_le_bytes());
        SecretKey::from_bytes(&seed).public()
    }

    /// The finding: 300 minted ids from one host evicted the real rooms from `nearby`.
    #[tokio::test]
    async fn a_flood_of_minted_ids_from_one_host_leaves_the_real_rooms_in_nearby() {
        let real = LanRoom::public(TopicId::from_bytes([1; 32]), "standup");
        let fake = LanRoom::public(TopicId::from_bytes([2; 32]), "free-pizza");
        let mut events = vec![
            record(minted(1), [10, 77, 1, 11], std::slice::from_ref(&real)),
            record(minted(2), [10, 77, 1, 12], std::slice::from_ref(&real)),
        ];
        for n in 100..400 {
            events.push(record(
                minted(n),
                [10, 77, 1, 66],
                std::slice::from_ref(&fake),
            ));
        }
        let state = Arc::new(Mutex::new(State::default()));
        let (changed, _) = watch::channel(0);
        listen(n0_future::stream::iter(events), state.clone(), changed).await;
        let nearby = nearby_in(&lock(&state).seen);
        assert_eq!(nearby.len(), 2, "{nearby:?}");
        // Two hosts outrank one host's eight ids.
        assert_eq!(nearby[0].label, "standup");
        assert_eq!(nearby[0].announcers, {
            let mut ids = vec![minted(1), minted(2)];
            ids.sort();
            ids
        });
        assert_eq!(nearby[0].sources, 2);
        assert_eq!(nearby[1].label, "free-pizza");
        assert_eq!(nearby[1].announcers.len(), table::PER_SOURCE);
        assert_eq!(nearby[1].sources, 1);
    }

    /// Our endpoint id lasts across runs: it goes on the air only with a room announced.
    #[test]
    fn mdns_publishes_nothing_of_us_without_a_room_to_announce() {
        let addr: std::net::SocketAddr = ([10, 77, 1, 2], 4433).into();
        let data = EndpointData::from_iter([iroh::TransportAddr::Ip(addr)]);
        let quiet = advertised(&data, None);
        assert_eq!(quiet.ip_addrs().count(), 0);
        assert_eq!(quiet.relay_urls().count(), 0);
        assert!(quiet.user_data().is_none());
        let record: UserData = "parlor1".to_string().try_into().unwrap();
        let heard = advertised(&data, Some(record.clone()));
        assert_eq!(heard.ip_addrs().collect::<Vec<_>>(), [&addr]);
        assert_eq!(heard.user_data(), Some(&record));
    }
}
