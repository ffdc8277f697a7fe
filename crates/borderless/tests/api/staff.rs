//! Console staff accounts: roles bound to locations, sessions that expire and end on logout, disabling or a
//! new password, the login throttle, and the audit log that names who moved stock.

use crate::both;
use crate::helpers::*;
use engine::EngineError;

const PW: &str = "correct horse battery";

async fn staff_accounts_sessions_and_audit(backend: Backend) {
    let app = spawn_app(backend).await;
    let engine = &app.running.as_ref().unwrap().engine;
    let gangnam = app.location("GANGNAM", "store", true).await;
    let hongdae = app.location("HONGDAE", "store", true).await;
    app.product("AUD-1", 1000).await;
    app.stock_in("AUD-1", &gangnam, 5).await;
    app.stock_in("AUD-1", &hongdae, 5).await;

    // Roles and locations are checked.
    let e = engine.add_staff("x@example.com", "X", PW, "associate", None, "ko").await.unwrap_err();
    assert!(e.to_string().contains("one location"), "{e}");
    let e = engine.add_staff("x@example.com", "X", PW, "owner", Some("GANGNAM"), "ko").await.unwrap_err();
    assert!(e.to_string().contains("every location"), "{e}");
    let e = engine.add_staff("x@example.com", "X", "short", "owner", None, "ko").await.unwrap_err();
    assert!(matches!(e, EngineError::Invalid { code: "weak_password", .. }), "{e}");
    let e = engine.add_staff("x@example.com", "X", PW, "associate", Some("NOWHERE"), "ko").await.unwrap_err();
    assert!(matches!(e, EngineError::NotFound { .. }), "{e}");

    let clerk = engine.add_staff("Clerk@Example.com", "점원", PW, "associate", Some("gangnam"), "ko").await.unwrap();
    assert_eq!(clerk.email, "clerk@example.com");
    assert_eq!(clerk.location_id.as_deref(), Some(gangnam.as_str()), "the code resolves to the location id");
    let e = engine.add_staff("clerk@example.com", "again", PW, "owner", None, "en").await.unwrap_err();
    assert!(matches!(e, EngineError::Conflict { code: "email_taken", .. }), "{e}");

    // Login: wrong password and unknown account look alike; the right one opens a session.
    assert!(matches!(
        engine.staff_login("clerk@example.com", "wrong password", "10.0.0.1").await,
        Err(EngineError::Unauthorized)
    ));
    assert!(matches!(engine.staff_login("nobody@example.com", PW, "10.0.0.1").await, Err(EngineError::Unauthorized)));
    let (who, token, csrf) = engine.staff_login("CLERK@example.com", PW, "10.0.0.1").await.unwrap();
    assert_eq!(who.id, clerk.id);
    let s = engine.staff_session(&token).await.unwrap().expect("live session");
    assert_eq!(s.csrf, csrf);
    assert!(engine.staff_session("bl_con_forged").await.unwrap().is_none());

    // The associate's principal moves stock at Gangnam only, and the audit log names them.
    let me = s.staff.principal();
    engine.adjust_stock(&me, None, "AUD-1", &gangnam, -1, "broken on the shelf").await.unwrap();
    let e = engine.adjust_stock(&me, None, "AUD-1", &hongdae, -1, "not my store").await.unwrap_err();
    assert!(matches!(e, EngineError::Forbidden(_)), "{e}");
    let log = engine.audit_log(Some("AUD-1".into()), None, None, 10).await.unwrap();
    let mine: Vec<_> = log.iter().filter(|a| a.actor == format!("staff:{}", clerk.id)).collect();
    assert_eq!(mine.len(), 1, "one audited adjustment, the refused one left no trace: {log:?}");
    assert_eq!(mine[0].action, "stock.adjusted");
    assert_eq!(mine[0].location_id.as_deref(), Some(gangnam.as_str()));

    // A double-submitted form (the same key) moves stock once; the same key for another change is refused.
    let first = engine.adjust_stock(&me, Some("form-1"), "AUD-1", &gangnam, -2, "count").await.unwrap();
    let again = engine.adjust_stock(&me, Some("form-1"), "AUD-1", &gangnam, -2, "count").await.unwrap();
    assert_eq!(first.level.on_hand, 2);
    assert_eq!(again.level.on_hand, 2, "the second submit did nothing");
    let e = engine.adjust_stock(&me, Some("form-1"), "AUD-1", &gangnam, -1, "count").await.unwrap_err();
    assert!(matches!(e, EngineError::Conflict { code: "idempotency_key_reused", .. }), "{e}");
    let t1 = engine.transfer(&me, Some("form-2"), "AUD-1", &gangnam, &hongdae, 1).await.unwrap();
    let t2 = engine.transfer(&me, Some("form-2"), "AUD-1", &gangnam, &hongdae, 1).await.unwrap();
    assert_eq!(t1.id, t2.id, "the retry names the first transfer");
    assert_eq!((t2.from.on_hand, t2.to.on_hand), (1, 6));

    // Idle expiry, then logout, disabling and a new password each end sessions.
    app.clock.advance_ms(engine::platform::staff::SESSION_IDLE_MS + 1);
    assert!(engine.staff_session(&token).await.unwrap().is_none(), "idle sessions end");
    let (_, t2, _) = engine.staff_login("clerk@example.com", PW, "10.0.0.1").await.unwrap();
    engine.staff_logout(&t2).await.unwrap();
    assert!(engine.staff_session(&t2).await.unwrap().is_none(), "logout ends the session");
    let (_, t3, _) = engine.staff_login("clerk@example.com", PW, "10.0.0.1").await.unwrap();
    engine.set_staff_password(&clerk.id, "a brand new password").await.unwrap();
    assert!(engine.staff_session(&t3).await.unwrap().is_none(), "a new password ends old sessions");
    let (_, t4, _) = engine.staff_login("clerk@example.com", "a brand new password", "10.0.0.1").await.unwrap();
    engine.set_staff_active(&clerk.id, false).await.unwrap();
    assert!(engine.staff_session(&t4).await.unwrap().is_none(), "disabling ends sessions");
    assert!(matches!(
        engine.staff_login("clerk@example.com", "a brand new password", "10.0.0.1").await,
        Err(EngineError::Unauthorized)
    ));
    engine.set_staff_active(&clerk.id, true).await.unwrap();

    // Ten wrong guesses from one address lock that address out of this account, not the owner elsewhere.
    for _ in 0..engine::platform::passwords::MAX_FAILURES_PER_ACCOUNT {
        let _ = engine.staff_login("clerk@example.com", "guess guess", "203.0.113.9").await;
    }
    let e = engine.staff_login("clerk@example.com", "a brand new password", "203.0.113.9").await.unwrap_err();
    assert!(matches!(e, EngineError::RateLimited(_)), "{e}");
    engine.staff_login("clerk@example.com", "a brand new password", "10.0.0.1").await.expect("another device");
    app.assert_no_drift().await;
}
both!(staff_accounts_sessions_and_audit);
