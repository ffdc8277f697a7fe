//! Today: the first screen after sign-in. Sales by hour and channel (a chart drawn on the server, with its
//! table), pickups waiting and overdue, low stock, cashierless visitors and reviews, device health and
//! failed webhook deliveries — each linking to the screen that deals with it.

use super::{channel_name, engine_error, page, svg, Ctx};
use crate::fmt;
use crate::Web;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use engine::platform::staff::Permission;
use engine::sales::report::{HourSales, PREP_SLA_MS};
use maud::{html, Markup};
use std::collections::BTreeMap;

pub(super) fn router() -> Router<Web> {
    Router::new().route("/console", get(today)).route("/console/", get(today))
}

const CHANNELS: [(&str, &str); 3] = [("web", "#0b5cad"), ("pos", "#e07b00"), ("cashierless", "#2e8b57")];

async fn today(ctx: Ctx) -> Response {
    match render(&ctx).await {
        Ok(m) => page(&ctx, ctx.t("Today", "오늘"), m),
        Err(e) => engine_error(&ctx, &e),
    }
}

async fn render(ctx: &Ctx) -> engine::Result<Markup> {
    let e = ctx.engine();
    let tz = ctx.tz();
    let day = fmt::start_of_day(ctx.now, &tz);
    let scope = ctx.scope(None);
    let sales = e.sales_by_hour(day, day + 86_400_000, scope.clone()).await?;
    let queue = e.pickup_queue(scope.clone()).await?;
    let low = e
        .inventory_grid(engine::stock::grid::GridQuery {
            limit: 10,
            low_only: true,
            location_id: scope.clone(),
            ..Default::default()
        })
        .await?;
    let counts = e.day_counts(day, scope.clone()).await?;
    let cashierless: Vec<_> = ctx
        .locations
        .iter()
        .filter(|l| l.kind == "cashierless" && scope.as_deref().is_none_or(|s| s == l.id))
        .collect();
    let mut reviews = 0usize;
    let mut unhealthy = Vec::new();
    for l in &cashierless {
        reviews += e.store_reviews(&l.id).await?.len();
        for d in e.devices(&l.id).await? {
            let silent =
                d.last_seen_at.as_deref().and_then(fmt::parse_instant).is_none_or(|t| ctx.now - t > 5 * 60_000);
            if d.revoked_at.is_none() && (silent || d.rejected > 0 || d.gaps > 0) {
                unhealthy.push((l.code.clone(), d, silent));
            }
        }
    }

    let waiting = queue.iter().filter(|o| o.status == "placed").count();
    let ready = queue.iter().filter(|o| o.status == "ready_for_pickup").count();
    let overdue = queue
        .iter()
        .filter(|o| o.status == "placed")
        .filter(|o| fmt::parse_instant(&o.placed_at).is_some_and(|t| ctx.now - t > PREP_SLA_MS))
        .count();
    let mut totals: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for s in &sales {
        let t = totals.entry(s.currency.clone()).or_default();
        t.0 += s.orders;
        t.1 += s.total_minor;
    }
    let main_currency = totals.iter().max_by_key(|(_, (n, _))| *n).map(|(c, _)| c.clone()).unwrap_or("KRW".into());

    Ok(html! {
        h1 { (ctx.t("Today", "오늘"))
            span.muted.small { " · " (fmt::datetime(ctx.now, &tz, ctx.lang, ctx.now))
                @if let Some(s) = &scope { " · " (ctx.location_name(s)) } }
        }
        div.grid {
            div.card {
                div.stat-label { (ctx.t("Sales today", "오늘 매출")) }
                @if totals.is_empty() { div.stat { "—" } }
                @for (cur, (n, total)) in &totals {
                    div.stat { (fmt::money(*total, cur)) }
                    div.muted.small { (fmt::int(*n)) " " (ctx.t("orders", "건")) }
                }
            }
            a.card href="/console/pickup" {
                div.stat-label { (ctx.t("Pickups waiting", "픽업 대기")) }
                div.stat { (waiting + ready) }
                div.small { (ready) " " (ctx.t("ready", "준비 완료")) " · " (waiting) " " (ctx.t("to prepare", "준비 필요"))
                    @if overdue > 0 { " · " span.pill.bad { (overdue) " " (ctx.t("overdue", "지연")) } } }
            }
            a.card href="/console/inventory?low=1" {
                div.stat-label { (ctx.t("Low stock", "재고 부족")) }
                div.stat { (low.rows.len()) @if low.has_more { "+" } }
                div.small.muted { (ctx.t("SKUs with", "가용 재고")) " ≤ " (engine::stock::grid::LOW_STOCK_UNITS) " " (ctx.t("units available", "개 이하 SKU")) }
            }
            @if !cashierless.is_empty() {
                a.card href="/console/live" {
                    div.stat-label { (ctx.t("Cashierless store", "무인 매장")) }
                    div.stat { (counts.cashierless_inside) " " span.small { (ctx.t("inside now", "명 매장 안")) } }
                    div.small { (counts.cashierless_visits) " " (ctx.t("visits today", "명 방문(오늘)"))
                        @if reviews > 0 { " · " span.pill.warn { (reviews) " " (ctx.t("to review", "건 검토 필요")) } } }
                }
            }
            @if ctx.may(Permission::Settings) {
                a.card href="/console/settings/webhooks" {
                    div.stat-label { (ctx.t("Failed webhook deliveries", "실패한 웹훅 전송")) }
                    div.stat { (counts.failed_deliveries) }
                    div.small.muted { (ctx.t("since midnight", "오늘 0시 이후")) }
                }
            }
        }
        section.card aria-labelledby="sales-h" {
            h2 #sales-h { (ctx.t("Sales by hour", "시간대별 매출")) " (" (main_currency) ")" }
            (chart(ctx, &sales, day, &main_currency))
        }
        div.grid {
            section.card {
                h2 { (ctx.t("Low stock", "재고 부족")) }
                @if low.rows.is_empty() { p.muted { (ctx.t("Nothing is running low.", "부족한 재고가 없습니다.")) } }
                @else {
                    ul { @for r in &low.rows {
                        li { a href=(format!("/console/inventory/{}", super::urlencode(&r.sku))) { span.mono { (r.sku) } } " " (ctx.lang.t(&r.title.en, &r.title.ko)) }
                    } }
                }
            }
            @if !cashierless.is_empty() {
                section.card {
                    h2 { (ctx.t("Device health", "기기 상태")) }
                    @if unhealthy.is_empty() { p.muted { (ctx.t("Every device reports normally.", "모든 기기가 정상입니다.")) } }
                    @else {
                        ul { @for (code, d, silent) in &unhealthy {
                            li { span.mono { (code) "/" (d.code) } " "
                                @if *silent { span.pill.bad { (ctx.t("silent", "응답 없음")) } " " }
                                @if d.gaps > 0 { span.pill.warn { (d.gaps) " " (ctx.t("gaps", "누락")) } " " }
                                @if d.rejected > 0 { span.pill.warn { (d.rejected) " " (ctx.t("rejected", "거부")) } }
                            }
                        } }
                    }
                }
            }
        }
    })
}

/// Stacked bars per hour of the local day, one colour per channel; the same figures as a table for
/// screen readers and for copying.
fn chart(ctx: &Ctx, sales: &[HourSales], day: i64, currency: &str) -> Markup {
    let mut by_hour = [[0i64; 4]; 24];
    for s in sales.iter().filter(|s| s.currency == currency) {
        let h = ((s.hour_start - day) / 3_600_000).clamp(0, 23) as usize;
        let c = CHANNELS.iter().position(|(name, _)| *name == s.channel).unwrap_or(3);
        by_hour[h][c] += s.total_minor;
    }
    let max = by_hour.iter().map(|h| h.iter().sum::<i64>()).max().unwrap_or(0).max(1);
    let (w, h, left, bottom) = (720.0, 220.0, 70.0, 24.0);
    let bar_w = (w - left) / 24.0;
    let mut s = format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"chart-t\"><title id=\"chart-t\">{}</title>",
        ctx.t("Sales by hour and channel", "시간대·채널별 매출")
    );
    for i in 0..=4 {
        let v = max * i / 4;
        let y = (h - bottom) - (h - bottom - 10.0) * i as f64 / 4.0;
        s.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{w}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#d5dae1\"/><text x=\"{}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#55606e\">{}</text>",
            left - 4.0,
            y + 4.0,
            fmt::money(v, currency)
        ));
    }
    for (hour, parts) in by_hour.iter().enumerate() {
        let x = left + hour as f64 * bar_w + 2.0;
        let mut y = h - bottom;
        for (c, v) in parts.iter().enumerate().filter(|(_, v)| **v > 0) {
            let bh = (h - bottom - 10.0) * *v as f64 / max as f64;
            y -= bh;
            let (name, colour) = CHANNELS.get(c).copied().unwrap_or(("other", "#8a94a3"));
            s.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{colour}\"><title>{:02}:00 {} {}</title></rect>",
                bar_w - 4.0,
                hour,
                channel_name(ctx, name),
                fmt::money(*v, currency)
            ));
        }
        if hour % 3 == 0 {
            s.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#55606e\">{hour:02}</text>",
                x + bar_w / 2.0 - 2.0,
                h - 6.0
            ));
        }
    }
    s.push_str("</svg>");
    html! {
        div.chart { (svg(s)) }
        div.legend {
            @for (name, _) in CHANNELS { span { span class=(format!("swatch sw-{name}")) {} (channel_name(ctx, name)) } }
        }
        details {
            summary { (ctx.t("Figures", "표로 보기")) }
            div.table-wrap { table {
                thead { tr { th { (ctx.t("Hour", "시간")) } @for (name, _) in CHANNELS { th.num { (channel_name(ctx, name)) } } th.num { (ctx.t("Other", "기타")) } } }
                tbody { @for (hour, parts) in by_hour.iter().enumerate().filter(|(_, p)| p.iter().any(|v| *v > 0)) {
                    tr { td { (format!("{hour:02}:00")) } @for v in parts { td.num { (fmt::money(*v, currency)) } } }
                } }
            } }
        }
    }
}
