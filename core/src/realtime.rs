//! The Realtime SFU Connection API's request and response bodies, field for field as its
//! OpenAPI schema (`realtime-api-2024-05-21.yaml`) names them, and the little SDP reading the
//! proxy needs (which media sections an offer has).
//!
//! Requests from clients are read strictly (an unknown field is refused): the proxy forwards
//! only what it understood, so a client cannot smuggle a field past its checks. Responses from
//! the API are read leniently (a field the API adds later is dropped, not an error) and written
//! back with the documented fields only. Bodies are read by hand ([`FromJson`], one JSON parser
//! for all of them) and written by serde. `tests/support/realtime-schema.mjs` states the same shapes
//! for the tests and the stand-in.

use serde::Serialize;
use serde_json::Value;

use crate::json::{
    boolean, list, object, only, optional, required, string, variant, FromJson, Object,
};

/// At most this many tracks per call, as the API allows.
pub const MAX_TRACKS_PER_CALL: usize = 64;
/// The longest track name or session id the proxy passes on.
pub const MAX_NAME_BYTES: usize = 128;
/// The largest SDP the proxy reads.
pub const MAX_SDP_BYTES: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SdpType {
    Offer,
    Answer,
}

/// `SessionDescription`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SessionDescription {
    pub sdp: String,
    #[serde(rename = "type")]
    pub kind: SdpType,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    Local,
    Remote,
}

/// `TrackObject.simulcast.fallbackStrategy`: what the SFU sends when a constraint such as the
/// preferred RID cannot be met.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Fallback {
    Auto,
    LeastBandwidth,
    None,
}

/// `TrackObject.simulcast`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Simulcast {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_rid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_strategy: Option<Fallback>,
}

/// `TrackObject`, as a client sends it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackObject {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bidirectional_media_stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub simulcast: Option<Simulcast>,
}

/// `NewSessionRequest`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSessionRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_description: Option<SessionDescription>,
}

/// `NewSessionResponse`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSessionResponse {
    pub session_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_description: Option<SessionDescription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// `TracksRequest`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TracksRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_description: Option<SessionDescription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracks: Option<Vec<TrackObject>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_discover: Option<bool>,
}

/// One entry of `TracksResponse.tracks`: a `TrackObject` with the item's error, if any.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bidirectional_media_stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub simulcast: Option<Simulcast>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// `TracksResponse`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TracksResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_immediate_renegotiation: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_description: Option<SessionDescription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracks: Option<Vec<TrackResult>>,
}

/// `RenegotiateRequest`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenegotiateRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_description: Option<SessionDescription>,
}

/// `RenegotiateResponse`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenegotiateResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_description: Option<SessionDescription>,
}

/// `CloseTrackObject`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CloseTrackObject {
    pub mid: String,
}

/// `CloseTracksRequest`: `tracks` and `force` are required.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseTracksRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_description: Option<SessionDescription>,
    pub tracks: Vec<CloseTrackObject>,
    pub force: bool,
}

/// One entry of `CloseTracksResponse.tracks`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseTrackResult {
    pub mid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// `CloseTracksResponse`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseTracksResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_description: Option<SessionDescription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracks: Option<Vec<CloseTrackResult>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_immediate_renegotiation: Option<bool>,
}

// Reading. Each reader refuses what a derived `Deserialize` refuses: a missing required
// field, a field of the wrong type, a repeated key, and in requests an unknown field.

const SDP_TYPES: &[(&str, SdpType)] = &[("offer", SdpType::Offer), ("answer", SdpType::Answer)];
const LOCATIONS: &[(&str, Location)] = &[("local", Location::Local), ("remote", Location::Remote)];
pub(crate) const MEDIA_KINDS: &[(&str, MediaKind)] =
    &[("audio", MediaKind::Audio), ("video", MediaKind::Video)];
const FALLBACKS: &[(&str, Fallback)] = &[
    ("auto", Fallback::Auto),
    ("leastBandwidth", Fallback::LeastBandwidth),
    ("none", Fallback::None),
];

/// The optional `sessionDescription` every body may have.
fn description(o: &Object) -> Option<Option<SessionDescription>> {
    optional(o, "sessionDescription", SessionDescription::from_value)
}

/// The optional `errorCode` and `errorDescription` of every answer.
fn errors(o: &Object) -> Option<(Option<String>, Option<String>)> {
    Some((
        optional(o, "errorCode", string)?,
        optional(o, "errorDescription", string)?,
    ))
}

impl FromJson for SessionDescription {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        only(o, &["sdp", "type"])?;
        Some(Self {
            sdp: required(o, "sdp", string)?,
            kind: required(o, "type", |v| variant(v, SDP_TYPES))?,
        })
    }
}

impl FromJson for Simulcast {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        only(o, &["preferredRid", "fallbackStrategy"])?;
        Some(Self {
            preferred_rid: optional(o, "preferredRid", string)?,
            fallback_strategy: optional(o, "fallbackStrategy", |v| variant(v, FALLBACKS))?,
        })
    }
}

/// The fields of a `TrackObject`, which a `TrackResult` has too.
const TRACK_FIELDS: &[&str] = &[
    "location",
    "mid",
    "sessionId",
    "trackName",
    "bidirectionalMediaStream",
    "kind",
    "simulcast",
];

impl FromJson for TrackObject {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        only(o, TRACK_FIELDS)?;
        track(o)
    }
}

fn track(o: &Object) -> Option<TrackObject> {
    Some(TrackObject {
        location: optional(o, "location", |v| variant(v, LOCATIONS))?,
        mid: optional(o, "mid", string)?,
        session_id: optional(o, "sessionId", string)?,
        track_name: optional(o, "trackName", string)?,
        bidirectional_media_stream: optional(o, "bidirectionalMediaStream", boolean)?,
        kind: optional(o, "kind", string)?,
        simulcast: optional(o, "simulcast", Simulcast::from_value)?,
    })
}

impl FromJson for NewSessionRequest {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        only(o, &["sessionDescription"])?;
        Some(Self {
            session_description: description(o)?,
        })
    }
}

impl FromJson for NewSessionResponse {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        let (error_code, error_description) = errors(o)?;
        Some(Self {
            session_id: required(o, "sessionId", string)?,
            session_description: description(o)?,
            error_code,
            error_description,
        })
    }
}

impl FromJson for TracksRequest {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        only(o, &["sessionDescription", "tracks", "autoDiscover"])?;
        Some(Self {
            session_description: description(o)?,
            tracks: optional(o, "tracks", |v| list(v, TrackObject::from_value))?,
            auto_discover: optional(o, "autoDiscover", boolean)?,
        })
    }
}

impl FromJson for TrackResult {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        let t = track(o)?;
        let (error_code, error_description) = errors(o)?;
        Some(Self {
            location: t.location,
            mid: t.mid,
            session_id: t.session_id,
            track_name: t.track_name,
            bidirectional_media_stream: t.bidirectional_media_stream,
            kind: t.kind,
            simulcast: t.simulcast,
            error_code,
            error_description,
        })
    }
}

impl FromJson for TracksResponse {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        let (error_code, error_description) = errors(o)?;
        Some(Self {
            error_code,
            error_description,
            requires_immediate_renegotiation: optional(
                o,
                "requiresImmediateRenegotiation",
                boolean,
            )?,
            session_description: description(o)?,
            tracks: optional(o, "tracks", |v| list(v, TrackResult::from_value))?,
        })
    }
}

impl FromJson for RenegotiateRequest {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        only(o, &["sessionDescription"])?;
        Some(Self {
            session_description: description(o)?,
        })
    }
}

impl FromJson for RenegotiateResponse {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        let (error_code, error_description) = errors(o)?;
        Some(Self {
            error_code,
            error_description,
            session_description: description(o)?,
        })
    }
}

impl FromJson for CloseTrackObject {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        only(o, &["mid"])?;
        Some(Self {
            mid: required(o, "mid", string)?,
        })
    }
}

impl FromJson for CloseTracksRequest {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        only(o, &["sessionDescription", "tracks", "force"])?;
        Some(Self {
            session_description: description(o)?,
            tracks: required(o, "tracks", |v| list(v, CloseTrackObject::from_value))?,
            force: required(o, "force", boolean)?,
        })
    }
}

impl FromJson for CloseTrackResult {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        let (error_code, error_description) = errors(o)?;
        Some(Self {
            // Absent is empty, as documented; `null` is no string.
            mid: match o.get("mid") {
                None => String::new(),
                Some(v) => string(v)?,
            },
            error_code,
            error_description,
        })
    }
}

impl FromJson for CloseTracksResponse {
    fn from_value(value: &Value) -> Option<Self> {
        let o = object(value)?;
        let (error_code, error_description) = errors(o)?;
        Some(Self {
            error_code,
            error_description,
            session_description: description(o)?,
            tracks: optional(o, "tracks", |v| list(v, CloseTrackResult::from_value))?,
            requires_immediate_renegotiation: optional(
                o,
                "requiresImmediateRenegotiation",
                boolean,
            )?,
        })
    }
}

/// The media kinds a track can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Audio,
    Video,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
        }
    }
}

/// An SDP media section's direction attribute (`sendrecv` when it has none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    /// Whether the offerer sends media in this section.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }
}

/// One audio or video section of an SDP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Media {
    pub kind: MediaKind,
    pub mid: String,
    pub direction: Direction,
}

/// The audio and video sections of an SDP offer, in order, each with its `a=mid`. `None` when
/// the text is not an SDP (no `v=0` first line), is too large, or a media section lacks a mid,
/// which every WebRTC offer has. Other sections (`application` for data channels) are skipped.
pub fn media_sections(sdp: &str) -> Option<Vec<Media>> {
    if sdp.len() > MAX_SDP_BYTES || !sdp.trim_start().starts_with("v=0") {
        return None;
    }
    // (kind when audio or video, mid, direction) of the section being read.
    let mut sections: Vec<(Option<MediaKind>, Option<String>, Direction)> = Vec::new();
    let mut session_direction = Direction::SendRecv;
    for line in sdp.lines().map(str::trim_end) {
        if let Some(rest) = line.strip_prefix("m=") {
            let kind = match rest.split(' ').next() {
                Some("audio") => Some(MediaKind::Audio),
                Some("video") => Some(MediaKind::Video),
                _ => None,
            };
            sections.push((kind, None, session_direction));
            continue;
        }
        let direction = match line {
            "a=sendrecv" => Some(Direction::SendRecv),
            "a=sendonly" => Some(Direction::SendOnly),
            "a=recvonly" => Some(Direction::RecvOnly),
            "a=inactive" => Some(Direction::Inactive),
            _ => None,
        };
        match sections.last_mut() {
            None => {
                if let Some(d) = direction {
                    session_direction = d;
                }
            }
            Some(section) => {
                if let Some(d) = direction {
                    section.2 = d;
                }
                if let Some(mid) = line.strip_prefix("a=mid:") {
                    section.1 = Some(mid.trim().to_owned());
                }
            }
        }
    }
    let mut media = Vec::new();
    for (kind, mid, direction) in sections {
        let Some(kind) = kind else { continue };
        let mid = mid.filter(|m| is_name(m))?;
        media.push(Media {
            kind,
            mid,
            direction,
        });
    }
    Some(media)
}

/// A track name, mid or session id the proxy will pass on: 1 to [`MAX_NAME_BYTES`] visible
/// ASCII characters.
pub fn is_name(text: &str) -> bool {
    !text.is_empty() && text.len() <= MAX_NAME_BYTES && text.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=recvonly\r\n\
m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:2\r\n";

    #[test]
    fn an_offer_lists_its_audio_and_video_sections_with_mids_and_directions() {
        let media = media_sections(OFFER).unwrap();
        assert_eq!(
            media,
            vec![
                Media {
                    kind: MediaKind::Audio,
                    mid: "0".into(),
                    direction: Direction::SendOnly
                },
                Media {
                    kind: MediaKind::Video,
                    mid: "1".into(),
                    direction: Direction::RecvOnly
                },
            ]
        );
    }

    #[test]
    fn text_that_is_no_sdp_or_lacks_mids_is_refused() {
        assert_eq!(media_sections("hello"), None);
        assert_eq!(media_sections("v=0\r\nm=audio 9 RTP/AVP 0\r\n"), None);
        assert_eq!(media_sections(&"v=0\n".repeat(20_000)), None);
        assert_eq!(media_sections("v=0\r\n"), Some(vec![]));
    }

    #[test]
    fn client_bodies_with_unknown_or_missing_fields_are_refused() {
        let ok = TracksRequest::from_json(
            r#"{"sessionDescription":{"type":"offer","sdp":"v=0"},"tracks":[{"location":"local","mid":"0","trackName":"a"}]}"#,
        )
        .unwrap();
        assert_eq!(ok.tracks.unwrap()[0].track_name.as_deref(), Some("a"));
        assert!(TracksRequest::from_json(r#"{"tracks":[],"extra":1}"#).is_none());
        assert!(
            TracksRequest::from_json(r#"{"tracks":[{"location":"local","trackname":"a"}]}"#)
                .is_none()
        );
        assert!(
            CloseTracksRequest::from_json(r#"{"tracks":[{"mid":"0"}]}"#).is_none(),
            "force is required"
        );
        assert!(SessionDescription::from_json(r#"{"sdp":"v=0","type":"pranswer"}"#).is_none());
    }

    #[test]
    fn client_bodies_of_the_wrong_shape_are_refused() {
        for body in [
            // A repeated key, at the top or deeper.
            r#"{"tracks":[],"tracks":[]}"#,
            r#"{"tracks":[{"location":"local","location":"remote","trackName":"a"}]}"#,
            // Wrong types.
            r#"{"tracks":{}}"#,
            r#"{"tracks":[{"location":"local","trackName":1}]}"#,
            r#"{"tracks":[{"location":"elsewhere","trackName":"a"}]}"#,
            r#"{"tracks":[{"location":"local","trackName":"a","bidirectionalMediaStream":"yes"}]}"#,
            r#"{"tracks":[{"location":"local","trackName":"a","simulcast":{"preferredRid":"h","x":1}}]}"#,
            r#"{"tracks":[{"location":"remote","trackName":"a","simulcast":{"fallbackStrategy":"best"}}]}"#,
            // The simulcast fields of an earlier draft of the schema, which it no longer lists.
            r#"{"tracks":[{"location":"remote","trackName":"a","simulcast":{"priorityOrdering":"asciibetical"}}]}"#,
            r#"{"tracks":[{"location":"remote","trackName":"a","simulcast":{"ridNotAvailable":"none"}}]}"#,
            r#"{"autoDiscover":1}"#,
            r#"{"sessionDescription":{"sdp":"v=0"}}"#,
            r#"{"sessionDescription":{"sdp":null,"type":"offer"}}"#,
            r#"{"sessionDescription":"v=0"}"#,
            // Objects written as arrays, or a variant as a map: forms serde's derived readers
            // took, which the API does not document.
            r#"{"sessionDescription":["v=0","offer"]}"#,
            r#"{"tracks":[["local","0",null,"a"]]}"#,
            r#"{"tracks":[{"location":{"local":null},"trackName":"a"}]}"#,
            // Not an object, or not JSON.
            r#"[]"#,
            r#""tracks""#,
            r#"{"tracks":["#,
        ] {
            assert!(TracksRequest::from_json(body).is_none(), "{body}");
        }
        for body in [
            r#"{"tracks":[{"mid":"0"}],"force":"true"}"#,
            r#"{"tracks":[{"mid":0}],"force":true}"#,
            r#"{"tracks":[{"mid":"0","extra":1}],"force":true}"#,
            r#"{"tracks":null,"force":true}"#,
            r#"{"tracks":[{"mid":"0"}],"force":null}"#,
        ] {
            assert!(CloseTracksRequest::from_json(body).is_none(), "{body}");
        }
        assert!(NewSessionRequest::from_json(r#"{"sessionDescription":null}"#).is_some());
        assert!(NewSessionRequest::from_json(r#"{"thirdparty":true}"#).is_none());
        assert!(RenegotiateRequest::from_json(
            r#"{"sessionDescription":{"type":"answer","sdp":"v=0"},"x":0}"#
        )
        .is_none());
    }

    #[test]
    fn optional_fields_may_be_null_or_absent() {
        let r = TracksRequest::from_json(
            r#"{"sessionDescription":null,"tracks":[{"location":"remote","sessionId":"s","trackName":"a","mid":null,"simulcast":{"preferredRid":"h","fallbackStrategy":null}}],"autoDiscover":null}"#,
        )
        .unwrap();
        let tracks = r.tracks.unwrap();
        assert_eq!(tracks[0].location, Some(Location::Remote));
        assert_eq!(tracks[0].mid, None);
        assert_eq!(
            tracks[0].simulcast,
            Some(Simulcast {
                preferred_rid: Some("h".into()),
                fallback_strategy: None,
            })
        );
        assert_eq!(
            TracksRequest::from_json("{}"),
            Some(TracksRequest::default())
        );
    }

    #[test]
    fn simulcast_preferences_are_forwarded_as_the_schema_names_them() {
        for (fallback, written) in [
            (Fallback::Auto, "auto"),
            (Fallback::LeastBandwidth, "leastBandwidth"),
            (Fallback::None, "none"),
        ] {
            let body = format!(
                r#"{{"tracks":[{{"location":"remote","sessionId":"s","trackName":"a","simulcast":{{"preferredRid":"h","fallbackStrategy":"{written}"}}}}]}}"#
            );
            let r = TracksRequest::from_json(&body).unwrap();
            let tracks = r.tracks.as_deref().unwrap();
            assert_eq!(
                tracks[0].simulcast,
                Some(Simulcast {
                    preferred_rid: Some("h".into()),
                    fallback_strategy: Some(fallback),
                })
            );
            assert_eq!(serde_json::to_string(&r).unwrap(), body);
        }
    }

    #[test]
    fn responses_keep_the_documented_fields_only() {
        let r = TracksResponse::from_json(
            r#"{"requiresImmediateRenegotiation":false,"tracks":[{"mid":"0","trackName":"a","future":1}],"sessionDescription":{"type":"answer","sdp":"v=0"},"other":true}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"requiresImmediateRenegotiation":false,"sessionDescription":{"sdp":"v=0","type":"answer"},"tracks":[{"mid":"0","trackName":"a"}]}"#
        );
        let r = NewSessionResponse::from_json(r#"{"sessionId":"s1","extra":[1]}"#).unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"sessionId":"s1"}"#);
        let r = CloseTracksResponse::from_json(
            r#"{"tracks":[{"mid":"1","errorCode":"x"},{}],"requiresImmediateRenegotiation":true}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"tracks":[{"mid":"1","errorCode":"x"},{"mid":""}],"requiresImmediateRenegotiation":true}"#
        );
        let r =
            RenegotiateResponse::from_json(r#"{"errorCode":"e","errorDescription":"d"}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"errorCode":"e","errorDescription":"d"}"#
        );
    }

    #[test]
    fn responses_of_the_wrong_shape_are_refused() {
        for body in [
            r#"{}"#,
            r#"{"sessionId":null}"#,
            r#"{"sessionId":7}"#,
            r#"{"sessionId":"s","sessionId":"t"}"#,
            r#"{"sessionId":"s","errorCode":false}"#,
            r#"{"sessionId":"s","sessionDescription":{"type":"answer","sdp":"v=0","x":1}}"#,
        ] {
            assert!(NewSessionResponse::from_json(body).is_none(), "{body}");
        }
        for body in [
            r#"{"tracks":[{"mid":1}]}"#,
            r#"{"tracks":{"mid":"1"}}"#,
            r#"{"requiresImmediateRenegotiation":"no"}"#,
            r#"{"tracks":[{"simulcast":{"unknown":1}}]}"#,
        ] {
            assert!(TracksResponse::from_json(body).is_none(), "{body}");
        }
        assert!(CloseTracksResponse::from_json(r#"{"tracks":[{"mid":null}]}"#).is_none());
    }
}
