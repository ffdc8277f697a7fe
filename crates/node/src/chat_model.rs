//! The shopping assistant's optional language model, reached over an OpenAI-compatible
//! `POST …/v1/chat/completions` endpoint (`scripts/llm/serve.mjs` over npm's node-llama-cpp, llama.cpp's
//! llama-server, vLLM, Ollama, OpenAI itself): the answer held to a JSON schema by the server
//! (`response_format`), bounded in size and time, its text returned for the engine to check.

use std::time::Duration;

/// An answer larger than this is refused (the assistant asks for a few tokens).
const MAX_ANSWER_BYTES: usize = 64 << 10;

/// A client of one chat-completions endpoint.
pub struct OpenAiChat {
    url: String,
    model: String,
    api_key: Option<String>,
    client: reqwest::Client,
    /// The whole request's limit (the client's own), said in its failure.
    timeout: Duration,
}

/// `http://host:port`, `…/v1` or `…/v1/chat/completions` → the chat-completions URL.
pub fn endpoint(base: &str) -> Result<String, String> {
    let b = base.trim().trim_end_matches('/');
    if !(b.starts_with("http://") || b.starts_with("https://")) {
        return Err(format!(
            "the language model endpoint `{base}` is not an http(s) URL (for example http://127.0.0.1:18500/v1)"
        ));
    }
    Ok(if b.ends_with("/chat/completions") {
        b.to_owned()
    } else if b.ends_with("/v1") {
        format!("{b}/chat/completions")
    } else {
        format!("{b}/v1/chat/completions")
    })
}

impl OpenAiChat {
    /// `model` is sent as the request's `model` (servers with one model ignore it).
    pub fn new(base: &str, model: &str, api_key: Option<&str>, timeout: Duration) -> Result<OpenAiChat, String> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(2)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot make an HTTP client: {e}"))?;
        Ok(OpenAiChat {
            url: endpoint(base)?,
            model: model.to_owned(),
            api_key: api_key.map(str::to_owned),
            client,
            timeout,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The text of the model's first choice, deterministic (temperature 0) and held to `schema`.
    pub async fn complete(
        &self,
        system: &str,
        user: &str,
        schema: &serde_json::Value,
        max_tokens: u32,
    ) -> Result<String, String> {
        let body = serde_json::json!({
            "model": self.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "max_tokens": max_tokens,
            "temperature": 0,
            "seed": 0,
            "stream": false,
            "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "strict": true, "schema": schema}},
        });
        let mut req = self.client.post(&self.url).json(&body);
        if let Some(k) = &self.api_key {
            req = req.bearer_auth(k);
        }
        // (A timeout says so plainly: staff read this in the console.)
        let unreachable = |e: reqwest::Error| {
            if e.is_timeout() {
                format!("the language model at {} gave no answer within {} ms", self.url, self.timeout.as_millis())
            } else if e.is_connect() {
                format!("the language model at {} cannot be reached: {e}", self.url)
            } else {
                format!("the language model at {} did not answer: {e}", self.url)
            }
        };
        let mut r = req.send().await.map_err(unreachable)?;
        let status = r.status();
        let mut bytes = Vec::new();
        while let Some(chunk) = r.chunk().await.map_err(unreachable)? {
            if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(format!("{} answered more than {} KiB", self.url, MAX_ANSWER_BYTES >> 10));
            }
            bytes.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
            return Err(format!("{} answered HTTP {status}: {text}", self.url));
        }
        message_text(&bytes).map_err(|e| format!("{}: {e}", self.url))
    }
}

impl engine::discovery::assistant::language_model::LanguageModel for OpenAiChat {
    fn describe(&self) -> String {
        format!("{} at {}", self.model, self.url)
    }

    fn complete<'a>(
        &'a self,
        system: &'a str,
        user: &'a str,
        schema: &'a serde_json::Value,
        max_tokens: u32,
    ) -> engine::money::cards::BoxFuture<'a, Result<String, String>> {
        Box::pin(OpenAiChat::complete(self, system, user, schema, max_tokens))
    }
}

/// The first choice's message text of an OpenAI-style answer (`{"choices": [{"message": {"content"}}]}`).
fn message_text(bytes: &[u8]) -> Result<String, String> {
    let a: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not a chat-completions answer ({e})"))?;
    a["choices"][0]["message"]["content"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "not a chat-completions answer (no `choices[0].message.content` text)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_accept_a_host_a_v1_base_or_the_full_path() {
        assert_eq!(endpoint("http://127.0.0.1:18500").unwrap(), "http://127.0.0.1:18500/v1/chat/completions");
        assert_eq!(endpoint("http://127.0.0.1:18500/v1/").unwrap(), "http://127.0.0.1:18500/v1/chat/completions");
        assert_eq!(endpoint("https://m.example/v1/chat/completions").unwrap(), "https://m.example/v1/chat/completions");
        assert!(endpoint("127.0.0.1:18500").unwrap_err().contains("not an http(s) URL"));
    }

    #[test]
    fn the_first_choice_is_read() {
        let ok = br#"{"choices":[{"index":0,"message":{"role":"assistant","content":"{\"intent\":\"smalltalk\"}"}}]}"#;
        assert_eq!(message_text(ok).unwrap(), r#"{"intent":"smalltalk"}"#);
        assert!(message_text(br#"{"choices":[]}"#).unwrap_err().contains("no `choices[0]"));
        assert!(message_text(b"<html>").unwrap_err().contains("not a chat-completions answer"));
    }
}
