//! `trek k8s`: the manifests validate against the Kubernetes 1.33 schemas
//! (PyPI `kubernetes-validate`, installed by scripts/test), and each index's
//! container command, run here as the Job would run it (the ConfigMap's and
//! Secret's files at the mount, `JOB_COMPLETION_INDEX` set, stdout and
//! stderr as the pod's log), yields logs that `trek merge` adds up to a
//! pass. The Dockerfile keeps what the manifests count on.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use base64::Engine;
use common::journal::{journal, Answer};
use common::{code, text, trek, wait_with_timeout, Scratch};
use yaml_rust2::{Yaml, YamlLoader};

const PARTS: usize = 3;

fn validator() -> PathBuf {
    let python = std::env::var("TREK_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let bin = Path::new(&python).with_file_name("kubernetes-validate");
    assert!(
        bin.exists(),
        "{} is missing: run scripts/test, which installs kubernetes-validate",
        bin.display()
    );
    bin
}

/// A test with an include, a data file and a binary body: all must travel.
fn write_test(scratch: &Scratch) -> PathBuf {
    scratch.file(
        "lib/common.yaml",
        "fragments:\n  hello:\n    - name: hello\n      get: \"/hello?row={{ users.n }}\"\n      expect: { status: 200 }\n",
    );
    scratch.file("data/users.csv", "n\n1\n2\n3\n4\n5\n6\n7\n8\n");
    std::fs::create_dir_all(scratch.dir.path().join("files")).unwrap();
    std::fs::write(
        scratch.dir.path().join("files/blob.bin"),
        [0u8, 159, 146, 150, 255],
    )
    .unwrap();
    scratch.file(
        "t.yaml",
        "version: 1\nname: K8s parts\nbase_url: http://127.0.0.1:9\ninclude: [ lib/common.yaml ]\ndata:\n  users: { file: data/users.csv, order: unique }\nload: { executor: per-vu-iterations, vus: 3, iterations: 2 }\nsteps:\n  - use: hello\n  - { name: upload, post: /upload, body_file: files/blob.bin, expect: { status: 200 } }\nslo:\n  error_rate: 1%\n  latency: { p95: 2s }\n",
    )
}

fn docs(path: &Path) -> Vec<Yaml> {
    YamlLoader::load_from_str(&std::fs::read_to_string(path).unwrap()).expect("YAML")
}

fn kind<'a>(docs: &'a [Yaml], kind: &str) -> &'a Yaml {
    docs.iter()
        .find(|d| d["kind"].as_str() == Some(kind))
        .unwrap_or_else(|| panic!("no {kind}"))
}

/// Writes the files the pod would see at its mount into `dir`.
fn mount(docs: &[Yaml], sources: &Yaml, dir: &Path) {
    let b64 = base64::engine::general_purpose::STANDARD;
    for source in sources.as_vec().unwrap() {
        let (from, name) = match (&source["configMap"], &source["secret"]) {
            (Yaml::Hash(_), _) => ("ConfigMap", &source["configMap"]),
            (_, Yaml::Hash(_)) => ("Secret", &source["secret"]),
            _ => panic!("an unknown volume source {source:?}"),
        };
        let store = kind(docs, from);
        assert_eq!(store["metadata"]["name"], name["name"]);
        for item in name["items"].as_vec().unwrap() {
            let key = item["key"].as_str().unwrap();
            let bytes = match (&store["data"][key], &store["binaryData"][key]) {
                (Yaml::String(t), _) if from == "ConfigMap" => t.as_bytes().to_vec(),
                (Yaml::String(t), _) | (_, Yaml::String(t)) => b64.decode(t).unwrap(),
                _ => panic!("no key {key} in the {from}"),
            };
            let path = dir.join(item["path"].as_str().unwrap());
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
    }
}

/// `$(NAME)` in an argument, as Kubernetes expands it from the env.
fn expand(arg: &str, env: &HashMap<String, String>) -> String {
    let mut out = arg.to_string();
    for (k, v) in env {
        out = out.replace(&format!("$({k})"), v);
    }
    out
}

#[test]
fn the_manifests_validate_and_each_index_runs_as_the_job_would() {
    let server = journal(|_, _| Answer::json(200, "{}"));
    let scratch = Scratch::new();
    let file = write_test(&scratch);
    let manifests = scratch.dir.path().join("manifests.yaml");
    let o = trek()
        .arg("k8s")
        .arg(&file)
        .args([
            "--parts",
            &PARTS.to_string(),
            "--image",
            "registry.test/trek:1",
        ])
        .args(["--start-in", "4s", "--start-tolerance", "60s"])
        .args(["--base-url", &server.base])
        .arg("--out")
        .arg(&manifests)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o));

    let v = std::process::Command::new(validator())
        .args(["-k", "1.33.0", "--strict"])
        .arg(&manifests)
        .output()
        .unwrap();
    assert_eq!(code(&v), 0, "{}", text(&v));
    assert!(
        text(&v).contains("passed for resource job/trek-k8s-parts against version 1.33"),
        "{}",
        text(&v)
    );

    let docs = docs(&manifests);
    let job = kind(&docs, "Job");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    assert_eq!(spec["completions"].as_i64(), Some(PARTS as i64));
    assert_eq!(spec["parallelism"].as_i64(), Some(PARTS as i64));
    assert_eq!(spec["backoffLimitPerIndex"].as_i64(), Some(0));
    let rules = spec["podFailurePolicy"]["rules"].as_vec().unwrap();
    assert_eq!(rules[0]["action"].as_str(), Some("FailJob"));
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"].as_str(), Some("Never"));
    assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
    let container = &pod["containers"][0];
    assert!(container["resources"]["requests"]["memory"]
        .as_str()
        .unwrap()
        .ends_with("Mi"));
    // The base URL travels in the Secret, never in the Job.
    let job_text = std::fs::read_to_string(&manifests).unwrap();
    assert!(
        !job_text.contains(&server.base),
        "the base URL is in the clear"
    );

    // Run each index as the Job would.
    let secret = kind(&docs, "Secret");
    let mounted = scratch.dir.path().join("mount");
    let volume = pod["volumes"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|v| v["name"].as_str() == Some("test"))
        .unwrap();
    mount(&docs, &volume["projected"]["sources"], &mounted);
    assert_eq!(
        std::fs::read(mounted.join("files/blob.bin")).unwrap(),
        [0u8, 159, 146, 150, 255]
    );
    let working = container["workingDir"].as_str().unwrap();
    let out_mount = container["volumeMounts"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|m| m["name"].as_str() == Some("out"))
        .unwrap()["mountPath"]
        .as_str()
        .unwrap()
        .to_string();
    let mut children: Vec<(PathBuf, Child)> = Vec::new();
    for index in 0..PARTS {
        let mut env = HashMap::new();
        env.insert("JOB_COMPLETION_INDEX".to_string(), index.to_string());
        for e in container["env"].as_vec().into_iter().flatten() {
            let key = e["valueFrom"]["secretKeyRef"]["key"].as_str().unwrap();
            let value = base64::engine::general_purpose::STANDARD
                .decode(secret["data"][key].as_str().unwrap())
                .unwrap();
            env.insert(
                e["name"].as_str().unwrap().to_string(),
                String::from_utf8(value).unwrap(),
            );
        }
        let out = scratch.dir.path().join(format!("emptydir-{index}"));
        let args: Vec<String> = container["args"]
            .as_vec()
            .unwrap()
            .iter()
            .map(|a| {
                let a = expand(a.as_str().unwrap(), &env);
                a.replace(&out_mount, out.to_str().unwrap())
            })
            .collect();
        assert!(working.starts_with('/'));
        let child = trek()
            .current_dir(&mounted)
            .args(&args)
            .envs(&env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        children.push((scratch.dir.path().join(format!("part-{index}.log")), child));
    }
    let mut logs = Vec::new();
    for (log, child) in children {
        let (o, _) = wait_with_timeout(child, Duration::from_secs(120));
        assert_eq!(code(&o), 0, "{}", text(&o));
        // A pod's log: what it wrote to stdout and stderr.
        let mut all = o.stderr.clone();
        all.extend_from_slice(&o.stdout);
        std::fs::write(&log, all).unwrap();
        logs.push(log);
    }
    // Every row once: the parts split the unique feeder.
    let mut rows: Vec<String> = server.to("/hello").iter().map(|s| s.path.clone()).collect();
    rows.sort();
    rows.dedup();
    assert_eq!(rows.len(), 6, "{rows:?}");
    let merged = scratch.dir.path().join("merged");
    let m = trek()
        .arg("merge")
        .args(&logs)
        .arg("--out")
        .arg(&merged)
        .output()
        .unwrap();
    assert_eq!(code(&m), 0, "{}", text(&m));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(merged.join("results.json")).unwrap())
            .unwrap();
    assert_eq!(r["verdict"], "pass");
    assert_eq!(r["totals"]["requests"], 12);
    assert_eq!(r["parts"].as_array().unwrap().len(), PARTS);
}

#[test]
fn files_outside_the_scenarios_folder_are_refused_with_the_fix() {
    let scratch = Scratch::new();
    scratch.file("shared/users.csv", "n\n1\n");
    let file = scratch.file(
        "tests/t.yaml",
        "version: 1\nbase_url: http://127.0.0.1:9\ndata:\n  users: { file: ../shared/users.csv }\nsteps:\n  - get: /a\n",
    );
    let o = trek()
        .arg("k8s")
        .arg(&file)
        .args(["--parts", "2", "--image", "trek:1"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(
        text(&o).contains("outside the scenario's folder"),
        "{}",
        text(&o)
    );
}

#[test]
fn the_dockerfile_builds_a_slim_image_that_runs_trek_as_a_user() {
    let dockerfile =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Dockerfile")).unwrap();
    let froms: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert_eq!(froms.len(), 2, "a build stage and a runtime stage");
    assert!(froms[1].contains("slim"), "{}", froms[1]);
    let user = dockerfile
        .lines()
        .rev()
        .find(|l| l.starts_with("USER "))
        .expect("a USER");
    let uid: u32 = user[5..]
        .split(':')
        .next()
        .unwrap()
        .trim()
        .parse()
        .expect("a numeric user");
    assert_ne!(uid, 0);
    assert!(dockerfile
        .lines()
        .any(|l| l.trim() == r#"ENTRYPOINT ["trek"]"#));
    // The manifests run the image as that user.
    let scratch = Scratch::new();
    let file = scratch.file(
        "t.yaml",
        "version: 1\nbase_url: http://127.0.0.1:9\nsteps:\n  - get: /a\n",
    );
    let out = scratch.dir.path().join("m.yaml");
    let o = trek()
        .arg("k8s")
        .arg(&file)
        .args(["--parts", "2", "--image", "trek:1", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o));
    let docs = docs(&out);
    let pod = &kind(&docs, "Job")["spec"]["template"]["spec"];
    assert_eq!(
        pod["securityContext"]["runAsUser"].as_i64(),
        Some(i64::from(uid))
    );
}
