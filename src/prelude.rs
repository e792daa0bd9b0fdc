//! The names the standard prelude gives a `std` build, from `alloc`, so that every module
//! compiles the same with and without `std` (`use crate::prelude::*;`).
#![forbid(unsafe_code)]

#[allow(unused_imports)]
pub(crate) use alloc::{
    borrow::ToOwned,
    boxed::Box,
    format,
    string::{String, ToString},
    vec,
    vec::Vec,
};
