//! The storage backends' own guarantees: a failing job in a group commit rolls back alone, a panicking job
//! does not stop the database thread, and writes are visible to readers after they are acknowledged.

use store::{params, Db, DbError, DbErrorKind, DbOptions};

fn temp_db() -> (Db, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("borderless-store-test-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = Db::open(&format!("sqlite:{}", dir.join("t.db").display()), &DbOptions::default()).unwrap();
    (db, dir)
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failing_jobs_in_a_group_commit_roll_back_alone() {
    let (db, dir) = temp_db();
    let mut tasks = Vec::new();
    for i in 0..300i64 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            db.write(move |tx| {
                tx.exec("INSERT INTO meta (key, value) VALUES (?, ?)", params![format!("k{i}"), "v"])?;
                if i % 3 == 0 {
                    return Err(DbError::new(DbErrorKind::Other, "refused"));
                }
                Ok(i)
            })
            .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap().is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 200);
    let n =
        db.read(|tx| -> Result<i64, DbError> { tx.query_one("SELECT COUNT(*) FROM meta", &[])?.i64(0) }).await.unwrap();
    assert_eq!(n, 200, "exactly the successful jobs' rows were committed");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_job_does_not_stop_the_writer() {
    let (db, dir) = temp_db();
    let r: Result<(), DbError> = db
        .write(|tx| {
            tx.exec("INSERT INTO meta (key, value) VALUES ('a', 'b')", &[])?;
            panic!("bug in a use case");
        })
        .await;
    assert!(r.is_err());
    db.write(|tx| -> Result<(), DbError> {
        tx.exec("INSERT INTO meta (key, value) VALUES ('c', 'd')", &[])?;
        Ok(())
    })
    .await
    .expect("the writer still works");
    let keys = db
        .read(|tx| -> Result<Vec<String>, DbError> {
            tx.query("SELECT key FROM meta ORDER BY key", &[])?.iter().map(|r| r.text(0)).collect()
        })
        .await
        .unwrap();
    assert_eq!(keys, vec!["c".to_owned()], "the panicking job's insert was rolled back");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn constraint_errors_are_classified() {
    let (db, dir) = temp_db();
    db.write_blocking(|tx| -> Result<(), DbError> {
        tx.exec("INSERT INTO meta (key, value) VALUES ('x', 'y')", &[]).map(|_| ())
    })
    .unwrap();
    let e = db
        .write_blocking(|tx| -> Result<(), DbError> {
            tx.exec("INSERT INTO meta (key, value) VALUES ('x', 'z')", &[]).map(|_| ())
        })
        .unwrap_err();
    assert_eq!(e.kind, DbErrorKind::UniqueViolation);
    let e = db
        .write_blocking(|tx| -> Result<(), DbError> {
            tx.exec("INSERT INTO meta (key, value) VALUES ('n', NULL)", &[]).map(|_| ())
        })
        .unwrap_err();
    assert_eq!(e.kind, DbErrorKind::ConstraintViolation);
    let _ = std::fs::remove_dir_all(dir);
}
