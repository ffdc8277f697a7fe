//! The assistant's optional language model: asked only when the rules understood nothing in a turn (a
//! request with no kind, brand, price, colour, size or store, whose words no product's title holds), it
//! may say the turn is small talk, off-topic, about an order, a return or a person to talk to. Its answer
//! is held to a JSON schema, checked against the intents it may give and dropped when it says anything
//! else; it never names a product, a price or a stock figure, so grounding is untouched. Without a model,
//! or while it fails or is slow, the rules' reading stands.

use crate::money::cards::BoxFuture;
use crate::Engine;
use assistant::Understood;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// A chat model behind an OpenAI-compatible endpoint. Implemented in the node (HTTP).
pub trait LanguageModel: Send + Sync {
    /// The model and where it runs, for logs.
    fn describe(&self) -> String;
    /// The model's answer (the message's text) to a system and a user message, held to `schema` (a JSON
    /// schema the server enforces), at most `max_tokens` tokens.
    fn complete<'a>(
        &'a self,
        system: &'a str,
        user: &'a str,
        schema: &'a serde_json::Value,
        max_tokens: u32,
    ) -> BoxFuture<'a, std::result::Result<String, String>>;
}

/// How long a turn waits for the model before the rules' reading stands, unless the node sets another.
pub const TIMEOUT: Duration = Duration::from_millis(3_000);
/// While the model fails, how long turns go without it before one asks it again.
const RETRY_MS: i64 = 10_000;

/// What the model may say a turn is: only readings that show no products. (Its "find", "availability" or
/// "question" would add nothing the rules and the search do not already do better.)
pub const MAY_GIVE: &[&str] = &["smalltalk", "out_of_scope", "order_status", "returns", "handoff"];
/// Every intent it chooses from: the model is asked the whole question, and only its answers in
/// [`MAY_GIVE`] are taken.
const INTENTS: &[&str] = &[
    "find",
    "gift",
    "availability",
    "compare",
    "question",
    "order_status",
    "returns",
    "handoff",
    "smalltalk",
    "out_of_scope",
];

/// The instructions, after a sentence on what this shop sells and where (read from its catalog and stores).
const SYSTEM: &str = "Answer with the intent only:
- find: asks for products or says what they want to buy or see
- gift: wants an idea for a present for someone
- availability: asks whether a store has something in stock or if it can be picked up
- compare: asks which of two products is better
- question: asks about a product already shown (features, how it works)
- order_status: asks where their order or delivery is
- returns: asks about returning, exchanging or a refund
- handoff: wants to talk to a person, staff or a phone number
- smalltalk: greeting, thanks, agreement, goodbye, a reaction, with no request
- out_of_scope: asks for something a shop cannot help with (weather, exchange rates, news, restaurants, homework)
Examples: \"thanks a lot!\" -> smalltalk; \"ok got it\" -> smalltalk; \"안녕하세요\" -> smalltalk; \"수고하세요\" -> \
smalltalk; \"what time is it in london\" -> out_of_scope; \"black sneakers size 270\" -> find; \"do you have rice?\" -> \
find; \"is it in stock at gangnam?\" -> availability; \"내 택배 언제 와요\" -> order_status";

/// The model's state on this node.
#[derive(Default)]
pub(crate) struct ModelState {
    model: OnceLock<(std::sync::Arc<dyn LanguageModel>, Duration)>,
    /// The last failure (when, what), cleared by the next answer.
    failing: Mutex<Option<(i64, String)>>,
    counts: Mutex<Consulted>,
}

/// How often this node asked the model, and what came of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Consulted {
    /// Turns the rules understood nothing in that were put to the model.
    pub asked: u64,
    /// Of those, the model's reading was taken.
    pub taken: u64,
    /// It failed, was too slow, or answered what could not be read.
    pub failed: u64,
}

/// The model as staff see it: what it is, how long a turn waits for it, what came of asking it since
/// start, and its last failure while it is failing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct ModelStatus {
    /// The model and where it runs.
    pub model: String,
    /// How long a turn waits for it before the rules' reading stands.
    pub timeout_ms: u64,
    /// Turns put to it since start.
    pub asked: u64,
    /// Its reading was taken.
    pub taken: u64,
    /// It failed, was too slow, or answered what could not be read.
    pub failed: u64,
    /// While it is failing: when it last failed (ms since the epoch) and why. The rules answer alone and
    /// it is asked again 10 s after a failure.
    pub failing: Option<Failing>,
}

/// The model's last failure.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Failing {
    /// When (ms since the epoch).
    pub at_ms: i64,
    /// What went wrong.
    pub error: String,
}

/// What the model said, read strictly: `{"intent": "…"}` with one of [`INTENTS`], nothing else.
pub fn read_answer(answer: &str) -> std::result::Result<String, String> {
    let v: serde_json::Value =
        serde_json::from_str(answer.trim()).map_err(|e| format!("the model's answer is not JSON ({e})"))?;
    let o = v.as_object().ok_or("the model's answer is not a JSON object")?;
    if o.len() != 1 {
        return Err(format!("the model's answer has {} keys, not just `intent`", o.len()));
    }
    let intent = o.get("intent").and_then(|i| i.as_str()).ok_or("the model's answer has no `intent` string")?;
    if !INTENTS.contains(&intent) {
        return Err(format!("the model answered an intent the assistant does not have: `{intent}`"));
    }
    Ok(intent.to_owned())
}

/// Whether the rules understood nothing in a turn: a request with no slot at all (its words are checked
/// against the catalog's titles by the caller).
pub(super) fn understood_nothing(u: &Understood) -> bool {
    u.intent == "find"
        && u.category.is_none()
        && u.brand.is_none()
        && u.exclude_brand.is_none()
        && u.price.is_none()
        && u.attributes.is_empty()
        && u.pickup.is_none()
        && u.refine.is_none()
}

impl Engine {
    /// Gives the assistant a language model for turns its rules cannot read (once per engine). `timeout`:
    /// how long a turn waits for it.
    pub fn set_language_model(&self, m: std::sync::Arc<dyn LanguageModel>, timeout: Duration) -> bool {
        tracing::info!(model = %m.describe(), timeout_ms = timeout.as_millis() as u64, "assistant: a language model reads the turns the rules cannot");
        self.discovery.model.model.set((m, timeout)).is_ok()
    }

    /// How often the model was asked (since start).
    pub fn language_model_consulted(&self) -> Consulted {
        *self.discovery.model.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The model's state for staff, or `None` when none is set (the rules answer alone).
    pub fn language_model_status(&self) -> Option<ModelStatus> {
        let (m, timeout) = self.discovery.model.model.get()?;
        let c = self.language_model_consulted();
        let failing = self
            .discovery
            .model
            .failing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|(at_ms, error)| Failing { at_ms: *at_ms, error: error.clone() });
        Some(ModelStatus {
            model: m.describe(),
            timeout_ms: timeout.as_millis() as u64,
            asked: c.asked,
            taken: c.taken,
            failed: c.failed,
            failing,
        })
    }

    fn count(&self, f: impl FnOnce(&mut Consulted)) {
        f(&mut self.discovery.model.counts.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// Whether a language model is set, and what it is.
    pub fn language_model(&self) -> Option<String> {
        self.discovery.model.model.get().map(|(m, _)| m.describe())
    }

    /// Asks the model about a turn the rules understood nothing in (see [`understood_nothing`]; `unplaced`:
    /// no product's title holds its words). Returns the intent it gives when it is one it may give.
    pub(super) async fn assistant_consult(&self, text: &str, u: &Understood, unplaced: bool) -> Option<String> {
        let (model, timeout) = self.discovery.model.model.get()?;
        if !unplaced || !understood_nothing(u) {
            return None;
        }
        let st = &self.discovery.model;
        if let Some((at, _)) = st.failing.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            if self.now() - at < RETRY_MS {
                return None;
            }
        }
        let schema = serde_json::json!({
            "type": "object",
            "properties": {"intent": {"enum": INTENTS}},
            "required": ["intent"],
            "additionalProperties": false,
        });
        self.count(|c| c.asked += 1);
        let system = format!("{}\n{SYSTEM}", self.shop_described().await);
        let said: String = text.chars().take(super::conversations::MAX_TEXT).collect();
        let user = format!("Message: {}", serde_json::Value::String(said));
        let answer = match tokio::time::timeout(*timeout, model.complete(&system, &user, &schema, 20)).await {
            Ok(Ok(a)) => a,
            Ok(Err(e)) => return self.model_failed(e),
            Err(_) => return self.model_failed(format!("no answer within {} ms", timeout.as_millis())),
        };
        if st.failing.lock().unwrap_or_else(|p| p.into_inner()).take().is_some() {
            tracing::info!("assistant: the language model answers again");
        }
        match read_answer(&answer) {
            Ok(intent) if MAY_GIVE.contains(&intent.as_str()) => {
                tracing::debug!(text, intent, "assistant: the language model read a turn the rules could not");
                self.count(|c| c.taken += 1);
                Some(intent)
            }
            Ok(_) => None,
            Err(e) => {
                self.count(|c| c.failed += 1);
                tracing::warn!(error = %e, answer = %answer.chars().take(200).collect::<String>(), "assistant: the language model's answer was dropped");
                None
            }
        }
    }

    /// What this shop sells and where, for the model: the catalog's departments and the stores' names.
    async fn shop_described(&self) -> String {
        let (departments, stores) = match self.assistant_vocabulary().await {
            Ok((vocab, locations)) => {
                let mut d: Vec<&str> =
                    vocab.categories.iter().map(|t| t.id.split('/').next().unwrap_or_default()).collect();
                d.sort_unstable();
                d.dedup();
                let s: Vec<&str> =
                    locations.iter().filter(|l| l.kind != "warehouse").map(|l| l.name.en.as_str()).collect();
                (d.join(", "), s.join(", "))
            }
            Err(_) => (String::new(), String::new()),
        };
        format!(
            "You classify one message that a shopper typed to a shop's chat assistant (Korean or English). The shop \
             sells {departments}; its stores: {stores}."
        )
    }

    fn model_failed(&self, e: String) -> Option<String> {
        self.count(|c| c.failed += 1);
        let first =
            self.discovery.model.failing.lock().unwrap_or_else(|p| p.into_inner()).replace((self.now(), e.clone()));
        if first.is_none() {
            tracing::warn!(error = %e, "assistant: the language model failed; the rules answer alone until it answers");
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_known_intent_alone_is_taken() {
        assert_eq!(read_answer(r#" {"intent": "smalltalk"} "#).unwrap(), "smalltalk");
        assert!(read_answer(r#"{"intent": "buy_now"}"#).unwrap_err().contains("does not have"));
        assert!(read_answer(r#"{"intent": "find", "product": "Nova 5"}"#).unwrap_err().contains("2 keys"));
        assert!(read_answer("smalltalk").unwrap_err().contains("not JSON"));
        assert!(read_answer(r#"["smalltalk"]"#).unwrap_err().contains("not a JSON object"));
        assert!(read_answer(r#"{"intent": 3}"#).unwrap_err().contains("no `intent` string"));
    }

    #[test]
    fn the_model_may_only_give_what_shows_no_products() {
        for i in MAY_GIVE {
            assert!(INTENTS.contains(i));
        }
        assert!(!MAY_GIVE.contains(&"find") && !MAY_GIVE.contains(&"availability"));
    }
}
