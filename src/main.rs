#![allow(dead_code)]
mod diagnostic;
mod scenario;
mod template;
fn main() {}
