//! Metrics: per-worker recorders of HDR histograms and counters, merged into
//! a per-second timeline while the run goes and into a summary at the end.

pub mod exact;
pub mod excerpt;
pub mod health;
pub mod hist;
pub mod monitor;
pub mod quantile;
pub mod recorder;
pub mod since;
pub mod summary;

pub use hist::Stats;
pub use recorder::{IterationEnd, Recorder, Sample};
pub use summary::{Collector, Summary};
