//! `keras.ops` and Python operators on a functional model's symbolic tensors, as in Keras 3:
//!
//! ```python
//! x = keras.Input((8, 16))
//! h = x * 2.0 + 1.0
//! pooled = ops.concatenate([ops.mean(h, axis=1), ops.max(h, axis=1)], axis=-1)
//! first = h[:, 0]
//! out = keras.layers.Dense(1)(ops.relu(pooled) - first[:, :1])
//! ```
//!
//! plus a `Lambda` layer registered under a name so the model saves and loads.
//!
//! Run with `cargo run --example symbolic_ops`.

use keras::layers::Lambda;
use keras::ops;
use keras::prelude::*;

fn main() -> keras::Result<()> {
    let x = Input::new([8, 16]);
    let h = &x * 2.0 + 1.0;
    let pooled = ops::concatenate(&[ops::mean(&h, 1, false)?, ops::max(&h, 1, false)?], -1)?;
    let first = h.slice((.., 0))?; // h[:, 0]
    let feats = ops::relu(&pooled)? - first.slice((.., ..1))?;
    let feats = Lambda::registered("l2_normalize", |t| {
        Ok(t.broadcast_div(&t.sqr()?.sum_keepdim(1)?.sqrt()?)?)
    })
    .call(&feats)?;
    let out = Dense::new(1).call(&feats)?;
    let mut model = Model::new(&[x], &[out])?;
    model.summary();

    model.compile("adam", "mse", ())?;
    let xs = Tensor::randn(0f32, 1.0, (256, 8, 16), &Device::Cpu)?;
    let ys = xs.mean_keepdim(1)?.mean_keepdim(2)?.squeeze(2)?;
    let history = model.fit(&xs, &ys, FitArgs::new().epochs(5).verbose(0))?;
    println!("loss by epoch: {:?}", history.history["loss"]);

    let path = std::env::temp_dir().join("symbolic_ops_example.keras");
    model.save(&path)?;
    let mut back = keras::saving::load_model(&path)?;
    let a: Tensor = model.predict(&xs, EvalArgs::quiet())?;
    let b: Tensor = back.predict(&xs, EvalArgs::quiet())?;
    println!(
        "saved and reloaded: max difference {:.2e}",
        (a - b)?.abs()?.max_all()?.to_scalar::<f32>()?
    );
    std::fs::remove_file(&path).ok();
    Ok(())
}
