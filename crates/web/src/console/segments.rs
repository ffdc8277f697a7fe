//! The seller's own analytics segments in the console (owners): the list in the order answers use (a
//! shopper's row goes to the first that matches), adding one from tiers, age bands, new or returning, home
//! stores and preferred channels, and removing one. Only what customers shared; nothing from cameras.

use super::analytics::{channel_label, segment_name};
use super::{engine_error, page_status, redirect_with, Ctx, Posted};
use crate::forms::{self, Field, FormState};
use crate::Web;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use engine::platform::staff::{Permission, StaffRole};
use insight::segments::{SegmentDef, AGE_BANDS, CHANNELS};
use maud::{html, Markup};
use serde::Deserialize;

pub(super) fn router() -> Router<Web> {
    Router::new()
        .route("/console/analytics/segments", get(segments_page).post(add))
        .route("/console/analytics/segments/remove", post(remove))
}

/// Owners only: segments are the whole shop's.
fn owner_only(ctx: &Ctx) -> Result<(), Response> {
    ctx.require(Permission::Analytics)?;
    if ctx.staff.role != StaffRole::Owner {
        return Err(super::refused(
            ctx,
            StatusCode::FORBIDDEN,
            ctx.t("Only the owner defines the shop's segments.", "세그먼트는 점주만 정할 수 있습니다."),
        ));
    }
    Ok(())
}

/// Who a segment takes, in the reader's language.
fn who(ctx: &Ctx, d: &SegmentDef) -> String {
    let mut parts = Vec::new();
    let list = |v: &[String], f: &dyn Fn(&str) -> String| v.iter().map(|x| f(x)).collect::<Vec<_>>().join(", ");
    if !d.tiers.is_empty() {
        parts.push(format!("{}: {}", ctx.t("tier", "등급"), d.tiers.join(", ")));
    }
    if !d.age_bands.is_empty() {
        parts.push(format!("{}: {}", ctx.t("age", "연령대"), list(&d.age_bands, &|a| segment_name(ctx, a).to_owned())));
    }
    if let Some(v) = &d.visitor {
        parts.push(segment_name(ctx, v).to_owned());
    }
    if !d.home_stores.is_empty() {
        let name =
            |l: &str| if l == "none" { segment_name(ctx, l).to_owned() } else { ctx.location_name(l).to_owned() };
        parts.push(format!("{}: {}", ctx.t("home store", "단골 매장"), list(&d.home_stores, &name)));
    }
    if !d.preferred_channels.is_empty() {
        let name =
            |c: &str| if c == "none" { segment_name(ctx, c).to_owned() } else { channel_label(ctx, c).to_owned() };
        parts.push(format!("{}: {}", ctx.t("prefers", "선호 채널"), list(&d.preferred_channels, &name)));
    }
    parts.join(" · ")
}

async fn segments_page(ctx: Ctx) -> Response {
    render(&ctx, &FormState::default(), StatusCode::OK).await
}

async fn render(ctx: &Ctx, form: &FormState, status: StatusCode) -> Response {
    if let Err(r) = owner_only(ctx) {
        return r;
    }
    let defs = match ctx.engine().analytics_segments().await {
        Ok(d) => d,
        Err(e) => return engine_error(ctx, &e),
    };
    let checked = |name: &str, v: &str| form.values.contains_key(&format!("{name}:{v}"));
    let stores: Vec<_> = ctx.locations.iter().filter(|l| l.kind != "warehouse").collect();
    let body: Markup = html! {
        h1 { (ctx.t("Your segments", "내 세그먼트")) }
        p.small.muted { (ctx.t(
            "Ask any analytics question by your segments (Analytics → web funnel by → Your segments, or segment=custom in the API). A shopper's row goes to the first segment that matches, “other” when none does. Segments use only what customers agreed to share; rows of fewer than k shoppers still show no figures.",
            "분석 질문을 내 세그먼트별로 볼 수 있습니다 (분석 → 온라인 퍼널 기준 → 내 세그먼트, API에서는 segment=custom). 쇼핑객은 처음으로 맞는 세그먼트에 들어가고, 맞는 것이 없으면 “기타”입니다. 고객이 공유에 동의한 정보만 쓰며, 쇼핑객 k명 미만인 행은 여전히 숫자를 표시하지 않습니다.")) }
        section.card aria-labelledby="mine-h" {
            h2 #mine-h { (ctx.t("In order", "순서대로")) }
            @if defs.is_empty() { p.muted { (ctx.t("No segments yet: add the first below.", "아직 세그먼트가 없습니다. 아래에서 추가하세요.")) } }
            @else {
                div.table-wrap { table {
                    thead { tr { th.num { "#" } th { (ctx.t("Name", "이름")) } th { (ctx.t("Who", "대상")) } th { span.sr-only { (ctx.t("Remove", "삭제")) } } } }
                    tbody { @for (i, d) in defs.iter().enumerate() { tr {
                        td.num { (i + 1) } td { (d.name) } td { (who(ctx, d)) }
                        td { form.inline method="post" action="/console/analytics/segments/remove" {
                            (ctx.csrf_field())
                            input type="hidden" name="name" value=(d.name);
                            button.link type="submit" aria-label=(format!("{} {}", ctx.t("Remove", "삭제"), d.name)) { (ctx.t("Remove", "삭제")) }
                        } }
                    } } }
                } }
            }
        }
        (forms::summary(form, ctx.lang))
        form.card method="post" action="/console/analytics/segments" {
            (ctx.csrf_field())
            h2 { (ctx.t("Add a segment", "세그먼트 추가")) }
            (Field::new("name", ctx.t("Name (1–40 characters)", "이름 (1–40자)"), form, "").hint(ctx.t("e.g. Gold in their 30s", "예: 골드 30대")).render(form))
            (Field::new("tiers", ctx.t("Membership tiers, comma-separated (empty: any)", "회원 등급, 쉼표로 구분 (비우면 전체)"), form, "").hint(ctx.t("e.g. gold, vip", "예: gold, vip")).render(form))
            fieldset.field { legend { (ctx.t("Age bands (none ticked: any)", "연령대 (선택 안 하면 전체)")) }
                @for a in AGE_BANDS { label.choice { input type="checkbox" name="age_band" value=(a) checked[checked("age_band", a)]; (segment_name(ctx, a)) } } }
            div.field { label { (ctx.t("New or returning", "신규·재구매"))
                select name="visitor" {
                    option value="" { (ctx.t("Either", "모두")) }
                    option value="new" selected[form.value("visitor", "") == "new"] { (segment_name(ctx, "new")) }
                    option value="returning" selected[form.value("visitor", "") == "returning"] { (segment_name(ctx, "returning")) }
                } } }
            fieldset.field { legend { (ctx.t("Home store (none ticked: any)", "단골 매장 (선택 안 하면 전체)")) }
                @for l in &stores { label.choice { input type="checkbox" name="home_store" value=(l.id) checked[checked("home_store", &l.id)]; (ctx.location_name(&l.id)) } } }
            fieldset.field { legend { (ctx.t("Preferred channel (none ticked: any)", "선호 채널 (선택 안 하면 전체)")) }
                @for c in CHANNELS { label.choice { input type="checkbox" name="channel" value=(c) checked[checked("channel", c)];
                    (if c == "none" { ctx.t("No purchase yet", "구매 전") } else { channel_label(ctx, c) }) } } }
            button type="submit" { (ctx.t("Add segment", "세그먼트 추가")) }
        }
        p { a href="/console/analytics" { (ctx.t("← Analytics", "← 분석")) } }
    };
    page_status(ctx, status, ctx.t("Your segments", "내 세그먼트"), body)
}

#[derive(Deserialize)]
struct SegmentIn {
    #[serde(default)]
    name: String,
    #[serde(default)]
    tiers: String,
    #[serde(default)]
    visitor: String,
}

async fn add(p: Posted<SegmentIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = owner_only(ctx) {
        return r;
    }
    let all = |n: &str| p.all(n).into_iter().map(str::to_owned).collect::<Vec<_>>();
    let new = SegmentDef {
        name: p.form.name.trim().to_owned(),
        tiers: p.form.tiers.split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect(),
        age_bands: all("age_band"),
        visitor: Some(p.form.visitor.trim().to_owned()).filter(|v| !v.is_empty()),
        home_stores: all("home_store"),
        preferred_channels: all("channel"),
    };
    let name = new.name.clone();
    let defs = match ctx.engine().analytics_segments().await {
        Ok(d) => d,
        Err(e) => return engine_error(ctx, &e),
    };
    // What a seller gets wrong, said in their language (the engine checks again, in English).
    let problem = if name.is_empty() || name.chars().count() > 40 {
        Some(("name", ctx.t("Give the segment a name of 1–40 characters.", "세그먼트 이름을 1–40자로 적어 주세요.")))
    } else if matches!(name.as_str(), "all" | "other") {
        Some((
            "name",
            ctx.t(
                "“all” and “other” are names the answers use already; choose another.",
                "“all”과 “other”는 답에서 이미 쓰는 이름입니다. 다른 이름을 적어 주세요.",
            ),
        ))
    } else if defs.iter().any(|d| d.name.to_lowercase() == name.to_lowercase()) {
        Some((
            "name",
            ctx.t(
                "A segment with this name exists already; choose another name.",
                "같은 이름의 세그먼트가 이미 있습니다. 다른 이름을 적어 주세요.",
            ),
        ))
    } else if new.tiers.is_empty()
        && new.age_bands.is_empty()
        && new.visitor.is_none()
        && new.home_stores.is_empty()
        && new.preferred_channels.is_empty()
    {
        Some((
            "tiers",
            ctx.t(
                "Choose at least one of tier, age band, new or returning, home store or preferred channel.",
                "등급, 연령대, 신규·재구매, 단골 매장, 선호 채널 중 하나 이상을 정해 주세요.",
            ),
        ))
    } else {
        None
    };
    let saved = match problem {
        Some((field, message)) => Err((field, message.to_owned())),
        None => {
            let mut all = defs;
            all.push(new);
            ctx.engine().set_analytics_segments(all).await.map_err(|e| ("", forms::explain(&e, ctx.lang)))
        }
    };
    match saved {
        Ok(_) => redirect_with(
            ctx,
            "/console/analytics/segments",
            true,
            &format!("{} {name}", ctx.t("Segment added:", "세그먼트를 추가했습니다:")),
        ),
        Err((field, message)) => {
            let mut form = p.state();
            for (k, v) in &p.raw {
                if matches!(k.as_str(), "age_band" | "home_store" | "channel") {
                    form.values.insert(format!("{k}:{v}"), "1".into());
                }
            }
            if field.is_empty() {
                form.general = Some(message);
            } else {
                form.error(field, message);
            }
            render(ctx, &form, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize)]
struct RemoveIn {
    #[serde(default)]
    name: String,
}

async fn remove(p: Posted<RemoveIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = owner_only(ctx) {
        return r;
    }
    let result = match ctx.engine().analytics_segments().await {
        Ok(defs) => {
            let kept: Vec<SegmentDef> = defs.into_iter().filter(|d| d.name != p.form.name).collect();
            ctx.engine().set_analytics_segments(kept).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => redirect_with(
            ctx,
            "/console/analytics/segments",
            true,
            &format!("{} {}", ctx.t("Segment removed:", "세그먼트를 삭제했습니다:"), p.form.name),
        ),
        Err(e) => engine_error(ctx, &e),
    }
}
