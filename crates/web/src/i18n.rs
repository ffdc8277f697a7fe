//! The reader's language: Korean or English, chosen per person (a staff member's saved locale, else the
//! `bl_lang` cookie, else the browser's `Accept-Language`), and every text written in both, side by side,
//! at the place it is shown — so a screen cannot ship with one language missing.

use axum::http::HeaderMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Ko,
    En,
}

impl Lang {
    /// The text in this language: `t("Orders", "주문")`.
    pub fn t<'a>(self, en: &'a str, ko: &'a str) -> &'a str {
        match self {
            Lang::Ko => ko,
            Lang::En => en,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ko => "ko",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Ko => Lang::En,
            Lang::En => Lang::Ko,
        }
    }

    /// The name of the language in itself (for the switch).
    pub fn own_name(self) -> &'static str {
        match self {
            Lang::Ko => "한국어",
            Lang::En => "English",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ko" | "ko-kr" | "kr" => Some(Lang::Ko),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }

    /// The best of Korean and English for an `Accept-Language` header (Korean when neither is named: the
    /// default market).
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(h) = header else { return Lang::Ko };
        let mut best: Option<(f32, Lang)> = None;
        for part in h.split(',').take(20) {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = it.find_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.parse::<f32>().ok())).unwrap_or(1.0);
            let lang = match tag.split('-').next() {
                Some("ko") => Lang::Ko,
                Some("en") => Lang::En,
                _ => continue,
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::Ko, |(_, l)| l)
    }

    /// The language for a request before anyone has signed in: the cookie, else the browser's preference.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        crate::security::cookie(headers, LANG_COOKIE)
            .and_then(|v| Lang::parse(&v))
            .unwrap_or_else(|| Lang::from_accept_language(headers.get("accept-language").and_then(|v| v.to_str().ok())))
    }
}

pub const LANG_COOKIE: &str = "bl_lang";

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn accept_language_picks_the_preferred_of_ko_and_en() {
        assert_eq!(Lang::from_accept_language(Some("en-US,en;q=0.9,ko;q=0.8")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("ko-KR,ko;q=0.9,en-US;q=0.8")), Lang::Ko);
        assert_eq!(Lang::from_accept_language(Some("fr-FR,fr;q=0.9,en;q=0.5")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("fr")), Lang::Ko);
        assert_eq!(Lang::from_accept_language(None), Lang::Ko);
        assert_eq!(Lang::from_accept_language(Some("en;q=0.2, ko;q=0.7")), Lang::Ko);
    }
}
