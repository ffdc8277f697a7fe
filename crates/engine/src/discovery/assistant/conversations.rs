//! The assistant's conversations in the database: who owns one, its state between turns, its messages,
//! hand-off to staff, and the limits (length, count, idle expiry).

use crate::error::internal;
use crate::{EngineError, Result};
use serde::{Deserialize, Serialize};
use store::{params, Tx};

/// Turns in one conversation; a longer one must start again (the state stays small and bounded).
pub const MAX_TURNS: i64 = 60;
/// Live conversations of one signed-in customer; starting another removes the oldest.
pub const MAX_PER_CUSTOMER: i64 = 20;
/// A conversation nobody wrote to for this long is gone.
pub const IDLE_MS: i64 = 2 * 3600 * 1000;
/// One that was handed to staff waits for them this long.
pub const HANDOFF_IDLE_MS: i64 = 7 * 24 * 3600 * 1000;
/// Characters of one message (shopper or staff).
pub const MAX_TEXT: usize = 500;

/// What a conversation remembers between turns.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    /// What the last search-like turn understood (slots carried into refinements).
    pub last: Option<assistant::Understood>,
    /// The products shown last, with the price shown (in `currency`).
    pub shown: Vec<Shown>,
    pub currency: String,
    /// The facet the last turn asked about, if it asked.
    pub asked: Option<String>,
    /// Questions asked in a row (never more than two).
    pub questions_in_row: u8,
    /// The intent of the turn just before (a question about an order or returns goes on in a follow-up).
    #[serde(default)]
    pub last_intent: Option<String>,
    /// Whether the last search-like turn found nothing.
    #[serde(default)]
    pub last_empty: bool,
    /// The last few requests of different kinds, newest last (at most [`REQUESTS`]), for going back to one
    /// ("아까 그 셔츠 홍대점에 있어요?").
    #[serde(default)]
    pub requests: Vec<assistant::Understood>,
    /// The store the last turn that named one named, whatever it asked ("is my pickup at seomyeon ready"), for
    /// "there" / "거기" in a later turn.
    #[serde(default)]
    pub last_store: Option<String>,
    /// The product a question about an order or a return named, as a request ("bought joggers in m, too tight,
    /// can i swap?": joggers), for the turn right after it ("then show me the same in large, grey").
    #[serde(default)]
    pub mentioned: Option<assistant::Understood>,
    /// Whether the last search-like turn asked for a kind the shop does not carry (the request before it still
    /// stands, and going back to it by its kind keeps what it asked).
    #[serde(default)]
    pub last_not_carried: bool,
}

/// How many earlier requests a conversation remembers.
pub const REQUESTS: usize = 4;

impl State {
    /// Remembers a request that was answered: it replaces the newest one of the same kind.
    pub fn remember(&mut self, u: &assistant::Understood) {
        if u.category.is_none() {
            return;
        }
        self.requests.retain(|r| r.category != u.category);
        self.requests.push(u.clone());
        if self.requests.len() > REQUESTS {
            self.requests.remove(0);
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Shown {
    pub id: String,
    pub price_minor: Option<i64>,
    #[serde(default)]
    pub brand: String,
}

/// One conversation as read for a turn.
pub struct Conversation {
    pub id: String,
    pub customer_id: Option<String>,
    pub location_id: Option<String>,
    pub locale: String,
    pub state: State,
    pub turns: i64,
    pub handoff: String,
}

fn not_found(id: &str) -> EngineError {
    EngineError::not_found("conversation", id)
}

/// The conversation `id` as `customer_id` may see it: one owned by a customer is that customer's only; an
/// anonymous one belongs to whoever holds its id (128 random bits). Expired ones are gone.
pub(crate) fn load(tx: &mut dyn Tx, id: &str, customer_id: Option<&str>, now: i64) -> Result<Conversation> {
    let r = tx
        .query_opt(
            "SELECT id, customer_id, location_id, locale, state, turns, handoff, expires_at \
             FROM assistant_conversations WHERE id = ?",
            params![id],
        )?
        .ok_or_else(|| not_found(id))?;
    let owner = r.opt_text(1)?;
    if r.i64(7)? < now || (owner.is_some() && owner.as_deref() != customer_id) {
        return Err(not_found(id));
    }
    let state = serde_json::from_str(&r.text(4)?).map_err(|e| internal(format!("conversation {id} state: {e}")))?;
    Ok(Conversation {
        id: r.text(0)?,
        customer_id: owner,
        location_id: r.opt_text(2)?,
        locale: r.text(3)?,
        state,
        turns: r.i64(5)?,
        handoff: r.text(6)?,
    })
}

/// A new, empty conversation (not yet stored).
pub(crate) fn fresh(customer_id: Option<&str>, location_id: Option<&str>, locale: &str) -> Conversation {
    Conversation {
        id: format!("conv_{}", domain::ids::random_token(16)),
        customer_id: customer_id.map(str::to_owned),
        location_id: location_id.map(str::to_owned),
        locale: locale.to_owned(),
        state: State::default(),
        turns: 0,
        handoff: "none".into(),
    }
}

/// Stores a turn: the conversation's new state and its two messages, in one transaction.
pub(crate) fn save_turn(
    tx: &mut dyn Tx,
    c: &Conversation,
    shopper_text: &str,
    reply_text: &str,
    reply_body: &serde_json::Value,
    now: i64,
) -> Result<()> {
    let state = serde_json::to_string(&c.state).map_err(|e| internal(e.to_string()))?;
    let idle = if c.handoff == "none" { IDLE_MS } else { HANDOFF_IDLE_MS };
    if c.turns == 0 {
        if let Some(customer) = &c.customer_id {
            // The oldest live conversations beyond the cap go first.
            let live = tx
                .query(
                    "SELECT id FROM assistant_conversations WHERE customer_id = ? ORDER BY updated_at DESC, id",
                    params![customer],
                )?
                .iter()
                .map(|r| r.text(0))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            for old in live.iter().skip(MAX_PER_CUSTOMER as usize - 1) {
                delete(tx, old)?;
            }
        }
        tx.exec(
            "INSERT INTO assistant_conversations (id, customer_id, location_id, locale, state, turns, handoff, \
             handoff_at, created_at, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, 1, ?, NULL, ?, ?, ?)",
            params![
                &c.id,
                c.customer_id.as_deref(),
                c.location_id.as_deref(),
                &c.locale,
                &state,
                &c.handoff,
                now,
                now,
                now + idle
            ],
        )?;
    } else {
        let n = tx.exec(
            "UPDATE assistant_conversations SET state = ?, turns = ?, locale = ?, location_id = ?, updated_at = ?, \
             expires_at = ? WHERE id = ? AND turns = ?",
            params![&state, c.turns + 1, &c.locale, c.location_id.as_deref(), now, now + idle, &c.id, c.turns],
        )?;
        if n != 1 {
            return Err(EngineError::conflict(
                "conversation_busy",
                "another message of this conversation was answered at the same moment; send yours again",
            ));
        }
    }
    let seq = next_seq(tx, &c.id)?;
    tx.exec(
        "INSERT INTO assistant_messages (conversation_id, seq, role, text, body, staff_id, created_at) \
         VALUES (?, ?, 'shopper', ?, NULL, NULL, ?)",
        params![&c.id, seq, shopper_text, now],
    )?;
    tx.exec(
        "INSERT INTO assistant_messages (conversation_id, seq, role, text, body, staff_id, created_at) \
         VALUES (?, ?, 'assistant', ?, ?, NULL, ?)",
        params![&c.id, seq + 1, reply_text, reply_body.to_string(), now],
    )?;
    Ok(())
}

fn next_seq(tx: &mut dyn Tx, id: &str) -> Result<i64> {
    let max = tx
        .query_opt("SELECT MAX(seq) FROM assistant_messages WHERE conversation_id = ?", params![id])?
        .map(|r| r.opt_i64(0))
        .transpose()?
        .flatten();
    Ok(max.map_or(0, |m| m + 1))
}

/// Hands a stored conversation to staff.
pub(crate) fn hand_off(tx: &mut dyn Tx, id: &str, now: i64) -> Result<()> {
    tx.exec(
        "UPDATE assistant_conversations SET handoff = 'waiting', handoff_at = ?, expires_at = ? \
         WHERE id = ? AND handoff IN ('none', 'closed')",
        params![now, now + HANDOFF_IDLE_MS, id],
    )?;
    Ok(())
}

pub(crate) fn delete(tx: &mut dyn Tx, id: &str) -> Result<()> {
    tx.exec("DELETE FROM assistant_messages WHERE conversation_id = ?", params![id])?;
    tx.exec("DELETE FROM assistant_conversations WHERE id = ?", params![id])?;
    Ok(())
}

/// One message as the shopper and staff read it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MessageView {
    pub seq: i64,
    /// `shopper`, `assistant` or `staff`.
    pub role: String,
    pub text: String,
    /// What an assistant message showed (products, question), as it was answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    pub at: String,
}

/// A conversation with its messages.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ConversationView {
    pub id: String,
    pub locale: String,
    pub location_id: Option<String>,
    /// `none`, `waiting` (handed to staff, nobody answered yet), `answered` or `closed`.
    pub handoff: String,
    pub signed_in: bool,
    pub turns: i64,
    pub created_at: String,
    pub updated_at: String,
    pub messages: Vec<MessageView>,
}

/// A conversation handed to staff, for the console's list.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct HandoffView {
    pub id: String,
    pub locale: String,
    pub location_id: Option<String>,
    pub handoff: String,
    pub handoff_at: String,
    pub signed_in: bool,
    /// The shopper's last message.
    pub last_text: String,
}

pub(crate) fn view(tx: &mut dyn Tx, id: &str) -> Result<ConversationView> {
    let r = tx
        .query_opt(
            "SELECT id, locale, location_id, handoff, customer_id, turns, created_at, updated_at \
             FROM assistant_conversations WHERE id = ?",
            params![id],
        )?
        .ok_or_else(|| not_found(id))?;
    let messages = tx
        .query(
            "SELECT seq, role, text, body, created_at FROM assistant_messages WHERE conversation_id = ? ORDER BY seq",
            params![id],
        )?
        .iter()
        .map(|m| {
            Ok(MessageView {
                seq: m.i64(0)?,
                role: m.text(1)?,
                text: m.text(2)?,
                body: m.opt_text(3)?.and_then(|b| serde_json::from_str(&b).ok()),
                at: domain::time::rfc3339(m.i64(4)?),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ConversationView {
        id: r.text(0)?,
        locale: r.text(1)?,
        location_id: r.opt_text(2)?,
        handoff: r.text(3)?,
        signed_in: r.opt_text(4)?.is_some(),
        turns: r.i64(5)?,
        created_at: domain::time::rfc3339(r.i64(6)?),
        updated_at: domain::time::rfc3339(r.i64(7)?),
        messages,
    })
}

/// Conversations handed to staff and not closed, oldest first; `location_id` narrows to one store's (and
/// those that named no store).
pub(crate) fn handoffs(tx: &mut dyn Tx, location_id: Option<&str>, now: i64) -> Result<Vec<HandoffView>> {
    let rows = tx.query(
        "SELECT c.id, c.locale, c.location_id, c.handoff, c.handoff_at, c.customer_id, \
         (SELECT m.text FROM assistant_messages m WHERE m.conversation_id = c.id AND m.role = 'shopper' \
          ORDER BY m.seq DESC LIMIT 1) \
         FROM assistant_conversations c WHERE c.handoff IN ('waiting', 'answered') AND c.expires_at >= ? \
         ORDER BY c.handoff_at, c.id LIMIT 200",
        params![now],
    )?;
    let mut out = Vec::new();
    for r in rows.iter() {
        let loc = r.opt_text(2)?;
        if location_id.is_some_and(|l| loc.as_deref().is_some_and(|x| x != l)) {
            continue;
        }
        out.push(HandoffView {
            id: r.text(0)?,
            locale: r.text(1)?,
            location_id: loc,
            handoff: r.text(3)?,
            handoff_at: domain::time::rfc3339(r.opt_i64(4)?.unwrap_or(0)),
            signed_in: r.opt_text(5)?.is_some(),
            last_text: r.opt_text(6)?.unwrap_or_default(),
        });
    }
    Ok(out)
}

/// A staff member's answer in a handed-off conversation.
pub(crate) fn staff_reply(tx: &mut dyn Tx, id: &str, staff_id: &str, text: &str, now: i64) -> Result<()> {
    let r = tx
        .query_opt("SELECT turns, handoff, expires_at FROM assistant_conversations WHERE id = ?", params![id])?
        .ok_or_else(|| not_found(id))?;
    if r.i64(2)? < now {
        return Err(not_found(id));
    }
    if r.text(1)? == "none" {
        return Err(EngineError::conflict(
            "not_handed_off",
            "the shopper did not ask for staff in this conversation; only handed-off conversations are answered here",
        ));
    }
    let seq = next_seq(tx, id)?;
    tx.exec(
        "INSERT INTO assistant_messages (conversation_id, seq, role, text, body, staff_id, created_at) \
         VALUES (?, ?, 'staff', ?, NULL, ?, ?)",
        params![id, seq, text, staff_id, now],
    )?;
    tx.exec(
        "UPDATE assistant_conversations SET handoff = 'answered', updated_at = ?, expires_at = ? WHERE id = ?",
        params![now, now + HANDOFF_IDLE_MS, id],
    )?;
    Ok(())
}

pub(crate) fn close(tx: &mut dyn Tx, id: &str) -> Result<()> {
    let n = tx.exec(
        "UPDATE assistant_conversations SET handoff = 'closed' WHERE id = ? AND handoff IN ('waiting', 'answered')",
        params![id],
    )?;
    if n == 0 {
        return Err(not_found(id));
    }
    Ok(())
}
