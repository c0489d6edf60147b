//! User classes in saved models: a custom layer registered by name, and a subclassed model
//! with a config; both save, load and predict the same numbers, and an unregistered class is
//! an error naming it.

use keras::engine::{CallCtx, Layer, LayerArgs, LayerExt, LayerRef, Shape, WeightBuilder};
use keras::models::Subclass;
use keras::prelude::*;
use keras::saving::registry::{register_layer, register_model};
use keras::serialization::{json, Config};

/// `y = x * scale + shift`, with a learned `shift` per feature.
#[derive(Clone)]
struct ScaleShift {
    args: LayerArgs,
    scale: f64,
    shift: Option<keras::engine::Weight>,
}

impl ScaleShift {
    fn new(scale: f64) -> Self {
        ScaleShift {
            args: LayerArgs::default(),
            scale,
            shift: None,
        }
    }
}

impl Layer for ScaleShift {
    fn class_name(&self) -> &str {
        "ScaleShift"
    }
    fn args(&self) -> &LayerArgs {
        &self.args
    }
    fn args_mut(&mut self) -> &mut LayerArgs {
        &mut self.args
    }
    fn get_config(&self) -> keras::Result<Config> {
        Ok(keras::serialization::config(json!({ "scale": self.scale })))
    }
    fn build(&mut self, s: &[Shape], w: &mut WeightBuilder) -> keras::Result<()> {
        let n = s[0].0.last().copied().flatten().unwrap_or(1);
        self.shift = Some(w.add(
            "shift",
            &[n],
            &keras::initializers::RandomNormal::default(),
            None,
            true,
        )?);
        Ok(())
    }
    fn compute_output_shape(&self, s: &[Shape]) -> keras::Result<Vec<Shape>> {
        Ok(s.to_vec())
    }
    fn forward(&self, x: &[Tensor], _: &CallCtx) -> keras::Result<Vec<Tensor>> {
        let shift = self.shift.as_ref().unwrap().value();
        Ok(vec![x[0].affine(self.scale, 0.0)?.broadcast_add(&shift)?])
    }
}

fn scale_shift_from_config(c: &Config) -> keras::Result<LayerRef> {
    let scale = c.get("scale").and_then(|v| v.as_f64()).unwrap_or(1.0);
    let mut l = ScaleShift::new(scale);
    if let Some(n) = c.get("name").and_then(|v| v.as_str()) {
        l = l.name(n);
    }
    Ok(l.into_layer())
}

/// A subclassed two-layer MLP with a width argument.
struct Mlp {
    width: usize,
    hidden: LayerRef,
    out: LayerRef,
}

impl Mlp {
    fn new(width: usize) -> Mlp {
        Mlp {
            width,
            hidden: Dense::new(width).activation("relu").into_layer(),
            out: Dense::new(2).into_layer(),
        }
    }
}

impl Subclass for Mlp {
    fn call(&self, x: &[Tensor], _training: bool) -> keras::Result<Vec<Tensor>> {
        Ok(vec![self.out.apply(&self.hidden.apply(&x[0])?)?])
    }
    fn layers(&self) -> Vec<LayerRef> {
        vec![self.hidden.clone(), self.out.clone()]
    }
    fn get_config(&self) -> Option<Config> {
        Some(keras::serialization::config(json!({ "width": self.width })))
    }
}

fn probe(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    Tensor::arange(0f32, n as f32, &Device::Cpu)
        .unwrap()
        .reshape(shape)
        .unwrap()
        .affine(0.01, -0.2)
        .unwrap()
}

fn same(a: &Tensor, b: &Tensor) {
    let d = (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap();
    assert_eq!(d.to_scalar::<f32>().unwrap(), 0.0);
}

#[test]
fn registered_custom_layer_saves_and_loads() {
    let dir = std::env::temp_dir().join(format!("keras_rs_custom_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let inputs = Input::new([3]);
    let x = ScaleShift::new(2.5)
        .name("scale_shift")
        .call(&inputs)
        .unwrap();
    let out = Dense::new(2).call(&x).unwrap();
    let mut m = Model::new(&[inputs], &[out]).unwrap();
    m.compile("sgd", "mse", ()).unwrap();
    let file = dir.join("custom.keras");
    m.save(&file).unwrap();
    // Not registered yet: the error names the class.
    let e = keras::saving::load_model(&file).err().unwrap().to_string();
    assert!(e.contains("Could not locate class 'ScaleShift'"), "{e}");
    register_layer("ScaleShift", scale_shift_from_config);
    let loaded = keras::saving::load_model(&file).unwrap();
    let x = probe(&[4, 3]);
    same(
        &loaded.predict_on_batch(vec![x.clone()]).unwrap(),
        &m.predict_on_batch(vec![x]).unwrap(),
    );
    let json = keras::saving::to_json(&loaded).unwrap();
    assert!(json.contains(r#""scale":2.5"#), "{json}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn subclassed_model_with_config_saves_and_loads() {
    let dir = std::env::temp_dir().join(format!("keras_rs_subclass_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut m = Model::subclass(Mlp::new(5));
    m.build([None, Some(3)]).unwrap();
    m.compile("adam", "mse", ()).unwrap();
    let x = probe(&[4, 3]);
    let y = probe(&[4, 2]);
    m.train_on_batch(vec![x.clone()], vec![y.clone()]).unwrap();
    // Weights alone round-trip into a fresh instance.
    let weights = dir.join("mlp.weights.h5");
    m.save_weights(&weights).unwrap();
    let mut fresh = Model::subclass(Mlp::new(5));
    fresh.build([None, Some(3)]).unwrap();
    fresh.load_weights(&weights).unwrap();
    same(
        &fresh.predict_on_batch(vec![x.clone()]).unwrap(),
        &m.predict_on_batch(vec![x.clone()]).unwrap(),
    );
    // The whole model, through its config and register_model.
    let file = dir.join("mlp.keras");
    m.save(&file).unwrap();
    let e = keras::saving::load_model(&file).err().unwrap().to_string();
    assert!(e.contains("Could not locate class 'Mlp' (a model)"), "{e}");
    register_model("Mlp", |c| {
        let width = c.get("width").and_then(|v| v.as_u64()).unwrap_or(1) as usize;
        Ok(Model::subclass(Mlp::new(width)))
    });
    let mut loaded = keras::saving::load_model(&file).unwrap();
    assert_eq!(loaded.count_params(), m.count_params());
    same(
        &loaded.predict_on_batch(vec![x.clone()]).unwrap(),
        &m.predict_on_batch(vec![x.clone()]).unwrap(),
    );
    // The optimizer state came along: one more step gives the same weights in both.
    m.train_on_batch(vec![x.clone()], vec![y.clone()]).unwrap();
    loaded.train_on_batch(vec![x.clone()], vec![y]).unwrap();
    same(
        &loaded.predict_on_batch(vec![x.clone()]).unwrap(),
        &m.predict_on_batch(vec![x]).unwrap(),
    );
    std::fs::remove_dir_all(&dir).ok();
}
