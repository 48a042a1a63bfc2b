#![forbid(unsafe_code)]

pub mod usage;
