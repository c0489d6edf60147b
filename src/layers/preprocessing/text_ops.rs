//! `TextVectorization`'s string steps, exactly as Keras runs them through TensorFlow:
//! `tf.strings.lower` (ASCII letters only: Keras passes no encoding), the punctuation regex
//! `[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~']` removed, `tf.strings.split` on ASCII whitespace,
//! `tf.strings.unicode_split` into characters, and `tf.strings.ngrams` joined by a space.

use crate::{Error, Result};

/// How `TextVectorization` standardizes text (Keras's `standardize`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standardize {
    /// Lowercase, then strip punctuation (the default).
    LowerAndStripPunctuation,
    /// Lowercase only.
    Lower,
    /// Strip punctuation only.
    StripPunctuation,
}

impl Standardize {
    /// Reads Keras's name.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "lower_and_strip_punctuation" => Standardize::LowerAndStripPunctuation,
            "lower" => Standardize::Lower,
            "strip_punctuation" => Standardize::StripPunctuation,
            other => {
                return Err(Error::value(format!(
                    "Unknown value for `standardize` argument of TextVectorization. Allowed values \
                     are: ('lower_and_strip_punctuation', 'lower', 'strip_punctuation'). Received: \
                     standardize={other}"
                )))
            }
        })
    }

    /// Keras's name.
    pub fn name(self) -> &'static str {
        match self {
            Standardize::LowerAndStripPunctuation => "lower_and_strip_punctuation",
            Standardize::Lower => "lower",
            Standardize::StripPunctuation => "strip_punctuation",
        }
    }

    /// Applies the standardization to one string.
    ///
    /// ```
    /// use keras::layers::preprocessing::Standardize;
    /// assert_eq!(Standardize::LowerAndStripPunctuation.apply("Héllo, WORLD! It's É"), "héllo world its É");
    /// ```
    pub fn apply(self, s: &str) -> String {
        let lower = matches!(
            self,
            Standardize::Lower | Standardize::LowerAndStripPunctuation
        );
        let strip = matches!(
            self,
            Standardize::StripPunctuation | Standardize::LowerAndStripPunctuation
        );
        s.chars()
            .filter(|&c| !(strip && is_punctuation(c)))
            .map(|c| if lower { c.to_ascii_lowercase() } else { c })
            .collect()
    }
}

/// The characters of Keras's `DEFAULT_STRIP_REGEX` class (all ASCII).
fn is_punctuation(c: char) -> bool {
    c.is_ascii() && "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'".contains(c)
}

/// How `TextVectorization` splits text into tokens (Keras's `split`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// On runs of ASCII whitespace, dropping empty tokens (the default).
    Whitespace,
    /// Into Unicode characters.
    Character,
}

impl Split {
    /// Reads Keras's name.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "whitespace" => Split::Whitespace,
            "character" => Split::Character,
            other => {
                return Err(Error::value(format!(
                    "Unknown value for `split` argument of TextVectorization. Allowed values are: \
                     ('whitespace', 'character'). Received: split={other}"
                )))
            }
        })
    }

    /// Keras's name.
    pub fn name(self) -> &'static str {
        match self {
            Split::Whitespace => "whitespace",
            Split::Character => "character",
        }
    }

    /// The tokens of one string.
    ///
    /// ```
    /// use keras::layers::preprocessing::Split;
    /// assert_eq!(Split::Whitespace.apply(" a\tb  c\n"), ["a", "b", "c"]);
    /// assert_eq!(Split::Character.apply("né"), ["n", "é"]);
    /// ```
    pub fn apply(self, s: &str) -> Vec<String> {
        match self {
            Split::Whitespace => s
                .split([' ', '\t', '\n', '\u{0b}', '\u{0c}', '\r'])
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
            Split::Character => s.chars().map(|c| c.to_string()).collect(),
        }
    }
}

/// `tf.strings.ngrams(tokens, ngram_width=widths, separator=" ")`: for each width in order,
/// every window of that many tokens joined by a space (none when the row is shorter).
///
/// ```
/// use keras::layers::preprocessing::ngrams;
/// let t: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
/// assert_eq!(ngrams(&t, &[1, 2]), ["a", "b", "c", "a b", "b c"]);
/// ```
pub fn ngrams(tokens: &[String], widths: &[usize]) -> Vec<String> {
    let mut out = vec![];
    for &w in widths {
        if w == 0 || w > tokens.len() {
            continue;
        }
        out.extend(tokens.windows(w).map(|win| win.join(" ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_regex_and_ascii_lower() {
        let s = "A!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'Z «ÀÉ» 9";
        assert_eq!(Standardize::StripPunctuation.apply(s), "AZ «ÀÉ» 9");
        assert_eq!(Standardize::Lower.apply("ÀBc"), "Àbc");
        assert_eq!(
            Split::Whitespace.apply("a\u{a0}b\u{3000}c\x0bd\x1ce"),
            ["a\u{a0}b\u{3000}c", "d\x1ce"]
        );
        let t: Vec<String> = vec!["x".into()];
        assert!(ngrams(&t, &[2]).is_empty());
    }
}
