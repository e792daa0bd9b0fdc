//! Mongoose 7.22's built-in TLS primitives from C (feature `crypto`): `tests/c/crypto_api.c`
//! includes `mongoose.h` and checks micro-ecc (`mg_uecc_*`, P-256 and P-384, the VLI API),
//! AES-GCM, ChaCha20-Poly1305, X25519 and RSA against published vectors, and that bad input
//! (keys off the curve, tampered tags and signatures, wrong lengths, NULL) gives the
//! documented failure. The RSA vectors are made here, once per run, by `openssl`: a 2048-bit
//! key and a 3072-bit one, a PKCS#1 v1.5 and a PSS (SHA-256, 32-byte salt) signature of a fixed message, passed to
//! the C program as `rsa_vectors.h`, with P-256 keys in PEM (PKCS #8, SEC 1) and DER and a
//! P-384 one for `mg_uecc_parse_private_key`. Built with `-Wall -Wextra -Werror`, plain and under
//! ASan + UBSan.
//!
//! gcc is required and openssl is installed by `scripts/setup.sh openssl` when missing:
//! without them these tests fail, they do not skip.

mod common;

use common::cbuild::{compile_c, out_dir, root, run_checks, Flavor};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const MSG: &[u8] = b"meerkat: RSA known answer for mg_rsa_*";

fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl (install it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The fields of `openssl pkey -text`: name -> big-endian bytes without leading zeros.
fn key_fields(text: &str) -> Vec<(String, Vec<u8>)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with(char::is_whitespace) {
            if let Some(f) = fields.last_mut() {
                f.1.push_str(&line.trim().replace(':', ""));
            }
        } else if let Some((name, rest)) = line.split_once(':') {
            // "publicExponent: 65537 (0x10001)"
            let inline = rest
                .split_once("(0x")
                .map(|(_, h)| h.trim_end_matches(')').to_string())
                .unwrap_or_default();
            fields.push((name.to_string(), inline));
        }
    }
    fields
        .into_iter()
        .map(|(n, h)| {
            let h = if h.len() % 2 == 1 { format!("0{h}") } else { h };
            let b: Vec<u8> = (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect();
            let z = b.iter().take_while(|&&x| x == 0).count();
            (n, b[z..].to_vec())
        })
        .collect()
}

/// The field `name` of `openssl pkey -text` output (see [`key_fields`]).
fn key_field(text: &str, name: &str) -> Vec<u8> {
    key_fields(text)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name} in:\n{text}"))
        .1
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A directory holding `rsa_vectors.h`, made once per test process.
fn vectors() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        common::tools::setup(&["openssl"], &[("openssl", &["version"])]);
        let dir = out_dir().join(format!("crypto-vectors-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("msg.bin"), MSG).unwrap();
        let mut h = String::from("/* Made by tests/crypto_api.rs with openssl. */\n");
        h.push_str(&format!("#define RSA_MSG \"{}\"\n", hex(MSG)));
        for (bits, prefix) in [(2048, "RSA"), (3072, "RSA3")] {
            let key = format!("key{bits}.pem");
            let kb = format!("rsa_keygen_bits:{bits}");
            openssl(&dir, &["genpkey", "-algorithm", "RSA", "-pkeyopt", &kb, "-out", &key]);
            let text = String::from_utf8(openssl(&dir, &["pkey", "-in", &key, "-text", "-noout"])).unwrap();
            let sig = openssl(&dir, &["dgst", "-sha256", "-sign", &key, "msg.bin"]);
            let pss = openssl(
                &dir,
                &[
                    "dgst",
                    "-sha256",
                    "-sign",
                    &key,
                    "-sigopt",
                    "rsa_padding_mode:pss",
                    "-sigopt",
                    "rsa_pss_saltlen:32",
                    "msg.bin",
                ],
            );
            assert_eq!((sig.len(), pss.len()), (bits / 8, bits / 8));
            let get = |name: &str| key_field(&text, name);
            for (c, name) in [
                ("N", "modulus"),
                ("E", "publicExponent"),
                ("D", "privateExponent"),
                ("P", "prime1"),
                ("Q", "prime2"),
                ("DP", "exponent1"),
                ("DQ", "exponent2"),
                ("QINV", "coefficient"),
            ] {
                h.push_str(&format!("#define {prefix}_{c} \"{}\"\n", hex(&get(name))));
            }
            h.push_str(&format!("#define {prefix}_SIG_PKCS1 \"{}\"\n", hex(&sig)));
            h.push_str(&format!("#define {prefix}_SIG_PSS \"{}\"\n", hex(&pss)));
        }
        // P-256 keys for mg_uecc_parse_private_key: PKCS #8 PEM, SEC 1 PEM, DER; a P-384 one.
        let cstr = |b: &[u8]| String::from_utf8_lossy(b).replace('\n', "\\n");
        openssl(
            &dir,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "ec.pem",
            ],
        );
        openssl(&dir, &["ec", "-in", "ec.pem", "-out", "ec_sec1.pem"]);
        openssl(
            &dir,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-384",
                "-out",
                "ec384.pem",
            ],
        );
        let der = openssl(&dir, &["pkey", "-in", "ec.pem", "-outform", "DER"]);
        let text = String::from_utf8(openssl(&dir, &["pkey", "-in", "ec.pem", "-text", "-noout"])).unwrap();
        let field = |name: &str| key_field(&text, name);
        let mut private = vec![0u8; 32 - field("priv").len()];
        private.extend_from_slice(&field("priv"));
        let public = field("pub");
        assert_eq!((public.len(), public[0]), (65, 4), "{text}");
        let pem = |f: &str| std::fs::read(dir.join(f)).unwrap();
        assert!(pem("ec_sec1.pem").starts_with(b"-----BEGIN EC PRIVATE KEY-----"));
        assert!(pem("ec.pem").starts_with(b"-----BEGIN PRIVATE KEY-----"));
        h.push_str(&format!("#define EC_PKCS8_PEM \"{}\"\n", cstr(&pem("ec.pem"))));
        h.push_str(&format!("#define EC_SEC1_PEM \"{}\"\n", cstr(&pem("ec_sec1.pem"))));
        h.push_str(&format!("#define EC384_PEM \"{}\"\n", cstr(&pem("ec384.pem"))));
        h.push_str(&format!("#define EC_DER \"{}\"\n", hex(&der)));
        h.push_str(&format!("#define EC_PRIV \"{}\"\n", hex(&private)));
        h.push_str(&format!("#define EC_PUB \"{}\"\n", hex(&public[1..])));
        std::fs::write(dir.join("rsa_vectors.h"), h).unwrap();
        dir
    })
}

fn run(flavor: Flavor) {
    let src = root().join("tests/c/crypto_api.c");
    let inc = format!("-I{}", vectors().display());
    let bin = compile_c(&format!("crypto_api-{flavor:?}"), &[&src], &[&inc], flavor);
    run_checks(&mut Command::new(&bin), "crypto_api", 200);
}

#[test]
fn crypto_api_from_c() {
    run(Flavor::Plain);
}

#[test]
fn crypto_api_from_c_sanitized() {
    run(Flavor::Sanitized);
}
