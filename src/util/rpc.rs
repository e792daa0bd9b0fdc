//! JSON-RPC 2.0 framing as Mongoose's `mg_rpc_*` does it: which handler a frame is for, and
//! the bytes around a result or an error. The C handler list and the printf-formatted parts
//! are the C boundary's (`ffi::rpc`, the shim); this module only reads the frame and writes
//! through a byte sink.
#![forbid(unsafe_code)]

use super::json;

/// JSON-RPC's "method not found" error code.
pub const METHOD_NOT_FOUND: i32 = -32601;
/// JSON-RPC's "parse error" code: what a frame that is neither a request nor a response gets.
pub const PARSE_ERROR: i32 = -32700;

/// What a frame asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A request (or notification) for this method: the string's text as written in the
    /// frame, escapes not decoded (Mongoose matches patterns against that text).
    Method(&'a [u8]),
    /// A response (`result` or `error`, no `method`): for the handler registered as `""`.
    Response,
    /// Neither.
    Invalid,
}

/// Classify `frame` as Mongoose's `mg_rpc_process` does: a string `$.method` makes it a
/// request; otherwise a `$.result` or `$.error` member makes it a response. Unlike Mongoose,
/// the whole frame must be one JSON value (JSON-RPC 2.0's "parse error" case): Mongoose
/// looked only at the text up to the member it found.
pub fn classify(frame: &[u8]) -> Frame<'_> {
    if json::validate(frame).is_err() {
        return Frame::Invalid;
    }
    if let Ok([b'"', inner @ .., b'"']) = json::get_tok(frame, b"$.method") {
        return Frame::Method(inner);
    }
    if json::get(frame, b"$.result").is_ok() || json::get(frame, b"$.error").is_ok() {
        return Frame::Response;
    }
    Frame::Invalid
}

/// The `id` token of `frame` as written (a number, a string with its quotes, `null`...).
pub fn id(frame: &[u8]) -> Option<&[u8]> {
    json::get_tok(frame, b"$.id").ok()
}

/// `{"id":<id>,"result":` — what comes before a result.
pub fn ok_head(id: &[u8], out: &mut impl FnMut(&[u8])) {
    out(b"{\"id\":");
    out(id);
    out(b",\"result\":");
}

/// `{["id":<id>,]"error":{"code":<code>,"message":` — what comes before an error message.
/// The id is left out when the request had none.
pub fn err_head(id: Option<&[u8]>, code: i32, out: &mut impl FnMut(&[u8])) {
    out(b"{");
    if let Some(id) = id {
        out(b"\"id\":");
        out(id);
        out(b",");
    }
    out(b"\"error\":{\"code\":");
    out(itoa::Buffer::new().format(code).as_bytes());
    out(b",\"message\":");
}

/// What closes an error (`}}`) and a result (`}`).
pub const ERR_TAIL: &[u8] = b"}}";
pub const OK_TAIL: &[u8] = b"}";

/// `s` as a JSON string, quotes included, appended to `out` (see [`escape`]).
pub fn quote(out: &mut alloc::vec::Vec<u8>, s: &[u8]) {
    out.push(b'"');
    escape(s, &mut |b| out.extend_from_slice(b));
    out.push(b'"');
}

/// `s` as the contents of a JSON string: `"`, `\` and control characters escaped.
pub fn escape(s: &[u8], out: &mut impl FnMut(&[u8])) {
    let mut start = 0;
    for (i, &c) in s.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out(&s[start..i]);
        if esc.is_empty() {
            use crate::util::str::HEX_LOWER as HEX;
            out(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(c >> 4)],
                HEX[usize::from(c & 15)],
            ]);
        } else {
            out(esc);
        }
        start = i + 1;
    }
    out(&s[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(f: impl FnOnce(&mut dyn FnMut(&[u8]))) -> String {
        let mut v = Vec::new();
        f(&mut |b: &[u8]| v.extend_from_slice(b));
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn classify_frames() {
        let f = br#"{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":1}"#;
        assert_eq!(classify(f), Frame::Method(b"subtract"));
        assert_eq!(id(f), Some(&b"1"[..]));
        assert_eq!(classify(br#"{"id":"a","result":19}"#), Frame::Response);
        assert_eq!(classify(br#"{"id":1,"error":{"code":1}}"#), Frame::Response);
        assert_eq!(classify(br#"{"method":1,"id":1}"#), Frame::Invalid);
        assert_eq!(classify(b"[1,2"), Frame::Invalid);
        assert_eq!(classify(b""), Frame::Invalid);
        assert_eq!(
            classify(br#"{"method": "foobar, "params": "bar", "baz]"#),
            Frame::Invalid
        );
        assert_eq!(id(br#"{"method":"x"}"#), None);
    }

    #[test]
    fn heads() {
        let s = collect(|o| ok_head(b"\"7\"", &mut |b| o(b)));
        assert_eq!(s, r#"{"id":"7","result":"#);
        let s = collect(|o| err_head(None, -32601, &mut |b| o(b)));
        assert_eq!(s, r#"{"error":{"code":-32601,"message":"#);
        let s = collect(|o| escape(b"a\"b\\\x01\n", &mut |b| o(b)));
        assert_eq!(s, r#"a\"b\\\u0001\n"#);
    }
}
