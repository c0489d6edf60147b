//! Keras's guide "Making new layers and models via subclassing" (the seeds point to it): the
//! `Linear` layer, in a model that learns `y = x·v`, saved and loaded by its `get_config` and
//! one registration line.
//!
//! `cargo run --release --example custom_layer`

use keras::prelude::*;
use keras::serialization::{config, json, Config};

#[derive(Default)]
struct Linear {
    args: LayerArgs,
    units: usize,
    w: Option<Weight>,
}

#[keras::layer]
impl Layer for Linear {
    fn build(&mut self, s: &[Shape], w: &mut WeightBuilder) -> Result<()> {
        self.w = Some(w.add_weight("w", (s[0].dim(-1), self.units), "random_normal")?);
        Ok(())
    }
    fn forward(&self, x: &[Tensor], _: &CallCtx) -> Result<Vec<Tensor>> {
        Ok(vec![x[0].broadcast_matmul(&self.w.value()?)?])
    }
    fn get_config(&self) -> Result<Config> {
        Ok(config(json!({ "units": self.units })))
    }
}

fn linear(units: usize) -> Linear {
    Linear {
        units,
        ..Default::default()
    }
}

fn main() -> Result<()> {
    keras::utils::set_random_seed(1);
    keras::saving::object_registration::register::<LayerRef>("Linear", |c| {
        keras::engine::config::apply_base_config(linear(c.usize_or("units", 32)?), c)
    });
    let x = Tensor::randn(0f32, 1.0, (256, 3), &Device::Cpu)?;
    let y = x.matmul(&Tensor::new(&[[0.5f32], [-1.0], [2.0]], &Device::Cpu)?)?;

    let inputs = Input::new([3]);
    let outputs = linear(1).call(linear(8).call(&inputs)?)?;
    let mut model = Model::new(&[inputs], &[outputs])?;
    model.summary();
    model.compile(Adam::new().learning_rate(0.05), "mse", ())?;
    let history = model.fit(&x, &y, FitArgs::new().epochs(10).verbose(0))?;
    println!("loss: {:?}", history.history["loss"]);

    let path = std::env::temp_dir().join("custom_layer.keras");
    model.save(&path)?;
    let loaded = keras::saving::load_model(&path)?;
    let (a, b): (Tensor, Tensor) = (
        model.predict_on_batch(vec![x.clone()])?,
        loaded.predict_on_batch(vec![x])?,
    );
    println!(
        "reloaded model predicts the same: {}",
        (a - b)?.abs()?.max_all()?.to_scalar::<f32>()? == 0.0
    );
    Ok(())
}
