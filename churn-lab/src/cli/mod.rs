//! The binary's own modules (declared from `main.rs`, never from the library): argument
//! types, exit codes, progress bars, terminal tables and one module per command.

pub mod args;
pub mod commands;
pub mod exit;
pub mod progress;
pub mod table;
