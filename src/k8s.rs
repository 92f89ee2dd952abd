//! Kubernetes manifests that run a test split into parts: a ConfigMap with
//! the scenario and every file it reads (private keys in a Secret), and an
//! Indexed Job whose completion index is the part (`--segment
//! $(JOB_COMPLETION_INDEX)/N`), every part starting at one instant. Each
//! part prints its result into its log (`--log-result`), from where `trek
//! merge` reads it. Pure: the command gathers the inputs, this writes YAML.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use yaml_rust2::yaml::Hash;
use yaml_rust2::{Yaml, YamlEmitter};

/// Where the test's files are mounted in a part's container (its working
/// folder), and where a part writes its reports.
pub const TEST_DIR: &str = "/trek/test";
pub const OUT_DIR: &str = "/tmp/trek";

/// The most a ConfigMap (and a Secret) may hold.
pub const MAX_CONFIG_BYTES: usize = 1 << 20;

/// Memory of a part besides its users, and per user at its peak: from the
/// measured 3.8 KB (idle http), 13.7 KB (idle https) and 39 KB (WebSocket)
/// per user (bench/RESULTS.md), with room for bodies in flight.
pub const BASE_MEMORY_MIB: u64 = 64;
pub const MEMORY_PER_USER_KIB: u64 = 64;

/// A file to ship beside the scenario.
#[derive(Debug, Clone)]
pub struct Shipped {
    /// Its path relative to the scenario's folder (`/`-separated).
    pub path: String,
    pub bytes: Vec<u8>,
    /// A private key: into the Secret.
    pub secret: bool,
}

/// Everything the manifests say.
#[derive(Debug, Clone)]
pub struct Manifests {
    /// The Job's name (and the prefix of the others').
    pub name: String,
    pub namespace: Option<String>,
    pub image: String,
    pub parts: u64,
    /// The scenario, relative to the mounted folder.
    pub scenario: String,
    pub files: Vec<Shipped>,
    /// `trek run` options every part gets (`--start-at`, `--seed`…).
    pub run_args: Vec<String>,
    /// Environment variables from the Secret (name, value): what may hold
    /// a password, as the base URL.
    pub secret_env: Vec<(String, String)>,
    /// CPU cores per part (also its `--workers`).
    pub cpu: u64,
    /// The most virtual users one part runs at once.
    pub peak_users: u64,
    /// What the manifests were made from (a comment at the top).
    pub made_from: String,
}

/// A Kubernetes name (RFC 1123 label, at most `max` characters) from any
/// text.
pub fn name_of(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out: String = out.trim_matches('-').chars().take(max).collect();
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "test".into()
    } else {
        out
    }
}

/// A file's path relative to `folder`, `/`-separated; `None` when it lies
/// outside it (a ConfigMap's paths may not climb with `..`).
pub fn relative(folder: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(folder).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            std::path::Component::CurDir => Some(String::new()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let parts: Vec<String> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Lexically simplified (`a/./b/../c` → `a/c`), for comparing folders.
pub fn tidy(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn s(text: &str) -> Yaml {
    Yaml::String(text.to_string())
}

fn i(n: u64) -> Yaml {
    Yaml::Integer(n as i64)
}

fn map(entries: Vec<(&str, Yaml)>) -> Yaml {
    let mut h = Hash::new();
    for (k, v) in entries {
        h.insert(s(k), v);
    }
    Yaml::Hash(h)
}

fn list(items: Vec<Yaml>) -> Yaml {
    Yaml::Array(items)
}

impl Manifests {
    fn labels(&self) -> Yaml {
        map(vec![
            ("app.kubernetes.io/name", s("trek")),
            ("app.kubernetes.io/instance", s(&self.name)),
        ])
    }

    fn metadata(&self, name: &str) -> Yaml {
        let mut m = vec![("name", s(name))];
        if let Some(ns) = &self.namespace {
            m.push(("namespace", s(ns)));
        }
        m.push(("labels", self.labels()));
        map(m)
    }

    /// The ConfigMap key of the `n`-th shipped file (keys may not hold `/`).
    fn key(n: usize, path: &str) -> String {
        let tail = path.rsplit('/').next().unwrap_or(path);
        let clean: String = tail
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-._".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("f{n}-{clean}")
    }

    /// The keys' contents of the ConfigMap or the Secret, with the items that
    /// put each at its path; `Err` when they are too large.
    fn store(&self, secret: bool) -> Result<(Yaml, Yaml, Vec<Yaml>), String> {
        let mut text = Hash::new();
        let mut binary = Hash::new();
        let mut items = Vec::new();
        let mut total = 0;
        for (n, f) in self
            .files
            .iter()
            .enumerate()
            .filter(|(_, f)| f.secret == secret)
        {
            let key = Self::key(n, &f.path);
            total += f.bytes.len();
            match (secret, std::str::from_utf8(&f.bytes)) {
                (false, Ok(t)) => {
                    text.insert(s(&key), s(t));
                }
                _ => {
                    let b64 = base64::engine::general_purpose::STANDARD.encode(&f.bytes);
                    binary.insert(s(&key), Yaml::String(b64));
                }
            }
            items.push(map(vec![("key", s(&key)), ("path", s(&f.path))]));
        }
        if total > MAX_CONFIG_BYTES * 9 / 10 {
            return Err(format!(
                "the scenario and its files take {:.2} MB: a Kubernetes {} holds at most 1 MiB; build an image with the large data files in it (FROM your trek image) and leave them out of the test folder, or mount them from a volume",
                total as f64 / 1e6,
                if secret { "Secret" } else { "ConfigMap" }
            ));
        }
        Ok((Yaml::Hash(text), Yaml::Hash(binary), items))
    }

    /// The Secret's key of an environment variable.
    fn env_key(name: &str) -> String {
        format!("env-{}", name.to_ascii_lowercase().replace('_', "-"))
    }

    /// Memory a part asks for, in MiB.
    pub fn memory_mib(&self) -> u64 {
        BASE_MEMORY_MIB + (self.peak_users * MEMORY_PER_USER_KIB).div_ceil(1024)
    }

    /// The container's arguments (after the image's `trek` entry point).
    pub fn args(&self) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "run".into(),
            self.scenario.clone(),
            "--segment".into(),
            format!("$(JOB_COMPLETION_INDEX)/{}", self.parts),
        ];
        args.extend(self.run_args.iter().cloned());
        args.extend([
            "--workers".into(),
            self.cpu.to_string(),
            "--out".into(),
            format!("{OUT_DIR}/results"),
            "--quiet".into(),
            "--log-result".into(),
        ]);
        args
    }

    /// The manifests, as one YAML stream.
    pub fn render(&self) -> Result<String, String> {
        let config = format!("{}-files", self.name);
        let keys = format!("{}-keys", self.name);
        let (text, binary, items) = self.store(false)?;
        let (_, secret_data, secret_items) = self.store(true)?;
        let mut secret_data = secret_data;
        if let Yaml::Hash(h) = &mut secret_data {
            for (name, value) in &self.secret_env {
                let b64 = base64::engine::general_purpose::STANDARD.encode(value);
                h.insert(s(&Self::env_key(name)), Yaml::String(b64));
            }
        }
        let mut docs = Vec::new();
        let mut cm = vec![
            ("apiVersion", s("v1")),
            ("kind", s("ConfigMap")),
            ("metadata", self.metadata(&config)),
            ("data", text),
        ];
        if matches!(&binary, Yaml::Hash(h) if !h.is_empty()) {
            cm.push(("binaryData", binary));
        }
        docs.push(map(cm));
        let mut sources = vec![map(vec![(
            "configMap",
            map(vec![("name", s(&config)), ("items", list(items))]),
        )])];
        if !secret_items.is_empty() || !self.secret_env.is_empty() {
            docs.push(map(vec![
                ("apiVersion", s("v1")),
                ("kind", s("Secret")),
                ("metadata", self.metadata(&keys)),
                ("type", s("Opaque")),
                ("data", secret_data),
            ]));
            if !secret_items.is_empty() {
                sources.push(map(vec![(
                    "secret",
                    map(vec![("name", s(&keys)), ("items", list(secret_items))]),
                )]));
            }
        }
        docs.push(self.job(sources));
        let mut out = String::new();
        let _ = writeln!(out, "# {}", self.made_from);
        let _ = writeln!(
            out,
            "# Apply, wait, collect each part's log, merge (docs/distributed.md):"
        );
        let _ = writeln!(out, "#   kubectl apply -f THIS_FILE");
        let _ = writeln!(
            out,
            "#   until kubectl get job/{} -o jsonpath='{{.status.conditions[?(@.status==\"True\")].type}}' | grep -qE 'Complete|Failed'; do sleep 10; done",
            self.name
        );
        let _ = writeln!(
            out,
            "#   for i in $(seq 0 {}); do kubectl logs --tail=-1 -l batch.kubernetes.io/job-name={},batch.kubernetes.io/job-completion-index=$i > part-$i.log; done",
            self.parts - 1,
            self.name
        );
        let _ = writeln!(out, "#   trek merge part-*.log --out merged");
        for doc in &docs {
            let mut text = String::new();
            let mut e = YamlEmitter::new(&mut text);
            e.multiline_strings(true);
            e.dump(doc)
                .map_err(|e| format!("cannot write the manifests: {e}"))?;
            out.push_str(&text);
            out.push('\n');
        }
        Ok(out)
    }

    fn job(&self, sources: Vec<Yaml>) -> Yaml {
        let memory = self.memory_mib();
        let keys = format!("{}-keys", self.name);
        let env: Vec<Yaml> = self
            .secret_env
            .iter()
            .map(|(name, _)| {
                let from = map(vec![("name", s(&keys)), ("key", s(&Self::env_key(name)))]);
                map(vec![
                    ("name", s(name)),
                    ("valueFrom", map(vec![("secretKeyRef", from)])),
                ])
            })
            .collect();
        let mut container = vec![
            ("name", s("trek")),
            ("image", s(&self.image)),
            ("workingDir", s(TEST_DIR)),
            ("args", list(self.args().iter().map(|a| s(a)).collect())),
        ];
        if !env.is_empty() {
            container.push(("env", list(env)));
        }
        container.extend([
            (
                "resources",
                map(vec![
                    (
                        "requests",
                        map(vec![
                            ("cpu", s(&self.cpu.to_string())),
                            ("memory", s(&format!("{memory}Mi"))),
                        ]),
                    ),
                    // No CPU limit: throttling would show as latency.
                    (
                        "limits",
                        map(vec![("memory", s(&format!("{}Mi", memory * 2)))]),
                    ),
                ]),
            ),
            (
                "securityContext",
                map(vec![
                    ("allowPrivilegeEscalation", Yaml::Boolean(false)),
                    ("readOnlyRootFilesystem", Yaml::Boolean(true)),
                    ("capabilities", map(vec![("drop", list(vec![s("ALL")]))])),
                ]),
            ),
            (
                "volumeMounts",
                list(vec![
                    map(vec![
                        ("name", s("test")),
                        ("mountPath", s(TEST_DIR)),
                        ("readOnly", Yaml::Boolean(true)),
                    ]),
                    map(vec![("name", s("out")), ("mountPath", s(OUT_DIR))]),
                ]),
            ),
        ]);
        let container = map(container);
        let pod = map(vec![
            ("restartPolicy", s("Never")),
            (
                "securityContext",
                map(vec![
                    ("runAsNonRoot", Yaml::Boolean(true)),
                    ("runAsUser", i(10001)),
                    ("runAsGroup", i(10001)),
                ]),
            ),
            ("containers", list(vec![container])),
            (
                "volumes",
                list(vec![
                    map(vec![
                        ("name", s("test")),
                        ("projected", map(vec![("sources", list(sources))])),
                    ]),
                    map(vec![("name", s("out")), ("emptyDir", map(vec![]))]),
                ]),
            ),
        ]);
        let exit_codes = |action: &str, codes: &[u64]| {
            map(vec![
                ("action", s(action)),
                (
                    "onExitCodes",
                    map(vec![
                        ("containerName", s("trek")),
                        ("operator", s("In")),
                        ("values", list(codes.iter().map(|c| i(*c)).collect())),
                    ]),
                ),
            ])
        };
        let spec = map(vec![
            ("completionMode", s("Indexed")),
            ("completions", i(self.parts)),
            ("parallelism", i(self.parts)),
            // A part is never retried: a retry would miss the start.
            ("backoffLimitPerIndex", i(0)),
            (
                "podFailurePolicy",
                map(vec![(
                    "rules",
                    list(vec![
                        // An invalid scenario or command line fails every
                        // part alike: stop the whole Job.
                        exit_codes("FailJob", &[2]),
                        // Aborted (too late for --start-at, target
                        // unreachable, stopped): this part failed, the
                        // others go on (`trek merge --allow-partial`).
                        exit_codes("FailIndex", &[3, 4]),
                        // Evicted or preempted: not the part's fault; its
                        // retry runs only if still within the tolerance.
                        map(vec![
                            ("action", s("Ignore")),
                            (
                                "onPodConditions",
                                list(vec![map(vec![
                                    ("type", s("DisruptionTarget")),
                                    ("status", s("True")),
                                ])]),
                            ),
                        ]),
                    ]),
                )]),
            ),
            (
                "template",
                map(vec![
                    ("metadata", map(vec![("labels", self.labels())])),
                    ("spec", pod),
                ]),
            ),
        ]);
        map(vec![
            ("apiVersion", s("batch/v1")),
            ("kind", s("Job")),
            ("metadata", self.metadata(&self.name)),
            ("spec", spec),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths_are_what_kubernetes_accepts() {
        assert_eq!(name_of("Checkout: 1M req/s!", 40), "checkout-1m-req-s");
        assert_eq!(name_of("---", 40), "test");
        assert_eq!(name_of("a".repeat(80).as_str(), 40).len(), 40);
        let folder = Path::new("/t/tests");
        assert_eq!(
            relative(folder, Path::new("/t/tests/data/users.csv")).as_deref(),
            Some("data/users.csv")
        );
        assert_eq!(
            relative(folder, &tidy(Path::new("/t/tests/../x.csv"))),
            None
        );
        assert_eq!(Manifests::key(3, "data/us ers.csv"), "f3-us_ers.csv");
    }

    #[test]
    fn large_files_are_refused_with_the_way_out() {
        let m = Manifests {
            name: "trek-t".into(),
            namespace: None,
            image: "trek:1".into(),
            parts: 2,
            scenario: "t.yaml".into(),
            files: vec![Shipped {
                path: "big.csv".into(),
                bytes: vec![b'a'; 2 << 20],
                secret: false,
            }],
            run_args: Vec::new(),
            secret_env: Vec::new(),
            cpu: 1,
            peak_users: 1000,
            made_from: String::new(),
        };
        let e = m.render().unwrap_err();
        assert!(e.contains("1 MiB") && e.contains("image"), "{e}");
        assert_eq!(m.memory_mib(), 64 + 63);
    }
}
