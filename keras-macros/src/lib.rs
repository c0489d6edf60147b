//! Procedural macros of keras-rs, re-exported by the `keras` crate: use them as
//! `#[keras::layer]`.
//!
//! [`macro@layer`] goes on a custom layer's `impl Layer for X` block and writes the methods
//! every layer has the same way: `class_name` (the type's name, as Keras uses the Python
//! class's name), `args` and `args_mut` (the type's `args: LayerArgs` field). Methods the block
//! writes itself are kept.

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{parse_macro_input, Ident, ImplItem, ItemImpl, Token, Type};

/// `#[keras::layer]` or `#[keras::layer(args = field)]`.
struct Options {
    args: Ident,
}

impl Parse for Options {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.is_empty() {
            return Ok(Options {
                args: Ident::new("args", Span::call_site()),
            });
        }
        let key: Ident = input.parse()?;
        if key != "args" {
            return Err(syn::Error::new(
                key.span(),
                format!("#[keras::layer] takes `args = <field>`, not `{key}`"),
            ));
        }
        input.parse::<Token![=]>()?;
        let args: Ident = input.parse()?;
        Ok(Options { args })
    }
}

/// The last segment of the implementing type's path (`Linear` for `my::Linear<T>`).
fn type_name(ty: &Type) -> syn::Result<String> {
    match ty {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .ok_or_else(|| syn::Error::new_spanned(ty, "#[keras::layer]: empty type path")),
        other => Err(syn::Error::new_spanned(
            other,
            "#[keras::layer] goes on `impl Layer for SomeType`",
        )),
    }
}

/// Fills a custom layer's `impl Layer for X` block with the methods it does not write:
/// `class_name` (returns `"X"`), `args` and `args_mut` (return the field `args`, a
/// `keras::engine::LayerArgs`; name another field with `#[keras::layer(args = base)]`).
///
/// ```ignore
/// use keras::engine::{CallCtx, Layer, LayerArgs};
/// use keras::prelude::*;
///
/// #[derive(Default)]
/// struct Double { args: LayerArgs }
///
/// #[keras::layer]
/// impl Layer for Double {
///     fn forward(&self, x: &[Tensor], _: &CallCtx) -> keras::Result<Vec<Tensor>> {
///         Ok(vec![(&x[0] * 2.0)?])
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn layer(attr: TokenStream, item: TokenStream) -> TokenStream {
    let opts = parse_macro_input!(attr as Options);
    let mut imp = parse_macro_input!(item as ItemImpl);
    if imp.trait_.is_none() {
        return syn::Error::new_spanned(
            &imp.self_ty,
            "#[keras::layer] goes on `impl Layer for SomeType`, not on an inherent impl",
        )
        .to_compile_error()
        .into();
    }
    let class = match type_name(&imp.self_ty) {
        Ok(c) => c,
        Err(e) => return e.to_compile_error().into(),
    };
    let has = |name: &str| {
        imp.items
            .iter()
            .any(|i| matches!(i, ImplItem::Fn(f) if f.sig.ident == name))
    };
    let field = &opts.args;
    let mut added: Vec<ImplItem> = vec![];
    if !has("class_name") {
        added.push(syn::parse_quote! {
            fn class_name(&self) -> &str { #class }
        });
    }
    if !has("args") {
        added.push(syn::parse_quote! {
            fn args(&self) -> &::keras::engine::LayerArgs { &self.#field }
        });
    }
    if !has("args_mut") {
        added.push(syn::parse_quote! {
            fn args_mut(&mut self) -> &mut ::keras::engine::LayerArgs { &mut self.#field }
        });
    }
    imp.items.extend(added);
    quote!(#imp).into()
}
