//! Lexer: `.mod` text in, tokens with spans out. Comments (`:`, `?`, COMMENT ... ENDCOMMENT) are dropped; VERBATIM blocks become one token.

use crate::diagnostics::Diagnostic;
use crate::source::Span;

#[derive(Clone, Debug, PartialEq)]
pub enum TokenKind {
    Ident(String),
    Number(f64),
    Str(String),
    /// Punctuation and operators: `( ) { } , ' = + - * / ^ < > <= >= == != && || ! ~ <-> -> << [ ] @`.
    Punct(&'static str),
    /// A VERBATIM ... ENDVERBATIM block (always rejected later).
    Verbatim,
    Eof,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
    /// The token is the first on its line (used for error recovery).
    pub line_start: bool,
}

const PUNCTS: [&str; 28] = [
    "<->", "<=", ">=", "==", "!=", "&&", "||", "->", "<<", "(", ")", "{", "}", ",", "'", "=", "+", "-", "*", "/", "^",
    "<", ">", "!", "~", "[", "]", "@",
];

/// Splits text into tokens; unknown characters become diagnostics and are skipped.
pub fn lex(text: &str) -> (Vec<Token>, Vec<Diagnostic>) {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut diagnostics = Vec::new();
    let mut i = 0;
    let mut line_start = true;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'\n' {
            line_start = true;
            i += 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b':' || c == b'?' {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &text[start..i];
            if line_start && (word == "COMMENT" || word == "VERBATIM") {
                let end_word = if word == "COMMENT" { "ENDCOMMENT" } else { "ENDVERBATIM" };
                let close = find_word(text, i, end_word);
                let end = close.map_or(text.len(), |p| p + end_word.len());
                if close.is_none() {
                    diagnostics.push(Diagnostic::error(
                        Span::new(start, i),
                        format!("{word} is never closed by {end_word}"),
                    ));
                }
                if word == "VERBATIM" {
                    tokens.push(Token {
                        kind: TokenKind::Verbatim,
                        span: Span::new(start, i),
                        line_start,
                    });
                }
                i = end;
                line_start = false;
                continue;
            }
            tokens.push(Token {
                kind: TokenKind::Ident(word.to_string()),
                span: Span::new(start, i),
                line_start,
            });
            if line_start && word == "TITLE" {
                // The title is free text up to the end of the line.
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
        } else if c.is_ascii_digit() || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
                let mut j = i + 1;
                if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
                    j += 1;
                }
                if j < bytes.len() && bytes[j].is_ascii_digit() {
                    i = j;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let span = Span::new(start, i);
            match text[start..i].parse::<f64>() {
                Ok(x) => tokens.push(Token {
                    kind: TokenKind::Number(x),
                    span,
                    line_start,
                }),
                Err(_) => diagnostics.push(Diagnostic::error(
                    span,
                    format!("`{}` is not a number", &text[start..i]),
                )),
            }
        } else if c == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                i += 1;
            }
            let s = text[start + 1..i].to_string();
            if i < bytes.len() && bytes[i] == b'"' {
                i += 1;
            } else {
                diagnostics.push(Diagnostic::error(Span::new(start, i), "this string is never closed"));
            }
            tokens.push(Token {
                kind: TokenKind::Str(s),
                span: Span::new(start, i),
                line_start,
            });
        } else if let Some(p) = PUNCTS.iter().find(|p| text[i..].starts_with(**p)) {
            i += p.len();
            tokens.push(Token {
                kind: TokenKind::Punct(p),
                span: Span::new(start, i),
                line_start,
            });
        } else {
            let ch = text[i..].chars().next().unwrap();
            i += ch.len_utf8();
            diagnostics.push(Diagnostic::error(
                Span::new(start, i),
                format!("unexpected character `{ch}`"),
            ));
        }
        line_start = false;
    }
    tokens.push(Token {
        kind: TokenKind::Eof,
        span: Span::new(text.len(), text.len()),
        line_start: true,
    });
    (tokens, diagnostics)
}

/// Position of `word` as a whole word at or after `from`.
fn find_word(text: &str, from: usize, word: &str) -> Option<usize> {
    let mut at = from;
    while let Some(p) = text[at..].find(word) {
        let pos = at + p;
        let before_ok = pos == 0 || !text.as_bytes()[pos - 1].is_ascii_alphanumeric();
        let after = pos + word.len();
        let after_ok = after >= text.len() || !text.as_bytes()[after].is_ascii_alphanumeric();
        if before_ok && after_ok {
            return Some(pos);
        }
        at = pos + word.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        lex(text).0.into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn comments_are_dropped_and_numbers_read() {
        let k = kinds("a = .12 : comment\n? also\nCOMMENT\n x y\nENDCOMMENT\nb' = 1e-3*a");
        assert_eq!(
            k,
            vec![
                TokenKind::Ident("a".into()),
                TokenKind::Punct("="),
                TokenKind::Number(0.12),
                TokenKind::Ident("b".into()),
                TokenKind::Punct("'"),
                TokenKind::Punct("="),
                TokenKind::Number(1e-3),
                TokenKind::Punct("*"),
                TokenKind::Ident("a".into()),
                TokenKind::Eof
            ]
        );
    }

    #[test]
    fn reaction_arrows_and_comparisons_are_single_tokens() {
        let k = kinds("~ A <-> B (a, b) x <= y");
        assert!(k.contains(&TokenKind::Punct("<->")));
        assert!(k.contains(&TokenKind::Punct("<=")));
    }
}
