//! TLS errors, sorted into the categories a firmware author acts on, each with a message that
//! says what failed. The message is what reaches the C handler in `MG_EV_ERROR`.

use alloc::string::{String, ToString};
use core::fmt;

use rustls::{AlertDescription, CertificateError};

extern crate alloc;

/// What went wrong, coarsely. Stable enough to branch on; the text has the details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsErrorKind {
    /// Bad options: unparsable PEM/DER, a key that does not match, no CA for a client, a
    /// malformed server name. Nothing was sent.
    Config,
    /// The peer's certificate does not chain to a CA we trust.
    UnknownCa,
    /// The peer's certificate is not valid for the name we connected to.
    NameMismatch,
    /// The peer's certificate (or one in its chain) has expired.
    Expired,
    /// The peer's certificate is not valid yet (often: the device clock is not set).
    NotYetValid,
    /// The peer's certificate is unusable for another reason: bad encoding, bad signature,
    /// revoked, wrong purpose, unsupported algorithm.
    BadCertificate,
    /// We require a client certificate (mutual TLS) and the peer sent none.
    NoPeerCertificate,
    /// The peers could not agree: no common protocol version, cipher suite, group, signature
    /// scheme or ALPN protocol.
    HandshakeFailure,
    /// The peer sent bytes that are not valid TLS, or records that fail to decrypt.
    Protocol,
    /// The peer sent a fatal alert (the number is the TLS alert code).
    PeerAlert(u8),
    /// The transport ended without the peer's `close_notify`: the data may be truncated.
    /// During a handshake this means the peer hung up before the handshake completed.
    Truncated,
    /// Anything else rustls reports (random source failed, clock unavailable, internal).
    Other,
}

/// A TLS failure: a category plus a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsError {
    pub kind: TlsErrorKind,
    pub message: String,
}

impl TlsError {
    pub fn new(kind: TlsErrorKind, message: impl Into<String>) -> TlsError {
        TlsError {
            kind,
            message: message.into(),
        }
    }

    pub fn config(message: impl Into<String>) -> TlsError {
        TlsError::new(TlsErrorKind::Config, message)
    }

    /// Classify an error reported by rustls while processing the peer's records.
    pub fn from_rustls(e: &rustls::Error) -> TlsError {
        use rustls::Error as E;
        use TlsErrorKind as K;
        let detail = e.to_string();
        let (kind, what): (K, String) = match e {
            E::InvalidCertificate(ce) => classify_cert(ce),
            E::NoCertificatesPresented => (
                K::NoPeerCertificate,
                "the peer sent no certificate, but one is required (mutual TLS)".into(),
            ),
            E::AlertReceived(a) => (K::PeerAlert(u8::from(*a)), peer_alert_text(*a)),
            E::PeerIncompatible(_) | E::NoApplicationProtocol | E::UnsupportedNameType => (
                K::HandshakeFailure,
                "handshake failure: no common parameters with the peer".into(),
            ),
            E::InvalidMessage(_)
            | E::InappropriateMessage { .. }
            | E::InappropriateHandshakeMessage { .. }
            | E::PeerMisbehaved(_)
            | E::PeerSentOversizedRecord
            | E::DecryptError => (K::Protocol, "protocol error: the peer sent invalid TLS data".into()),
            E::FailedToGetCurrentTime => (K::Other, "cannot read the current time to check certificates".into()),
            E::FailedToGetRandomBytes => (K::Other, "the random number source failed".into()),
            _ => (K::Other, "TLS error".into()),
        };
        TlsError::new(kind, alloc::format!("TLS: {what} ({detail})"))
    }

    /// Map an I/O-style error from rustls's buffered reader (deframer) to a TLS error.
    pub(crate) fn from_io(e: &std::io::Error) -> TlsError {
        TlsError::new(
            TlsErrorKind::Protocol,
            alloc::format!("TLS: protocol error: the peer sent invalid TLS data ({e})"),
        )
    }
}

fn classify_cert(ce: &CertificateError) -> (TlsErrorKind, String) {
    use CertificateError as C;
    use TlsErrorKind as K;
    match ce {
        C::UnknownIssuer => (
            K::UnknownCa,
            "unknown CA: the peer's certificate is not signed by a trusted CA".into(),
        ),
        C::NotValidForName | C::NotValidForNameContext { .. } => (
            K::NameMismatch,
            "name mismatch: the peer's certificate is not valid for the expected name".into(),
        ),
        C::Expired | C::ExpiredContext { .. } => (K::Expired, "certificate expired".into()),
        C::NotValidYet | C::NotValidYetContext { .. } => {
            (K::NotYetValid, "certificate not valid yet (is the clock set?)".into())
        }
        C::Revoked => (K::BadCertificate, "bad certificate: revoked".into()),
        C::BadSignature => (K::BadCertificate, "bad certificate: bad signature".into()),
        C::BadEncoding => (K::BadCertificate, "bad certificate: malformed".into()),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => (
            K::BadCertificate,
            "bad certificate: not valid for this purpose (extended key usage)".into(),
        ),
        // webpki (rustls's verifier) parses X.509 v3 only; OpenSSL and mbedTLS also accept v1,
        // so such certificates exist in the wild (Mongoose's device-dashboard tutorial).
        C::Other(e) if alloc::format!("{e:?}").contains("UnsupportedCertVersion") => (
            K::BadCertificate,
            "bad certificate: the peer's certificate is X.509 v1, which cannot be verified \
             (only v3 is supported): regenerate it as v3 (e.g. `openssl req -x509 ...`, which \
             adds v3 extensions), or set skip_verification for testing"
                .into(),
        ),
        _ => (K::BadCertificate, "bad certificate".into()),
    }
}

fn peer_alert_text(a: AlertDescription) -> String {
    use AlertDescription as A;
    let hint = match a {
        A::UnknownCA => ": the peer does not trust our certificate's CA",
        A::BadCertificate | A::UnsupportedCertificate | A::CertificateUnknown => ": the peer rejected our certificate",
        A::CertificateExpired => ": the peer says our certificate has expired",
        A::CertificateRequired => ": the peer requires a client certificate",
        A::HandshakeFailure | A::InsufficientSecurity | A::ProtocolVersion => {
            ": handshake failure, no common parameters"
        }
        A::NoApplicationProtocol => ": no common ALPN protocol",
        A::UnrecognisedName => ": the peer does not serve this name (SNI)",
        A::DecodeError | A::DecryptError | A::BadRecordMac | A::UnexpectedMessage | A::IllegalParameter => {
            ": the peer saw a protocol error"
        }
        _ => "",
    };
    alloc::format!("peer sent alert {a:?}{hint}")
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TlsError {}
