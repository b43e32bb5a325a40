//! `reliefhub print waybill|loading-list|grn|pod|statement CODE --out FILE.pdf`:
//! the hub's documents as PDF, made by the binary itself.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use reliefhub_ops::Ops;
use reliefhub_print::documents::{self, Kind};
use reliefhub_print::Lang;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DocKind {
    /// The waybill of a departure (with a QR code naming it and the document's hash).
    Waybill,
    /// The loading list of a departure.
    LoadingList,
    /// The goods-received note of an inbound leg.
    Grn,
    /// The proof of delivery of a departure.
    Pod,
    /// A donor's statement (CODE is the donor's organisation code).
    Statement,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DocLang {
    En,
    Fr,
    Ar,
    Ru,
}

#[derive(Args, Debug)]
pub struct PrintArgs {
    /// Which document.
    #[arg(value_enum)]
    kind: DocKind,
    /// The departure, leg or donor code.
    code: String,
    /// Where to write the PDF.
    #[arg(long)]
    out: PathBuf,
    /// The document's language (Arabic is laid out right to left).
    #[arg(long, value_enum, default_value = "en")]
    lang: DocLang,
}

pub fn run(args: PrintArgs, db: &str) -> anyhow::Result<ExitCode> {
    let kind = match args.kind {
        DocKind::Waybill => Kind::Waybill,
        DocKind::LoadingList => Kind::LoadingList,
        DocKind::Grn => Kind::Grn,
        DocKind::Pod => Kind::Pod,
        DocKind::Statement => Kind::Statement,
    };
    let lang = match args.lang {
        DocLang::En => Lang::En,
        DocLang::Fr => Lang::Fr,
        DocLang::Ar => Lang::Ar,
        DocLang::Ru => Lang::Ru,
    };
    let store = crate::open_ready(db)?;
    let mut ops = Ops::from_store(store);
    let pdf = documents::pdf(&mut ops, kind, &args.code, lang)
        .with_context(|| format!("cannot print the {} of {}", kind.code(), args.code))?;
    std::fs::write(&args.out, &pdf)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "{} of {} written to {} ({} bytes)",
        kind.code(),
        args.code,
        args.out.display(),
        pdf.len()
    );
    Ok(ExitCode::SUCCESS)
}
