//! Analytics: the seller's morning picture for a period (yesterday and today by default) and a store or
//! all: traffic and conversion by hour, the channel mix of revenue, the dwell heatmap on a cashierless
//! store's floor and dwell by aisle and hour, the in-store funnel, and for owners the web funnel,
//! cross-channel journeys and stock-outs. Charts are drawn by uPlot from the numbers in each section's
//! table (the tables alone work without JavaScript); cells of fewer than k shoppers show no figures.

use super::{channel_name, engine_error, location_options, page, Ctx};
use crate::fmt;
use crate::{assets, Web};
use axum::extract::Query;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use engine::insight::{Answer, Ask};
use engine::platform::staff::Permission;
use maud::{html, Markup};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

pub(super) fn router() -> Router<Web> {
    Router::new().route("/console/analytics", get(analytics))
}

#[derive(Deserialize, Default)]
pub(super) struct Q {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    location: String,
    /// The web funnel's breakdown: empty (by device) or a segment dimension (`custom`: the seller's own).
    #[serde(default)]
    segment: String,
}

/// The breakdowns the web funnel offers, with their labels.
const SEGMENTS: [(&str, &str, &str); 6] = [
    ("tier", "Membership tier", "회원 등급"),
    ("age_band", "Age band", "연령대"),
    ("visitor", "New or returning", "신규·재구매"),
    ("home_store", "Home store", "단골 매장"),
    ("preferred_channel", "Preferred channel", "선호 채널"),
    ("custom", "Your segments", "내 세그먼트"),
];

/// What a chart element carries for `analytics.js`: lines over labelled points, single-series bars, or a
/// store floor with a value per facing box.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Chart {
    Lines { labels: Vec<String>, series: Vec<Series>, y_label: String },
    Bars { labels: Vec<String>, series: Vec<Series>, y_label: String },
    Floor { width_m: f64, depth_m: f64, cells: Vec<FloorCell>, x_label: String, y_label: String, empty: String },
}

#[derive(Serialize)]
struct Series {
    label: String,
    values: Vec<Option<f64>>,
}

#[derive(Serialize)]
struct FloorCell {
    x: f64,
    y: f64,
    w: f64,
    d: f64,
    /// Total dwell in seconds (none when withheld).
    v: Option<f64>,
    label: String,
}

fn chart(c: &Chart, caption: &str) -> Markup {
    let json = serde_json::to_string(c).unwrap_or_default();
    html! {
        figure.chart {
            div.uplot-host data-chart=(json) data-uplot-js=(assets::url("uplot.js")) data-uplot-css=(assets::url("uplot.css"))
                role="img" aria-label=(caption) {}
            figcaption.small.muted { (caption) }
        }
    }
}

fn withheld_note(ctx: &Ctx, n: usize, k: u32) -> Markup {
    html! {
        @if n > 0 {
            p.small.muted { (n) " " (ctx.t("rows withheld: fewer than", "행은 표시하지 않음: 쇼핑객")) " " (k) (ctx.t(" distinct shoppers each (privacy).", "명 미만 (개인정보 보호)")) }
        }
    }
}

fn dash<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "—".into())
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1}%", x * 100.0)).unwrap_or_else(|| "—".into())
}

fn secs(ms: Option<f64>) -> String {
    ms.map(|x| format!("{:.1}s", x / 1000.0)).unwrap_or_else(|| "—".into())
}

async fn analytics(ctx: Ctx, Query(q): Query<Q>) -> Response {
    if let Err(r) = ctx.require(Permission::Analytics) {
        return r;
    }
    match render(&ctx, &q).await {
        Ok(m) => page(&ctx, ctx.t("Analytics", "분석"), m),
        // Dates that cannot be asked (upside down, too long a range, not dates): the dates again, with why.
        Err(e @ engine::EngineError::Invalid { .. }) => {
            let body = html! {
                h1 { (ctx.t("Analytics", "분석")) }
                form.filters method="get" action="/console/analytics" {
                    label { (ctx.t("From", "시작일")) input type="date" name="from" value=(q.from.trim()) required aria-invalid="true" aria-describedby="range-error"; }
                    label { (ctx.t("To", "종료일")) input type="date" name="to" value=(q.to.trim()) required aria-invalid="true" aria-describedby="range-error"; }
                    input type="hidden" name="location" value=(q.location);
                    button type="submit" { (ctx.t("Show", "보기")) }
                }
                p.error #range-error role="alert" { (crate::forms::explain(&e, ctx.lang)) }
                p { a href="/console/analytics" { (ctx.t("Show yesterday and today", "어제와 오늘 보기")) } }
            };
            super::page_status(&ctx, axum::http::StatusCode::UNPROCESSABLE_ENTITY, ctx.t("Analytics", "분석"), body)
        }
        Err(e) => engine_error(&ctx, &e),
    }
}

async fn render(ctx: &Ctx, q: &Q) -> engine::Result<Markup> {
    let e = ctx.engine();
    let tz = ctx.tz();
    let today = fmt::start_of_day(ctx.now, &tz);
    let day = |ms: i64| date_of(ms, &tz);
    let from = if q.from.trim().is_empty() { day(today - 86_400_000) } else { q.from.trim().to_owned() };
    let to = if q.to.trim().is_empty() { day(today) } else { q.to.trim().to_owned() };
    let scope = ctx.scope(Some(q.location.as_str()));
    let owner = ctx.staff.location_id.is_none() || ctx.staff.role == engine::platform::staff::StaffRole::Owner;
    let ask = |location_id: Option<String>| Ask {
        from: Some(from.clone()),
        to: Some(to.clone()),
        location_id,
        segment: None,
        k: None,
    };

    let traffic = e.analytics_traffic(ask(scope.clone())).await?;
    let mix = e.analytics_channel_mix(ask(scope.clone())).await?;
    let funnel = e.analytics_instore_funnel(ask(scope.clone()), Some("product".into()), None).await?;
    let stockouts = e.analytics_stockouts(ask(scope.clone())).await?;
    // The floor: the chosen store when it is cashierless, else the first cashierless store in scope.
    let floor_store = ctx
        .locations
        .iter()
        .filter(|l| l.kind == "cashierless")
        .find(|l| scope.as_deref().is_none_or(|s| s == l.id))
        .map(|l| l.id.clone());
    let heat = match &floor_store {
        Some(l) => match e.analytics_heatmap(ask(Some(l.clone()))).await {
            Ok(h) => Some(h),
            Err(engine::EngineError::Invalid { .. }) => None,
            Err(err) => return Err(err),
        },
        None => None,
    };
    let dwell = match &floor_store {
        Some(l) => Some(e.analytics_dwell(ask(Some(l.clone())), Some("zone".into()), Some("hour".into())).await?),
        None => None,
    };
    let own_segments = if owner { e.analytics_segments().await?.len() } else { 0 };
    let segment = SEGMENTS.iter().map(|s| s.0).find(|s| *s == q.segment.trim() && (*s != "custom" || own_segments > 0));
    let (online, journeys) = if owner {
        let a = Ask { location_id: None, ..ask(None) };
        (
            Some(
                e.analytics_online_funnel(Ask { segment: segment.map(str::to_owned), ..a.clone() }, segment.is_none())
                    .await?,
            ),
            Some(e.analytics_journeys(a, None, None, Some(5)).await?),
        )
    } else {
        (None, None)
    };
    // Product titles for the rows that name products.
    let mut titles: HashMap<String, String> = HashMap::new();
    let mut wanted: Vec<String> = funnel.rows.iter().take(12).map(|r| r.key.clone()).collect();
    if let Some(j) = &journeys {
        wanted.extend(j.rows.iter().filter_map(|r| r.product_id.clone()));
    }
    for id in wanted {
        if titles.contains_key(&id) {
            continue;
        }
        if let Ok(p) = e.product(&id).await {
            titles.insert(id, ctx.lang.t(&p.title.en, &p.title.ko).to_owned());
        }
    }
    let title = |id: &str| titles.get(id).cloned().unwrap_or_else(|| id.to_owned());

    Ok(html! {
        h1 { (ctx.t("Analytics", "분석")) span.muted.small { " · " (traffic.from) " – " (traffic.to)
            @if let Some(s) = &scope { " · " (ctx.location_name(s)) } } }
        form.filters method="get" action="/console/analytics" {
            label { (ctx.t("From", "시작일")) input type="date" name="from" value=(from) required; }
            label { (ctx.t("To", "종료일")) input type="date" name="to" value=(to) required; }
            @if ctx.staff.location_id.is_none() {
                label { (ctx.t("Location", "매장"))
                    select name="location" { (location_options(ctx, scope.as_deref(), Some(ctx.t("All locations", "전체 매장")), &["store", "cashierless"])) } }
            }
            @if owner {
                label { (ctx.t("Web funnel by", "온라인 퍼널 기준"))
                    select name="segment" {
                        option value="" selected[segment.is_none()] { (ctx.t("Device", "기기")) }
                        @for (v, en, ko) in SEGMENTS.iter().filter(|s| s.0 != "custom" || own_segments > 0) {
                            option value=(v) selected[segment == Some(*v)] { (ctx.t(en, ko)) }
                        }
                    } }
                a.small href="/console/analytics/segments" { (ctx.t("Your segments…", "내 세그먼트 관리…")) }
            }
            button type="submit" { (ctx.t("Show", "보기")) }
        }
        p.small.muted { (ctx.t("Figures come from orders of every channel, store sensors and the web events of shoppers who agreed. A row made up of fewer than", "모든 채널의 주문, 매장 센서, 동의한 쇼핑객의 웹 이벤트로 계산합니다. 쇼핑객"))
            " " (traffic.k) (ctx.t(" distinct shoppers shows no figures.", "명 미만으로 이루어진 행은 숫자를 표시하지 않습니다.")) }

        (traffic_section(ctx, &traffic))
        (mix_section(ctx, &mix))
        @if let Some(h) = &heat { (floor_section(ctx, h)) }
        @if let Some(d) = &dwell { (dwell_section(ctx, d)) }
        (funnel_section(ctx, &funnel, &title))
        @if let Some(o) = &online { (online_section(ctx, o, segment)) }
        @if let Some(j) = &journeys { (journeys_section(ctx, j, &title)) }
        (stockout_section(ctx, &stockouts))
    })
}

fn date_of(ms: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.to_zoned(tz.clone()).date().to_string()).unwrap_or_default()
}

fn traffic_section(ctx: &Ctx, a: &Answer<insight::sales::TrafficRow>) -> Markup {
    let mut visits = vec![None; 24];
    let mut orders = vec![None; 24];
    for r in a.rows.iter().filter(|r| !r.suppressed) {
        let h = r.hour as usize;
        *visits[h].get_or_insert(0.0) += r.visits.unwrap_or(0) as f64;
        *orders[h].get_or_insert(0.0) += r.orders.unwrap_or(0) as f64;
    }
    let c = Chart::Lines {
        labels: (0..24).map(|h| format!("{h:02}")).collect(),
        series: vec![
            Series { label: ctx.t("Gated visits", "입장 방문").into(), values: visits },
            Series { label: ctx.t("In-store orders", "매장 주문").into(), values: orders },
        ],
        y_label: ctx.t("per hour", "시간당").into(),
    };
    html! {
        section.card aria-labelledby="traffic-h" {
            h2 #traffic-h { (ctx.t("Store traffic and conversion by hour", "시간대별 매장 방문과 구매 전환")) }
            @if a.rows.is_empty() { p.muted { (ctx.t("No store visits or in-store orders in this period.", "이 기간에 매장 방문이나 매장 주문이 없습니다.")) } }
            @else {
                (chart(&c, ctx.t("Visits through the entry gates and in-store orders, by local hour", "입구 게이트 방문과 매장 주문, 현지 시각 기준")))
                div.table-wrap { table {
                    thead { tr { th { (ctx.t("Location", "매장")) } th.num { (ctx.t("Hour", "시")) } th.num { (ctx.t("Visits", "방문")) } th.num { (ctx.t("Orders", "주문")) }
                        th.num { (ctx.t("Buyers", "구매자")) } th.num { (ctx.t("Conversion", "전환율")) } th.num { (ctx.t("Units per basket", "장바구니당 수량")) } } }
                    tbody { @for r in a.rows.iter().filter(|r| !r.suppressed) { tr {
                        td { (ctx.location_name(&r.location_id)) } td.num { (format!("{:02}", r.hour)) }
                        td.num { (dash(r.visits)) } td.num { (dash(r.orders)) } td.num { (dash(r.buyers)) }
                        td.num { (pct(r.conversion)) } td.num { (dash(r.basket_units)) }
                    } } }
                } }
                (withheld_note(ctx, a.withheld, a.k))
            }
        }
    }
}

fn mix_section(ctx: &Ctx, a: &Answer<insight::sales::ChannelMixRow>) -> Markup {
    let dates: Vec<String> =
        a.rows.iter().map(|r| r.date.clone()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let mut by_channel: BTreeMap<&str, Vec<Option<f64>>> = BTreeMap::new();
    let main = a
        .rows
        .iter()
        .fold(BTreeMap::<&str, usize>::new(), |mut m, r| {
            *m.entry(r.currency.as_str()).or_default() += 1;
            m
        })
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(c, _)| c.to_owned())
        .unwrap_or_else(|| "KRW".into());
    for r in a.rows.iter().filter(|r| !r.suppressed && r.currency == main) {
        let i = dates.iter().position(|d| *d == r.date).unwrap_or(0);
        let v = by_channel.entry(r.channel.as_str()).or_insert_with(|| vec![None; dates.len()]);
        *v[i].get_or_insert(0.0) += r.revenue_minor.unwrap_or(0) as f64;
    }
    let c = Chart::Lines {
        labels: dates.clone(),
        series: by_channel
            .iter()
            .map(|(ch, v)| Series { label: channel_label(ctx, ch).into(), values: v.clone() })
            .collect(),
        y_label: main.clone(),
    };
    html! {
        section.card aria-labelledby="mix-h" {
            h2 #mix-h { (ctx.t("Channel mix of revenue", "채널별 매출 구성")) }
            @if a.rows.is_empty() { p.muted { (ctx.t("No sales in this period.", "이 기간에 매출이 없습니다.")) } }
            @else {
                (chart(&c, &format!("{} ({main})", ctx.t("Revenue by day and channel", "일별·채널별 매출"))))
                div.table-wrap { table {
                    thead { tr { th { (ctx.t("Date", "날짜")) } th { (ctx.t("Location", "매장")) } th { (ctx.t("Channel", "채널")) } th.num { (ctx.t("Orders", "주문")) }
                        th.num { (ctx.t("Revenue", "매출")) } th.num { (ctx.t("Returned", "반품")) } th.num { (ctx.t("Share", "비중")) } } }
                    tbody { @for r in a.rows.iter().filter(|r| !r.suppressed) { tr {
                        td { (r.date) } td { (ctx.location_name(&r.location_id)) } td { (channel_label(ctx, &r.channel)) }
                        td.num { (dash(r.orders)) }
                        td.num { (r.revenue_minor.map(|m| fmt::money(m, &r.currency)).unwrap_or_else(|| "—".into())) }
                        td.num { (r.returned_minor.map(|m| fmt::money(m, &r.currency)).unwrap_or_else(|| "—".into())) }
                        td.num { (pct(r.share)) }
                    } } }
                } }
                (withheld_note(ctx, a.withheld, a.k))
            }
        }
    }
}

pub(super) fn channel_label<'a>(ctx: &Ctx, ch: &'a str) -> &'a str {
    match ch {
        "click_collect" => ctx.t("Click & collect", "매장 픽업 주문"),
        other => channel_name(ctx, other),
    }
}

fn floor_section(ctx: &Ctx, a: &Answer<engine::insight::Heatmap>) -> Markup {
    let Some(h) = a.rows.first() else { return html! {} };
    let label =
        |c: &engine::insight::HeatCell| format!("{} ({}-{})", ctx.lang.t(&c.title_en, &c.title_ko), c.gondola, c.shelf);
    // The gondolas as a shopper in the aisle sees them: along the gondola × height, one box per facing.
    let chart_data = Chart::Floor {
        width_m: h.width_m,
        depth_m: (h.height_m + 0.2).max(0.5),
        cells: h
            .cells
            .iter()
            .map(|c| FloorCell {
                x: c.x_m,
                y: c.z_m,
                w: c.width_m,
                d: c.height_m,
                v: c.total_ms.map(|t| t / 1000.0),
                label: label(c),
            })
            .collect(),
        x_label: ctx.t("along the gondolas (m)", "진열대 길이 방향 (m)").into(),
        y_label: ctx.t("height (m)", "높이 (m)").into(),
        empty: ctx.t("no dwell", "체류 없음").into(),
    };
    let mut top: Vec<&engine::insight::HeatCell> = h.cells.iter().filter(|c| c.total_ms.is_some()).collect();
    top.sort_by(|a, b| b.total_ms.partial_cmp(&a.total_ms).unwrap_or(std::cmp::Ordering::Equal));
    html! {
        section.card aria-labelledby="floor-h" {
            h2 #floor-h { (ctx.t("Dwell heatmap", "체류 히트맵")) " · " (ctx.location_name(&h.location_id)) }
            (chart(&chart_data, ctx.t("Total time shoppers stood at each facing, on the gondolas as seen from the aisle (darker: longer)", "통로에서 본 진열대 위 진열면별 총 체류 시간 (진할수록 김)")))
            div.table-wrap { table {
                thead { tr { th { (ctx.t("Facing", "진열면")) } th.num { (ctx.t("Visitors", "방문자")) } th.num { (ctx.t("Dwells", "체류 횟수")) }
                    th.num { (ctx.t("Mean dwell", "평균 체류")) } th.num { (ctx.t("Total", "합계")) } } }
                tbody {
                    @if top.is_empty() { tr { td colspan="5" .muted { (ctx.t("No dwell recorded (or every facing is below k shoppers).", "기록된 체류가 없습니다 (또는 모든 진열면이 k명 미만).")) } } }
                    @for c in top.iter().take(10) { tr {
                        td { (label(c)) } td.num { (dash(c.visitors)) } td.num { (dash(c.dwells)) } td.num { (secs(c.mean_ms)) } td.num { (secs(c.total_ms)) }
                    } }
                }
            } }
            (withheld_note(ctx, a.withheld, a.k))
        }
    }
}

fn dwell_section(ctx: &Ctx, a: &Answer<insight::dwell::DwellRow>) -> Markup {
    let mut zones: BTreeMap<&str, Vec<Option<f64>>> = BTreeMap::new();
    for r in a.rows.iter().filter(|r| !r.suppressed) {
        let v = zones.entry(r.key.as_str()).or_insert_with(|| vec![None; 24]);
        v[r.hour.unwrap_or(0) as usize] = r.median_ms.map(|m| m / 1000.0);
    }
    let c = Chart::Lines {
        labels: (0..24).map(|h| format!("{h:02}")).collect(),
        series: zones
            .iter()
            .map(|(k, v)| Series {
                label: format!("{} {}", ctx.t("Aisle", "통로"), k.trim_start_matches("gondola:")),
                values: v.clone(),
            })
            .collect(),
        y_label: ctx.t("median dwell (s)", "체류 중앙값 (초)").into(),
    };
    html! {
        section.card aria-labelledby="dwell-h" {
            h2 #dwell-h { (ctx.t("Dwell by aisle and hour", "통로·시간대별 체류")) }
            @if a.rows.is_empty() { p.muted { (ctx.t("No dwell recorded in this period.", "이 기간에 기록된 체류가 없습니다.")) } }
            @else {
                (chart(&c, ctx.t("Median time shoppers stood in each aisle, by the hour the dwell began", "통로별 체류 시간 중앙값, 체류가 시작된 시각 기준")))
                div.table-wrap { table {
                    thead { tr { th { (ctx.t("Aisle", "통로")) } th.num { (ctx.t("Hour", "시")) } th.num { (ctx.t("Visitors", "방문자")) } th.num { (ctx.t("Mean", "평균")) }
                        th.num { (ctx.t("Median", "중앙값")) } th.num { "p90" } th.num { (ctx.t("Share of visitors", "방문자 비율")) } } }
                    tbody { @for r in a.rows.iter().filter(|r| !r.suppressed) { tr {
                        td { (r.key.trim_start_matches("gondola:")) } td.num { (dash(r.hour.map(|h| format!("{h:02}")))) } td.num { (dash(r.visitors)) }
                        td.num { (secs(r.mean_ms)) } td.num { (secs(r.median_ms)) } td.num { (secs(r.p90_ms)) } td.num { (pct(r.share_of_store_visitors)) }
                    } } }
                } }
                (withheld_note(ctx, a.withheld, a.k))
            }
        }
    }
}

fn funnel_section(ctx: &Ctx, a: &Answer<insight::funnels::InstoreFunnelRow>, title: &dyn Fn(&str) -> String) -> Markup {
    let mut rows: Vec<&insight::funnels::InstoreFunnelRow> = a.rows.iter().filter(|r| !r.suppressed).collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.passed.unwrap_or(0)));
    html! {
        section.card aria-labelledby="funnel-h" {
            h2 #funnel-h { (ctx.t("In-store funnel", "매장 내 퍼널")) }
            p.small.muted { (ctx.t("Visits that passed a product's aisle, stood at its facing for 5 s or more, picked it, and bought it.", "상품이 있는 통로를 지나고, 진열면 앞에 5초 이상 머물고, 집어 들고, 구매한 방문 수.")) }
            @if a.rows.is_empty() { p.muted { (ctx.t("No cashierless visits in this period.", "이 기간에 무인 매장 방문이 없습니다.")) } }
            @else {
                div.table-wrap { table {
                    thead { tr { th { (ctx.t("Product", "상품")) } th.num { (ctx.t("Passed", "통과")) } th.num { (ctx.t("Dwelled", "체류")) }
                        th.num { (ctx.t("Picked", "집음")) } th.num { (ctx.t("Bought", "구매")) } th.num { (ctx.t("Put back", "되돌려 놓음")) } } }
                    tbody { @for r in rows.iter().take(12) { tr {
                        td { (title(&r.key)) } td.num { (dash(r.passed)) } td.num { (dash(r.dwelled)) } td.num { (dash(r.picked)) }
                        td.num { (dash(r.bought)) } td.num { (pct(r.put_back_rate)) }
                    } } }
                } }
                (withheld_note(ctx, a.withheld, a.k))
            }
        }
    }
}

fn online_section(ctx: &Ctx, a: &Answer<insight::funnels::OnlineFunnelRow>, segment: Option<&str>) -> Markup {
    let row_name = |r: &insight::funnels::OnlineFunnelRow| match segment {
        None => device_name(ctx, r.device.as_deref().unwrap_or("unknown")).to_owned(),
        Some("home_store") if r.segment != "none" => ctx.location_name(&r.segment).to_owned(),
        Some(_) => segment_name(ctx, &r.segment).to_owned(),
    };
    let by = match segment.and_then(|s| SEGMENTS.iter().find(|x| x.0 == s)) {
        Some((_, en, ko)) => ctx.t(en, ko),
        None => ctx.t("Device", "기기"),
    };
    let mut stages = [0.0f64; 4];
    for r in a.rows.iter().filter(|r| !r.suppressed) {
        for (i, v) in [r.viewed, r.carted, r.checked_out, r.purchased].into_iter().enumerate() {
            stages[i] += v.unwrap_or(0) as f64;
        }
    }
    let names = [
        ctx.t("Viewed", "조회"),
        ctx.t("Added to cart", "장바구니"),
        ctx.t("Checkout", "결제 시작"),
        ctx.t("Bought", "구매"),
    ];
    let c = Chart::Bars {
        labels: names.iter().map(|s| s.to_string()).collect(),
        series: vec![Series {
            label: ctx.t("Shoppers", "쇼핑객").into(),
            values: stages.iter().map(|v| Some(*v)).collect(),
        }],
        y_label: ctx.t("shoppers", "명").into(),
    };
    html! {
        section.card aria-labelledby="online-h" {
            h2 #online-h { (ctx.t("Web funnel", "온라인 퍼널")) }
            @if a.rows.is_empty() { p.muted { (ctx.t("No web events in this period (they are recorded only with the shopper's consent).", "이 기간에 웹 이벤트가 없습니다 (쇼핑객이 동의한 경우에만 기록).")) } }
            @else {
                (chart(&c, ctx.t("Distinct shoppers reaching each step (rows below k left out)", "단계별 쇼핑객 수 (k 미만 행 제외)")))
                div.table-wrap { table {
                    thead { tr { th { (by) } th.num { (names[0]) } th.num { (names[1]) } th.num { (names[2]) } th.num { (names[3]) }
                        th.num { (ctx.t("View → cart", "조회→장바구니")) } th.num { (ctx.t("Checkout → purchase", "결제→구매")) } } }
                    tbody { @for r in &a.rows { tr {
                        td { (row_name(r)) } td.num { (dash(r.viewed)) } td.num { (dash(r.carted)) }
                        td.num { (dash(r.checked_out)) } td.num { (dash(r.purchased)) } td.num { (pct(r.view_to_cart)) } td.num { (pct(r.checkout_to_purchase)) }
                    } } }
                } }
                (withheld_note(ctx, a.withheld, a.k))
            }
        }
    }
}

/// A segment label in the reader's language (tiers and the seller's own names are shown as given).
pub(super) fn segment_name<'a>(ctx: &Ctx, s: &'a str) -> &'a str {
    match s {
        "none" => ctx.t("None", "없음"),
        "unknown" => ctx.t("Not given", "미입력"),
        "other" => ctx.t("Other", "기타"),
        "new" => ctx.t("New", "신규"),
        "returning" => ctx.t("Returning", "재구매"),
        "under_20" => ctx.t("Under 20", "20세 미만"),
        "20s" => ctx.t("20s", "20대"),
        "30s" => ctx.t("30s", "30대"),
        "40s" => ctx.t("40s", "40대"),
        "50s" => ctx.t("50s", "50대"),
        "60_plus" => ctx.t("60 and over", "60대 이상"),
        "web" | "click_collect" | "pos" | "cashierless" => channel_label(ctx, s),
        other => other,
    }
}

fn device_name<'a>(ctx: &Ctx, d: &'a str) -> &'a str {
    match d {
        "mobile" => ctx.t("Phone", "모바일"),
        "desktop" => ctx.t("Computer", "PC"),
        "app" => ctx.t("App", "앱"),
        "unknown" => ctx.t("Unknown", "알 수 없음"),
        other => other,
    }
}

fn journeys_section(ctx: &Ctx, a: &Answer<insight::journeys::JourneyRow>, title: &dyn Fn(&str) -> String) -> Markup {
    use insight::journeys::Journey;
    let name = |j: Journey| match j {
        Journey::Showrooming => ctx.t("Seen in a store, bought online", "매장에서 보고 온라인 구매 (쇼루밍)"),
        Journey::Webrooming => ctx.t("Seen online, bought in a store", "온라인에서 보고 매장 구매 (웹루밍)"),
        Journey::ClickCollectAddon => ctx.t("Added at the store when collecting", "픽업하며 매장에서 추가 구매"),
    };
    html! {
        section.card aria-labelledby="journeys-h" {
            h2 #journeys-h { (ctx.t("Journeys across channels", "채널을 넘나드는 구매 여정")) }
            p.small.muted { (ctx.t("Within 7 days; only shoppers who agreed to be recognised across channels.", "7일 이내, 채널 간 식별에 동의한 쇼핑객만.")) }
            div.table-wrap { table {
                thead { tr { th { (ctx.t("Journey", "여정")) } th { (ctx.t("Product", "상품")) } th.num { (ctx.t("Shoppers", "쇼핑객")) } th.num { (ctx.t("Units", "수량")) } th.num { (ctx.t("Revenue", "매출")) } } }
                tbody { @for r in &a.rows { tr {
                    td { (name(r.journey)) } td { @match &r.product_id { Some(p) => (title(p)), None => strong { (ctx.t("All products", "전체")) } } }
                    td.num { (dash(r.shoppers_count)) } td.num { (dash(r.units)) }
                    td.num { @match &r.revenue_minor { Some(m) if !m.is_empty() => { @for (cur, v) in m { (fmt::money(*v, cur)) " " } } Some(_) => "0", None => "—" } }
                } } }
            } }
            (withheld_note(ctx, a.withheld, a.k))
        }
    }
}

fn stockout_section(ctx: &Ctx, a: &Answer<insight::sales::StockOutRow>) -> Markup {
    html! {
        section.card aria-labelledby="stockouts-h" {
            h2 #stockouts-h { (ctx.t("Stock-outs", "품절")) }
            @if a.rows.is_empty() { p.muted { (ctx.t("Nothing ran out in this period.", "이 기간에 품절된 상품이 없습니다.")) } }
            @else {
                div.table-wrap { table {
                    thead { tr { th { "SKU" } th { (ctx.t("Location", "매장")) } th.num { (ctx.t("Times out", "품절 횟수")) } th.num { (ctx.t("Hours out", "품절 시간")) }
                        th.num { (ctx.t("Est. units lost", "추정 손실 수량")) } th.num { (ctx.t("Est. sales lost", "추정 손실 매출")) } th { (ctx.t("Now", "현재")) } } }
                    tbody { @for r in a.rows.iter().take(15) { tr {
                        td.mono { (r.sku) } td { (ctx.location_name(&r.location_id)) } td.num { (r.episodes) }
                        td.num { (format!("{:.1}", r.out_ms as f64 / 3_600_000.0)) } td.num { (format!("{:.1}", r.lost_units)) }
                        td.num { @for (cur, v) in &r.lost_minor { (fmt::money(*v, cur)) " " } }
                        td { @if r.out_now { span.pill.bad { (ctx.t("out", "품절")) } } @else { span.pill.ok { (ctx.t("in stock", "재고 있음")) } } }
                    } } }
                } }
            }
        }
    }
}
