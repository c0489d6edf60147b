//! ResNet50 (He et al., 2015), as `keras.applications.ResNet50`.

use super::{head, input};
use crate::engine::{KerasTensor, LayerExt};
use crate::layers::{Activation, Add, BatchNormalization, Conv2D, MaxPooling2D, ZeroPadding2D};
use crate::models::Model;
use crate::Result;

/// The ResNet50 network. Default input 224x224x3; 25,636,712 parameters with the top.
pub struct ResNet50 {
    /// Only `None` (random initialization).
    pub weights: Option<String>,
    /// Include the classifier.
    pub include_top: bool,
    /// `(height, width, channels)`.
    pub input_shape: Option<Vec<Option<usize>>>,
    /// Without the top: `None`, `"avg"` or `"max"` global pooling.
    pub pooling: Option<&'static str>,
    /// Number of classes of the top.
    pub classes: usize,
    /// Activation of the top.
    pub classifier_activation: &'static str,
}

impl Default for ResNet50 {
    fn default() -> Self {
        ResNet50 {
            weights: None,
            include_top: true,
            input_shape: None,
            pooling: None,
            classes: 1000,
            classifier_activation: "softmax",
        }
    }
}

fn bn(x: &KerasTensor, name: &str) -> Result<KerasTensor> {
    BatchNormalization::new()
        .epsilon(1.001e-5)
        .name(name)
        .call(x)
}

/// Keras's `residual_block_v1`.
fn block(
    x: &KerasTensor,
    filters: usize,
    stride: usize,
    conv_shortcut: bool,
    name: &str,
) -> Result<KerasTensor> {
    let shortcut = if conv_shortcut {
        let s = Conv2D::new(4 * filters, 1)
            .strides(stride)
            .name(&format!("{name}_0_conv"))
            .call(x)?;
        bn(&s, &format!("{name}_0_bn"))?
    } else {
        x.clone()
    };
    let y = Conv2D::new(filters, 1)
        .strides(stride)
        .name(&format!("{name}_1_conv"))
        .call(x)?;
    let y = bn(&y, &format!("{name}_1_bn"))?;
    let y = Activation::new("relu")
        .name(&format!("{name}_1_relu"))
        .call(&y)?;
    let y = Conv2D::new(filters, 3)
        .padding("same")
        .name(&format!("{name}_2_conv"))
        .call(&y)?;
    let y = bn(&y, &format!("{name}_2_bn"))?;
    let y = Activation::new("relu")
        .name(&format!("{name}_2_relu"))
        .call(&y)?;
    let y = Conv2D::new(4 * filters, 1)
        .name(&format!("{name}_3_conv"))
        .call(&y)?;
    let y = bn(&y, &format!("{name}_3_bn"))?;
    let y = Add::new()
        .name(&format!("{name}_add"))
        .call(&[shortcut, y])?;
    Activation::new("relu")
        .name(&format!("{name}_out"))
        .call(&y)
}

fn stack(
    x: KerasTensor,
    filters: usize,
    blocks: usize,
    stride1: usize,
    name: &str,
) -> Result<KerasTensor> {
    let mut x = block(&x, filters, stride1, true, &format!("{name}_block1"))?;
    for i in 2..=blocks {
        x = block(&x, filters, 1, false, &format!("{name}_block{i}"))?;
    }
    Ok(x)
}

impl ResNet50 {
    /// Builds the model.
    pub fn build(&self) -> Result<Model> {
        let img = input(
            &self.weights,
            &self.input_shape,
            [224, 224, 3],
            self.include_top,
        )?;
        let x = ZeroPadding2D::new(((3, 3), (3, 3)))
            .name("conv1_pad")
            .call(&img)?;
        let x = Conv2D::new(64, 7).strides(2).name("conv1_conv").call(&x)?;
        let x = bn(&x, "conv1_bn")?;
        let x = Activation::new("relu").name("conv1_relu").call(&x)?;
        let x = ZeroPadding2D::new(((1, 1), (1, 1)))
            .name("pool1_pad")
            .call(&x)?;
        let x = MaxPooling2D::new(3)
            .strides(2)
            .name("pool1_pool")
            .call(&x)?;
        let x = stack(x, 64, 3, 1, "conv2")?;
        let x = stack(x, 128, 4, 2, "conv3")?;
        let x = stack(x, 256, 6, 2, "conv4")?;
        let x = stack(x, 512, 3, 2, "conv5")?;
        let out = head(
            x,
            self.include_top,
            self.pooling,
            self.classes,
            self.classifier_activation,
        )?;
        Ok(Model::new(&[img], &[out])?.name("resnet50"))
    }
}
