//! Opens the `report.html` of `dehaze eval` in headless Chromium and checks that it renders:
//! the script ran to the end without an exception (`<body data-ready="1">`, no `data-error`),
//! one slider per image, the summary table and the chart are in the live DOM, every embedded
//! image decoded, and a screenshot is not blank.
//!
//! Needs `chromium` on PATH (Debian: `apt-get install -y chromium`); skips with a note when
//! it is absent, or fails with `DEHAZE_REQUIRE_ALL=1` ([`dehaze_core::testing`]).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// A small scene with structure (NIQE needs 96×96 at least), and a hazed copy of it.
fn pair(seed: u32) -> (image::RgbImage, image::RgbImage) {
    let clear = image::RgbImage::from_fn(120, 100, |x, y| {
        let block = ((x / 12 + y / 10 + seed) % 4) as f32 * 0.15;
        let v = |base: f32| ((base + block).clamp(0.0, 1.0) * 255.0) as u8;
        image::Rgb([v(x as f32 / 240.0), v(y as f32 / 200.0), v(0.25)])
    });
    let hazy = image::RgbImage::from_fn(120, 100, |x, y| {
        let t = 0.35 + 0.5 * (y as f32 / 100.0);
        let p = clear.get_pixel(x, y).0;
        image::Rgb(p.map(|c| (c as f32 * t + 230.0 * (1.0 - t)).round() as u8))
    });
    (clear, hazy)
}

/// Runs Chromium with `args` on `page`, killing it after a minute.
fn chromium(chromium: &Path, profile: &Path, args: &[&str], page: &Path) -> String {
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait on chromium").is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("chromium did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("chromium output");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The value of attribute `name` on the `<body>` tag of a DOM dump.
fn body_attribute<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    let start = dom.find("<body")?;
    let tag = &dom[start..start + dom[start..].find('>')?];
    let key = format!(" {name}=\"");
    let from = tag.find(&key)? + key.len();
    Some(&tag[from..from + tag[from..].find('"')?])
}

#[test]
fn report_renders_in_headless_chromium() {
    let Some(chromium_bin) = find_chromium() else {
        dehaze_core::testing::missing("`chromium` on PATH (Debian: apt-get install -y chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for sub in ["hazy", "clear"] {
        std::fs::create_dir(d.join(sub)).unwrap();
    }
    for i in 0..2 {
        let (clear, hazy) = pair(i);
        clear.save(d.join(format!("clear/p{i}.png"))).unwrap();
        hazy.save(d.join(format!("hazy/p{i}.png"))).unwrap();
    }
    let out_dir = d.join("report");
    let run = Command::new(env!("CARGO_BIN_EXE_dehaze"))
        .args(["eval", "--method", "dcp", "--no-save-images", "--hazy"])
        .arg(d.join("hazy"))
        .arg("--clear")
        .arg(d.join("clear"))
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let page = out_dir.join("report.html");

    let dom = chromium(&chromium_bin, &d.join("profile"), &["--dump-dom"], &page);
    assert!(dom.contains("<body"), "no DOM dumped: {dom:.300}");
    assert_eq!(body_attribute(&dom, "data-error"), None, "script error");
    assert_eq!(
        body_attribute(&dom, "data-ready"),
        Some("1"),
        "script did not finish"
    );
    assert_eq!(body_attribute(&dom, "data-sliders"), Some("2"));
    // input, dcp and ground truth for each of the 2 images.
    assert_eq!(body_attribute(&dom, "data-images-broken"), Some("0"));
    assert_eq!(body_attribute(&dom, "data-images-ok"), Some("6"));
    assert_eq!(dom.matches("type=\"range\"").count(), 2);
    assert!(dom.contains("id=\"summary-table\""));
    assert!(dom.contains("<svg class=\"chart\""));
    assert!(dom.matches("<rect class=\"bar\"").count() >= 3);
    // The script set up each widget: the right-hand image is clipped at the split.
    assert_eq!(
        dom.matches("clip-path: inset(0px 0px 0px 50%)").count(),
        2,
        "{dom:.0}"
    );

    // Interaction: a copy of the page with a script that, after the page's own, picks the
    // ground truth on the right of the first widget and moves its slider to 30 %.
    let html = std::fs::read_to_string(&page).unwrap();
    let poke = "<script>(function () {\n\
        var cmp = document.querySelector('.cmp');\n\
        var right = cmp.querySelector('.pick-right');\n\
        right.value = 'clear'; right.dispatchEvent(new Event('change'));\n\
        var slider = cmp.querySelector('.slider');\n\
        slider.value = '30'; slider.dispatchEvent(new Event('input'));\n\
        })();</script></body>";
    let (head, _) = html.rsplit_once("</body>").expect("a </body>");
    let poked = d.join("poked.html");
    std::fs::write(&poked, format!("{head}{poke}</html>\n")).unwrap();
    let dom = chromium(&chromium_bin, &d.join("profile"), &["--dump-dom"], &poked);
    assert_eq!(
        body_attribute(&dom, "data-error"),
        None,
        "script error after interaction"
    );
    let first = &dom[dom.find("class=\"cmp\"").unwrap()..];
    let first = &first[..first.find("</select></div></div>").unwrap()];
    assert!(first.contains("data-right=\"clear\""), "{first:.200}");
    let at = first.find("data-v=\"clear\"").unwrap();
    let clear_img = &first[first[..at].rfind("<img").unwrap()..];
    let clear_img = &clear_img[..clear_img.find('>').unwrap()];
    // Without the long base64 data, for the message.
    let src = clear_img.find("src=\"").unwrap() + 5;
    let clear_img = format!(
        "{}…{}",
        &clear_img[..src],
        &clear_img[src + clear_img[src..].find('"').unwrap()..]
    );
    assert!(
        clear_img.contains("class=\"v right\"") && clear_img.contains("inset(0px 0px 0px 30%)"),
        "ground truth not shown on the right, clipped at 30 %: {clear_img}"
    );
    assert!(first.contains("left: 30%"), "divider not moved");
    assert!(first.contains("<span class=\"tag tag-right\">clear</span>"));

    let shot = d.join("shot.png");
    chromium(
        &chromium_bin,
        &d.join("profile"),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1200,1600",
        ],
        &page,
    );
    let img = image::open(&shot).expect("a screenshot").to_rgb8();
    assert_eq!((img.width(), img.height()), (1200, 1600));
    // Not blank: a good share of the page is not background white, and it has dark text and
    // mid-tone image pixels.
    let pixels = img.pixels().count() as f64;
    let non_white = img
        .pixels()
        .filter(|p| p.0.iter().any(|&c| c < 235))
        .count() as f64;
    let dark = img.pixels().filter(|p| p.0.iter().all(|&c| c < 80)).count();
    assert!(
        non_white / pixels > 0.05,
        "screenshot is mostly blank ({non_white} of {pixels} pixels not white)"
    );
    assert!(dark > 500, "no text or images drawn");
    if let Some(keep) = std::env::var_os("DEHAZE_KEEP_REPORT") {
        // For a human look: DEHAZE_KEEP_REPORT=/some/dir cargo test --test report_browser
        let keep = PathBuf::from(keep);
        std::fs::create_dir_all(&keep).unwrap();
        std::fs::copy(&shot, keep.join("report.png")).unwrap();
        std::fs::copy(&page, keep.join("report.html")).unwrap();
    }
}
