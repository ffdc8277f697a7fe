//! Forms as people meet them: what they typed is kept when something is wrong, each problem is shown at
//! its field in their language with what to do next, and engine errors become sentences (never codes).
//! Also the form fields every page draws the same way (label, input, hint, error).

use crate::i18n::Lang;
use engine::EngineError;
use maud::{html, Markup};
use std::collections::HashMap;

/// What was typed into a form and what is wrong with it.
#[derive(Debug, Default, Clone)]
pub struct FormState {
    pub values: HashMap<String, String>,
    pub errors: HashMap<String, String>,
    /// A problem not tied to one field.
    pub general: Option<String>,
}

impl FormState {
    pub fn from_values(values: &[(String, String)]) -> FormState {
        FormState { values: values.iter().cloned().collect(), ..Default::default() }
    }
    pub fn value<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.values.get(name).map(String::as_str).unwrap_or(default)
    }
    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.insert(field.to_owned(), message.into());
    }
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty() && self.general.is_none()
    }
    /// Puts an engine error at the field it names (`fields` maps the engine's field names to this form's),
    /// or above the form.
    pub fn engine_error(&mut self, e: &EngineError, lang: Lang, fields: &[(&str, &str)]) {
        let text = explain(e, lang);
        let message = e.to_string();
        let named = named_field(&message);
        match named.and_then(|n| fields.iter().find(|(engine, _)| *engine == n)) {
            Some((_, field)) => self.error(field, text),
            None => self.general = Some(text),
        }
    }
}

/// The field an engine message names first (`` `quantity` must be … `` → `quantity`).
fn named_field(message: &str) -> Option<&str> {
    message.split('`').nth(1).filter(|f| !f.is_empty() && f.len() <= 40 && !f.contains(' '))
}

/// An engine error as a sentence for the reader: what happened and what to do next.
pub fn explain(e: &EngineError, lang: Lang) -> String {
    let english = match e {
        EngineError::Db(_) => match e.code() {
            "overloaded" | "unavailable" | "busy" => "The system is busy. Try again in a moment.".to_owned(),
            "storage_full" => "The server's storage is full, so nothing was saved. Try again in a minute; if it keeps happening, ask the administrator to free disk space.".to_owned(),
            _ => "Something went wrong on our side; it has been logged. Try again, and tell the owner if it persists."
                .to_owned(),
        },
        EngineError::Unauthorized => "Your session has ended. Sign in again.".to_owned(),
        EngineError::Forbidden(m) => format!("You are not allowed to do this: {m}. Ask a manager or the owner."),
        EngineError::NotFound { what, id } => format!("No {what} `{id}` was found. Check the number and try again."),
        EngineError::OutOfStock { sku, available, requested, .. } => {
            format!("Not enough {sku}: {available} available, {requested} asked. Lower the quantity or pick another location.")
        }
        other => other.to_string(),
    };
    match lang {
        Lang::En => english,
        Lang::Ko => match e {
            EngineError::Db(_) => match e.code() {
                "overloaded" | "unavailable" | "busy" => "시스템이 바쁩니다. 잠시 후 다시 시도해 주세요.".to_owned(),
                "storage_full" => "서버 저장 공간이 가득 차 저장되지 않았습니다. 1분 후 다시 시도하고, 계속되면 관리자에게 디스크 공간 확보를 요청해 주세요.".to_owned(),
                _ => "처리 중 문제가 생겨 기록해 두었습니다. 다시 시도하고, 계속되면 관리자에게 알려 주세요.".to_owned(),
            },
            EngineError::Unauthorized => "로그인이 끝났습니다. 다시 로그인해 주세요.".to_owned(),
            EngineError::Forbidden(_) => "이 작업을 할 권한이 없습니다. 매니저나 점주에게 요청해 주세요.".to_owned(),
            EngineError::NotFound { id, .. } => format!("`{id}`을(를) 찾을 수 없습니다. 번호를 확인하고 다시 시도해 주세요."),
            EngineError::OutOfStock { sku, available, requested, .. } => format!(
                "{sku} 재고가 부족합니다: {available}개 가능, {requested}개 요청. 수량을 줄이거나 다른 매장을 선택해 주세요."
            ),
            // The API's generic Korean line points at its English message, which a page does not otherwise
            // show: the page shows it here.
            other => {
                let ko = http_api::korean(other.code(), &other.to_string());
                match ko.strip_suffix(" 자세한 내용은 영문 메시지를 참고하세요.") {
                    Some(head) => format!("{head} (영문 안내: {other})"),
                    None => ko,
                }
            }
        },
    }
}

/// A labelled input with its hint and error, keeping what was typed.
pub struct Field<'a> {
    pub name: &'a str,
    pub label: &'a str,
    pub kind: &'a str,
    pub value: String,
    pub hint: Option<&'a str>,
    pub required: bool,
    pub attrs: &'a [(&'a str, &'a str)],
    /// Distinguishes the ids of two forms on one page with a field of the same name.
    pub scope: Option<&'a str>,
}

impl<'a> Field<'a> {
    pub fn new(name: &'a str, label: &'a str, form: &FormState, default: &str) -> Field<'a> {
        Field {
            name,
            label,
            kind: "text",
            value: form.value(name, default).to_owned(),
            hint: None,
            required: false,
            attrs: &[],
            scope: None,
        }
    }
    pub fn scope(mut self, scope: &'a str) -> Self {
        self.scope = Some(scope);
        self
    }
    pub fn kind(mut self, kind: &'a str) -> Self {
        self.kind = kind;
        self
    }
    pub fn hint(mut self, hint: &'a str) -> Self {
        self.hint = Some(hint);
        self
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn attrs(mut self, attrs: &'a [(&'a str, &'a str)]) -> Self {
        self.attrs = attrs;
        self
    }
    pub fn render(&self, form: &FormState) -> Markup {
        let error = form.errors.get(self.name);
        let id = match self.scope {
            Some(s) => format!("f-{s}-{}", self.name),
            None => format!("f-{}", self.name),
        };
        let described = match (error.is_some(), self.hint.is_some()) {
            (true, _) => Some(format!("{id}-error")),
            (false, true) => Some(format!("{id}-hint")),
            _ => None,
        };
        let attrs: String = self.attrs.iter().map(|(k, v)| format!(" {}=\"{}\"", k, html_escape(v))).collect();
        html! {
            div.field.invalid[error.is_some()] {
                label for=(id) { (self.label) @if self.required { " *" } }
                @if self.kind == "textarea" {
                    textarea id=(id) name=(self.name) required[self.required]
                        aria-invalid=[error.map(|_| "true")] aria-describedby=[described.as_deref()] { (self.value) }
                } @else {
                    (maud::PreEscaped(format!(
                        "<input id=\"{id}\" name=\"{}\" type=\"{}\" value=\"{}\"{}{}{}{}>",
                        html_escape(self.name),
                        html_escape(self.kind),
                        html_escape(&self.value),
                        if self.required { " required" } else { "" },
                        if error.is_some() { " aria-invalid=\"true\"" } else { "" },
                        described.as_deref().map(|d| format!(" aria-describedby=\"{d}\"")).unwrap_or_default(),
                        attrs
                    )))
                }
                @if let Some(h) = self.hint { div.hint id=(format!("{id}-hint")) { (h) } }
                @if let Some(e) = error { div.error id=(format!("{id}-error")) role="alert" { (e) } }
            }
        }
    }
}

/// Escapes text for an HTML attribute or element.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The problems of a form above it (a summary for screen readers, linking to each field).
pub fn summary(form: &FormState, lang: Lang) -> Markup {
    html! {
        @if let Some(g) = &form.general {
            div.alert.bad role="alert" { (g) }
        }
        @if !form.errors.is_empty() {
            div.alert.bad role="alert" {
                strong { (lang.t("Please fix the marked fields:", "표시된 항목을 고쳐 주세요:")) }
                ul { @for (f, e) in &form.errors { li { a href=(format!("#f-{f}")) { (e) } } } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_land_at_their_field_in_the_readers_language() {
        let e = EngineError::invalid("invalid_quantity", "`quantity` must be 1–10000");
        let mut f = FormState::default();
        f.engine_error(&e, Lang::Ko, &[("quantity", "qty")]);
        assert_eq!(f.errors["qty"], "수량은 1개부터 10,000개까지 입력할 수 있습니다.");
        let mut f = FormState::default();
        f.engine_error(&EngineError::Forbidden("not your store".into()), Lang::En, &[]);
        assert!(f.general.as_deref().unwrap().contains("Ask a manager"));
        assert!(!explain(&EngineError::Unauthorized, Lang::Ko).contains("unauthorized"));
    }

    #[test]
    fn typed_values_are_escaped() {
        let form = FormState::from_values(&[("q".into(), "\"><script>".into())]);
        let html = Field::new("q", "Q", &form, "").render(&form).into_string();
        assert!(html.contains("value=\"&quot;&gt;&lt;script&gt;\""), "{html}");
    }
}
