//! Usage: the token ledger's pure maths (zones, windows, prices, money), its ingest and its
//! reports.
pub mod agreement;
pub mod csv;
pub mod fold;
pub mod ingest;
pub mod money;
pub mod pricebook;
pub mod pricing;
pub mod reconcile;
pub mod reports;
pub mod window;
pub mod wire;
