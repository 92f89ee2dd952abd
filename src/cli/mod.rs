//! The command line: one subcommand per user task, each with its handler in
//! a file of its own. Handlers return the process exit code.

mod demo;
mod init;
mod k8s;
mod live;
mod merge;
mod part;
mod plan;
mod prepare;
mod report;
mod run;
mod schema;
mod validate;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Load testing for HTTP APIs: YAML user journeys, virtual users, HDR
/// latency, and SLO verdicts for CI.
#[derive(Debug, Parser)]
#[command(name = "trek", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenario files and judge the results against their SLOs.
    Run(RunArgs),
    /// Check scenario files without sending a request.
    Validate(ValidateArgs),
    /// Print the JSON Schema of scenario files (for editors) or of results.json.
    Schema(SchemaArgs),
    /// Write a commented starter scenario that runs against the demo target.
    Init(InitArgs),
    /// Print the compiled step graph: loads, SLOs, variables read and written.
    Plan(PlanArgs),
    /// Write every report (HTML, CSV, JUnit, Markdown) again from a results.json.
    Report(ReportArgs),
    /// Compare two results.json files step by step; exit 1 on a regression.
    Compare(CompareArgs),
    /// Add up the parts of a split test (`run --segment`), judge its SLOs
    /// once and write every report.
    Merge(MergeArgs),
    /// Write Kubernetes manifests that run a test split into parts (an
    /// Indexed Job) for `trek merge` to add up.
    K8s(K8sArgs),
    /// Start the embedded demo target and run the bundled journeys against it.
    Demo(DemoArgs),
    /// Serve the embedded demo target (WikiPro and Ryze APIs) until stopped.
    DemoTarget(DemoTargetArgs),
}

#[derive(Debug, Args, Clone, Default)]
pub struct RunArgs {
    /// Scenario files to run, one after the other.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Folder for results.json (default: reports/<file>-<time>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Seed of all fake and random data (default: random, and reported).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Base URL for relative request URLs (overrides the file's).
    #[arg(long, env = "TREK_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    /// Virtual users for every scenario (split by `weight` across scenarios).
    #[arg(long)]
    pub vus: Option<u64>,
    /// Run every scenario for this long (e.g. 30s, 2m).
    #[arg(long)]
    pub duration: Option<String>,
    /// Iterations per virtual user for every scenario.
    #[arg(long)]
    pub iterations: Option<u64>,
    /// Arrival rate for every scenario (e.g. 50/s).
    #[arg(long)]
    pub rate: Option<String>,
    /// Run each scenario once with one virtual user, printing every request;
    /// only checks and error rates are judged.
    #[arg(long)]
    pub smoke: bool,
    /// Treat a warning as a failure (exit 1).
    #[arg(long)]
    pub strict: bool,
    /// Print nothing while running (the summary is still printed).
    #[arg(long)]
    pub quiet: bool,
    /// Worker threads generating load (default: one per CPU core).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Formats to write (comma-separated; default: all). results.json is
    /// always written.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = crate::report::Format::ALL)]
    pub format: Vec<crate::report::Format>,
    /// A results.json to compare with: the top regressions go into
    /// summary.md and report.html.
    #[arg(long, value_name = "RESULTS")]
    pub baseline: Option<PathBuf>,
    /// Run part I (from 0) of N of the test: users, iterations and arrivals
    /// split so that the N parts add up to the whole. A part judges no SLO;
    /// `trek merge` adds the parts and judges them.
    #[arg(long, value_name = "I/N")]
    pub segment: Option<String>,
    /// Start the load at this instant (RFC 3339, e.g.
    /// 2026-12-03T18:00:00Z), after loading everything and running
    /// `setup`: how the parts of a split test start together.
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<String>,
    /// How late after --start-at the load may start; later, the run starts
    /// no load and exits 3.
    #[arg(long, value_name = "DURATION", default_value = "1s")]
    pub start_tolerance: String,
    /// Also print the part's result on stdout at the end (compressed, between
    /// marker lines) for `trek merge` to read from a log (Kubernetes pod
    /// logs).
    #[arg(long)]
    pub log_result: bool,
    /// Serve live metrics for Prometheus at http://ADDR/metrics while the
    /// run lasts (e.g. 127.0.0.1:9464; port 0 picks a free one, printed).
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<String>,
    /// How long the metrics endpoint stays up after the run, so that the
    /// last scrape sees the end.
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub metrics_linger: String,
    /// Push live metrics to a Prometheus remote write receiver (1.0,
    /// snappy protobuf; latency also as native histograms where accepted)
    /// every --remote-write-every, and once at the end. A receiver that is
    /// down is a warning, never a reason to stop.
    #[arg(long, value_name = "URL")]
    pub remote_write: Option<String>,
    /// How often --remote-write pushes.
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub remote_write_every: String,
    /// The `testid` label of every published series (default: the file's
    /// name and the start time).
    #[arg(long, value_name = "ID")]
    pub testid: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The results.json of a run.
    #[arg(value_name = "RESULTS")]
    pub results: PathBuf,
    /// Folder for the reports (default: the folder of RESULTS).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Formats to write (comma-separated; default: all). results.json is
    /// always written.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = crate::report::Format::ALL)]
    pub format: Vec<crate::report::Format>,
    /// A results.json to compare with.
    #[arg(long, value_name = "RESULTS")]
    pub baseline: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The results.json of the earlier run.
    #[arg(value_name = "BASE")]
    pub base: PathBuf,
    /// The results.json of the run to judge.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// A change that counts as a regression, e.g. `p95:+10%`, `p99:+50ms`,
    /// `error_rate:+1%`, `throughput:-10%` (repeatable; default: p95:+10%,
    /// p99:+20%, error_rate:+1%, throughput:-10%).
    #[arg(long = "fail-on", value_name = "METRIC:CHANGE")]
    pub fail_on: Vec<String>,
    /// Also write NEW's reports, with the comparison, into this folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The parts' results: results.json files, folders holding one, or logs
    /// of parts run with --log-result (`kubectl logs`).
    #[arg(required = true, value_name = "RESULT")]
    pub results: Vec<PathBuf>,
    /// Folder for the merged reports (default: reports/merged-<time>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Judge the parts present when some are missing or failed (the report
    /// says which); without it such a merge exits 3.
    #[arg(long)]
    pub allow_partial: bool,
    /// Treat a warning as a failure (exit 1).
    #[arg(long)]
    pub strict: bool,
    /// Formats to write (comma-separated; default: all). results.json is
    /// always written.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = crate::report::Format::ALL)]
    pub format: Vec<crate::report::Format>,
}

#[derive(Debug, Args)]
pub struct K8sArgs {
    /// The scenario file; it and every file it reads (includes, data,
    /// bodies, certificates) go into a ConfigMap (private keys into a
    /// Secret).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// How many parts (pods) to split the test into.
    #[arg(long)]
    pub parts: u64,
    /// The container image with trek as its entry point (see Dockerfile).
    #[arg(long)]
    pub image: String,
    /// Name of the Job (default: trek-<test name>).
    #[arg(long)]
    pub name: Option<String>,
    /// Namespace to put everything in (default: kubectl's).
    #[arg(long)]
    pub namespace: Option<String>,
    /// CPU cores per part: its request and its worker threads.
    #[arg(long, default_value_t = 1)]
    pub cpu: u64,
    /// When the parts start their load, as RFC 3339 (default: now plus
    /// --start-in).
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<String>,
    /// Without --start-at: how long after now the parts start (time to
    /// apply the manifests, pull the image and schedule the pods).
    #[arg(long, value_name = "DURATION", default_value = "2m")]
    pub start_in: String,
    /// How late a part may start; later, it runs nothing and fails its
    /// index.
    #[arg(long, value_name = "DURATION", default_value = "1s")]
    pub start_tolerance: String,
    /// Seed of all fake and random data (default: random, the same in
    /// every part).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Base URL for relative request URLs (kept in the Secret).
    #[arg(long, env = "TREK_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    /// Write the manifests here instead of to stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files to check.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Fail (exit 2) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Also warn when part I of N (`trek run --segment I/N`) would get no
    /// user or iteration of a scenario.
    #[arg(long, value_name = "I/N", conflicts_with = "parts")]
    pub segment: Option<String>,
    /// Also warn when any of N parts would get nothing to do.
    #[arg(long, value_name = "N")]
    pub parts: Option<u64>,
    /// `text` for people, `json` for tools (printed on stdout).
    #[arg(long, value_enum, default_value_t = ValidateFormat::Text)]
    pub format: ValidateFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ValidateFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Scenario files to draw.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// `text` (a tree), `mermaid` (renders in GitHub and GitLab Markdown) or
    /// `dot` (Graphviz).
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Base URL for relative URLs (as for `trek run`).
    #[arg(long, env = "TREK_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    Text,
    Mermaid,
    Dot,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The file to write (`.yaml` is added when missing).
    #[arg(value_name = "NAME")]
    pub name: PathBuf,
    /// What the starter shows.
    #[arg(long, value_enum, default_value_t = InitTemplate::Journey)]
    pub template: InitTemplate,
    /// Overwrite the file if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InitTemplate {
    /// Log in, a dashboard of parallel calls, log out; closed load with SLOs.
    Journey,
    /// Create, read, update, delete with fake data and checks on each answer.
    Crud,
    /// An AI answer streamed over SSE and WebSocket, judged on its first token.
    Streaming,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// What to print.
    #[arg(long, value_enum, default_value_t = SchemaKind::Scenario)]
    pub format: SchemaKind,
    /// Write the checked-in copies (schemas/*.json, docs/keys.md) under this
    /// folder instead of printing.
    #[arg(long, value_name = "DIR")]
    pub write: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaKind {
    /// The scenario file's schema.
    Scenario,
    /// The schema of results.json.
    Results,
    /// The key reference (Markdown), generated from the scenario schema.
    Reference,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder for the reports (default: reports/demo-<time>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Seed of all fake and random data.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print nothing while running.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct DemoTargetArgs {
    /// Port on 127.0.0.1 (0 picks a free one, printed at start).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Latency added to every response (e.g. 20ms).
    #[arg(long, default_value = "0ms")]
    pub latency: String,
    /// Random extra latency, uniform from zero to this.
    #[arg(long, default_value = "0ms")]
    pub jitter: String,
    /// Share of requests answered with 500 (e.g. 0.5%).
    #[arg(long, default_value = "0%")]
    pub error_rate: String,
    /// Streamed AI chat: delay before the first token.
    #[arg(long, default_value = "150ms")]
    pub first_token: String,
    /// Streamed AI chat: delay between tokens.
    #[arg(long, default_value = "20ms")]
    pub token_delay: String,
    /// The password of each tenant's admin (`admin@TENANT.test`), who may
    /// use the admin routes (shared library, stats).
    #[arg(long, env = "WIKIPRO_ADMIN_PASSWORD", default_value = crate::demo::DEFAULT_ADMIN_PASSWORD, hide_env_values = true)]
    pub admin_password: String,
}

/// Runs the command and returns the exit code.
pub fn dispatch(cli: Cli) -> i32 {
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Validate(args) => validate::validate(&args),
        Command::Schema(args) => schema::schema(&args),
        Command::Init(args) => init::init(&args),
        Command::Plan(args) => plan::plan(&args),
        Command::Report(args) => report::report(&args),
        Command::Compare(args) => report::compare(&args),
        Command::Merge(args) => merge::merge(&args),
        Command::K8s(args) => k8s::k8s(&args),
        Command::Demo(args) => demo::demo(&args),
        Command::DemoTarget(args) => demo::demo_target(&args),
    }
}

/// Exit code of an invalid scenario file or command line.
pub const EXIT_INVALID: i32 = 2;
/// The run's results (or a report asked for) could not be written.
pub const EXIT_UNWRITTEN: i32 = 4;

/// Whether to colour output on stdout / stderr.
pub fn color_stdout() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

pub fn color_stderr() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}
