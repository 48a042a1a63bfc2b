//! Usage: the token ledger's pure maths (zones, windows, prices, money) and its reports.
pub mod money;
pub mod pricing;
pub mod window;
