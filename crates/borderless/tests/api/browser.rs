//! A browser without JavaScript for the web pages' tests (console and storefront): keeps cookies, sends
//! the page's origin, does not follow redirects, and submits a page's form with its CSRF token.

use crate::helpers::TestApp;
use std::collections::HashMap;

/// A browser without JavaScript: keeps cookies, does not follow redirects.
pub struct Browser {
    pub base: String,
    pub http: reqwest::Client,
    pub cookies: HashMap<String, String>,
    pub origin: Option<String>,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Page {
    pub fn has(&self, text: &str) -> bool {
        self.body.contains(text)
    }
    /// The value of the first hidden input named `name`.
    pub fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let i = self.body.find(&marker).unwrap_or_else(|| panic!("no field {name} in {}", self.body));
        let rest = &self.body[i + marker.len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

impl Browser {
    pub fn new(app: &TestApp) -> Browser {
        Browser {
            base: app.url.clone(),
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            cookies: HashMap::new(),
            origin: Some(app.url.clone()),
        }
    }

    pub async fn send(&mut self, req: reqwest::RequestBuilder) -> Page {
        let cookie: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut req = req.header("Cookie", cookie.join("; ")).header("Accept-Language", "ko-KR,ko;q=0.9");
        if let Some(o) = &self.origin {
            req = req.header("Origin", o);
        }
        let res = req.send().await.expect("request");
        for c in res.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap();
            let (kv, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let status = res.status().as_u16();
        let location = res.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        let headers = res.headers().clone();
        Page { status, location, body: res.text().await.unwrap_or_default(), headers }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let r = self.http.get(format!("{}{path}", self.base));
        self.send(r).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let r = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(r).await
    }

    /// Signs up through the storefront as a shopper does: the form, the "check your email" page, the link
    /// from the mail (the outbox, as staff read it without a mail transport), the confirm button. Answers
    /// the button's response (a redirect to the account, signed in).
    pub async fn sign_up(&mut self, app: &TestApp, fields: &[(&str, &str)]) -> Page {
        let email = fields.iter().find(|(k, _)| *k == "email").expect("an email").1;
        let sent = self.submit("/account/signup", "/account/signup", fields).await;
        assert_eq!(sent.status, 200, "{}", sent.body);
        assert!(sent.has("이메일을 확인해 주세요") && sent.has(email), "{}", sent.body);
        assert!(sent.has("메일 발송을 설정하지 않았습니다"), "without a transport the page says where the link waits");
        let token = app.signup_token(email).await;
        let link = format!("/account/verify?token={token}");
        let page = self.get(&link).await;
        assert!(
            page.has("가입 완료") && page.has("method=\"post\""),
            "opening the link only shows a button: {}",
            page.body
        );
        self.submit(&link, "/account/verify", &[("token", &token)]).await
    }

    /// Posts a form of the page at `from` with its CSRF token (and `_once` when the form has one).
    pub async fn submit(&mut self, from: &str, path: &str, fields: &[(&str, &str)]) -> Page {
        let page = self.get(from).await;
        assert_eq!(page.status, 200, "{from}: {}", page.body);
        let csrf = page.field("_csrf");
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("_csrf", &csrf));
        let once = page.body.contains("name=\"_once\"").then(|| page.field("_once"));
        if let Some(o) = &once {
            if !fields.iter().any(|(k, _)| *k == "_once") {
                form.push(("_once", o));
            }
        }
        self.post(path, &form).await
    }

    /// Posts a multipart form as a browser sends a file upload: text `fields`, then `file` as the field
    /// named `file`.
    pub async fn multipart(&mut self, path: &str, fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> Page {
        let b = "----borderless-upload";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
            );
        }
        let (name, mime, bytes) = file;
        body.extend_from_slice(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {mime}\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", format!("multipart/form-data; boundary={b}"))
            .body(body);
        self.send(r).await
    }
}
