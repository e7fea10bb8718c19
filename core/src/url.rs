//! The few parts of a request URL the service reads, without a general URL parser.
//!
//! The runtime hands the Worker an already normalized absolute URL (WHATWG serialization: dot
//! segments resolved, default ports dropped, host in lower case), so splitting it is enough. A
//! full parser would also bring its Unicode host tables into the Wasm module for nothing.

/// An absolute URL split into the parts the router needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// `host` or `host:port` (no user info).
    pub host: &'a str,
    /// The path, still percent-encoded; `/` when empty.
    pub path: &'a str,
    /// The query without `?`; empty when there is none.
    pub query: &'a str,
}

/// Splits `scheme://authority/path?query#fragment`.
pub fn split(url: &str) -> UrlParts<'_> {
    let url = url.split('#').next().unwrap_or(url);
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = match before_query.find('/') {
        Some(i) => before_query.split_at(i),
        None => (before_query, ""),
    };
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    UrlParts {
        host,
        path: if path.is_empty() { "/" } else { path },
        query,
    }
}

/// The first value of `name` in an `application/x-www-form-urlencoded` query, decoded
/// (`+` is a space, `%XX` a byte; invalid UTF-8 is replaced, as browsers do).
pub fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(key) == name).then(|| decode(value))
    })
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(hex),
                bytes.get(i + 2).and_then(hex),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: &u8) -> Option<u8> {
    char::from(*b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_what_the_runtime_hands_over() {
        let parts = split("https://streams.example.com/a/b?mode=publish&token=x#frag");
        assert_eq!(
            parts,
            UrlParts {
                host: "streams.example.com",
                path: "/a/b",
                query: "mode=publish&token=x"
            }
        );
        let parts = split("http://127.0.0.1:8787?mode=subscribe");
        assert_eq!(
            (parts.host, parts.path, parts.query),
            ("127.0.0.1:8787", "/", "mode=subscribe")
        );
        assert_eq!(split("http://user:pw@[::1]:9/x").host, "[::1]:9");
        assert_eq!(split("http://h/a%3F%23%2Fb?c").path, "/a%3F%23%2Fb");
    }

    #[test]
    fn query_values_are_form_decoded_and_the_first_wins() {
        let q = "mode=publish&path=%2Fsha1%2Fx+y&mode=subscribe&flag&bad=%zz%4";
        assert_eq!(query_param(q, "mode").as_deref(), Some("publish"));
        assert_eq!(query_param(q, "path").as_deref(), Some("/sha1/x y"));
        assert_eq!(query_param(q, "flag").as_deref(), Some(""));
        assert_eq!(query_param(q, "bad").as_deref(), Some("%zz%4"));
        assert_eq!(query_param(q, "missing"), None);
        assert_eq!(query_param("t=%FF", "t").as_deref(), Some("\u{fffd}"));
        assert_eq!(query_param("", "mode"), None);
    }
}
