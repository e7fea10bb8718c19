//! Which web origins may read the HTTP API from their pages.
//!
//! ICE configurations can carry TURN credentials, and a credential handed to any page lets any
//! site relay its traffic through this deployment's TURN server. So the default is same-origin
//! only, and other origins must be listed.

/// The parsed `ICE_CORS_ORIGINS` setting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorsOrigins {
    any: bool,
    origins: Vec<String>,
}

impl CorsOrigins {
    /// Origins (`https://app.example`) as the settings read the list, or `*` for any.
    pub fn from_list(entries: &[String]) -> Self {
        let origins: Vec<String> = entries
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|o| !o.is_empty())
            .collect();
        Self {
            any: origins.iter().any(|o| o == "*"),
            origins,
        }
    }

    /// Origins separated by commas or whitespace, or `*` for any.
    pub fn parse(list: &str) -> Self {
        Self::from_list(&crate::settings::split_list(list))
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if it is allowed.
    pub fn allow(&self, origin: Option<&str>) -> Option<String> {
        let origin = origin?;
        let wanted = origin.trim_end_matches('/').to_ascii_lowercase();
        (self.any || self.origins.contains(&wanted)).then(|| origin.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_only_by_default() {
        assert_eq!(
            CorsOrigins::default().allow(Some("https://evil.example")),
            None
        );
        assert_eq!(
            CorsOrigins::parse("").allow(Some("https://a.example")),
            None
        );
    }

    #[test]
    fn listed_origins_are_echoed_case_insensitively() {
        let cors = CorsOrigins::parse("https://a.example, https://B.example/");
        assert_eq!(
            cors.allow(Some("https://b.example")).as_deref(),
            Some("https://b.example")
        );
        assert_eq!(cors.allow(Some("https://c.example")), None);
        assert_eq!(cors.allow(None), None);
    }

    #[test]
    fn spaces_separate_origins_as_commas_do() {
        let cors = CorsOrigins::parse("https://a.example https://b.example");
        assert!(cors.allow(Some("https://a.example")).is_some());
        assert!(cors.allow(Some("https://b.example")).is_some());
    }

    #[test]
    fn star_allows_every_origin() {
        let cors = CorsOrigins::parse("*");
        assert_eq!(
            cors.allow(Some("https://x.example")).as_deref(),
            Some("https://x.example")
        );
    }
}
