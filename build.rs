//! Link options for parlor's own binary in optimised builds on x86-64 Linux with glibc, where
//! rustc links with its own lld. Both cut resident memory; neither changes what the program
//! does:
//!
//! - `--symbol-ordering-file=link/parlor.order`: the functions a running parlor uses (measured
//!   by `benches/link_order.sh`) placed together at the start of the code. The kernel maps a
//!   program's code 64 KiB around each page it faults in, so code used at run time spread over
//!   the whole 20 MB binary kept most of it resident in every process. Functions the file
//!   names that no longer exist are skipped; new ones are placed after the listed ones.
//! - `-z pack-relative-relocs` (DT_RELR, when the C library understands it: glibc 2.36+):
//!   the dynamic loader reads 1.6 MB of relocation records at every start in the usual
//!   format, a few KB in this one.
//!
//! `PARLOR_PLAIN_LINK=1` leaves both out (another linker, or to compare).

use std::path::{Path, PathBuf};

const ORDER: &str = "link/parlor.order";

fn main() {
    println!("cargo:rerun-if-changed={ORDER}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PARLOR_PLAIN_LINK");
    let var = |key: &str| std::env::var(key).unwrap_or_default();
    let linux_gnu_x86_64 = var("CARGO_CFG_TARGET_ARCH") == "x86_64"
        && var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu";
    if var("PARLOR_PLAIN_LINK") == "1" || !linux_gnu_x86_64 || var("OPT_LEVEL") == "0" {
        return;
    }
    // Only with the lld rustc brings (its default linker here since 1.90) and no flags that
    // choose another: GNU ld knows no ordering file.
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    let flags = var("CARGO_ENCODED_RUSTFLAGS");
    let other_linker = [
        "linker-features",
        "link-self-contained",
        "fuse-ld",
        "linker=",
    ]
    .iter()
    .any(|flag| flags.contains(flag));
    let configured_linker = !var("RUSTC_LINKER").is_empty();
    if other_linker || configured_linker || !rustc_has_lld(&var("RUSTC"), &var("TARGET")) {
        return;
    }
    let order = PathBuf::from(var("CARGO_MANIFEST_DIR")).join(ORDER);
    if order.is_file() {
        println!(
            "cargo:rustc-link-arg-bin=parlor=-Wl,--symbol-ordering-file={}",
            order.display()
        );
        println!("cargo:rustc-link-arg-bin=parlor=-Wl,--no-warn-symbol-ordering");
    }
    if var("HOST") == var("TARGET") && glibc_knows_relr() {
        println!("cargo:rustc-link-arg-bin=parlor=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether `rustc`'s sysroot carries the lld it links with for `target`.
fn rustc_has_lld(rustc: &str, target: &str) -> bool {
    let rustc = if rustc.is_empty() { "rustc" } else { rustc };
    let Ok(out) = std::process::Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
    else {
        return false;
    };
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Path::new(&sysroot)
        .join("lib/rustlib")
        .join(target)
        .join("bin/gcc-ld/ld.lld")
        .is_file()
}

/// Whether this machine's glibc takes DT_RELR relocations (it names the ABI version then).
fn glibc_knows_relr() -> bool {
    const LIBC: [&str; 4] = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/lib64/libc.so.6",
        "/usr/lib64/libc.so.6",
    ];
    let marker = b"GLIBC_ABI_DT_RELR";
    LIBC.iter()
        .filter_map(|path| std::fs::read(path).ok())
        .any(|bytes| bytes.windows(marker.len()).any(|w| w == marker))
}
