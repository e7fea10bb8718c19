//! The state machine of one stream: who is connected, and what each event makes happen.

use std::collections::BTreeSet;

use crate::frame::{msg_id, relay_text, MsgId, RawObject};
use crate::{
    error_frame, event_frame, parse_frame, Config, Effect, ErrorCode, EventKind, Frame, PeerId,
    Refusal, Role,
};

/// The only resource `GET` serves.
const PEERCONNECTION: &str = "/peerconnection";

/// One stream's members and the rules that tie them together.
///
/// Invariants: at most one publisher; an id is a member at most once; the publisher has been
/// told of exactly the current subscribers, and each subscriber of the current publisher.
#[derive(Clone, Debug)]
pub struct Stream {
    config: Config,
    publisher: Option<PeerId>,
    subscribers: BTreeSet<PeerId>,
}

impl Stream {
    pub fn new(config: Config) -> Self {
        Self {
            config,
            publisher: None,
            subscribers: BTreeSet::new(),
        }
    }

    /// Rebuilds a stream from the members the runtime still holds (after the object was evicted
    /// from memory). Announces nothing: every member was told everything before eviction.
    ///
    /// The adapter never lets a second publisher into the stream, so a second `Publisher` here
    /// means corrupted state; the first one wins and the rest are kept as subscribers of nothing
    /// (dropped), which the caller sees in the returned list so it can close them.
    pub fn restore(
        config: Config,
        members: impl IntoIterator<Item = (PeerId, Role)>,
    ) -> (Self, Vec<PeerId>) {
        let mut stream = Self::new(config);
        let mut rejected = Vec::new();
        for (id, role) in members {
            if stream.contains(&id) {
                continue;
            }
            match role {
                Role::Publisher if stream.publisher.is_none() => stream.publisher = Some(id),
                Role::Publisher => rejected.push(id),
                Role::Subscriber => {
                    stream.subscribers.insert(id);
                }
            }
        }
        (stream, rejected)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn publisher(&self) -> Option<&PeerId> {
        self.publisher.as_ref()
    }

    pub fn subscribers(&self) -> impl Iterator<Item = &PeerId> {
        self.subscribers.iter()
    }

    pub fn contains(&self, id: &PeerId) -> bool {
        self.publisher.as_ref() == Some(id) || self.subscribers.contains(id)
    }

    pub fn role_of(&self, id: &PeerId) -> Option<Role> {
        if self.publisher.as_ref() == Some(id) {
            Some(Role::Publisher)
        } else if self.subscribers.contains(id) {
            Some(Role::Subscriber)
        } else {
            None
        }
    }

    pub fn len(&self) -> usize {
        self.subscribers.len() + usize::from(self.publisher.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks that a new connection with this role would be admitted, without admitting it.
    /// The adapter calls this before it hands the socket to the runtime.
    pub fn check_join(&self, id: &PeerId, role: Role) -> Result<(), Refusal> {
        if self.contains(id) {
            // Ids come from a 96-bit random source; a clash is a runtime fault, not the client's.
            return Err(Refusal(ErrorCode::Internal));
        }
        if role == Role::Publisher && self.publisher.is_some() {
            return Err(Refusal(ErrorCode::PublisherExists));
        }
        if role == Role::Subscriber && self.subscribers.len() >= self.config.max_subscribers {
            return Err(Refusal(ErrorCode::StreamFull));
        }
        Ok(())
    }

    /// Admits a connection. `created` goes first, then what the newcomer needs to know, then
    /// the announcement to the other side. A refused connection changes nothing.
    pub fn join(&mut self, id: PeerId, role: Role) -> Result<Vec<Effect>, Refusal> {
        let created = event_frame(EventKind::Created, id.as_str());
        self.join_with(id, role, created)
    }

    /// [`Stream::join`] with the newcomer's `created` frame given (the engine adds a resume
    /// value to it).
    pub fn join_with(
        &mut self,
        id: PeerId,
        role: Role,
        created: String,
    ) -> Result<Vec<Effect>, Refusal> {
        self.check_join(&id, role)?;
        let mut out = vec![send(&id, created)];
        match role {
            Role::Publisher => {
                for sub in &self.subscribers {
                    out.push(send(&id, event_frame(EventKind::Subscribed, sub.as_str())));
                }
                for sub in &self.subscribers {
                    out.push(send(sub, event_frame(EventKind::Published, id.as_str())));
                }
                self.publisher = Some(id);
            }
            Role::Subscriber => {
                if let Some(publisher) = &self.publisher {
                    out.push(send(
                        &id,
                        event_frame(EventKind::Published, publisher.as_str()),
                    ));
                    out.push(send(
                        publisher,
                        event_frame(EventKind::Subscribed, id.as_str()),
                    ));
                }
                self.subscribers.insert(id);
            }
        }
        Ok(out)
    }

    /// A connection is gone (closed or failed). Its departure is announced once; leaving again,
    /// or leaving as a stranger, does nothing.
    pub fn leave(&mut self, id: &PeerId) -> Vec<Effect> {
        if self.publisher.as_ref() == Some(id) {
            self.publisher = None;
            self.subscribers
                .iter()
                .map(|sub| send(sub, event_frame(EventKind::Unpublished, id.as_str())))
                .collect()
        } else if self.subscribers.remove(id) {
            self.publisher
                .iter()
                .map(|publisher| send(publisher, event_frame(EventKind::Unsubscribed, id.as_str())))
                .collect()
        } else {
            Vec::new()
        }
    }

    /// A text frame from a member.
    pub fn receive_text(&mut self, from: &PeerId, text: &str) -> Vec<Effect> {
        let Some(role) = self.role_of(from) else {
            return Vec::new();
        };
        match parse_frame(text, self.config.max_frame_bytes) {
            Err(e) => vec![send(from, error_frame(e.code, e.msg_id.as_ref()))],
            Ok(Frame::Get { resource, msg_id }) => vec![self.get(from, &resource, msg_id)],
            Ok(Frame::Notify { to, body }) => self.notify(from, role, &to, body),
        }
    }

    /// A binary frame from a member: the protocol is text only.
    pub fn receive_binary(&self, from: &PeerId) -> Vec<Effect> {
        if !self.contains(from) {
            return Vec::new();
        }
        vec![send(from, error_frame(ErrorCode::BinaryFrame, None))]
    }

    /// ICE servers depend on the clock and maybe on Cloudflare, so the answer is left to the
    /// adapter; the core only decides that one is due.
    fn get(&self, from: &PeerId, resource: &str, msg_id: Option<MsgId>) -> Effect {
        if resource == PEERCONNECTION {
            Effect::SendIceConfiguration {
                to: from.clone(),
                msg_id,
            }
        } else {
            send(
                from,
                error_frame(ErrorCode::UnknownResource, msg_id.as_ref()),
            )
        }
    }

    /// Relays to the addressed member with the sender's true id as `from`. A subscriber may only
    /// reach the publisher, so subscribers stay invisible to each other; an unknown target gets
    /// the sender the departure event rtclite promises, so a client can drop a stale peer.
    fn notify(&self, from: &PeerId, role: Role, to: &str, body: RawObject) -> Vec<Effect> {
        if from.as_str() == to {
            return vec![send(
                from,
                error_frame(ErrorCode::NotifySelf, msg_id(&body).as_ref()),
            )];
        }
        let target = match role {
            Role::Publisher => self.subscribers.get(&PeerId::from(to)),
            Role::Subscriber => self.publisher.as_ref().filter(|p| p.as_str() == to),
        };
        let Some(target) = target else {
            let gone = match role {
                Role::Publisher => EventKind::Unsubscribed,
                Role::Subscriber => EventKind::Unpublished,
            };
            return vec![send(from, event_frame(gone, to))];
        };
        vec![Effect::Relay {
            to: target.clone(),
            text: relay_text(&body, from.as_str()),
        }]
    }
}

fn send(to: &PeerId, text: String) -> Effect {
    Effect::Send {
        to: to.clone(),
        text,
    }
}
