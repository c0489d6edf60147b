//! The embedding projector's files: `projector_config.pbtxt` (a text-format
//! `tensorboard.ProjectorConfig`) and the embedding values as TSV tensor files.

use crate::ops::{DType, Tensor};
use crate::{Error, Result};
use std::fmt::Write as _;
use std::path::Path;

/// One `embeddings { ... }` entry of the projector config.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct EmbeddingInfo {
    /// The Embedding layer it shows.
    pub layer: String,
    /// `tensor_name`: Keras's checkpoint key of the layer's embeddings.
    pub tensor_name: String,
    /// `metadata_path`: labels for the rows (relative to the log directory), if given.
    pub metadata_path: Option<String>,
    /// `tensor_path`: the TSV file of the values (relative to the log directory).
    pub tensor_path: String,
}

/// The config as protobuf's `text_format.MessageToString` prints it (fields in number order:
/// `tensor_name` 1, `metadata_path` 2, `tensor_path` 6).
pub(crate) fn config_pbtxt(entries: &[EmbeddingInfo]) -> String {
    let mut s = String::new();
    for e in entries {
        s.push_str("embeddings {\n");
        let _ = writeln!(s, "  tensor_name: \"{}\"", escape(&e.tensor_name));
        if let Some(m) = &e.metadata_path {
            let _ = writeln!(s, "  metadata_path: \"{}\"", escape(m));
        }
        let _ = writeln!(s, "  tensor_path: \"{}\"", escape(&e.tensor_path));
        s.push_str("}\n");
    }
    s
}

/// Protobuf text format's string escaping as Python's `text_format` prints it (C escapes,
/// other control bytes in octal, UTF-8 kept), which `text_format.Parse` reads back.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '"' => out.push_str("\\\""),
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\{:03o}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// A 2-D tensor as TSV: one row per line, values tab-separated, each the shortest decimal
/// that reads back as the same float32.
pub(crate) fn tsv(values: &Tensor) -> Result<String> {
    let rows: Vec<Vec<f32>> = values.to_dtype(DType::F32)?.to_vec2()?;
    let mut s = String::new();
    for row in rows {
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                s.push('\t');
            }
            let _ = write!(s, "{v}");
        }
        s.push('\n');
    }
    Ok(s)
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a reader never sees
/// half a file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{}.tmp", name.unwrap_or_default()));
    let fail = |e| Error::io(format!("cannot write {}", path.display()), e);
    std::fs::write(&tmp, bytes).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    })
}

/// A layer name as a file-name part: characters outside `[A-Za-z0-9_.-]` become `_`.
pub(crate) fn file_stem(layer: &str) -> String {
    layer
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Python's `text_format.MessageToString(config)` prints for the same config.
    #[test]
    fn pbtxt_as_protobuf_prints_it() {
        let e = EmbeddingInfo {
            layer: "embedding".into(),
            tensor_name: "layer_with_weights-0/embeddings/.ATTRIBUTES/VARIABLE_VALUE".into(),
            metadata_path: Some("meta \"1\".tsv".into()),
            tensor_path: "embedding_embeddings.tsv".into(),
        };
        assert_eq!(
            config_pbtxt(&[e]),
            "embeddings {\n  tensor_name: \"layer_with_weights-0/embeddings/.ATTRIBUTES/VARIABLE_VALUE\"\n  \
             metadata_path: \"meta \\\"1\\\".tsv\"\n  tensor_path: \"embedding_embeddings.tsv\"\n}\n"
        );
        assert_eq!(escape("é\\'\u{1}"), "é\\\\\\'\\001");
        assert_eq!(file_stem("my emb/1"), "my_emb_1");
    }

    #[test]
    fn tsv_rows() -> Result<()> {
        let t = Tensor::new(&[[0.5f32, -1.25], [1e-7, 3.0]], &crate::ops::Device::Cpu)?;
        assert_eq!(tsv(&t)?, "0.5\t-1.25\n0.0000001\t3\n");
        Ok(())
    }
}
