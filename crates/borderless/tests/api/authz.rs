//! The authorization matrix: every route of the API × {anonymous, customer A, customer B, staff at store 1,
//! staff at store 2, admin, device}. Each route's declared guard is checked against the reviewed table in
//! `authz_matrix.txt` (a new route fails this test until it is added there), and each role is sent to each
//! route to see that the guard holds: who must be refused is refused (401/403), who may pass gets past the
//! guard, and no combination is a server error. (Which shopper or store owns what — customer A against B's
//! cart or order, staff of one store against another's pickup — is proven with real resources in
//! `access.rs`, `flows.rs` and `console.rs`.)

use crate::helpers::*;
use serde_json::json;

const MATRIX: &str = include_str!("authz_matrix.txt");

#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Anonymous,
    CustomerA,
    CustomerB,
    Staff1,
    Staff2,
    Admin,
    Device,
}

const ROLES: [Role; 7] =
    [Role::Anonymous, Role::CustomerA, Role::CustomerB, Role::Staff1, Role::Staff2, Role::Admin, Role::Device];

/// Whether `role` must be refused by a route guarded by `auth` (401 or 403), may pass (`Some(false)`), or
/// either (`None`: the guard does not decide, e.g. a public route).
fn must_refuse(auth: &str, role: Role) -> Option<bool> {
    use Role::*;
    let is_customer = matches!(role, CustomerA | CustomerB);
    let is_staff = matches!(role, Staff1 | Staff2);
    match auth {
        "admin" => Some(role != Admin),
        // (Staff may still be refused with 403 for another store's resource: see `every_role_meets_every_guard`.)
        "staff" => Some(!(is_staff || role == Admin)),
        "customer" => Some(!is_customer),
        "device" => Some(role != Device),
        // Anyone may call; a credential that is sent must be valid (a device token is not a session).
        "public" | "optional_customer" | "optional_viewer" => match role {
            Anonymous => Some(false),
            _ => None,
        },
        "signature" => None,
        other => panic!("unknown guard `{other}`"),
    }
}

#[test]
fn every_route_is_in_the_reviewed_matrix() {
    let declared: Vec<String> = http_api::api()
        .operations()
        .into_iter()
        .map(|(m, p, a)| format!("{} {p} {}", m.to_uppercase(), a.as_str()))
        .collect();
    let reviewed: Vec<String> =
        MATRIX.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned).collect();
    let missing: Vec<&String> = declared.iter().filter(|d| !reviewed.contains(d)).collect();
    let stale: Vec<&String> = reviewed.iter().filter(|r| !declared.contains(r)).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "the route table and tests/api/authz_matrix.txt differ.\nroutes not in the matrix (add them once their guard is reviewed):\n{}\nmatrix lines with no such route:\n{}",
        missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n"),
        stale.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_role_meets_every_guard() {
    let app = spawn_app(Backend::Sqlite).await;
    let s1 = app.location("STORE1", "store", true).await;
    let s2 = app.location("STORE2", "store", true).await;
    let key = |loc: String| {
        let app = &app;
        async move {
            app.admin_post("/admin/api-keys", json!({"role": "staff", "location_id": loc, "label": "matrix"}))
                .await
                .expect(201)["api_key"]["key"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (staff1, staff2) = (key(s1.clone()).await, key(s2.clone()).await);
    let session = |email: &'static str| {
        let app = &app;
        async move {
            app.signup(json!({"email": email, "password": "matrix password", "name": "M"})).await.expect(201)["token"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (a, b) = (session("a@example.com").await, session("b@example.com").await);
    let device = app
        .admin_post(&format!("/admin/stores/{s1}/devices"), json!({"kind": "gate", "code": "gate-1"}))
        .await
        .expect(201)["device"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = |r: Role| -> Option<&str> {
        match r {
            Role::Anonymous => None,
            Role::CustomerA => Some(&a),
            Role::CustomerB => Some(&b),
            Role::Staff1 => Some(&staff1),
            Role::Staff2 => Some(&staff2),
            Role::Admin => Some(ADMIN_KEY),
            Role::Device => Some(&device),
        }
    };
    let mut tried = 0;
    let mut failures = Vec::new();
    // Logging out ends the caller's session, so it goes last.
    let mut ops = http_api::api().operations();
    ops.sort_by_key(|(_, p, _)| *p == "/store/auth/logout");
    for (method, path, auth) in ops {
        let method = method.to_uppercase();
        if path == "/health" || path == "/openapi.json" {
            continue;
        }
        // Every id names nothing: the guard must decide before any lookup would.
        let concrete: String = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "zz_matrix_nothing" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for role in ROLES {
            let body = if method == "GET" || method == "DELETE" { None } else { Some(json!({})) };
            let r = app.req_unchecked(&method, &concrete, token(role), body).await;
            tried += 1;
            if r.status >= 500 {
                failures.push(format!("{method} {path} as {role:?}: {} {}", r.status, r.body));
                continue;
            }
            // A staff key may be refused (403) for a store that is not its own: here every id names none.
            let scoped = auth.as_str() == "staff" && matches!(role, Role::Staff1 | Role::Staff2) && r.status == 403;
            let refused = (r.status == 401 || r.status == 403) && !scoped;
            match must_refuse(auth.as_str(), role) {
                Some(true) if !refused => failures.push(format!(
                    "{method} {path} ({}) let {role:?} through: {} {}",
                    auth.as_str(),
                    r.status,
                    r.body
                )),
                Some(false) if refused => failures.push(format!(
                    "{method} {path} ({}) refused {role:?}, who may call it: {} {}",
                    auth.as_str(),
                    r.status,
                    r.body
                )),
                _ => {}
            }
        }
    }
    assert!(failures.is_empty(), "{} of {tried} calls broke the matrix:\n{}", failures.len(), failures.join("\n"));
    assert!(tried > 500, "the matrix covered {tried} calls");
}
