//! `trek run --metrics-listen ADDR --remote-write URL [--testid ID]`: the
//! live metrics of a run, served while it lasts and a little after
//! (`--metrics-linger`), and pushed to a remote write receiver.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::RunArgs;
use crate::live::scrape::Endpoint;
use crate::live::{Board, Bound, Identity, StepLabels};
use crate::plan::{Plan, StepKindTag};
use crate::run::remote_write::RemoteWrite;
use crate::run::segment::Segment;
use crate::scenario::units::parse_duration;

/// The shortest --remote-write-every.
const MIN_EVERY: Duration = Duration::from_secs(1);

/// The checked options.
#[derive(Debug, Clone)]
pub struct Options {
    pub listen: Option<SocketAddr>,
    pub linger: Duration,
    pub remote_write: Option<Url>,
    pub every: Duration,
}

impl Options {
    /// `None` without `--metrics-listen` or `--remote-write`.
    pub fn of(args: &RunArgs) -> Result<Option<Self>, String> {
        if args.metrics_listen.is_none() && args.remote_write.is_none() {
            return Ok(None);
        }
        let listen = match &args.metrics_listen {
            Some(text) => Some(text.trim().parse().map_err(|_| {
                format!("--metrics-listen `{text}` is not an address: write HOST:PORT, e.g. 127.0.0.1:9464 (port 0 picks a free one)")
            })?),
            None => None,
        };
        let remote_write = match &args.remote_write {
            Some(text) => {
                let shown = crate::redact::hide_userinfo(text.clone());
                let url = Url::parse(text.trim()).map_err(|e| {
                    format!("--remote-write `{shown}` is not a URL ({e}): write e.g. http://127.0.0.1:9090/api/v1/write")
                })?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(format!(
                        "--remote-write `{shown}`: only http:// and https:// receivers"
                    ));
                }
                Some(url)
            }
            None => None,
        };
        let linger =
            parse_duration(&args.metrics_linger).map_err(|e| format!("--metrics-linger: {e}"))?;
        let every = parse_duration(&args.remote_write_every)
            .map_err(|e| format!("--remote-write-every: {e}"))?;
        if every < MIN_EVERY {
            return Err("--remote-write-every: at least 1s".into());
        }
        Ok(Some(Self {
            listen,
            linger,
            remote_write,
            every,
        }))
    }
}

/// A run's metrics being served and pushed.
pub struct Publishing {
    endpoint: Option<Endpoint>,
    pusher: Option<RemoteWrite>,
    linger: Duration,
}

impl Publishing {
    /// Serves a board for `plan` at the address asked for, and says where;
    /// starts pushing it.
    pub fn start(
        options: &Options,
        args: &RunArgs,
        plan: &Plan,
        file: &Path,
        segment: Segment,
    ) -> Result<(Arc<Board>, Self), String> {
        let testid = args.testid.clone().unwrap_or_else(|| {
            let stem = file
                .file_stem()
                .map_or("run".into(), |s| s.to_string_lossy().into_owned());
            format!("{stem}-{}", chrono::Local::now().format("%Y%m%d-%H%M%S"))
        });
        let identity = Identity {
            testid: testid.clone(),
            segment: segment.to_string(),
        };
        let steps = plan
            .steps
            .iter()
            .map(|s| StepLabels {
                scenario: s.owner(plan).to_string(),
                step: s.name.clone(),
                request: s.kind != StepKindTag::Group,
            })
            .collect();
        let scenarios = plan.scenarios.iter().map(|s| s.name.clone()).collect();
        let bounds = crate::verdict::slo_defs(plan)
            .into_iter()
            .map(|d| Bound {
                scope: d.scope,
                metric: d.metric,
                series: d.series.unwrap_or_default(),
                stat: d.stat.unwrap_or_default(),
                target: d.target,
                critical: d.critical,
            })
            .collect();
        let native = options.remote_write.is_some();
        let monitors = plan
            .monitors
            .iter()
            .flat_map(|m| m.series.iter().map(|(s, _)| (m.name.clone(), s.clone())))
            .collect();
        let board = Board::new(identity, scenarios, steps, bounds, native, monitors);
        let endpoint = match options.listen {
            Some(listen) => {
                let endpoint = Endpoint::start(listen, board.clone())
                    .map_err(|e| format!("--metrics-listen {listen}: cannot listen: {e}"))?;
                eprintln!(
                    "trek: live metrics at http://{}/metrics (testid {testid})",
                    endpoint.addr
                );
                Some(endpoint)
            }
            None => None,
        };
        let pusher = match &options.remote_write {
            Some(url) => {
                let pusher = RemoteWrite::start(url.clone(), options.every, board.clone())
                    .map_err(|e| format!("--remote-write: cannot start: {e}"))?;
                eprintln!(
                    "trek: pushing live metrics to {} every {} (testid {testid})",
                    crate::redact::hide_userinfo(url.to_string()),
                    crate::format::format_secs(options.every.as_secs_f64())
                );
                Some(pusher)
            }
            None => None,
        };
        Ok((
            board,
            Self {
                endpoint,
                pusher,
                linger: options.linger,
            },
        ))
    }

    /// The final push, once the run has ended: the warning to give when
    /// pushes failed.
    pub fn final_push(&mut self) -> Option<String> {
        let pusher = self.pusher.take()?;
        let url = pusher.url().clone();
        pusher.finish().warning(&url)
    }

    /// Keeps serving for the linger, then stops.
    pub fn finish(mut self) {
        let _ = self.final_push();
        if let Some(endpoint) = self.endpoint.take() {
            endpoint.stop_after(self.linger);
        }
    }
}
