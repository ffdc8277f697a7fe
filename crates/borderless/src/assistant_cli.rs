//! `borderless assistant …`: what the shopping assistant understands in one utterance (against the demo
//! catalog's words, as the engine builds them), and its evaluation on a labelled set.

use anyhow::Result;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum AssistantCmd {
    /// Print what the assistant understands in one utterance, as the API's `understood` object (intent,
    /// category, brand, price bounds in minor units, attributes, pickup; stores by their code), against the
    /// demo retailer, which is created in a temporary directory for it (about a second):
    /// `borderless assistant parse "강남역 근처에서 오늘 픽업 가능한 10만원 이하 무선 이어폰"`.
    Parse {
        /// The utterance, in Korean or English.
        text: String,
    },
    /// Measure the assistant on a labelled set (a directory with utterances.jsonl and dialogues.jsonl; the
    /// committed one is crates/assistant/eval, see its README): a fresh demo retailer is created in a
    /// temporary directory, every utterance is understood, every dialogue is answered end to end, and every
    /// reply is checked for a product, price or stock figure that differs from the catalog. Misses go to
    /// stderr; the last line is JSON: {"price_exact", "slot_exact", "intent_accuracy", "dialogue_success",
    /// "grounding_violations", "p99_ms", …}. Example: borderless assistant eval --set crates/assistant/eval
    Eval {
        #[arg(long, required_unless_present = "mg_shopdial")]
        set: Option<PathBuf>,
        /// Instead: intent agreement on MG-ShopDial's shopper utterances (the directory with
        /// MGShopDial.json, e.g. ../shared/data/mg-shopdial): their labelled goal (search and
        /// recommendation, QA, conversation) against the class of the assistant's intent.
        #[arg(long, conflicts_with = "set")]
        mg_shopdial: Option<PathBuf>,
        /// Print every miss (the first 40 are printed anyway) and every dialogue turn as understood.
        #[arg(long)]
        verbose: bool,
        /// Semantic search on for the evaluation: an OpenAI-compatible embeddings endpoint.
        #[arg(long, conflicts_with = "mg_shopdial")]
        embeddings: Option<String>,
        /// A language model for the turns the rules cannot read: an OpenAI-compatible chat-completions
        /// endpoint (e.g. scripts/llm/serve.mjs); the JSON line then says how often it was asked and taken.
        #[arg(long, env = "BORDERLESS_LLM_URL")]
        llm: Option<String>,
    },
}

pub async fn run(cmd: AssistantCmd) -> Result<i32> {
    match cmd {
        AssistantCmd::Parse { text } => {
            if text.chars().count() > 500 {
                anyhow::bail!("an utterance is at most 500 characters; this one has {}", text.chars().count());
            }
            let understood = borderless::assistant_eval::parse(&text).await?;
            println!("{}", serde_json::to_string(&understood)?);
            Ok(0)
        }
        AssistantCmd::Eval { set: _, mg_shopdial: Some(dir), verbose, llm, .. } => {
            let report = borderless::assistant_eval::run_shopdial(&dir, verbose, llm.as_deref()).await?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(0)
        }
        AssistantCmd::Eval { set: Some(set), verbose, embeddings, llm, .. } => {
            let report = borderless::assistant_eval::run(&set, verbose, embeddings.as_deref(), llm.as_deref()).await?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(0)
        }
        AssistantCmd::Eval { .. } => anyhow::bail!("pass --set DIR (the labelled set) or --mg-shopdial DIR"),
    }
}
