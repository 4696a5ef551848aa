//! Money as staff type it (`Money::parse_amount`) and currency codes, given any text: an
//! amount or a message, never a panic or an overflow; an amount it accepts is never negative
//! and reads back to itself from the way shoppers see it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use storefront_client::money::{Currency, Money};

fuzz_target!(|input: (&str, &str)| {
    let (code, text) = input;
    let _ = Currency::parse(code);
    // Two, zero and three decimals, and the currency with a symbol of its own.
    for code in ["EUR", "JPY", "KWD", "USD"] {
        let currency = Currency::parse(code).unwrap();
        if let Ok(money) = Money::parse_amount(text, currency) {
            assert!(money.amount_minor >= 0, "{text:?} -> {money:?}");
            let shown = money.to_shopper_string();
            assert_eq!(Money::parse_amount(&shown, currency), Ok(money), "{shown}");
        }
    }
});
