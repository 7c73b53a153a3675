//! The `parlor` binary: everything happens in `parlor::run`.

fn main() -> std::process::ExitCode {
    parlor::run::main()
}
