//! The `.keras` archive Keras 3 writes with `model.save`: a zip holding `metadata.json`,
//! `config.json` (the model's config plus its `compile_config`) and `model.weights.h5` (the
//! weights and the optimizer's state), so a loaded model predicts and resumes training.

use super::h5::Group;
use super::weights::{from_h5, to_h5};
use crate::models::Model;
use crate::trainers::CompileArgs;
use crate::{Error, Result};
use serde_json::{json, Value};
use std::io::{Read, Seek, Write};
use std::path::Path;

/// The Keras version our files claim to be written by (the one our fixtures come from).
pub const KERAS_VERSION: &str = "3.15.1";

const METADATA: &str = "metadata.json";
const CONFIG: &str = "config.json";
const WEIGHTS: &str = "model.weights.h5";
/// JSON entries larger than this are refused rather than read.
const MAX_JSON: u64 = 64 << 20;
/// Deflate cannot expand data by more than about 1032 times: a larger claim is a lie.
const MAX_RATIO: u64 = 1100;

/// Saves a model as Keras 3's `.keras` archive (Keras's `model.save`), atomically: the file is
/// written beside the target, synced, then renamed over it.
///
/// ```
/// use keras::prelude::*;
/// let mut model = Sequential::from_layers([Input::new(&[4]).into(), Dense::new(2).into()])?;
/// model.compile("adam", "mse", ["mae"])?;
/// let path = std::env::temp_dir().join(format!("doc_save_{}.keras", std::process::id()));
/// model.save(&path)?;
/// let loaded = keras::saving::load_model(&path)?;
/// assert_eq!(loaded.count_params(), 10);
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), keras::Error>(())
/// ```
pub fn save_model(model: &Model, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    if super::legacy::is_h5_path(path) {
        return super::legacy::save_h5_model(model, path);
    }
    if path.extension().and_then(|e| e.to_str()) != Some("keras") {
        return Err(Error::value(format!(
            "Invalid filepath extension for saving. Please add a `.keras` extension for the \
             native Keras format. Received: filepath={}",
            path.display()
        )));
    }
    let mut config = model.net.serialize()?;
    if let Some(c) = model.trainer.compile_config() {
        config["compile_config"] = c;
    }
    let metadata = json!({ "keras_version": KERAS_VERSION, "date_saved": date_saved() });
    let weights = to_h5(model)?.to_bytes()?;
    let assets = super::assets::collect(&model.net)?;
    crate::ops::npy::write_atomic(path, |f| {
        write_zip(
            f,
            &metadata.to_string(),
            &config.to_string(),
            &weights,
            &assets,
        )
        .map_err(|e| Error::value(format!("cannot write {}: {e}", path.display())))
    })
}

fn write_zip(
    f: &mut std::fs::File,
    metadata: &str,
    config: &str,
    weights: &[u8],
    assets: &[(String, Vec<u8>)],
) -> zip::result::ZipResult<()> {
    let mut z = zip::ZipWriter::new(f);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(weights.len() as u64 >= u32::MAX as u64);
    for (name, bytes) in [
        (METADATA, metadata.as_bytes()),
        (CONFIG, config.as_bytes()),
        (WEIGHTS, weights),
    ] {
        z.start_file(name, opts)?;
        z.write_all(bytes)?;
    }
    // Layers' asset files (a lookup layer's vocabulary), after the weights as Keras orders them.
    for (name, bytes) in assets {
        z.start_file(name.as_str(), opts)?;
        z.write_all(bytes)?;
    }
    z.finish()?;
    Ok(())
}

/// Loads a `.keras` file written by Python Keras 3 or by [`save_model`]: the model, its
/// weights, and (when it was compiled) its compile configuration and optimizer state.
///
/// A corrupted, truncated or wrong-kind file is an error naming the file, never a panic.
pub fn load_model(path: impl AsRef<Path>) -> Result<Model> {
    load(path.as_ref(), true)
}

/// [`load_model`] without compiling (Keras's `load_model(path, compile=False)`): the
/// optimizer state in the file is ignored.
pub fn load_model_uncompiled(path: impl AsRef<Path>) -> Result<Model> {
    load(path.as_ref(), false)
}

/// [`load_model`] from the bytes of a `.keras` file (or a legacy `.h5` one), e.g. one built
/// into the binary with `include_bytes!`, for single-file deployment.
///
/// ```no_run
/// let model = keras::saving::load_model_from_bytes(include_bytes!("../../tests/fixtures/saving/seq_mlp.keras"))?;
/// # Ok::<(), keras::Error>(())
/// ```
pub fn load_model_from_bytes(bytes: &[u8]) -> Result<Model> {
    if super::legacy::h5_model::is_h5_bytes(bytes) {
        return super::legacy::h5_model::from_bytes(bytes.to_vec(), "<bytes>", true);
    }
    load_from(std::io::Cursor::new(bytes), "<bytes>", true)
}

fn load(path: &Path, compile: bool) -> Result<Model> {
    if super::legacy::is_h5_path(path) {
        return super::legacy::load_h5_model(path, compile);
    }
    let file = std::fs::File::open(path)
        .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
    load_from(
        std::io::BufReader::new(file),
        &path.display().to_string(),
        compile,
    )
}

fn load_from<R: Read + Seek>(reader: R, what: &str, compile: bool) -> Result<Model> {
    let bad = |e: String| Error::value(format!("{what}: {e}"));
    let mut zip = zip::ZipArchive::new(reader).map_err(|e| {
        bad(format!(
            "not a valid .keras file (a .keras file is a zip archive): {e}"
        ))
    })?;
    let config_bytes = read_entry(&mut zip, CONFIG, MAX_JSON).map_err(bad)?;
    let config: Value = serde_json::from_slice(&config_bytes)
        .map_err(|e| bad(format!("{CONFIG} is not valid JSON: {e}")))?;
    // The weights entry bounds how many weight values the config may create (2 bytes each at
    // the smallest dtype), so a hostile config cannot make us allocate without bound.
    let weights_size = zip.by_name(WEIGHTS).map(|e| e.size()).unwrap_or(0);
    let budget = weights_size / 2 + 4096;
    let mut model = crate::engine::weight::with_weight_budget(budget, || {
        crate::models::model_from_config(&config)
    })
    .map_err(|e| bad(e.to_string()))?;
    if compile {
        // Keras writes `{}` for a model compiled with nothing (or never compiled).
        let given = |c: &&Value| !c.is_null() && c.as_object().is_none_or(|o| !o.is_empty());
        if let Some(c) = config.get("compile_config").filter(given) {
            model
                .trainer
                .compile(compile_args(c)?)
                .map_err(|e| bad(format!("cannot compile from compile_config: {e}")))?;
        }
    }
    let weights = read_entry(&mut zip, WEIGHTS, u64::MAX).map_err(bad)?;
    let root = Group::from_bytes(weights).map_err(|e| bad(format!("{WEIGHTS}: {e}")))?;
    from_h5(&mut model, &root, false).map_err(|e| bad(e.to_string()))?;
    let assets = read_assets(&mut zip).map_err(bad)?;
    super::assets::restore(&model.net, &assets).map_err(|e| bad(e.to_string()))?;
    Ok(model)
}

/// The archive's asset files (`assets/...`), by archive path; each bounded as a JSON entry.
fn read_assets<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
) -> std::result::Result<super::assets::Assets, String> {
    let prefix = format!("{}/", super::assets::ASSETS_DIR);
    let names: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.to_string()))
        .filter(|n| n.starts_with(&prefix) && !n.ends_with('/'))
        .collect();
    let mut out = super::assets::Assets::new();
    for name in names {
        let bytes = read_entry(zip, &name, MAX_JSON)?;
        out.insert(name, bytes);
    }
    Ok(out)
}

/// An entry's bytes, refusing entries that are missing, claim more than `limit`, or claim more
/// than deflate could produce from their compressed size; memory grows only with the data
/// actually read.
fn read_entry<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    limit: u64,
) -> std::result::Result<Vec<u8>, String> {
    let entry = zip
        .by_name(name)
        .map_err(|e| format!("the archive has no readable {name} ({e})"))?;
    let size = entry.size();
    let bound = entry
        .compressed_size()
        .saturating_mul(MAX_RATIO)
        .max(1 << 16);
    if size > limit || size > bound {
        return Err(format!(
            "{name} claims {size} bytes, more than this file can hold"
        ));
    }
    let mut out = Vec::new();
    entry
        .take(size + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("cannot read {name}: {e}"))?;
    if out.len() as u64 != size {
        return Err(format!(
            "{name} holds {} bytes, its header says {size}",
            out.len()
        ));
    }
    Ok(out)
}

/// The entry names of a `.keras` archive with their sizes (what `unzip -l` shows).
///
/// ```
/// # use keras::prelude::*;
/// # let mut model = Sequential::from_layers([Input::new(&[4]).into(), Dense::new(2).into()])?;
/// # let path = std::env::temp_dir().join(format!("doc_list_{}.keras", std::process::id()));
/// # model.save(&path)?;
/// let names: Vec<String> = keras::saving::list_archive(&path)?.into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["metadata.json", "config.json", "model.weights.h5"]);
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), keras::Error>(())
/// ```
pub fn list_archive(path: impl AsRef<Path>) -> Result<Vec<(String, u64)>> {
    let path = path.as_ref();
    let file = std::fs::File::open(path)
        .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| Error::value(format!("{}: not a zip archive: {e}", path.display())))?;
    let mut out = vec![];
    for i in 0..zip.len() {
        let e = zip
            .by_index_raw(i)
            .map_err(|e| Error::value(format!("{}: {e}", path.display())))?;
        let name = e
            .name()
            .map_err(|e| Error::value(format!("{}: {e}", path.display())))?
            .to_string();
        out.push((name, e.size()));
    }
    Ok(out)
}

/// `compile` arguments from Keras's `compile_config` (see [`CompileArgs::from_config`]).
pub(crate) fn compile_args(c: &Value) -> Result<CompileArgs> {
    CompileArgs::from_config(c)
}

/// `YYYY-MM-DD@HH:MM:SS` (UTC), as Keras stamps `date_saved`.
fn date_saved() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}@{:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn date_is_keras_format() {
        let d = super::date_saved();
        assert_eq!(d.len(), 19, "{d}");
        assert_eq!(&d[10..11], "@");
        let year: i32 = d[..4].parse().unwrap();
        assert!(year >= 2024, "{d}");
    }
}
