//! `trek run --metrics-listen ADDR [--testid ID]`: the live metrics of a
//! run, served while it lasts and a little after (`--metrics-linger`).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::RunArgs;
use crate::live::scrape::Endpoint;
use crate::live::{Board, Bound, Identity, StepLabels};
use crate::plan::{Plan, StepKindTag};
use crate::run::segment::Segment;
use crate::scenario::units::parse_duration;

/// The checked options.
#[derive(Debug, Clone)]
pub struct Options {
    pub listen: SocketAddr,
    pub linger: Duration,
}

impl Options {
    /// `None` without `--metrics-listen`.
    pub fn of(args: &RunArgs) -> Result<Option<Self>, String> {
        let Some(text) = &args.metrics_listen else {
            return Ok(None);
        };
        let listen = text.trim().parse().map_err(|_| {
            format!("--metrics-listen `{text}` is not an address: write HOST:PORT, e.g. 127.0.0.1:9464 (port 0 picks a free one)")
        })?;
        let linger =
            parse_duration(&args.metrics_linger).map_err(|e| format!("--metrics-linger: {e}"))?;
        Ok(Some(Self { listen, linger }))
    }
}

/// A run's metrics being served.
pub struct Publishing {
    endpoint: Endpoint,
    linger: Duration,
}

impl Publishing {
    /// Serves a board for `plan` at the address asked for, and says where.
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
                stat: d.stat.unwrap_or_default(),
                target: d.target,
                critical: d.critical,
            })
            .collect();
        let board = Board::new(identity, scenarios, steps, bounds);
        let endpoint = Endpoint::start(options.listen, board.clone())
            .map_err(|e| format!("--metrics-listen {}: cannot listen: {e}", options.listen))?;
        eprintln!(
            "trek: live metrics at http://{}/metrics (testid {testid})",
            endpoint.addr
        );
        Ok((
            board,
            Self {
                endpoint,
                linger: options.linger,
            },
        ))
    }

    /// Keeps serving for the linger, then stops.
    pub fn finish(self) {
        self.endpoint.stop_after(self.linger);
    }
}
