//! `keras.config`: process-wide settings. The device new weights go to ([`set_device`],
//! [`with_device`], Keras's `keras.device(...)` scope) and the default image layout
//! ([`set_image_data_format`]).
//!
//! ```
//! assert_eq!(keras::config::image_data_format(), "channels_last");
//! assert_eq!(keras::config::device_name(), "cpu:0");
//! ```

mod device;

pub use crate::layers::data_format::{image_data_format, set_image_data_format};
pub use device::{device, device_name, set_device, with_device, IntoDevice};
