//! The Realtime SFU Connection API's request and response bodies, field for field as its
//! OpenAPI schema (`realtime-api-2024-05-21.yaml`) names them, and the little SDP reading the
//! proxy needs (which media sections an offer has).
//!
//! Requests from clients are read strictly (`deny_unknown_fields`): the proxy forwards only
//! what it understood, so a client cannot smuggle a field past its checks. Responses from the
//! API are read leniently (a field the API adds later is dropped, not an error) and written back
//! with the documented fields only. `tests/support/realtime-schema.mjs` states the same shapes
//! for the tests and the stand-in.

use serde::{Deserialize, Serialize};

/// At most this many tracks per call, as the API allows.
pub const MAX_TRACKS_PER_CALL: usize = 64;
/// The longest track name or session id the proxy passes on.
pub const MAX_NAME_BYTES: usize = 128;
/// The largest SDP the proxy reads.
pub const MAX_SDP_BYTES: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SdpType {
    Offer,
    Answer,
}

/// `SessionDescription`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionDescription {
    pub sdp: String,
    #[serde(rename = "type")]
    pub kind: SdpType,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    Local,
    Remote,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ordering {
    None,
    Asciibetical,
}

/// `TrackObject.simulcast`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Simulcast {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_rid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_ordering: Option<Ordering>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rid_not_available: Option<Ordering>,
}

/// `TrackObject`, as a client sends it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrackObject {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bidirectional_media_stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulcast: Option<Simulcast>,
}

/// `NewSessionRequest`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewSessionRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_description: Option<SessionDescription>,
}

/// `NewSessionResponse`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSessionResponse {
    pub session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_description: Option<SessionDescription>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// `TracksRequest`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TracksRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_description: Option<SessionDescription>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracks: Option<Vec<TrackObject>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_discover: Option<bool>,
}

/// One entry of `TracksResponse.tracks`: a `TrackObject` with the item's error, if any.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bidirectional_media_stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulcast: Option<Simulcast>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// `TracksResponse`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TracksResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_immediate_renegotiation: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_description: Option<SessionDescription>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracks: Option<Vec<TrackResult>>,
}

/// `RenegotiateRequest`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RenegotiateRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_description: Option<SessionDescription>,
}

/// `RenegotiateResponse`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenegotiateResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_description: Option<SessionDescription>,
}

/// `CloseTrackObject`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseTrackObject {
    pub mid: String,
}

/// `CloseTracksRequest`: `tracks` and `force` are required.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CloseTracksRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_description: Option<SessionDescription>,
    pub tracks: Vec<CloseTrackObject>,
    pub force: bool,
}

/// One entry of `CloseTracksResponse.tracks`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseTrackResult {
    #[serde(default)]
    pub mid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// `CloseTracksResponse`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseTracksResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_description: Option<SessionDescription>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracks: Option<Vec<CloseTrackResult>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_immediate_renegotiation: Option<bool>,
}

/// The media kinds a track can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
        let ok: TracksRequest = serde_json::from_str(
            r#"{"sessionDescription":{"type":"offer","sdp":"v=0"},"tracks":[{"location":"local","mid":"0","trackName":"a"}]}"#,
        )
        .unwrap();
        assert_eq!(ok.tracks.unwrap()[0].track_name.as_deref(), Some("a"));
        assert!(serde_json::from_str::<TracksRequest>(r#"{"tracks":[],"extra":1}"#).is_err());
        assert!(serde_json::from_str::<TracksRequest>(
            r#"{"tracks":[{"location":"local","trackname":"a"}]}"#
        )
        .is_err());
        assert!(
            serde_json::from_str::<CloseTracksRequest>(r#"{"tracks":[{"mid":"0"}]}"#).is_err(),
            "force is required"
        );
        assert!(
            serde_json::from_str::<SessionDescription>(r#"{"sdp":"v=0","type":"pranswer"}"#)
                .is_err()
        );
    }

    #[test]
    fn responses_keep_the_documented_fields_only() {
        let r: TracksResponse = serde_json::from_str(
            r#"{"requiresImmediateRenegotiation":false,"tracks":[{"mid":"0","trackName":"a","future":1}],"sessionDescription":{"type":"answer","sdp":"v=0"},"other":true}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"requiresImmediateRenegotiation":false,"sessionDescription":{"sdp":"v=0","type":"answer"},"tracks":[{"mid":"0","trackName":"a"}]}"#
        );
    }
}
