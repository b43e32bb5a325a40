//! Helpers to drive the real `reliefhub` binary.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_reliefhub"))
}

pub fn run_in(dir: &Path, db: &str, args: &[&str]) -> Run {
    let output: Output = bin()
        .current_dir(dir)
        .arg("--db")
        .arg(db)
        .arg("--quiet")
        .args(args)
        .env_remove("RELIEFHUB_DB")
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs a command that must succeed, and returns its output.
pub fn ok(dir: &Path, db: &str, args: &[&str]) -> String {
    let r = run_in(dir, db, args);
    assert_eq!(
        r.code, 0,
        "reliefhub {args:?} failed:\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    r.stdout
}

/// Runs a command that must fail with a clear error (exit 2), and returns stderr.
pub fn refused(dir: &Path, db: &str, args: &[&str]) -> String {
    let r = run_in(dir, db, args);
    assert_eq!(
        r.code, 2,
        "reliefhub {args:?} should be refused:\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    r.stderr
}

pub fn json(dir: &Path, db: &str, args: &[&str]) -> serde_json::Value {
    let out = ok(dir, db, args);
    serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("reliefhub {args:?} printed no JSON ({e}): {out}"))
}

pub fn verify(dir: &Path, db: &str) {
    let out = ok(dir, db, &["verify"]);
    assert!(out.starts_with("verified:"), "{out}");
}
