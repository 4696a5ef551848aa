//! `#[api_test_stack::test]`: `#[tokio::test]` for tests that talk to the MongoDB-wire
//! server, run by `api_test_stack::run_test` (which runs a test again, once, when the server
//! hung and its watchdog restarted it while the test ran). Takes tokio's arguments:
//! `#[api_test_stack::test(flavor = "multi_thread", worker_threads = 2)]`.

use proc_macro::TokenStream;
use quote::quote;
use syn::{ItemFn, LitInt, LitStr, ReturnType, parse_macro_input};

#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut multi_thread = false;
    let mut worker_threads: Option<usize> = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("flavor") {
            let flavor: LitStr = meta.value()?.parse()?;
            match flavor.value().as_str() {
                "multi_thread" => multi_thread = true,
                "current_thread" => multi_thread = false,
                _ => return Err(meta.error("flavor is \"current_thread\" or \"multi_thread\"")),
            }
            Ok(())
        } else if meta.path.is_ident("worker_threads") {
            let threads: LitInt = meta.value()?.parse()?;
            worker_threads = Some(threads.base10_parse()?);
            Ok(())
        } else {
            Err(meta.error("expected `flavor` or `worker_threads`"))
        }
    });
    parse_macro_input!(args with parser);
    let function = parse_macro_input!(item as ItemFn);

    if function.sig.asyncness.is_none()
        || !function.sig.inputs.is_empty()
        || !matches!(function.sig.output, ReturnType::Default)
    {
        return syn::Error::new_spanned(
            &function.sig,
            "#[api_test_stack::test] takes an `async fn name()` returning nothing",
        )
        .to_compile_error()
        .into();
    }
    // Zero worker threads means a current-thread runtime, as `#[tokio::test]` does.
    let workers = if multi_thread {
        worker_threads.unwrap_or(2)
    } else {
        0
    };
    let attributes = &function.attrs;
    let visibility = &function.vis;
    let name = &function.sig.ident;
    let body = &function.block;
    quote! {
        #[::core::prelude::v1::test]
        #(#attributes)*
        #visibility fn #name() {
            ::api_test_stack::run_test(#workers, || async move #body)
        }
    }
    .into()
}
