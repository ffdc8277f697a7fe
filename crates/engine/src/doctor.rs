//! The doctor: every invariant that spans areas, recomputed from the ledgers. Stock balances from the
//! movements and reservations (`stock`), ledger accounts from their transfers and the per-currency sums
//! (`money`). `borderless doctor` and `GET /admin/doctor` report what drifted.

use crate::money::ledger;
use crate::stock::movements::{self, Drift};
use crate::{Engine, Result};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DoctorReport {
    pub balances_checked: usize,
    pub drift: Vec<Drift>,
    pub ledger_accounts_checked: usize,
    pub ledger_drift: Vec<ledger::LedgerDrift>,
}

impl DoctorReport {
    pub fn is_clean(&self) -> bool {
        self.drift.is_empty() && self.ledger_drift.is_empty()
    }
}

impl Engine {
    /// Recomputes stock balances and ledger accounts and reports drift.
    pub async fn doctor(&self) -> Result<DoctorReport> {
        self.db
            .read(|tx| {
                let (n, drift) = movements::doctor(tx)?;
                let (ledger_accounts_checked, ledger_drift) = ledger::doctor(tx)?;
                Ok(DoctorReport { balances_checked: n, drift, ledger_accounts_checked, ledger_drift })
            })
            .await
    }
}
