//! Which layers a piece of code applies: how a subclassed model finds its layers without
//! listing them (Keras tracks a model's layers as its attributes are assigned; Rust has no
//! attributes to walk, so the engine records the layers a model's `call` applies while it
//! builds).
//!
//! [`LayerRef::apply`](super::LayerRef::apply) and its siblings report each layer they run
//! to the innermost recording; while a layer runs, the layers *it* applies are its own
//! business and are not reported to the outer recording.
//!
//! ```
//! use keras::prelude::*;
//! use keras::engine::tracker::record_layers;
//! let (a, b) = (Dense::new(2).into_layer(), Dense::new(1).into_layer());
//! let x = Tensor::zeros((1, 3), DType::F32, &Device::Cpu)?;
//! let (y, used) = record_layers(false, || b.apply(&a.apply(&x)?));
//! assert_eq!(y?.dims(), &[1, 1]);
//! assert!(used.len() == 2 && used[0].same(&a) && used[1].same(&b));
//! # Ok::<(), keras::Error>(())
//! ```

use super::layer::LayerRef;
use std::cell::RefCell;

struct Frame {
    /// The layers applied so far, in first-use order; `None` for the frame of a running
    /// layer, which hides what it applies from the recording around it.
    layers: Option<Vec<LayerRef>>,
    /// Whether the batch axis of the traced inputs is unknown (`None`): layers built inside
    /// record it as `None`, as Keras's symbolic build does.
    unknown_batch: bool,
}

thread_local! {
    static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
}

/// Pops the frame it pushed, even when the code inside fails or panics.
struct Pop;

impl Drop for Pop {
    fn drop(&mut self) {
        FRAMES.with(|f| f.borrow_mut().pop());
    }
}

fn push(frame: Frame) -> Pop {
    FRAMES.with(|f| f.borrow_mut().push(frame));
    Pop
}

/// Runs `f`, returning what it returns and the layers it applied (each once, in the order
/// of their first use). `unknown_batch`: the batch axis of `f`'s inputs stands for `None`,
/// so layers first built inside record their build shapes with a `None` batch axis.
pub fn record_layers<T>(unknown_batch: bool, f: impl FnOnce() -> T) -> (T, Vec<LayerRef>) {
    let pop = push(Frame {
        layers: Some(vec![]),
        unknown_batch,
    });
    let out = f();
    let layers = FRAMES.with(|fr| {
        fr.borrow_mut()
            .last_mut()
            .and_then(|top| top.layers.take())
            .unwrap_or_default()
    });
    drop(pop);
    (out, layers)
}

/// Reports that `layer` is being applied (to the innermost recording, if any).
pub(crate) fn report(layer: &LayerRef) {
    FRAMES.with(|fr| {
        if let Some(Frame {
            layers: Some(ls), ..
        }) = fr.borrow_mut().last_mut()
        {
            if !ls.iter().any(|l| l.same(layer)) {
                ls.push(layer.clone());
            }
        }
    });
}

/// Runs `f` (a layer's own computation) so that the layers it applies are not reported to
/// the recording around it.
pub(crate) fn inside_layer<T>(f: impl FnOnce() -> T) -> T {
    if FRAMES.with(|fr| fr.borrow().is_empty()) {
        return f();
    }
    let _pop = push(Frame {
        layers: None,
        unknown_batch: unknown_batch(),
    });
    f()
}

/// Whether layers built now should record a `None` batch axis (inside
/// [`record_layers`]`(true, ..)`).
pub(crate) fn unknown_batch() -> bool {
    FRAMES.with(|fr| fr.borrow().last().is_some_and(|f| f.unknown_batch))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LayerExt;
    use crate::layers::Dense;
    use crate::models::Sequential;
    use crate::ops::{DType, Device, Tensor};

    #[test]
    fn records_first_use_once_and_not_nested_layers() {
        let a = Dense::new(3).into_layer();
        let inner = Dense::new(3).into_layer();
        let seq = Sequential::from_layers([inner.clone()])
            .unwrap()
            .into_model()
            .layer()
            .clone();
        let x = Tensor::zeros((2, 3), DType::F32, &Device::Cpu).unwrap();
        let (y, used) = record_layers(true, || -> crate::Result<Tensor> {
            let h = a.apply(&x)?;
            let h = seq.apply(&h)?;
            a.apply(&h)
        });
        assert_eq!(y.unwrap().dims(), &[2, 3]);
        assert_eq!(used.len(), 2);
        assert!(used[0].same(&a) && used[1].same(&seq));
        // Built inside a recording with an unknown batch axis.
        assert_eq!(a.build_shapes().unwrap()[0].0, vec![None, Some(3)]);
        // Nothing is recorded outside a recording, and the frames are gone.
        a.apply(&x).unwrap();
        assert!(!unknown_batch());
        FRAMES.with(|f| assert!(f.borrow().is_empty()));
    }
}
