//! Every example in `examples/` run with the command written in its header, its plots drawn as SVG and
//! checked for the mechanical defects of a plot by the drawing's coordinates: every line, point and bar of
//! data inside a plotting frame, every text inside the image and clear of every other text.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

/// One SVG element: its tag, attributes and text content.
struct Element {
    tag: String,
    attributes: BTreeMap<String, String>,
    text: String,
}

impl Element {
    fn number(&self, key: &str) -> f64 {
        self.attributes
            .get(key)
            .unwrap_or_else(|| panic!("<{}> has no {key}", self.tag))
            .parse()
            .unwrap()
    }

    fn colour(&self) -> Option<&str> {
        let fill = self.attributes.get("fill").map(String::as_str);
        let stroke = self.attributes.get("stroke").map(String::as_str);
        [stroke, fill].into_iter().flatten().find(|c| *c != "none")
    }
}

/// The elements of an SVG as plotters writes it (one tag per line, no nesting beyond `<svg>`).
fn elements(svg: &str) -> Vec<Element> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        if rest.starts_with('/') {
            continue;
        }
        let end = rest.find('>').unwrap();
        let (head, after) = (&rest[..end], &rest[end + 1..]);
        let tag: String = head.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
        let mut attributes = BTreeMap::new();
        let mut body = &head[tag.len()..];
        while let Some(eq) = body.find("=\"") {
            let key = body[..eq].trim().to_string();
            let value_end = body[eq + 2..].find('"').unwrap();
            attributes.insert(key, body[eq + 2..eq + 2 + value_end].to_string());
            body = &body[eq + 2 + value_end + 1..];
        }
        let text = if tag == "text" {
            after[..after.find("</text>").unwrap()].trim().to_string()
        } else {
            String::new()
        };
        out.push(Element { tag, attributes, text });
        rest = after;
    }
    out
}

/// A box `[x0, x1] × [y0, y1]` in pixels.
#[derive(Clone, Copy, Debug)]
struct Box2 {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Box2 {
    fn contains(&self, (x, y): (f64, f64), slack: f64) -> bool {
        x >= self.x0 - slack && x <= self.x1 + slack && y >= self.y0 - slack && y <= self.y1 + slack
    }

    fn overlaps(&self, other: &Box2) -> bool {
        self.x0 < other.x1 && other.x0 < self.x1 && self.y0 < other.y1 && other.y0 < self.y1
    }
}

/// Where a text lands: its width measured in the font rall draws with (DejaVu Sans, compiled in) at the
/// size plotters laid it out with (the SVG's font size × 1.24), anchored as the attributes say, and turned
/// for a rotated (y axis) label.
fn text_box(e: &Element) -> Box2 {
    use plotters::style::IntoFont;
    static FONT: std::sync::Once = std::sync::Once::new();
    FONT.call_once(|| {
        let _ = plotters::style::register_font(
            "sans-serif",
            plotters::style::FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
    let em = e.number("font-size") * 1.24;
    let width = ("sans-serif", em).into_font().box_size(&e.text).unwrap().0 as f64;
    let (x, y) = (e.number("x"), e.number("y"));
    let (dx0, dx1) = match e.attributes["text-anchor"].as_str() {
        "start" => (0.0, width),
        "end" => (-width, 0.0),
        _ => (-width / 2.0, width / 2.0),
    };
    let (dy0, dy1) = match e.attributes["dy"].as_str() {
        "0.76em" => (0.0, em),
        "-0.5ex" => (-em, 0.0),
        _ => (-em / 2.0, em / 2.0),
    };
    match e.attributes.get("transform") {
        // rotate(270) about the anchor takes (u, v) to (v, -u).
        Some(t) if t.starts_with("rotate(270") => Box2 {
            x0: x + dy0,
            x1: x + dy1,
            y0: y - dx1,
            y1: y - dx0,
        },
        None => Box2 {
            x0: x + dx0,
            x1: x + dx1,
            y0: y + dy0,
            y1: y + dy1,
        },
        Some(other) => panic!("unexpected text transform {other}"),
    }
}

/// The defects of one plot, as sentences (empty when it passes).
fn defects(svg: &str) -> Vec<String> {
    let elements = elements(svg);
    let image = &elements[0];
    assert_eq!(image.tag, "svg");
    let (width, height) = (image.number("width"), image.number("height"));
    let whole = Box2 {
        x0: 0.0,
        x1: width,
        y0: 0.0,
        y1: height,
    };
    let frames: Vec<Box2> = elements
        .iter()
        .filter(|e| e.tag == "rect" && e.attributes.get("fill").is_some_and(|f| f == "none"))
        .map(|e| {
            let (x, y) = (e.number("x"), e.number("y"));
            Box2 {
                x0: x,
                x1: x + e.number("width"),
                y0: y,
                y1: y + e.number("height"),
            }
        })
        .collect();
    let mut found = Vec::new();
    if frames.is_empty() {
        found.push("no plotting frame".to_string());
    }
    // Data: whatever is drawn in a colour other than black (axes, ticks, frames) or white (the background).
    let mut data_points = 0;
    for e in &elements {
        let Some(colour) = e.colour() else { continue };
        if colour == "#000000" || colour == "#FFFFFF" || !["polyline", "circle", "rect"].contains(&e.tag.as_str()) {
            continue;
        }
        let stroke = e.attributes.get("stroke-width").map_or(1.0, |w| w.parse().unwrap());
        let points: Vec<(f64, f64)> = match e.tag.as_str() {
            "polyline" => e.attributes["points"]
                .split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect(),
            "circle" => {
                let (x, y, r) = (e.number("cx"), e.number("cy"), e.number("r"));
                vec![(x - r, y - r), (x + r, y + r)]
            }
            _ => {
                let (x, y) = (e.number("x"), e.number("y"));
                vec![(x, y), (x + e.number("width"), y + e.number("height"))]
            }
        };
        data_points += points.len();
        // Half a line's width plus a pixel of rounding may reach past the frame.
        let slack = stroke / 2.0 + 1.0;
        if let Some(p) = points.iter().find(|p| !frames.iter().any(|f| f.contains(**p, slack))) {
            found.push(format!(
                "a <{}> of colour {colour} reaches {p:?}, outside every frame {frames:?}",
                e.tag
            ));
            break;
        }
    }
    if data_points == 0 {
        found.push("no data drawn".to_string());
    }
    let texts: Vec<(&Element, Box2)> = elements
        .iter()
        .filter(|e| e.tag == "text" && !e.text.is_empty())
        .map(|e| (e, text_box(e)))
        .collect();
    for (e, b) in &texts {
        if !(whole.contains((b.x0, b.y0), 1.0) && whole.contains((b.x1, b.y1), 1.0)) {
            found.push(format!("text `{}` at {b:?} leaves the {width}×{height} image", e.text));
        }
    }
    // Tick labels: below a frame (x) or left of it (y); two equal labels on one axis say nothing.
    for f in &frames {
        let below = |b: &Box2| b.y0 >= f.y1 && b.y0 <= f.y1 + 12.0 && b.x1 >= f.x0 - 30.0 && b.x0 <= f.x1 + 30.0;
        let left = |b: &Box2| b.x1 <= f.x0 && b.x1 >= f.x0 - 20.0 && b.y1 >= f.y0 - 10.0 && b.y0 <= f.y1 + 10.0;
        for (axis, on) in [("x", &below as &dyn Fn(&Box2) -> bool), ("y", &left)] {
            let labels: Vec<&str> = texts
                .iter()
                .filter(|(_, b)| on(b))
                .map(|(e, _)| e.text.as_str())
                .collect();
            let mut sorted = labels.clone();
            sorted.sort();
            if let Some(pair) = sorted.windows(2).find(|p| p[0] == p[1]) {
                found.push(format!("the {axis} axis labels two ticks `{}`: {labels:?}", pair[0]));
            }
        }
    }
    for (i, (a, ba)) in texts.iter().enumerate() {
        for (b, bb) in &texts[i + 1..] {
            if ba.overlaps(bb) {
                found.push(format!("text `{}` at {ba:?} overlaps `{}` at {bb:?}", a.text, b.text));
            }
        }
    }
    found
}

/// The command in an example's header (`# Run:  cargo run --release -p rall-cli -- ARGS`), as arguments of
/// the rall binary with `out/` moved to `dir` and plots drawn as SVG.
fn command_of(example: &Path, dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(example).unwrap();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("# Run:"))
        .unwrap_or_else(|| panic!("{} says no `# Run:` command", example.display()));
    let args = line
        .trim()
        .strip_prefix("cargo run --release -p rall-cli -- ")
        .unwrap_or_else(|| panic!("{}: the command runs something else: {line}", example.display()));
    let mut args: Vec<String> = args
        .split_whitespace()
        .map(|a| {
            a.replace("out/", &format!("{}/", dir.display()))
                .replace(".png", ".svg")
        })
        .collect();
    // rall fit's --plot is a prefix: its extension picks the format.
    if args[0] == "fit"
        && let Some(k) = args.iter().position(|a| a == "--plot")
    {
        args[k + 1].push_str(".svg");
    }
    assert!(
        args.iter().any(|a| a == "--plot"),
        "{}: the command draws no plot",
        example.display()
    );
    args
}

#[test]
fn every_examples_plots_are_inside_their_frames_and_their_texts_readable() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("example-plots");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut examples: Vec<PathBuf> = std::fs::read_dir(repo("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    examples.sort();
    assert!(examples.len() >= 14, "{examples:?}");
    // Every example in its own thread (each writes files of its own names): the two cores share them.
    let runs: Vec<Vec<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = examples
            .iter()
            .map(|example| {
                let dir = &dir;
                scope.spawn(move || run_and_check(example, dir))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let report: Vec<String> = runs.into_iter().flatten().collect();
    println!("{}", report.join("\n"));
    assert!(report.iter().all(|r| r.ends_with(": ok")), "{}", report.join("\n"));
}

/// Runs one example's command with its plots as SVG into `dir/<example>/` and returns a line per SVG: `ok`
/// or its defects.
fn run_and_check(example: &Path, dir: &Path) -> Vec<String> {
    let name = example.file_stem().unwrap().to_string_lossy().to_string();
    let dir = dir.join(&name);
    std::fs::create_dir_all(&dir).unwrap();
    let mut args = command_of(example, &dir);
    // Shortened where the full run takes minutes (the controlled runs 2000 s, the IO fit 300 iterations):
    // the plots are the same drawings.
    match name.as_str() {
        "homeostasis" | "network_homeostasis" => {
            args.extend(["--t-stop", "2000", "--skip-stability-check"].map(String::from))
        }
        "io_fit" => args.extend(["--iterations", "2"].map(String::from)),
        _ => {}
    }
    let output = Command::new(env!("CARGO_BIN_EXE_rall"))
        .current_dir(repo(""))
        .args(&args)
        .arg("-q")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{name}: rall {}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    let written = svgs(&dir);
    assert!(!written.is_empty(), "{name}: no SVG written by rall {}", args.join(" "));
    written
        .iter()
        .map(|svg| {
            let problems = defects(&std::fs::read_to_string(svg).unwrap());
            format!(
                "{}: {}",
                svg.file_name().unwrap().to_string_lossy(),
                if problems.is_empty() {
                    "ok".to_string()
                } else {
                    problems.join("; ")
                }
            )
        })
        .collect()
}

fn svgs(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
        .collect()
}

/// The checker itself finds each defect it looks for, on hand-written drawings.
#[test]
fn the_checker_finds_lines_outside_frames_and_texts_outside_the_image_or_overlapping() {
    let head = r##"<svg width="200" height="100" viewBox="0 0 200 100" xmlns="http://www.w3.org/2000/svg">
<rect x="0" y="0" width="200" height="100" opacity="1" fill="#FFFFFF" stroke="none"/>
<rect x="50" y="10" width="140" height="70" opacity="1" fill="none" stroke="#000000" stroke-width="1"/>
"##;
    let line = |points: &str| {
        format!(r##"<polyline fill="none" opacity="1" stroke="#0072B2" stroke-width="2" points="{points}"/>"##)
    };
    let text = |x: u32, y: u32, anchor: &str, s: &str| {
        format!(
            r##"<text x="{x}" y="{y}" dy="0.76em" text-anchor="{anchor}" font-family="sans-serif" font-size="12.1" opacity="1" fill="#000000">
{s}
</text>"##
        )
    };
    let good = format!(
        "{head}{}\n{}\n</svg>",
        line("60,20 180,70"),
        text(100, 85, "middle", "t [ms]")
    );
    assert!(defects(&good).is_empty(), "{:?}", defects(&good));
    let outside = format!("{head}{}\n</svg>", line("60,20 195,70"));
    assert!(
        defects(&outside)[0].contains("outside every frame"),
        "{:?}",
        defects(&outside)
    );
    let cut = format!(
        "{head}{}\n{}\n</svg>",
        line("60,20 180,70"),
        text(195, 85, "middle", "t [ms]")
    );
    assert!(
        defects(&cut)[0].contains("leaves the 200×100 image"),
        "{:?}",
        defects(&cut)
    );
    let overlapping = format!(
        "{head}{}\n{}\n{}\n</svg>",
        line("60,20 180,70"),
        text(100, 85, "middle", "-60"),
        text(110, 85, "middle", "-40")
    );
    assert!(
        defects(&overlapping)[0].contains("overlaps"),
        "{:?}",
        defects(&overlapping)
    );
    let repeated = format!(
        "{head}{}\n{}\n{}\n</svg>",
        line("60,20 180,70"),
        text(70, 81, "middle", "1"),
        text(110, 81, "middle", "1")
    );
    assert!(
        defects(&repeated)[0].contains("the x axis labels two ticks `1`"),
        "{:?}",
        defects(&repeated)
    );
}
