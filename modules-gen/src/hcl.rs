//! A small HCL writer whose output is what `terraform fmt` would leave: two-space
//! indents, and `=` aligned in each run of consecutive single-line attributes
//! (a multi-line value, a block or a blank line ends the run).

use std::collections::BTreeMap;

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Str(String),
    Num(String),
    Bool(bool),
    Null,
    /// Written as is: a reference or function call such as `var.region`.
    Raw(String),
    List(Vec<Expr>),
    /// Keys in order; written as `{ key = value }` over several lines.
    Object(Vec<(String, Expr)>),
    /// A function call, such as `jsonencode({ ... })`: multi-line when an argument is.
    Call(String, Vec<Expr>),
}

impl Expr {
    pub fn str(s: impl Into<String>) -> Expr {
        Expr::Str(s.into())
    }

    pub fn raw(s: impl Into<String>) -> Expr {
        Expr::Raw(s.into())
    }

    pub fn strings<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Expr {
        Expr::List(items.into_iter().map(|s| Expr::Str(s.into())).collect())
    }

    pub fn map(m: &BTreeMap<String, String>) -> Expr {
        Expr::Object(m.iter().map(|(k, v)| (k.clone(), Expr::str(v))).collect())
    }

    fn is_multiline(&self) -> bool {
        match self {
            Expr::Object(items) => !items.is_empty(),
            Expr::List(items) | Expr::Call(_, items) => items.iter().any(Expr::is_multiline),
            _ => false,
        }
    }

    fn write(&self, indent: usize, out: &mut String) {
        match self {
            Expr::Str(s) => out.push_str(&quote(s)),
            Expr::Num(n) => out.push_str(n),
            Expr::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Expr::Null => out.push_str("null"),
            Expr::Raw(r) => out.push_str(r),
            Expr::List(items) if !self.is_multiline() => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write(indent, out);
                }
                out.push(']');
            }
            Expr::List(items) => {
                out.push_str("[\n");
                for item in items {
                    out.push_str(&"  ".repeat(indent + 1));
                    item.write(indent + 1, out);
                    out.push_str(",\n");
                }
                out.push_str(&"  ".repeat(indent));
                out.push(']');
            }
            Expr::Call(name, args) => {
                out.push_str(name);
                out.push('(');
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    arg.write(indent, out);
                }
                out.push(')');
            }
            Expr::Object(items) if items.is_empty() => out.push_str("{}"),
            Expr::Object(items) => {
                out.push_str("{\n");
                let body = Body {
                    items: items
                        .iter()
                        .map(|(k, v)| Item::Attr(object_key(k), v.clone()))
                        .collect(),
                };
                body.write(indent + 1, out);
                out.push_str(&"  ".repeat(indent));
                out.push('}');
            }
        }
    }
}

/// An object key: bare when it is an identifier, quoted otherwise.
fn object_key(k: &str) -> String {
    let ident = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ident {
        k.to_string()
    } else {
        quote(k)
    }
}

/// A string literal, with HCL's escapes (and `${`/`%{` kept literal).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Attr(String, Expr),
    Block(Block),
    Blank,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub kind: String,
    pub labels: Vec<String>,
    pub body: Body,
}

impl Block {
    pub fn new(kind: &str, labels: &[&str]) -> Block {
        Block {
            kind: kind.to_string(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            body: Body::default(),
        }
    }

    pub fn attr(mut self, name: &str, value: Expr) -> Block {
        self.body.items.push(Item::Attr(name.to_string(), value));
        self
    }

    pub fn block(mut self, b: Block) -> Block {
        self.body.items.push(Item::Block(b));
        self
    }

    pub fn blank(mut self) -> Block {
        self.body.items.push(Item::Blank);
        self
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        self.write(0, &mut out);
        out
    }

    fn write(&self, indent: usize, out: &mut String) {
        out.push_str(&"  ".repeat(indent));
        out.push_str(&self.kind);
        for l in &self.labels {
            out.push(' ');
            out.push_str(&quote(l));
        }
        if self.body.items.is_empty() {
            out.push_str(" {\n");
            out.push_str(&"  ".repeat(indent));
            out.push_str("}\n");
            return;
        }
        out.push_str(" {\n");
        self.body.write(indent + 1, out);
        out.push_str(&"  ".repeat(indent));
        out.push_str("}\n");
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Body {
    pub items: Vec<Item>,
}

impl Body {
    fn write(&self, indent: usize, out: &mut String) {
        let pad = "  ".repeat(indent);
        let mut i = 0;
        while i < self.items.len() {
            match &self.items[i] {
                Item::Blank => {
                    out.push('\n');
                    i += 1;
                }
                Item::Block(b) => {
                    // terraform fmt puts a blank line between a block and what follows it.
                    b.write(indent, out);
                    i += 1;
                }
                Item::Attr(..) => {
                    // The run of single-line attributes starting here.
                    let mut j = i;
                    while let Some(Item::Attr(_, v)) = self.items.get(j) {
                        if v.is_multiline() {
                            break;
                        }
                        j += 1;
                    }
                    if j == i {
                        // one multi-line attribute
                        if let Item::Attr(name, v) = &self.items[i] {
                            out.push_str(&pad);
                            out.push_str(name);
                            out.push_str(" = ");
                            v.write(indent, out);
                            out.push('\n');
                        }
                        i += 1;
                        continue;
                    }
                    let width = self.items[i..j]
                        .iter()
                        .filter_map(|it| match it {
                            Item::Attr(n, _) => Some(n.chars().count()),
                            _ => None,
                        })
                        .max()
                        .unwrap_or(0);
                    for it in &self.items[i..j] {
                        if let Item::Attr(name, v) = it {
                            out.push_str(&pad);
                            out.push_str(name);
                            out.push_str(&" ".repeat(width - name.chars().count()));
                            out.push_str(" = ");
                            v.write(indent, out);
                            out.push('\n');
                        }
                    }
                    i = j;
                }
            }
        }
    }
}
