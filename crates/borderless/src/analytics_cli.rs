//! `borderless analytics …`: the shop's analytics offline, from its database — any question as the API
//! answers it (`ask`), and the Parquet export of raw events and daily rollups (`export`), written to a
//! temporary directory beside the target and renamed into place only when complete.

use crate::{db_config, DbArgs};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use engine::insight::Ask;
use node::app;
use std::path::{Path, PathBuf};

#[derive(Args, Clone)]
pub(crate) struct Period {
    /// First local day, YYYY-MM-DD (default: six days before --to).
    #[arg(long)]
    from: Option<String>,
    /// Last local day included, YYYY-MM-DD (default: today).
    #[arg(long)]
    to: Option<String>,
    /// Raise the k-anonymity threshold (cells of fewer distinct shoppers show no figures; default 5).
    #[arg(long)]
    k: Option<u32>,
}

#[derive(Subcommand)]
pub(crate) enum AnalyticsCmd {
    /// Answer one question and print the API's JSON answer (the same as GET /admin/analytics/<question>):
    /// dwell, instore-funnel, online-funnel, journeys, traffic, channel-mix, repeat, stockouts, heatmap.
    /// Example: borderless analytics ask dwell --level facing --by hour --from 2026-12-04 --to 2026-12-05
    Ask {
        #[command(flatten)]
        db: DbArgs,
        question: String,
        #[command(flatten)]
        period: Period,
        /// A location id (dwell, instore-funnel, traffic, channel-mix, stockouts; required by heatmap).
        #[arg(long)]
        location: Option<String>,
        /// tier, age_band, visitor, home_store or preferred_channel.
        #[arg(long)]
        segment: Option<String>,
        /// dwell: zone, shelf or facing.
        #[arg(long)]
        level: Option<String>,
        /// dwell: hour and/or weekday, comma-separated; instore-funnel: product, category or zone.
        #[arg(long)]
        by: Option<String>,
        /// instore-funnel and journeys: the dwell that counts as interest, in seconds (default 5).
        #[arg(long)]
        min_dwell_s: Option<i64>,
        /// journeys: days between the two steps (default 7).
        #[arg(long)]
        within_days: Option<i64>,
        /// online-funnel: break down by device.
        #[arg(long)]
        device: bool,
    },
    /// Write raw events (shoppers, customers, visits and orders as pseudonyms made for this export only)
    /// and daily rollups under the k rule as Parquet, partitioned by local day: OUT/events/day=…/part-0.parquet,
    /// OUT/rollups/<name>/day=…/part-0.parquet, OUT/manifest.json. Read them with DuckDB:
    /// SELECT kind, count(*) FROM read_parquet('OUT/events/*/*.parquet', hive_partitioning = true) GROUP BY kind
    Export {
        #[command(flatten)]
        db: DbArgs,
        /// The directory to create (it must not exist yet, or be empty).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        period: Period,
    },
}

async fn engine(db: &DbArgs) -> Result<engine::Engine> {
    let cfg = db_config(db);
    let db = tokio::task::spawn_blocking(move || app::open_existing_db(&cfg)).await??;
    Ok(engine::Engine::new(db, Default::default(), std::sync::Arc::new(engine::SystemClock)))
}

fn check_out(out: &Path) -> Result<()> {
    if out.exists() {
        let empty = out.is_dir() && std::fs::read_dir(out).map(|mut d| d.next().is_none()).unwrap_or(false);
        if !empty {
            bail!(
                "{} exists and is not an empty directory; name a new one (an export never overwrites)",
                out.display()
            );
        }
    }
    Ok(())
}

pub(crate) async fn run(cmd: AnalyticsCmd) -> Result<i32> {
    match cmd {
        AnalyticsCmd::Ask { db, question, period, location, segment, level, by, min_dwell_s, within_days, device } => {
            let e = engine(&db).await?;
            e.insight_catch_up().await.context("reading new events into the analytics")?;
            let a = Ask { from: period.from, to: period.to, location_id: location, segment, k: period.k };
            let v = match question.as_str() {
                "dwell" => serde_json::to_value(e.analytics_dwell(a, level, by).await?)?,
                "instore-funnel" => serde_json::to_value(e.analytics_instore_funnel(a, by, min_dwell_s).await?)?,
                "online-funnel" => serde_json::to_value(e.analytics_online_funnel(a, device).await?)?,
                "journeys" => serde_json::to_value(e.analytics_journeys(a, within_days, min_dwell_s, None).await?)?,
                "traffic" => serde_json::to_value(e.analytics_traffic(a).await?)?,
                "channel-mix" => serde_json::to_value(e.analytics_channel_mix(a).await?)?,
                "repeat" => serde_json::to_value(e.analytics_repeat(a).await?)?,
                "stockouts" => serde_json::to_value(e.analytics_stockouts(a).await?)?,
                "heatmap" => serde_json::to_value(e.analytics_heatmap(a).await?)?,
                other => bail!(
                    "`{other}` is not a question; ask one of dwell, instore-funnel, online-funnel, journeys, traffic, channel-mix, repeat, stockouts, heatmap"
                ),
            };
            println!("{v}");
            Ok(0)
        }
        AnalyticsCmd::Export { db, out, period } => {
            check_out(&out)?;
            let e = engine(&db).await?;
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar.set_message("reading the analytics events and writing Parquet");
            let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
            let tmp = parent.join(format!(
                ".{}.tmp-{}",
                out.file_name().and_then(|n| n.to_str()).unwrap_or("export"),
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&tmp);
            // Each file is written as it is made, into a directory that becomes the export only when
            // every file is there.
            let sink = engine::insight::dir_sink(tmp.clone());
            let exported = e
                .analytics_export(
                    Ask { from: period.from, to: period.to, location_id: None, segment: None, k: period.k },
                    sink,
                )
                .await;
            let write = || -> Result<(usize, usize, usize)> {
                let files = exported?;
                let rows = files.iter().filter(|f| f.path.starts_with("events/")).map(|f| f.rows).sum();
                let bytes = files.iter().map(|f| f.bytes).sum();
                if out.exists() {
                    std::fs::remove_dir(&out)?;
                }
                std::fs::rename(&tmp, &out)
                    .with_context(|| format!("cannot move the export into {}", out.display()))?;
                Ok((files.len(), rows, bytes))
            };
            let done = write();
            bar.finish_and_clear();
            match done {
                Ok((files, rows, bytes)) => {
                    eprintln!(
                        "exported {rows} events in {files} files ({:.1} MiB) to {}",
                        bytes as f64 / 1_048_576.0,
                        out.display()
                    );
                    Ok(0)
                }
                Err(err) => {
                    let _ = std::fs::remove_dir_all(&tmp);
                    Err(err.context("the export was not written (nothing half-written is left)"))
                }
            }
        }
    }
}
