//! `trek demo-target` serves the embedded demo target; `trek demo` starts it
//! on a free loopback port and runs the bundled journeys against it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::prepare::{print_diagnostics, Overrides};
use super::run::{combine, execute};
use super::{DemoArgs, DemoTargetArgs, RunArgs, EXIT_INVALID};
use crate::demo;
use crate::plan;
use crate::scenario::units::{parse_duration, parse_share};

/// The bundled journeys, embedded so `trek demo` works from any folder.
const BUNDLED: [(&str, &str); 3] = [
    (
        "smoke_endpoints.yaml",
        include_str!("../../scenarios/smoke_endpoints.yaml"),
    ),
    (
        "wikipro_journey.yaml",
        include_str!("../../scenarios/wikipro_journey.yaml"),
    ),
    (
        "ryze_modules.yaml",
        include_str!("../../scenarios/ryze_modules.yaml"),
    ),
];

fn config(args: &DemoTargetArgs) -> anyhow::Result<demo::Config> {
    use anyhow::Context;
    Ok(demo::Config {
        latency: parse_duration(&args.latency).context("--latency")?,
        jitter: parse_duration(&args.jitter).context("--jitter")?,
        error_rate: parse_share(&args.error_rate).context("--error-rate")?,
        first_token: parse_duration(&args.first_token).context("--first-token")?,
        token_delay: parse_duration(&args.token_delay).context("--token-delay")?,
        admin_password: args.admin_password.clone(),
    })
}

pub fn demo_target(args: &DemoTargetArgs) -> i32 {
    let config = match config(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("trek: {e:#}");
            return EXIT_INVALID;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("trek: cannot start: {e}");
            return 3;
        }
    };
    rt.block_on(async {
        let listener = match tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("trek: cannot listen on 127.0.0.1:{}: {e}", args.port);
                return 3;
            }
        };
        let addr = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        println!("trek demo target listening on http://{addr}");
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        match demo::serve(listener, config, shutdown).await {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("trek: demo target failed: {e}");
                3
            }
        }
    })
}

/// A demo target running on its own thread until dropped.
pub struct Background {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    pub fn start(config: demo::Config) -> std::io::Result<Self> {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("trek-demo-target".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = addr_tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = addr_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = addr_tx.send(listener.local_addr());
                    let _ = demo::serve(listener, config, async {
                        let _ = stop_rx.await;
                    })
                    .await;
                });
            })?;
        let addr = addr_rx
            .recv()
            .map_err(|_| std::io::Error::other("demo target thread died"))??;
        Ok(Self {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub fn demo(args: &DemoArgs) -> i32 {
    let target = match Background::start(demo::Config::default()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("trek: cannot start the demo target: {e}");
            return 3;
        }
    };
    let base = format!("http://{}", target.addr);
    eprintln!("trek: demo target listening on {base}");
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S").to_string();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(format!("demo-{stamp}")));
    let run_args = RunArgs {
        quiet: args.quiet,
        format: crate::report::Format::ALL.to_vec(),
        ..RunArgs::default()
    };
    let seed = args.seed.unwrap_or_else(rand::random);
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut codes = Vec::new();
    for (name, text) in BUNDLED {
        let path = folder.join(name);
        let options = plan::Options {
            seed,
            base_url: Some(base.clone()),
            maybe_defined: None,
        };
        let checked = plan::validate(crate::scenario::load_str(&path, text.to_string()), &options);
        let (Some(plan), false) = (
            checked.plan,
            checked.diagnostics.iter().any(|d| d.is_error()),
        ) else {
            print_diagnostics(&checked.diagnostics);
            codes.push(EXIT_INVALID);
            continue;
        };
        let warnings = checked.diagnostics;
        print_diagnostics(&warnings);
        let stem = name.trim_end_matches(".yaml");
        codes.push(execute(
            plan,
            &path,
            &run_args,
            &Overrides::default(),
            &out.join(stem),
        ));
    }
    drop(target);
    let code = combine(&codes);
    eprintln!("trek: demo finished; reports in {}", out.display());
    code
}
