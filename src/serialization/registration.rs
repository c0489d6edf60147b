//! One registry of the classes a config can name, keyed by kind and class name (Keras's
//! `keras/src/saving/object_registration.py`). Built-in and user classes register the same
//! way: a kind ([`Registrable`]: layers, metrics, losses, optimizers, schedules, ...) lists
//! its built-in classes once, in its own module, one line each; a program adds its own with
//! [`register`]. Loading a config looks the class up here, so adding a class never touches a
//! central `match`. Beside the leaf config reader ([`crate::serialization`]), so every module
//! can read configs without `saving`; `keras::saving::object_registration` (Keras's path) is
//! this module.
//!
//! ```
//! use keras::prelude::*;
//! use keras::engine::LayerRef;
//! use keras::serialization::registration::{register, deserialize};
//! use keras::serialization::{json, config};
//! register::<LayerRef>("MyDense", |c| Ok(Dense::new(c.usize("units")?).into_layer()));
//! let layer: LayerRef = deserialize("MyDense", &config(json!({"units": 3})))?;
//! assert_eq!(layer.class_name(), "Dense");
//! let e = deserialize::<LayerRef>("MyDnse", &config(json!({}))).unwrap_err().to_string();
//! assert!(e.contains("'MyDnse'") && e.contains("'MyDense'"), "{e}");
//! # Ok::<(), keras::Error>(())
//! ```

use crate::serialization::{Cfg, Config, Value};
use crate::{Error, Result};
use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

/// Makes an object of kind `T` from its config (`c.class` is the class name being read).
pub type FromConfig<T> = Arc<dyn Fn(&Cfg) -> Result<T> + Send + Sync>;

/// A kind of object configs can name: its name in messages and its built-in classes.
///
/// Each kind implements this once, beside its trait (for layers `LayerRef`, for metrics
/// `Box<dyn Metric>`, ...), and lists its classes in `register_builtins`, one line each.
pub trait Registrable: Sized + 'static {
    /// The kind, as messages name it (`layer`, `metric`, `loss`, `optimizer`, ...).
    const KIND: &'static str;
    /// Adds the built-in classes of this kind (called once, before the first lookup).
    fn register_builtins(r: &mut Builtins<Self>);
}

/// The built-in classes of one kind, as [`Registrable::register_builtins`] adds them.
pub struct Builtins<T> {
    entries: Vec<(String, FromConfig<T>)>,
}

impl<T: Registrable> Builtins<T> {
    /// Adds class `name`, made by `f`.
    pub fn add(&mut self, name: &str, f: impl Fn(&Cfg) -> Result<T> + Send + Sync + 'static) {
        self.entries.push((name.to_string(), Arc::new(f)));
    }

    /// Adds `f` under each of `names` (a class and its aliases: `MaxPooling2D`, `MaxPool2D`).
    pub fn alias(&mut self, names: &[&str], f: impl Fn(&Cfg) -> Result<T> + Send + Sync + 'static) {
        let f: FromConfig<T> = Arc::new(f);
        for n in names {
            self.entries.push((n.to_string(), f.clone()));
        }
    }
}

type Entries = HashMap<(&'static str, String), Box<dyn Any + Send + Sync>>;

struct Registry {
    entries: Entries,
    loaded: HashSet<&'static str>,
}

static REGISTRY: RwLock<Option<Registry>> = RwLock::new(None);

fn with_kind<T: Registrable, R>(f: impl FnOnce(&Entries) -> R) -> R {
    {
        let g = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = g.as_ref().filter(|r| r.loaded.contains(T::KIND)) {
            return f(&r.entries);
        }
    }
    let mut b = Builtins::<T> { entries: vec![] };
    T::register_builtins(&mut b);
    let mut g = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    let r = g.get_or_insert_with(|| Registry {
        entries: HashMap::new(),
        loaded: HashSet::new(),
    });
    if r.loaded.insert(T::KIND) {
        for (name, make) in b.entries {
            // A user class registered before the first lookup keeps its place.
            r.entries
                .entry((T::KIND, name))
                .or_insert_with(|| Box::new(make));
        }
    }
    f(&r.entries)
}

/// Registers class `name` of kind `T` (Keras's `register_keras_serializable`): configs that
/// name it (as `class_name` or `registered_name`) are made by `f`. A user class may replace a
/// built-in one of the same name.
///
/// ```
/// use keras::prelude::*;
/// use keras::engine::LayerRef;
/// keras::serialization::registration::register::<LayerRef>("Twice", |c| {
///     Ok(Dense::new(2 * c.usize("units")?).into_layer())
/// });
/// ```
pub fn register<T: Registrable>(name: &str, f: impl Fn(&Cfg) -> Result<T> + Send + Sync + 'static) {
    let make: FromConfig<T> = Arc::new(f);
    with_kind::<T, ()>(|_| ());
    let mut g = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = g.as_mut() {
        r.entries
            .insert((T::KIND, name.to_string()), Box::new(make));
    }
}

/// The constructor registered for class `name` of kind `T`.
pub fn get_registered<T: Registrable>(name: &str) -> Option<FromConfig<T>> {
    with_kind::<T, _>(|e| {
        e.get(&(T::KIND, name.to_string()))
            .and_then(|b| b.downcast_ref::<FromConfig<T>>())
            .cloned()
    })
}

/// Every class name registered for kind `T`, sorted.
pub fn registered_names<T: Registrable>() -> Vec<String> {
    let mut v: Vec<String> = with_kind::<T, _>(|e| {
        e.keys()
            .filter(|(k, _)| *k == T::KIND)
            .map(|(_, n)| n.clone())
            .collect()
    });
    v.sort();
    v
}

/// Makes the object of kind `T` that class `class_name` with `config` describes.
pub fn deserialize<T: Registrable>(class_name: &str, config: &Config) -> Result<T> {
    match get_registered::<T>(class_name) {
        Some(f) => f(&Cfg::new(class_name, config)),
        None => Err(unknown_class::<T>(class_name)),
    }
}

/// Makes the object of kind `T` a serialized Keras object describes:
/// `{module, class_name, config, registered_name}` (a user class is looked up by its
/// `registered_name` first, as Keras does).
pub fn deserialize_object<T: Registrable>(v: &Value) -> Result<T> {
    let class = v.get("class_name").and_then(Value::as_str).ok_or_else(|| {
        Error::value(format!(
            "a serialized {} needs a `class_name`; received {v}",
            T::KIND
        ))
    })?;
    let empty = Config::new();
    let config = match v.get("config") {
        Some(Value::Object(m)) => m,
        None | Some(Value::Null) => &empty,
        Some(other) => {
            return Err(Error::value(format!(
                "{class}: `config` should be an object; received {other}"
            )))
        }
    };
    if let Some(reg) = v.get("registered_name").and_then(Value::as_str) {
        if reg != class {
            if let Some(f) = get_registered::<T>(reg) {
                return f(&Cfg::new(class, config));
            }
        }
    }
    deserialize(class, config)
}

/// The error for a class name nobody registered: it names the class and the registered
/// names closest to it.
pub fn unknown_class<T: Registrable>(name: &str) -> Error {
    let names = registered_names::<T>();
    let near = closest(name, &names, 3);
    let hint = if near.is_empty() {
        String::new()
    } else {
        let q: Vec<String> = near.iter().map(|n| format!("'{n}'")).collect();
        format!(" Did you mean {}?", q.join(", "))
    };
    Error::value(format!(
        "Could not locate class '{name}' (a {}).{hint} Make sure custom classes are registered \
         with keras::saving::object_registration::register.",
        T::KIND
    ))
}

/// Up to `n` of `names` closest to `name` by edit distance (case-insensitive), nearest first;
/// only names within about a third of their length.
pub fn closest(name: &str, names: &[String], n: usize) -> Vec<String> {
    let key = name.to_lowercase();
    let mut scored: Vec<(usize, &String)> = names
        .iter()
        .map(|c| (edit_distance(&key, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(name.len()) / 3).max(2))
        .collect();
    scored.sort();
    scored.into_iter().take(n).map(|(_, c)| c.clone()).collect()
}

/// Levenshtein distance.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serialization::{config, json};

    struct Thing(usize);
    impl Registrable for Thing {
        const KIND: &'static str = "test thing";
        fn register_builtins(r: &mut Builtins<Self>) {
            r.add("Small", |c| Ok(Thing(c.usize_or("n", 1)?)));
            r.alias(&["Large", "Big"], |_| Ok(Thing(100)));
        }
    }

    #[test]
    fn builtins_aliases_users_and_suggestions() {
        assert_eq!(
            deserialize::<Thing>("Small", &config(json!({"n": 4})))
                .unwrap()
                .0,
            4
        );
        assert_eq!(deserialize::<Thing>("Big", &Config::new()).unwrap().0, 100);
        register::<Thing>("Mine", |_| Ok(Thing(7)));
        let v = json!({"class_name": "Whatever", "registered_name": "Mine", "config": {}});
        assert_eq!(deserialize_object::<Thing>(&v).unwrap().0, 7);
        assert_eq!(
            registered_names::<Thing>(),
            ["Big", "Large", "Mine", "Small"]
        );
        let e = deserialize::<Thing>("smal", &Config::new())
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("class 'smal' (a test thing)") && e.contains("'Small'"),
            "{e}"
        );
        let e = deserialize::<Thing>("Zzzzzzzz", &Config::new())
            .err()
            .unwrap()
            .to_string();
        assert!(!e.contains("Did you mean"), "{e}");
        // A bad key is the class's own error.
        let e = deserialize::<Thing>("Small", &config(json!({"n": "x"})))
            .err()
            .unwrap();
        assert!(e.to_string().contains("Small: config key 'n'"), "{e}");
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("dense", "dense"), 0);
    }
}
