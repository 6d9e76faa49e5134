//! The `rootguard` binary: everything lives in the library; see `cli`.

fn main() -> std::process::ExitCode {
    rootguard::cli::main()
}
