//! Black-box tests of borderless through its HTTP API, each scenario on SQLite and on PostgreSQL. One test
//! binary, so the suite links once.

mod contract;
mod helpers;
mod hostile;

mod access;
mod analytics;
mod analytics_live;
mod assistant;
mod assistant_model;
mod authz;
mod broker_faults;
mod browser;
mod cards;
mod catalog;
mod concurrency;
mod console;
mod console_analytics;
mod customers;
mod errors;
mod faults;
mod flows;
mod full_disk;
mod instore;
mod live_store;
mod mail;
mod newcomer;
mod pg_restart;
mod processes;
mod recommendations;
mod search;
mod semantic;
mod shopper_cancel;
mod simulation;
mod staff;
mod storefront;
mod tidy;
mod typed_by_hand;
mod wallet;
mod webhooks;
