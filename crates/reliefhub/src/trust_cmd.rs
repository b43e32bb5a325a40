//! `key`, `checkpoint`, `verify --against`, `proof` and `log`: the commands
//! that let donors and auditors check the hub's records.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use clap::{Args, Subcommand};
use reliefhub_core::domain::parse_date;
use reliefhub_ops::trust::{verify_proof, HubKey, TreeHead};
use reliefhub_ops::Ops;
use reliefhub_store::{now_unix_ms, OperationRow};

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Print the hub's public key (hex), the key tree heads are signed with.
    Show,
}

#[derive(Args, Debug)]
pub struct CheckpointArgs {
    /// Where to write the signed tree head (JSON).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum ProofCommand {
    /// Write a donor's proof: a signed head, every operation that moved the
    /// donor's lots with its audit path, and the donor's statement.
    Donor {
        /// The donor organisation's code.
        code: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a proof file with no database: exit 0 valid, 1 invalid.
    Verify {
        file: PathBuf,
        /// The hub's public key (hex) the head must be signed with.
        #[arg(long)]
        key: Option<String>,
    },
}

#[derive(Args, Debug)]
pub struct LogArgs {
    /// Only operations on or after this date (YYYY-MM-DD, UTC).
    #[arg(long)]
    since: Option<String>,
    /// Only operations by this actor.
    #[arg(long)]
    actor: Option<String>,
    /// Only operations of this kind (such as `receipt`, `request.add`).
    #[arg(long)]
    kind: Option<String>,
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    #[arg(long)]
    csv: bool,
}

/// Where the hub's key is: `--key-file`, else beside an SQLite database.
pub fn key_path(key_file: Option<&Path>, db: &str) -> anyhow::Result<PathBuf> {
    match key_file {
        Some(path) => Ok(path.to_path_buf()),
        None => HubKey::default_path(db).ok_or_else(|| {
            anyhow!("the hub's key file: pass --key-file PATH (or RELIEFHUB_KEY_FILE) with a PostgreSQL database")
        }),
    }
}

fn load_key(key_file: Option<&Path>, db: &str) -> anyhow::Result<HubKey> {
    let path = key_path(key_file, db)?;
    HubKey::load(&path).with_context(|| {
        format!(
            "run `reliefhub init` to create the hub's key at {}",
            path.display()
        )
    })
}

/// Called by `init`: creates the key when missing and registers its public
/// half in the database. Says what it did.
pub fn init_key(key_file: Option<&Path>, db: &str) -> anyhow::Result<String> {
    let Ok(path) = key_path(key_file, db) else {
        return Ok("no signing key (pass --key-file PATH to create one)".to_string());
    };
    let (key, created) = HubKey::load_or_create(&path)?;
    let mut ops = Ops::open(db)?;
    ops.store()
        .register_hub_key(&key.public_hex(), now_unix_ms())?;
    Ok(format!(
        "{} signing key {} (public key {})",
        if created { "created" } else { "kept" },
        path.display(),
        key.public_hex()
    ))
}

pub fn key(command: KeyCommand, key_file: Option<&Path>, db: &str) -> anyhow::Result<ExitCode> {
    match command {
        KeyCommand::Show => {
            println!("{}", load_key(key_file, db)?.public_hex());
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn checkpoint(
    args: CheckpointArgs,
    key_file: Option<&Path>,
    db: &str,
) -> anyhow::Result<ExitCode> {
    let key = load_key(key_file, db)?;
    let mut ops = Ops::open(db)?;
    let head = ops.publish_head(&key, now_unix_ms())?;
    let mut text = serde_json::to_string_pretty(&head)?;
    text.push('\n');
    std::fs::write(&args.out, text)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "signed tree head: {} operations, root {} -> {}",
        head.tree_size,
        head.root_hash,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `verify --against HEAD.json`, after the journal and the log were found
/// intact: exit 1 when the log does not extend the head.
pub fn against(ops: &mut Ops, file: &Path) -> anyhow::Result<bool> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let head: TreeHead = serde_json::from_str(&text)
        .map_err(|e| anyhow!("{}: not a tree head: {e}", file.display()))?;
    match ops.check_against(&head)? {
        Ok(found) => {
            println!(
                "the log extends the head of {} operations in {} (consistency proof to {} operations checked)",
                found.head_size,
                file.display(),
                found.log_size
            );
            Ok(true)
        }
        Err(reason) => {
            println!("VERIFICATION FAILED against {}: {reason}", file.display());
            Ok(false)
        }
    }
}

pub fn proof(command: ProofCommand, key_file: Option<&Path>, db: &str) -> anyhow::Result<ExitCode> {
    match command {
        ProofCommand::Donor { code, out } => {
            let key = load_key(key_file, db)?;
            let mut ops = Ops::open(db)?;
            let proof = ops.donor_proof(&key, &code, now_unix_ms())?;
            std::fs::write(&out, proof.to_canonical())
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "proof for {code}: {} operations in a signed log of {} -> {}",
                proof.items.len(),
                proof.head.tree_size,
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        ProofCommand::Verify { file, key } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            match verify_proof(&bytes, key.as_deref()) {
                Ok(summary) => {
                    println!(
                        "valid: {} operations ({} journal entries) of donor {} are in the log of {} operations signed by {}; the statement's figures follow from them",
                        summary.operations, summary.entries, summary.donor, summary.tree_size, summary.public_key
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(reason) => {
                    println!("INVALID: {reason}");
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}

fn iso_time(unix_ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix_ms.to_string())
}

fn documents_text(op: &OperationRow) -> String {
    op.documents
        .iter()
        .map(|d| {
            if d.key.is_empty() {
                d.table.clone()
            } else {
                format!("{}:{}", d.table, d.key)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

pub fn log(args: LogArgs, db: &str) -> anyhow::Result<ExitCode> {
    let since_ms = match &args.since {
        None => None,
        Some(text) => {
            let date = parse_date(text)
                .ok_or_else(|| anyhow!("--since `{text}` must be a date YYYY-MM-DD"))?;
            Some(date.midnight().assume_utc().unix_timestamp() * 1000)
        }
    };
    let mut ops = Ops::open(db)?;
    let size = ops.store().log_size()?;
    let rows: Vec<OperationRow> = ops
        .store()
        .log_operations(0, size)?
        .into_iter()
        .filter(|op| since_ms.map_or(true, |since| op.recorded_at_unix_ms >= since))
        .filter(|op| args.actor.as_deref().map_or(true, |a| op.actor == a))
        .filter(|op| args.kind.as_deref().map_or(true, |k| op.kind == k))
        .collect();
    if args.json {
        let list: Vec<serde_json::Value> = rows
            .iter()
            .map(|op| {
                serde_json::json!({
                    "leaf_index": op.leaf_index,
                    "time": iso_time(op.recorded_at_unix_ms),
                    "recorded_at_unix_ms": op.recorded_at_unix_ms,
                    "actor": op.actor,
                    "kind": op.kind,
                    "key": op.key,
                    "batch_id": op.batch.as_ref().map(|b| b.batch_id),
                    "transfer_count": op.batch.as_ref().map_or(0, |b| b.transfer_count),
                    "documents": op.documents.iter().map(|d| serde_json::json!({"table": d.table, "key": d.key})).collect::<Vec<_>>(),
                    "leaf_hash": hex::encode(op.leaf_hash),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else if args.csv {
        // The JSON's keys; `documents` is written `table:key` joined by spaces.
        println!("leaf_index,time,recorded_at_unix_ms,actor,kind,key,batch_id,transfer_count,documents,leaf_hash");
        println!("#meta+id,#date,#meta+time+ms,#contact+name,#activity+type,#meta+key,#meta+batch,#indicator+num+transfers,#meta+documents,#meta+hash");
        for op in &rows {
            println!(
                "{},{},{},{},{},{},{},{},{},{}",
                op.leaf_index,
                iso_time(op.recorded_at_unix_ms),
                op.recorded_at_unix_ms,
                csv_field(&op.actor),
                csv_field(&op.kind),
                csv_field(&op.key),
                op.batch
                    .as_ref()
                    .map(|b| b.batch_id.to_string())
                    .unwrap_or_default(),
                op.batch.as_ref().map_or(0, |b| b.transfer_count),
                csv_field(&documents_text(op)),
                hex::encode(op.leaf_hash),
            );
        }
    } else {
        println!(
            "{:>6}  {:<20}  {:<24}  {:<20}  {:>9}  key / documents",
            "#", "time", "actor", "kind", "transfers"
        );
        for op in &rows {
            println!(
                "{:>6}  {:<20}  {:<24}  {:<20}  {:>9}  {}  {}",
                op.leaf_index,
                iso_time(op.recorded_at_unix_ms),
                op.actor,
                op.kind,
                op.batch.as_ref().map_or(0, |b| b.transfer_count),
                op.key,
                documents_text(op)
            );
        }
        println!("{} of {size} operations", rows.len());
    }
    Ok(ExitCode::SUCCESS)
}

/// Who the command's operations are by: `--by`, else `RELIEFHUB_ACTOR`
/// (both through clap), else the operating-system user.
pub fn actor(by: Option<String>) -> String {
    by.filter(|b| !b.trim().is_empty())
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
        .or_else(|| std::env::var("USERNAME").ok().filter(|u| !u.is_empty()))
        .or_else(|| std::env::var("LOGNAME").ok().filter(|u| !u.is_empty()))
        .or_else(os_user_from_uid)
        .unwrap_or_else(|| "unknown user".to_string())
}

/// The name of the process's user from the system's user list, when the
/// environment does not say.
#[cfg(unix)]
fn os_user_from_uid() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id: u32 = fields.nth(1)?.parse().ok()?;
        (id == uid && !name.is_empty()).then(|| name.to_string())
    })
}

#[cfg(not(unix))]
fn os_user_from_uid() -> Option<String> {
    None
}
