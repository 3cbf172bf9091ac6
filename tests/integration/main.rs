//! Integration tests: the built binary against the real test chain (tests/fixtures), one module
//! per area.

mod access;
mod assertion;
mod authentik;
mod authjs;
mod bad_input;
mod browser;
mod canary;
mod checks;
mod ci;
mod cross_site;
mod demo;
mod diagnosis;
mod eoc;
mod faults;
mod field;
mod har;
mod harness;
mod init;
mod login;
mod login_machine;
mod net;
mod redaction;
mod scenarios;
mod tokens;
mod zoo;
