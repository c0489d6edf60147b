//! The protocol-buffer messages of a TensorBoard event file, as TensorFlow defines them in
//! `tensorboard/compat/proto/{event,summary,tensor,tensor_shape,types}.proto` (same field
//! numbers and types; only the fields keras-rs writes or a reader needs are declared: an
//! unknown field is skipped by any protobuf reader, so the subset is wire-compatible).
//!
//! The structs are derived with `prost` (no `protoc`, no build script).

/// `tensorflow.Event`: one record of an event file.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Event {
    /// Seconds since the Unix epoch.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    /// The global step of the summary.
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// What the event carries.
    #[prost(oneof = "event::What", tags = "3, 4, 5")]
    pub what: Option<event::What>,
}

/// The `what` oneof of [`Event`].
pub mod event {
    /// What an [`super::Event`] carries.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum What {
        /// `"brain.Event:2"` in the first record of a file.
        #[prost(string, tag = "3")]
        FileVersion(String),
        /// A serialized `GraphDef` (not written by keras-rs).
        #[prost(bytes, tag = "4")]
        GraphDef(Vec<u8>),
        /// Summary values.
        #[prost(message, tag = "5")]
        Summary(super::Summary),
    }
}

/// `tensorflow.Summary`: a list of tagged values.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    /// The values.
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<summary::Value>,
}

/// `tensorflow.Summary.Value` and its `value` oneof.
pub mod summary {
    /// One tagged value.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Value {
        /// The tag, e.g. `epoch_loss`.
        #[prost(string, tag = "1")]
        pub tag: String,
        /// Which plugin reads the value.
        #[prost(message, optional, tag = "9")]
        pub metadata: Option<super::SummaryMetadata>,
        /// The value.
        #[prost(oneof = "Kind", tags = "2, 8")]
        pub value: Option<Kind>,
    }

    /// The `value` oneof of [`Value`].
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Kind {
        /// A TF1-style scalar (read, not written, by keras-rs).
        #[prost(float, tag = "2")]
        SimpleValue(f32),
        /// A tensor (every TF2 summary).
        #[prost(message, tag = "8")]
        Tensor(super::TensorProto),
    }
}

/// `tensorflow.SummaryMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SummaryMetadata {
    /// The plugin that owns the value.
    #[prost(message, optional, tag = "1")]
    pub plugin_data: Option<PluginData>,
    /// A display name.
    #[prost(string, tag = "2")]
    pub display_name: String,
    /// A Markdown description.
    #[prost(string, tag = "3")]
    pub summary_description: String,
    /// `tensorflow.DataClass` (TensorBoard fills it in from the plugin name when 0).
    #[prost(int32, tag = "4")]
    pub data_class: i32,
}

/// `tensorflow.SummaryMetadata.PluginData`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PluginData {
    /// `scalars`, `histograms`, `text`, `images`, `graph_keras_model`, ...
    #[prost(string, tag = "1")]
    pub plugin_name: String,
    /// Plugin-specific content (a serialized plugin proto; empty = its defaults).
    #[prost(bytes = "vec", tag = "2")]
    pub content: Vec<u8>,
}

/// `tensorflow.TensorProto`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorProto {
    /// A [`DataType`] value.
    #[prost(enumeration = "DataType", tag = "1")]
    pub dtype: i32,
    /// The shape (no dims: a scalar).
    #[prost(message, optional, tag = "2")]
    pub tensor_shape: Option<TensorShapeProto>,
    /// Serialized little-endian values (numeric dtypes), as TF's `AsProtoTensorContent`.
    #[prost(bytes = "vec", tag = "4")]
    pub tensor_content: Vec<u8>,
    /// `DT_FLOAT` values.
    #[prost(float, repeated, tag = "5")]
    pub float_val: Vec<f32>,
    /// `DT_DOUBLE` values.
    #[prost(double, repeated, tag = "6")]
    pub double_val: Vec<f64>,
    /// `DT_STRING` values.
    #[prost(bytes = "vec", repeated, tag = "8")]
    pub string_val: Vec<Vec<u8>>,
}

/// `tensorflow.TensorShapeProto`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeProto {
    /// The dimensions, outermost first.
    #[prost(message, repeated, tag = "2")]
    pub dim: Vec<Dim>,
}

/// `tensorflow.TensorShapeProto.Dim`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Dim {
    /// The size of the dimension.
    #[prost(int64, tag = "1")]
    pub size: i64,
}

/// `tensorflow.DataType` (the values keras-rs may write; numbers as in `types.proto`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum DataType {
    /// `DT_INVALID`.
    DtInvalid = 0,
    /// `DT_FLOAT` (float32).
    DtFloat = 1,
    /// `DT_DOUBLE` (float64).
    DtDouble = 2,
    /// `DT_INT32`.
    DtInt32 = 3,
    /// `DT_UINT8`.
    DtUint8 = 4,
    /// `DT_STRING` (bytes).
    DtString = 7,
    /// `DT_INT64`.
    DtInt64 = 9,
    /// `DT_BOOL`.
    DtBool = 10,
}

impl TensorShapeProto {
    /// A shape from its dimensions.
    pub fn of(dims: &[usize]) -> Self {
        TensorShapeProto {
            dim: dims.iter().map(|&d| Dim { size: d as i64 }).collect(),
        }
    }
}

impl TensorProto {
    /// A float32 tensor (values in `tensor_content`, as TensorFlow's summary ops write them).
    pub fn f32(dims: &[usize], values: &[f32]) -> Self {
        TensorProto {
            dtype: DataType::DtFloat as i32,
            tensor_shape: Some(TensorShapeProto::of(dims)),
            tensor_content: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        }
    }

    /// A float64 tensor (values in `tensor_content`).
    pub fn f64(dims: &[usize], values: &[f64]) -> Self {
        TensorProto {
            dtype: DataType::DtDouble as i32,
            tensor_shape: Some(TensorShapeProto::of(dims)),
            tensor_content: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        }
    }

    /// A string tensor (values in `string_val`).
    pub fn strings(dims: &[usize], values: Vec<Vec<u8>>) -> Self {
        TensorProto {
            dtype: DataType::DtString as i32,
            tensor_shape: Some(TensorShapeProto::of(dims)),
            string_val: values,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    /// The bytes Python's `tensorboard.compat.proto.event_pb2.Event(wall_time=1.5, step=3,
    /// file_version="brain.Event:2").SerializeToString()` gives.
    #[test]
    fn event_bytes_match_python_protobuf() {
        let e = Event {
            wall_time: 1.5,
            step: 3,
            what: Some(event::What::FileVersion("brain.Event:2".into())),
        };
        let mut want = vec![0x09];
        want.extend(1.5f64.to_le_bytes());
        want.extend([0x10, 0x03, 0x1a, 13]);
        want.extend(b"brain.Event:2");
        assert_eq!(e.encode_to_vec(), want);
        assert_eq!(Event::decode(&want[..]).unwrap(), e);
    }

    #[test]
    fn scalar_tensor_round_trips() {
        let t = TensorProto::f32(&[], &[0.25]);
        let back = TensorProto::decode(&t.encode_to_vec()[..]).unwrap();
        assert_eq!(back.dtype, DataType::DtFloat as i32);
        assert_eq!(back.tensor_content, 0.25f32.to_le_bytes());
        assert!(back.tensor_shape.unwrap().dim.is_empty());
    }
}
