use std::process::ExitCode;

use cdnprobe::cli::{Cli, Command};
use cdnprobe::{check, demo, error, report, run, upload};
use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run(args) => run::execute(args).await,
        Command::Report(args) => report::execute(args),
        Command::Check(args) => check::execute(args),
        Command::Demo(args) => demo::execute(args).await,
        Command::Upload(args) => upload::execute(args).await,
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("cdnprobe: {error:#}");
            ExitCode::from(error::exit_code(&error))
        }
    }
}
