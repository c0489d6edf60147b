//! Python's `str.format` for checkpoint file names (`weights.{epoch:02d}-{val_loss:.2f}.keras`):
//! fields name `epoch`, `batch` or a logs key, with an optional format spec
//! (`[[fill]align][sign][0][width][,][.precision][type]`, types `d`, `f`, `e`, `g`, `%`, `s`).

use crate::{Error, Result};

/// A value a field can take.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Value {
    Int(i64),
    Float(f64),
}

/// Formats `template` with `lookup` giving each field's value; an unknown field or a bad spec
/// is an error naming the template.
pub(crate) fn format(template: &str, lookup: &dyn Fn(&str) -> Option<Value>) -> Result<String> {
    let fail = |why: String| {
        Error::value(format!(
            "Failed to format this callback filepath: \"{template}\". Reason: {why}"
        ))
    };
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '}' => return Err(fail("Single '}' encountered in format string".into())),
            '{' => {
                let mut field = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => field.push(c),
                        None => return Err(fail("Single '{' encountered in format string".into())),
                    }
                }
                let (name, spec) = field.split_once(':').unwrap_or((&field, ""));
                let v = lookup(name).ok_or_else(|| fail(format!("'{name}'")))?;
                out.push_str(&format_value(v, spec).map_err(fail)?);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Python's `format(value, spec)` for ints and floats.
fn format_value(v: Value, spec: &str) -> std::result::Result<String, String> {
    let mut s = spec.chars().collect::<Vec<_>>();
    let ty = match s.last() {
        Some(c) if c.is_ascii_alphabetic() || *c == '%' => s.pop(),
        _ => None,
    };
    let rest: String = s.iter().collect();
    // [[fill]align]
    let (mut fill, mut align, mut i) = (' ', None, 0);
    let cs: Vec<char> = rest.chars().collect();
    if cs.len() >= 2 && "<>^=".contains(cs[1]) {
        fill = cs[0];
        align = Some(cs[1]);
        i = 2;
    } else if !cs.is_empty() && "<>^=".contains(cs[0]) {
        align = Some(cs[0]);
        i = 1;
    }
    let mut sign = '-';
    if i < cs.len() && "+- ".contains(cs[i]) {
        sign = cs[i];
        i += 1;
    }
    if i < cs.len() && cs[i] == '0' {
        fill = '0';
        align = align.or(Some('='));
        i += 1;
    }
    let tail: String = cs[i..].iter().collect();
    let (width, precision) = match tail.split_once('.') {
        Some((w, p)) => (w.to_string(), Some(p.to_string())),
        None => (tail, None),
    };
    let width: usize = if width.is_empty() {
        0
    } else {
        width
            .parse()
            .map_err(|_| format!("Invalid format specifier '{spec}'"))?
    };
    let precision: Option<usize> = match precision {
        Some(p) => Some(
            p.parse()
                .map_err(|_| format!("Invalid format specifier '{spec}'"))?,
        ),
        None => None,
    };
    let (neg, body) = match (v, ty) {
        (Value::Int(n), None | Some('d')) => (n < 0, n.unsigned_abs().to_string()),
        (Value::Float(_), Some('d')) => {
            return Err("Unknown format code 'd' for object of type 'float'".into())
        }
        (Value::Int(n), Some(t)) => {
            return format_value(Value::Float(n as f64), &format!("{rest}{t}"))
        }
        (Value::Float(x), t) => {
            // Python keeps the sign of every negative number, -0.0 included; a NaN has none.
            let neg = x.is_sign_negative() && !x.is_nan();
            let a = x.abs();
            let b = if !a.is_finite() {
                let s = if a.is_nan() { "nan" } else { "inf" };
                if t == Some('%') {
                    format!("{s}%")
                } else {
                    s.to_string()
                }
            } else {
                let p = precision.unwrap_or(6);
                match t {
                    None if precision.is_none() => super::logs::py_float(a),
                    Some('f') | Some('F') => format!("{a:.p$}"),
                    Some('%') => format!("{:.p$}%", a * 100.0),
                    Some('e') | Some('E') => exponent_form(a, p),
                    Some('g') | Some('G') => general_form(a, p, false),
                    // A precision without a type: 'g', but fixed notation keeps a digit after
                    // the point (CPython's Py_DTSF_ADD_DOT_0).
                    None => general_form(a, p, true),
                    Some(c) => {
                        return Err(format!(
                            "Unknown format code '{c}' for object of type 'float'"
                        ))
                    }
                }
            };
            let b = if matches!(t, Some('F') | Some('E') | Some('G')) {
                b.to_uppercase()
            } else {
                b
            };
            (neg, b)
        }
    };
    let sign_s = match (neg, sign) {
        (true, _) => "-",
        (false, '+') => "+",
        (false, ' ') => " ",
        _ => "",
    };
    let len = sign_s.chars().count() + body.chars().count();
    let pad = width.saturating_sub(len);
    let padding: String = std::iter::repeat_n(fill, pad).collect();
    Ok(match align.unwrap_or('>') {
        '<' => format!("{sign_s}{body}{padding}"),
        '^' => {
            let l: String = std::iter::repeat_n(fill, pad / 2).collect();
            let r: String = std::iter::repeat_n(fill, pad - pad / 2).collect();
            format!("{l}{sign_s}{body}{r}")
        }
        '=' => format!("{sign_s}{padding}{body}"),
        _ => format!("{padding}{sign_s}{body}"),
    })
}

/// Python's `format(a, ".{p}e")` for a finite `a >= 0`: `1.250e-05`.
fn exponent_form(a: f64, p: usize) -> String {
    super::logs::python_exponent(&format!("{a:.p$e}"))
}

/// Python's `format(a, ".{p}g")` for a finite `a >= 0`: `p` significant digits, scientific
/// below 1e-4 or from `10**p` (from `10**(p-1)` with `add_dot_0`, which also keeps one digit
/// after the point in fixed notation), trailing zeros removed.
fn general_form(a: f64, p: usize, add_dot_0: bool) -> String {
    let p = p.max(1);
    let strip = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    // The decimal exponent once rounded to `p` significant digits.
    let rounded = format!("{:.*e}", p - 1, a);
    let exp: i32 = rounded
        .split_once('e')
        .map_or(0, |(_, e)| e.parse().unwrap_or(0));
    let limit = if add_dot_0 { p as i32 - 1 } else { p as i32 };
    if exp < -4 || exp >= limit {
        let s = exponent_form(a, p - 1);
        let (m, e) = s.split_once('e').unwrap_or((&s, ""));
        format!("{}e{e}", strip(m.to_string()))
    } else {
        let d = (p as i32 - 1 - exp).max(0) as usize;
        let s = strip(format!("{a:.d$}"));
        if add_dot_0 && !s.contains('.') {
            s + ".0"
        } else {
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(t: &str) -> Result<String> {
        format(t, &|k| match k {
            "epoch" => Some(Value::Int(3)),
            "val_loss" => Some(Value::Float(0.34567)),
            "loss" => Some(Value::Float(1.5)),
            _ => None,
        })
    }

    #[test]
    fn python_format_specs() {
        assert_eq!(
            f("weights.{epoch:02d}-{val_loss:.2f}.keras").unwrap(),
            "weights.03-0.35.keras"
        );
        assert_eq!(f("m{epoch}.keras").unwrap(), "m3.keras");
        assert_eq!(f("m{loss}.keras").unwrap(), "m1.5.keras");
        assert_eq!(
            f("{epoch:>4}|{epoch:<3}|{val_loss:.1%}").unwrap(),
            "   3|3  |34.6%"
        );
        assert_eq!(f("{val_loss:.3e}").unwrap(), "3.457e-01");
        assert_eq!(f("{{x}}").unwrap(), "{x}");
        let e = f("m{acc}.keras").unwrap_err().to_string();
        assert!(e.contains("'acc'") && e.contains("m{acc}.keras"), "{e}");
        assert!(f("m{val_loss:02d}").is_err());
        assert!(f("m{epoch").is_err());
    }
}
