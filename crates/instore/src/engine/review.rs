//! The review queue, staff resolutions, receipts and exits.

use super::*;

impl Engine {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn open_review(
        &mut self,
        cluster: &[PlateChange],
        total: f64,
        t_start: f64,
        t_settled: f64,
        reason: ReviewReason,
        conf: f64,
        shoppers: &[(usize, f64, f64)],
        hs: &[Hypothesis],
    ) {
        let id = self.next_review_id;
        self.next_review_id += 1;
        let item = ReviewItem {
            id,
            t_start_s: t_start,
            t_settled_s: t_settled,
            plates: cluster.iter().map(|c| self.layout.plate_key(c.plate)).collect(),
            delta_g: total,
            reason,
            confidence: conf,
            // Candidates are the shoppers within reach (attribution gives the others probability 0)
            // that the hand model does not all but rule out. No candidate (nobody's hand came
            // within reach: sensor drift, staff, an untracked person) holds no visit; the item
            // stays in the staff queue.
            shoppers: self.review_candidates(shoppers, hs, t_start),
            products: hs
                .iter()
                .filter(|h| !h.lines.is_empty())
                .take(5)
                .map(|h| {
                    h.lines
                        .iter()
                        .map(|&(c, q)| CandidateLine {
                            barcode: self.layout.product(c).barcode.clone(),
                            quantity: q,
                            probability: h.probability,
                        })
                        .collect()
                })
                .collect(),
            resolved: false,
        };
        self.reviews.push(item);
        self.stats.reviews += 1;
        self.emit(EngineEvent::ReviewOpened { id });
    }

    /// Review candidates: the shoppers within reach (attribution gives the others probability 0)
    /// that the hand model does not all but rule out; then, with probability 0, the givers of
    /// unsettled hand-overs that may have brought a unit a candidate would be returning (their
    /// receipts depend on the answer, so their exits wait for it too).
    pub(super) fn review_candidates(
        &self,
        shoppers: &[(usize, f64, f64)],
        hs: &[Hypothesis],
        t_start: f64,
    ) -> Vec<CandidateShopper> {
        let listed: Vec<(usize, f64, f64)> =
            shoppers.iter().copied().filter(|&(_, p, _)| p > 0.0 && p >= self.cfg.review_candidate_min_p).collect();
        let mut out: Vec<CandidateShopper> = listed
            .iter()
            .map(|&(i, p, d)| CandidateShopper {
                target_id: self.shoppers[i].target_id.clone(),
                probability: p,
                distance_m: d,
            })
            .collect();
        if self.pending_handovers.is_empty() {
            return out;
        }
        let mut givers: Vec<usize> = Vec::new();
        for &(i, _, _) in &listed {
            for h in hs {
                for &(c, q) in h.lines.iter().filter(|l| l.1 < 0) {
                    if self.units(i, c) >= -q {
                        continue;
                    }
                    for p in self.pending_handovers.iter().filter(|p| p.t_end_s < t_start) {
                        givers.extend(p.options.iter().filter(|o| o.taker == i && o.product == c).map(|o| o.giver));
                    }
                    if let Some((_, route)) = self.incoming_route(i, c, t_start, HANDOVER_CHAIN_DEPTH) {
                        givers.extend(route.iter().map(|&(pi, oi)| self.pending_handovers[pi].options[oi].giver));
                    }
                }
            }
        }
        for g in givers {
            let id = &self.shoppers[g].target_id;
            if !out.iter().any(|c| &c.target_id == id) {
                let d = shoppers.iter().find(|s| s.0 == g).map_or(self.cfg.max_reach_m, |s| s.2);
                out.push(CandidateShopper { target_id: id.clone(), probability: 0.0, distance_m: d });
            }
        }
        out
    }

    pub(super) fn emit(&mut self, ev: EngineEvent) {
        if self.outbox.len() >= self.cfg.outbox_limit {
            self.outbox.pop_front();
        }
        self.outbox.push_back(ev);
    }

    /// Takes the events produced since the last call.
    pub fn drain_events(&mut self) -> Vec<EngineEvent> {
        self.outbox.drain(..).collect()
    }

    /// Events produced and not taken yet.
    pub fn pending_events(&self) -> usize {
        self.outbox.len()
    }

    /// Unresolved review items.
    pub fn pending_reviews(&self) -> impl Iterator<Item = &ReviewItem> {
        self.reviews.iter().filter(|r| !r.resolved)
    }
    /// Hand-overs detected from the tracks, applied or not.
    pub fn handovers(&self) -> &[HandOver] {
        &self.handovers
    }
    /// Hand-overs not settled yet, with their possible explanations: (index into
    /// [`Engine::handovers`], [(giver, taker, barcode, probability)]).
    pub fn unsettled_handovers(&self) -> Vec<(usize, Vec<(&str, &str, &str, f64)>)> {
        self.pending_handovers
            .iter()
            .map(|p| {
                let options = p
                    .options
                    .iter()
                    .map(|o| {
                        let barcode = self.layout.product(o.product).barcode.as_str();
                        (
                            self.shoppers[o.giver].target_id.as_str(),
                            self.shoppers[o.taker].target_id.as_str(),
                            barcode,
                            o.prior,
                        )
                    })
                    .collect();
                (p.record, options)
            })
            .collect()
    }
    /// All review items, resolved or not.
    pub fn reviews(&self) -> &[ReviewItem] {
        &self.reviews
    }

    /// Settles a review item. `Assign` and `AssignLines` update the named carts (every line is checked
    /// before any is applied); `Dismiss` drops the event.
    pub fn resolve_review(&mut self, id: u64, resolution: Resolution) -> Result<()> {
        let idx = self
            .reviews
            .iter()
            .position(|r| r.id == id)
            .ok_or_else(|| Error::Unknown { what: format!("review item {id}") })?;
        if self.reviews[idx].resolved {
            return Err(Error::invalid(format!("review item {id} is already resolved")));
        }
        let lines = match resolution {
            Resolution::Assign { target_id, barcode, quantity } => vec![Assignment { target_id, barcode, quantity }],
            Resolution::AssignLines(lines) => {
                if lines.is_empty() || lines.len() > MAX_RESOLUTION_LINES {
                    return Err(Error::invalid(format!(
                        "a resolution assigns 1–{MAX_RESOLUTION_LINES} lines, got {}",
                        lines.len()
                    )));
                }
                lines
            }
            Resolution::Dismiss => Vec::new(),
        };
        let mut checked: Vec<(usize, u32, Assignment)> = Vec::with_capacity(lines.len());
        for a in lines {
            let who = *self
                .shopper_index
                .get(&a.target_id)
                .ok_or_else(|| Error::Unknown { what: format!("target {}", a.target_id) })?;
            let product = self
                .layout
                .product_index(&a.barcode)
                .ok_or_else(|| Error::Unknown { what: format!("barcode {}", a.barcode) })?;
            if a.quantity == 0 {
                return Err(Error::invalid(format!("the line for {} to {} has quantity 0", a.barcode, a.target_id)));
            }
            if checked.iter().any(|c| c.0 == who && c.1 == product) {
                return Err(Error::invalid(format!(
                    "{} to {} is named twice; give one line with the total quantity",
                    a.barcode, a.target_id
                )));
            }
            checked.push((who, product, a));
        }
        for (who, product, a) in checked {
            self.apply_assignment(idx, who, product, a);
        }
        self.reviews[idx].resolved = true;
        self.stats.reviews_resolved += 1;
        self.emit(EngineEvent::ReviewResolved { id });
        // Shoppers that left and were held only by reviews now get their final receipts.
        for j in 0..self.shoppers.len() {
            if !self.shoppers[j].present && !self.shoppers[j].settled && self.pending_for(j) == 0 {
                self.settle_shopper(j);
            }
        }
        Ok(())
    }

    /// One checked line of a resolution: the cart change, the live planogram (on the review's plates that
    /// hold the product, or all of them) and the cart event.
    fn apply_assignment(&mut self, idx: usize, who: usize, product: u32, a: Assignment) {
        let Assignment { target_id, barcode, quantity } = a;
        let keys = self.reviews[idx].plates.clone();
        let all: Vec<u32> = keys.iter().filter_map(|k| self.layout.plate_index(*k)).collect();
        let own: Vec<u32> = all
            .iter()
            .copied()
            .filter(|&p| identify::stands_on_plate(&self.layout, &self.misplaced, product, p))
            .collect();
        let plates = if own.is_empty() { all } else { own };
        let pseudo: Vec<PlateChange> = plates
            .iter()
            .map(|&p| PlateChange {
                plate: p,
                t_start_s: 0.0,
                t_settled_s: 0.0,
                before_g: 0.0,
                after_g: self.reviews[idx].delta_g / plates.len() as f64,
                sigma_g: 0.0,
                forced: false,
            })
            .collect();
        // A put-back may return what an unsettled hand-over brought: settle that first (the
        // giver is then no longer charged), and never take a cart below zero.
        self.settle_by_put_back(who, product, quantity, self.reviews[idx].t_start_s);
        let quantity = if quantity < 0 { quantity.max(-self.units(who, product).max(0)) } else { quantity };
        if quantity != 0 {
            self.add_to_cart(who, product, quantity);
            self.update_live_planogram(product, quantity, &pseudo);
            let r = &self.reviews[idx];
            let ev = EngineEvent::CartUpdated {
                t_s: self.now_s,
                t_settled_s: r.t_settled_s,
                t_start_s: r.t_start_s,
                target_id,
                barcode,
                quantity,
                confidence: 1.0,
                plates: keys,
            };
            self.emit(ev);
        }
    }

    /// Makes shopper `j`'s receipt final: decides its unsettled hand-overs; afterwards no
    /// hand-over moves a unit to or from it.
    pub(super) fn settle_shopper(&mut self, j: usize) {
        self.close_handovers_of(j, false);
        self.shoppers[j].settled = true;
    }

    /// The shopper's current virtual cart as a receipt (items with quantity ≤ 0 dropped).
    pub fn receipt(&self, target_id: &str) -> Result<Receipt> {
        let &i =
            self.shopper_index.get(target_id).ok_or_else(|| Error::Unknown { what: format!("target {target_id}") })?;
        Ok(self.receipt_of(i))
    }

    pub(super) fn receipt_of(&self, i: usize) -> Receipt {
        let s = &self.shoppers[i];
        let mut items: Vec<ReceiptLine> = s
            .cart
            .iter()
            .filter(|(_, &q)| q > 0)
            .map(|(&c, &q)| ReceiptLine { barcode: self.layout.product(c).barcode.clone(), quantity: q as u32 })
            .collect();
        items.sort_by(|a, b| a.barcode.cmp(&b.barcode));
        Receipt { target_id: s.target_id.clone(), items, pending_reviews: self.pending_for(i) as u32 }
    }

    /// Unresolved review items that list shopper `i` as a candidate. An item without candidates
    /// (nobody was within reach) is not counted against anyone: counting it for every shopper
    /// made a single sensor event hold every visit of the day.
    pub(super) fn pending_for(&self, i: usize) -> usize {
        let id = &self.shoppers[i].target_id;
        self.pending_reviews().filter(|r| r.shoppers.iter().any(|c| &c.target_id == id)).count()
    }

    /// The shopper leaves: returns the final cart and whether reviews are pending for it.
    pub fn exit(&mut self, target_id: &str, t_s: f64) -> Result<ExitSummary> {
        let &i =
            self.shopper_index.get(target_id).ok_or_else(|| Error::Unknown { what: format!("target {target_id}") })?;
        self.advance(t_s);
        if self.shoppers[i].present {
            self.shoppers[i].left_s = t_s;
        }
        self.shoppers[i].present = false;
        // A meeting still open (or ended too recently to have been closed) is recorded but moves
        // nothing: the shopper's receipt is being issued now.
        let (mine, others): (Vec<Meeting>, Vec<Meeting>) =
            std::mem::take(&mut self.meetings).into_iter().partition(|m| m.a == i || m.b == i);
        self.meetings = others;
        for m in mine {
            if m.last_t - m.first_t >= self.cfg.handover_min_s && m.frames >= 5 {
                self.on_handover(m.a, m.b, m.first_t, m.last_t);
            }
        }
        // Unsettled hand-overs are decided now, except those an unresolved review's put-back
        // may depend on: they wait for its answer (the shopper's receipt waits for it anyway).
        if !self.shoppers[i].settled {
            if self.pending_for(i) == 0 {
                self.settle_shopper(i);
            } else {
                self.close_handovers_of(i, true);
            }
        }
        let receipt = self.receipt_of(i);
        let pending_reviews = receipt.pending_reviews as usize;
        Ok(ExitSummary { receipt, pending_reviews })
    }

    /// All shoppers seen, in order of entry (present or not).
    pub fn shoppers(&self) -> Vec<(&str, f64, bool)> {
        self.shoppers.iter().map(|s| (s.target_id.as_str(), s.entered_s, s.present)).collect()
    }
}
