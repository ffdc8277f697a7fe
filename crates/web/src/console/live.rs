//! The cashierless store, live: shoppers inside now with their virtual carts, recent exits with their
//! receipts, the review queue (resolved with one click), devices with their health (last seen, gaps,
//! rejects) and token rotation and revocation, shelf labels that show a stale price, and a picture of the
//! store's gondolas, shelves and plates. The live part refreshes itself every few seconds.

use super::{engine_error, page, redirect_with, refused, Ctx, Posted};
use crate::fmt;
use crate::Web;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use engine::catalog::locations::LocationView;
use engine::instore::live::{InsideView, ReviewAction, ReviewLine, ReviewView};
use engine::platform::staff::Permission;
use engine::sales::orders::{OrderQuery, OrderView};
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::HashMap;

pub(super) fn router() -> Router<Web> {
    Router::new()
        .route("/console/live", get(live))
        .route("/console/live/{loc}/now", get(now_fragment))
        .route("/console/live/{loc}/reviews/{id}", post(resolve))
        .route("/console/live/{loc}/devices/{id}/rotate", post(rotate))
        .route("/console/live/{loc}/devices/{id}/revoke", post(revoke))
}

#[derive(Deserialize, Default)]
struct LiveQ {
    #[serde(default)]
    location: String,
}

fn stores(ctx: &Ctx) -> Vec<&LocationView> {
    ctx.locations
        .iter()
        .filter(|l| l.kind == "cashierless")
        .filter(|l| ctx.scope(None).is_none_or(|own| own == l.id))
        .collect()
}

fn pick<'a>(ctx: &'a Ctx, chosen: &str) -> Option<&'a LocationView> {
    let all = stores(ctx);
    all.iter().find(|l| l.id == chosen || l.code.eq_ignore_ascii_case(chosen)).or(all.first()).copied()
}

struct Now {
    inside: Vec<InsideView>,
    reviews: Vec<ReviewView>,
    exits: Vec<OrderView>,
    titles: HashMap<String, String>,
}

async fn load_now(ctx: &Ctx, loc: &LocationView) -> engine::Result<Now> {
    let e = ctx.engine();
    let inside = e.store_inside(&loc.id).await?;
    let reviews = e.store_reviews(&loc.id).await?;
    let exits = e
        .orders(OrderQuery {
            limit: 10,
            channel: Some("cashierless".into()),
            location_id: Some(loc.id.clone()),
            ..Default::default()
        })
        .await?;
    let mut titles = HashMap::new();
    let mut skus: Vec<String> = Vec::new();
    for s in &inside {
        for (sku, _) in &s.items {
            skus.push(sku.clone());
        }
    }
    for r in &reviews {
        for alt in &r.products {
            for p in alt {
                if let Some(sku) = p["sku"].as_str() {
                    skus.push(sku.to_owned());
                }
            }
        }
    }
    for sku in skus {
        if titles.contains_key(&sku) || titles.len() > 200 {
            continue;
        }
        if let Ok(item) = e.counter_item(&sku, "KRW", &loc.id).await {
            titles.insert(sku, ctx.lang.t(&item.title.en, &item.title.ko).to_owned());
        }
    }
    Ok(Now { inside, reviews, exits, titles })
}

async fn live(ctx: Ctx, Query(q): Query<LiveQ>) -> Response {
    let Some(loc) = pick(&ctx, &q.location) else {
        return page(
            &ctx,
            ctx.t("Cashierless", "무인 매장"),
            html! { h1 { (ctx.t("Cashierless", "무인 매장")) } p.alert.info { (ctx.t("There is no cashierless store here. An owner adds one in Settings → Locations (kind: cashierless).", "무인 매장이 없습니다. 점주가 설정 → 지점에서 무인 매장을 추가할 수 있습니다.")) } },
        );
    };
    let e = ctx.engine();
    let now = match load_now(&ctx, loc).await {
        Ok(n) => n,
        Err(err) => return engine_error(&ctx, &err),
    };
    let devices = match e.devices(&loc.id).await {
        Ok(d) => d,
        Err(err) => return engine_error(&ctx, &err),
    };
    let labels = e.store_labels(&loc.id).await.unwrap_or_default();
    let stale: Vec<_> = labels.iter().filter(|l| l.stale).collect();
    let layout = e.store_layout(&loc.id).await.ok();
    let all = stores(&ctx);
    let body = html! {
        h1 { (ctx.t("Cashierless", "무인 매장")) " · " (ctx.lang.t(&loc.name.en, &loc.name.ko)) }
        @if all.len() > 1 {
            form.card method="get" action="/console/live" data-autosubmit {
                div.row {
                    div.field { label for="f-live-location" { (ctx.t("Store", "매장")) }
                        select #f-live-location name="location" { @for l in &all { option value=(l.id) selected[l.id == loc.id] { (ctx.lang.t(&l.name.en, &l.name.ko)) } } } }
                    div.shrink.field { button type="submit" { (ctx.t("Show", "보기")) } }
                }
            }
        }
        div #live-now hx-get=(format!("/console/live/{}/now", loc.id)) hx-trigger="every 5s" aria-live="polite" {
            (now_markup(&ctx, loc, &now))
        }
        section.card {
            h2 { (ctx.t("Devices", "기기")) }
            @if devices.is_empty() { p.muted { (ctx.t("No devices registered.", "등록된 기기가 없습니다.")) } }
            @else { div.table-wrap { table {
                thead { tr { th { (ctx.t("Device", "기기")) } th { (ctx.t("Kind", "종류")) } th { (ctx.t("Last seen", "마지막 응답")) } th.num { (ctx.t("Accepted", "수신")) }
                    th.num { (ctx.t("Gaps", "누락")) } th.num { (ctx.t("Rejected", "거부")) } th.num { (ctx.t("Duplicates", "중복")) } th {} } }
                tbody { @for d in &devices { tr {
                    td.mono { (d.code) }
                    td { (d.kind) }
                    td { @if let Some(r) = &d.revoked_at { span.pill.bad { (ctx.t("revoked", "폐기됨")) } " " (ctx.when(r)) }
                         @else if let Some(t) = d.last_seen_at.as_deref().and_then(fmt::parse_instant) {
                            @if ctx.now - t > 5 * 60_000 { span.pill.bad { (fmt::relative(t, ctx.now, ctx.lang)) } } @else { span.pill.ok { (fmt::relative(t, ctx.now, ctx.lang)) } }
                         } @else { span.pill.warn { (ctx.t("never", "응답 없음")) } } }
                    td.num { (d.accepted) } td.num { (d.gaps) } td.num { (d.rejected) } td.num { (d.duplicates) }
                    td { @if d.revoked_at.is_none() && ctx.may(Permission::Devices) { div.actions {
                        form.inline method="post" action=(format!("/console/live/{}/devices/{}/rotate", loc.id, d.id)) hx-confirm=(ctx.t("Issue a new token? The device stops working until it gets the new one.", "새 토큰을 발급할까요? 기기에 새 토큰을 넣을 때까지 기기가 멈춥니다.")) {
                            (ctx.csrf_field()) button.secondary type="submit" { (ctx.t("New token", "토큰 재발급")) } }
                        form.inline method="post" action=(format!("/console/live/{}/devices/{}/revoke", loc.id, d.id)) hx-confirm=(ctx.t("Take this device out of service for good?", "이 기기를 영구히 폐기할까요?")) {
                            (ctx.csrf_field()) button.danger type="submit" { (ctx.t("Revoke", "폐기")) } }
                    } } }
                } } }
            } } }
        }
        section.card {
            h2 { (ctx.t("Shelf labels out of date", "가격이 다른 전자 가격표")) }
            @if stale.is_empty() { p.muted { (ctx.t("Every label shows the online price.", "모든 가격표가 온라인 가격과 같습니다.")) } }
            @else { ul { @for l in &stale { li {
                span.mono { (l.code) } " " (l.sku) ": "
                (ctx.t("shows", "표시")) " " (l.shown_price_minor.map(|p| fmt::money(p, &l.currency)).unwrap_or("—".into()))
                ", " (ctx.t("catalog", "상품 가격")) " " (l.catalog_price_minor.map(|p| fmt::money(p, &l.currency)).unwrap_or("—".into()))
            } } } }
        }
        @if let Some(layout) = &layout {
            section.card {
                h2 { (ctx.t("Store layout", "매장 배치도")) }
                div.floor { (super::svg(floor_svg(&ctx, layout, &now))) }
            }
        }
    };
    page(&ctx, ctx.t("Cashierless", "무인 매장"), body)
}

fn title<'a>(now: &'a Now, sku: &'a str) -> &'a str {
    now.titles.get(sku).map(String::as_str).unwrap_or(sku)
}

fn now_markup(ctx: &Ctx, loc: &LocationView, now: &Now) -> Markup {
    html! {
        div.grid {
            section.card {
                h2 { (ctx.t("Inside now", "지금 매장 안")) " (" (now.inside.len()) ")" }
                @if now.inside.is_empty() { p.muted { (ctx.t("Nobody is inside.", "매장 안에 아무도 없습니다.")) } }
                @for s in &now.inside {
                    div {
                        strong.mono { (s.track_id) } " · " (format!("{:.0}", s.inside_s / 60.0)) (ctx.t(" min", "분"))
                        @if s.pending_reviews > 0 { " " span.pill.warn { (s.pending_reviews) " " (ctx.t("to review", "검토 대기")) } }
                        @if s.items.is_empty() { p.small.muted { (ctx.t("Empty cart", "빈 카트")) } }
                        @else { ul.small { @for (sku, q) in &s.items { li { (q) " × " (title(now, sku)) } } } }
                    }
                }
            }
            section.card {
                h2 { (ctx.t("Review queue", "검토 대기열")) " (" (now.reviews.len()) ")" }
                @if now.reviews.is_empty() { p.muted { (ctx.t("Nothing to review.", "검토할 항목이 없습니다.")) } }
                @for r in &now.reviews { (review_card(ctx, loc, r, now)) }
            }
            section.card {
                h2 { (ctx.t("Recent exits", "최근 퇴장")) }
                @if now.exits.is_empty() { p.muted { (ctx.t("No visits finished yet.", "끝난 방문이 아직 없습니다.")) } }
                ul { @for o in &now.exits { li {
                    a href=(format!("/console/orders/{}/receipt", o.id)) { (ctx.when(&o.placed_at)) } " · "
                    (o.lines.iter().map(|l| l.quantity).sum::<i64>()) (ctx.t(" items", "개")) " · " strong { (fmt::money(o.total.amount_minor, &o.currency)) }
                } } }
            }
        }
    }
}

/// Why the engine could not settle an event, in the reader's language.
fn reason<'a>(ctx: &'a Ctx, r: &'a str) -> &'a str {
    match r {
        "LowConfidence" => ctx.t("Unsure who took it or what it was", "누가 무엇을 가져갔는지 확실하지 않음"),
        "UnexplainedWeight" => {
            ctx.t("The weight matches no product on the shelf", "무게가 선반의 어떤 상품과도 맞지 않음")
        }
        "NoShopper" => ctx.t("No tracked shopper was within reach", "손이 닿는 곳에 추적된 고객이 없음"),
        other => other,
    }
}

/// Most units of one line a split form lists one by one (a larger explanation offers the buttons only,
/// never a form that would leave units out).
const SPLIT_UNITS: i64 = 10;

/// A review: its change and why, then up to three explanations, each with one button per likely shopper
/// ("all of it was theirs") and, when two or more shoppers are listed and the explanation has more than
/// one unit, a form that gives each unit to a shopper (or nobody). One button press settles the review.
fn review_card(ctx: &Ctx, loc: &LocationView, r: &ReviewView, now: &Now) -> Markup {
    let alternatives: Vec<(Vec<(String, i64)>, f64)> = r
        .products
        .iter()
        .take(3)
        .map(|alt| {
            let lines: Vec<(String, i64)> =
                alt.iter().filter_map(|p| Some((p["sku"].as_str()?.to_owned(), p["quantity"].as_i64()?))).collect();
            let prob = alt.first().and_then(|p| p["probability"].as_f64()).unwrap_or(0.0);
            (lines, prob)
        })
        .filter(|(lines, _)| !lines.is_empty())
        .collect();
    let shoppers: Vec<(&str, &str, f64)> = r
        .shoppers
        .iter()
        .take(3)
        .map(|s| {
            (
                s["target_id"].as_str().unwrap_or_default(),
                s["track_id"].as_str().unwrap_or_default(),
                s["probability"].as_f64().unwrap_or(0.0),
            )
        })
        .collect();
    let action = format!("/console/live/{}/reviews/{}", loc.id, r.id);
    let describe = |lines: &[(String, i64)]| {
        lines.iter().map(|(sku, q)| format!("{} × {}", q.abs(), title(now, sku))).collect::<Vec<_>>().join(" + ")
    };
    html! {
        article.card {
            p { strong { (ctx.t("Shelf change", "선반 변화")) " " (format!("{:+.0} g", r.delta_g)) } " · "
                (ctx.t("confidence", "신뢰도")) " " (format!("{:.0}%", r.confidence * 100.0)) }
            p.small.muted { (reason(ctx, &r.reason)) " · " (r.plates.iter().map(|p| format!("{}-{}-{}", p.gondola, p.shelf, p.plate)).collect::<Vec<_>>().join(", ")) }
            @for (k, (lines, prob)) in alternatives.iter().enumerate() {
                @let put_back = lines.iter().all(|l| l.1 < 0);
                p.small {
                    (if k == 0 { ctx.t("Most likely:", "가장 가능성 높음:") } else { ctx.t("Or:", "또는:") }) " "
                    strong { (describe(lines)) } " (" (format!("{:.0}%", prob * 100.0)) ")"
                }
                div.actions {
                    @for (target, track, p) in &shoppers {
                        form.inline method="post" action=(action) {
                            (ctx.csrf_field())
                            input type="hidden" name="action" value="assign";
                            @for (sku, q) in lines { input type="hidden" name="line" value=(format!("{sku} {q} {target}")); }
                            button type="submit" {
                                (if put_back { ctx.t("Put back by", "반납:") } else { ctx.t("Taken by", "가져감:") }) " " (track) " (" (format!("{:.0}%", p * 100.0)) ")"
                                @if k > 0 || lines.len() > 1 { " — " (describe(lines)) }
                                @else { " — " (lines[0].1.abs()) " × " (title(now, &lines[0].0)) }
                            }
                        }
                    }
                }
                @if shoppers.len() >= 2 && lines.iter().map(|l| l.1.abs()).sum::<i64>() >= 2
                    && lines.iter().all(|l| l.1.abs() <= SPLIT_UNITS) {
                    details {
                        summary { (ctx.t("Split between shoppers", "여러 고객에게 나누기")) }
                        form method="post" action=(action) {
                            (ctx.csrf_field())
                            input type="hidden" name="action" value="assign";
                            @for (i, (sku, q)) in lines.iter().enumerate() {
                                @for u in 0..q.abs() {
                                    @let id = format!("r{}-a{k}-l{i}-u{u}", r.id);
                                    div.field {
                                        label for=(id) { "1 × " (title(now, sku)) (if *q < 0 { ctx.t(" (put back)", " (반납)") } else { "" }) }
                                        select id=(id) name="unit" {
                                            @for (n, (target, track, p)) in shoppers.iter().enumerate() {
                                                option value=(format!("{sku} {} {target}", q.signum())) selected[n == u as usize % shoppers.len()] {
                                                    (track) " (" (format!("{:.0}%", p * 100.0)) ")"
                                                }
                                            }
                                            option value="" { (ctx.t("Nobody", "아무도 아님")) }
                                        }
                                    }
                                }
                            }
                            button type="submit" { (ctx.t("Apply this split", "이대로 처리")) }
                        }
                    }
                }
            }
            div.actions {
                form.inline method="post" action=(action) {
                    (ctx.csrf_field())
                    input type="hidden" name="action" value="dismiss";
                    button.secondary type="submit" { (ctx.t("Nobody took anything", "가져간 사람 없음")) }
                }
            }
        }
    }
}

async fn now_fragment(ctx: Ctx, Path(loc): Path<String>) -> Response {
    let Some(l) = stores(&ctx).into_iter().find(|l| l.id == loc) else { return super::forbidden(&ctx) };
    match load_now(&ctx, l).await {
        Ok(now) => now_markup(&ctx, l, &now).into_response(),
        Err(e) => engine_error(&ctx, &e),
    }
}

#[derive(Deserialize)]
struct ResolveIn {
    action: String,
    #[serde(default)]
    target_id: String,
    #[serde(default)]
    sku: String,
    #[serde(default)]
    quantity: i32,
}

/// The lines a review form assigns: each `line` field ("SKU quantity target") and each `unit` field
/// ("SKU ±1 target", or empty for nobody) summed per shopper and product, in the order first named; else
/// the single `target_id`/`sku`/`quantity` of older pages. `Err` names the malformed value.
fn form_lines(fields: &[&str], single: &ResolveIn) -> Result<Vec<ReviewLine>, String> {
    let mut out: Vec<ReviewLine> = Vec::new();
    for v in fields.iter().filter(|v| !v.trim().is_empty()) {
        let mut parts = v.splitn(3, ' ');
        let (sku, q, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let q: i32 = q.parse().map_err(|_| format!("`{v}`"))?;
        if sku.is_empty() || target.is_empty() || q == 0 || q.abs() > 100 {
            return Err(format!("`{v}`"));
        }
        match out.iter_mut().find(|l| l.sku == sku && l.target_id == target) {
            Some(l) => l.quantity += q,
            None => out.push(ReviewLine { target_id: target.to_owned(), sku: sku.to_owned(), quantity: q }),
        }
    }
    out.retain(|l| l.quantity != 0);
    if fields.is_empty() && !single.sku.is_empty() {
        out.push(ReviewLine {
            target_id: single.target_id.clone(),
            sku: single.sku.clone(),
            quantity: single.quantity,
        });
    }
    Ok(out)
}

async fn resolve(Path((loc, id)): Path<(String, u64)>, p: Posted<ResolveIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Devices) {
        return r;
    }
    let back = format!("/console/live?location={loc}");
    let action = match p.form.action.as_str() {
        "dismiss" => ReviewAction::Dismiss,
        "assign" => match form_lines(&[p.all("line"), p.all("unit")].concat(), &p.form) {
            Ok(mut lines) if lines.len() == 1 => {
                let l = lines.remove(0);
                ReviewAction::Assign { target_id: l.target_id, sku: l.sku, quantity: l.quantity }
            }
            Ok(lines) if lines.is_empty() => {
                let say = ctx.t(
                    "Nobody was chosen for any unit. Give at least one unit to a shopper, or press “Nobody took anything”.",
                    "어느 상품도 고객을 고르지 않았습니다. 적어도 하나는 고객을 고르거나 ‘가져간 사람 없음’을 누르세요.",
                );
                return redirect_with(ctx, &back, false, say);
            }
            Ok(lines) => ReviewAction::AssignLines { lines },
            Err(bad) => {
                let say = format!(
                    "{} {bad}",
                    ctx.t(
                        "This review form is malformed; reload the page and try again:",
                        "검토 양식이 잘못되었습니다. 페이지를 새로 고친 뒤 다시 하세요:"
                    )
                );
                return redirect_with(ctx, &back, false, &say);
            }
        },
        _ => return refused(ctx, StatusCode::BAD_REQUEST, "assign / dismiss"),
    };
    match ctx.engine().resolve_store_review(&ctx.staff.principal(), &loc, id, action).await {
        Ok(orders) if orders.is_empty() => redirect_with(ctx, &back, true, ctx.t("Resolved.", "처리했습니다.")),
        Ok(orders) => redirect_with(
            ctx,
            &back,
            true,
            &format!("{} {}", ctx.t("Resolved; receipts issued:", "처리했습니다. 발행된 영수증:"), orders.join(", ")),
        ),
        Err(e) => redirect_with(ctx, &back, false, &crate::forms::explain(&e, ctx.lang)),
    }
}

#[derive(Deserialize)]
struct Nothing {}

async fn rotate(Path((loc, id)): Path<(String, String)>, p: Posted<Nothing>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Devices) {
        return r;
    }
    if ctx.scope(None).is_some_and(|own| own != loc) {
        return super::forbidden(ctx);
    }
    match ctx.engine().rotate_device_token(&loc, &id).await {
        Ok(d) => page(
            ctx,
            ctx.t("New device token", "새 기기 토큰"),
            html! {
                h1 { (ctx.t("New device token", "새 기기 토큰")) }
                div.alert.warn {
                    p { (ctx.t("Put this token into device", "이 토큰을 기기에 넣으세요:")) " " strong.mono { (d.code) } ". " (ctx.t("It is shown only now; the old one no longer works.", "지금만 보이며 이전 토큰은 더 이상 쓸 수 없습니다.")) }
                    p.mono { (d.token) }
                }
                p { a href=(format!("/console/live?location={loc}")) { "« " (ctx.t("Back to the store", "매장으로 돌아가기")) } }
            },
        ),
        Err(e) => engine_error(ctx, &e),
    }
}

async fn revoke(Path((loc, id)): Path<(String, String)>, p: Posted<Nothing>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Devices) {
        return r;
    }
    if ctx.scope(None).is_some_and(|own| own != loc) {
        return super::forbidden(ctx);
    }
    match ctx.engine().revoke_device(&loc, &id).await {
        Ok(d) => redirect_with(
            ctx,
            &format!("/console/live?location={loc}"),
            true,
            &format!("{} {}", ctx.t("Revoked", "폐기했습니다:"), d.code),
        ),
        Err(e) => engine_error(ctx, &e),
    }
}

/// The store from above: each gondola a column of shelves, each shelf a row of plates labelled with what
/// stands on them; plates holding something a shopper inside has taken are highlighted.
fn floor_svg(ctx: &Ctx, layout: &engine::instore::live::LayoutInput, now: &Now) -> String {
    let taken: std::collections::HashSet<&str> =
        now.inside.iter().flat_map(|s| s.items.iter().map(|i| i.0.as_str())).collect();
    let mut gondolas: Vec<u16> = layout.plates.iter().map(|p| p.gondola).collect();
    gondolas.sort_unstable();
    gondolas.dedup();
    let shelves = layout.plates.iter().map(|p| p.shelf).max().unwrap_or(1) as f64;
    let plates = layout.plates.iter().map(|p| p.plate).max().unwrap_or(1) as f64;
    let (cell_w, cell_h, gap) = (46.0, 22.0, 30.0);
    let g_w = plates * cell_w;
    let width = gondolas.len() as f64 * (g_w + gap) + gap;
    let height = shelves * cell_h + 60.0;
    let mut s = format!(
        "<svg viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-labelledby=\"floor-t\"><title id=\"floor-t\">{}</title>",
        ctx.t("Gondolas, shelves and plates; highlighted: taken by a shopper inside", "곤돌라·선반·플레이트 배치, 강조: 매장 안 고객이 가져간 상품")
    );
    for (gi, g) in gondolas.iter().enumerate() {
        let x0 = gap + gi as f64 * (g_w + gap);
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"18\" font-size=\"13\" font-weight=\"600\" fill=\"#17202a\">{} {g}</text>",
            x0,
            ctx.t("Gondola", "곤돌라")
        ));
        for p in layout.plates.iter().filter(|p| p.gondola == *g) {
            let x = x0 + (p.plate as f64 - 1.0) * cell_w;
            let y = 28.0 + (shelves - p.shelf as f64) * cell_h;
            let sku = p.sku.as_deref().unwrap_or("");
            let fill = if sku.is_empty() {
                "#f5f6f8"
            } else if taken.contains(sku) {
                "#fff1d6"
            } else {
                "#e6f0fb"
            };
            let label: String = sku.chars().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect();
            s.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\" stroke=\"#8a94a3\"><title>{} {}-{}-{}: {}</title></rect><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" text-anchor=\"middle\" fill=\"#17202a\">{}</text>",
                cell_w - 2.0,
                cell_h - 2.0,
                ctx.t("plate", "플레이트"),
                p.gondola,
                p.shelf,
                p.plate,
                crate::forms::html_escape(title(now, sku)),
                x + cell_w / 2.0 - 1.0,
                y + cell_h / 2.0 + 3.0,
                crate::forms::html_escape(&label)
            ));
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single(sku: &str) -> ResolveIn {
        ResolveIn { action: "assign".into(), target_id: "v1/t1".into(), sku: sku.into(), quantity: 1 }
    }

    #[test]
    fn review_forms_sum_units_per_shopper_and_product() {
        let lines = form_lines(&["A 1 v1/t1", "A 1 v2/t2", "", "A 1 v1/t1", "B -1 v2/t2"], &single("")).unwrap();
        let got: Vec<(&str, &str, i32)> =
            lines.iter().map(|l| (l.target_id.as_str(), l.sku.as_str(), l.quantity)).collect();
        assert_eq!(got, vec![("v1/t1", "A", 2), ("v2/t2", "A", 1), ("v2/t2", "B", -1)]);
        // A pick and a put-back of the same unit cancel; nobody chosen for any unit leaves nothing.
        assert!(form_lines(&["A 1 v1/t1", "A -1 v1/t1"], &single("")).unwrap().is_empty());
        assert!(form_lines(&["", ""], &single("")).unwrap().is_empty());
        // Pages from before the line fields: the single fields.
        let old = form_lines(&[], &single("A")).unwrap();
        assert_eq!((old[0].target_id.as_str(), old[0].sku.as_str(), old[0].quantity), ("v1/t1", "A", 1));
        for bad in ["A x v1/t1", "A 0 v1/t1", "A 1", "A 101 v1/t1", " 1 v1/t1"] {
            assert!(form_lines(&[bad], &single("")).is_err(), "{bad}");
        }
    }
}
