//! The names the standard prelude gives a `std` build, from `alloc`, so that every module
//! compiles the same with and without `std` (`use crate::prelude::*;`).

#[allow(unused_imports)]
pub(crate) use alloc::{
    borrow::ToOwned,
    boxed::Box,
    format,
    string::{String, ToString},
    vec,
    vec::Vec,
};
