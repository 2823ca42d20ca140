use std::process::ExitCode;

use cdnprobe::cli::{Cli, Command};
use cdnprobe::{check, demo, error, exporter, play, report, run, upload};
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        // One thread: a probe does one fetch at a time, and handing work between worker threads
        // cost about half its CPU per sample and some download throughput (reports/bench/).
        Command::Run(args) => runtime(false).and_then(|rt| rt.block_on(run::execute(args))),
        // One thread, as for run: a session is one player fetching one thing at a time.
        Command::Play(args) => {
            runtime(false).and_then(|rt| rt.block_on(play::command::execute(args)))
        }
        Command::Report(args) => report::execute(args),
        Command::Check(args) => check::execute(args),
        // The demo serves its lab (server, DNS, links, edge) in-process alongside the probe.
        Command::Demo(args) => runtime(true).and_then(|rt| rt.block_on(demo::execute(args))),
        Command::Push(args) => {
            runtime(false).and_then(|rt| rt.block_on(cdnprobe::sink::push::execute(args)))
        }
        // Probes and endpoints on a thread (and runtime) each: see `exporter`.
        Command::Exporter(args) => exporter::execute(args),
        Command::Upload(args) => runtime(false).and_then(|rt| rt.block_on(upload::execute(args))),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("cdnprobe: {error:#}");
            ExitCode::from(error::exit_code(&error))
        }
    }
}

fn runtime(multi_thread: bool) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut builder = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    Ok(builder.enable_all().build()?)
}
