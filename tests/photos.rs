//! Photo references end to end, driving the real binary: `photos add` (dedup, folders, bad
//! files), links, export, `list photos --json`, contact PHOTOs, and sync with a real WebDAV
//! folder (wsgidav): upload and verification, a fresh home pulling everything with every hash
//! checked, a wiped server folder (guard, restore-remote), corrupt blobs on either side, two
//! homes converging, and a hanging photos server that must not hold up CalDAV/CardDAV.

mod common;
#[path = "common/servers.rs"]
mod servers;

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use common::Home;
use serde_json::Value;
use servers::{DavServer, WebDav};
use sha2::{Digest, Sha256};

// ---- images: valid headers (imagesize and EXIF read them), random-ish bytes as data ----

fn filler(seed: u32, n: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            // 0xFF would start a JPEG marker inside the data.
            (x as u8).min(0xFE)
        })
        .collect()
}

/// A JPEG with EXIF DateTimeOriginal `when` ("2024:05:06 07:08:09").
fn jpeg(w: u16, h: u16, seed: u32, when: &str) -> Vec<u8> {
    let dt: Vec<u8> = when.bytes().chain([0]).collect();
    let mut tiff = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes());
    // IFD0: one entry, the Exif IFD pointer.
    let exif_off = 8 + 2 + 12 + 4;
    tiff.extend(1u16.to_le_bytes());
    tiff.extend(0x8769u16.to_le_bytes());
    tiff.extend(4u16.to_le_bytes());
    tiff.extend(1u32.to_le_bytes());
    tiff.extend((exif_off as u32).to_le_bytes());
    tiff.extend(0u32.to_le_bytes());
    // Exif IFD: DateTimeOriginal.
    let data_off = exif_off + 2 + 12 + 4;
    tiff.extend(1u16.to_le_bytes());
    tiff.extend(0x9003u16.to_le_bytes());
    tiff.extend(2u16.to_le_bytes());
    tiff.extend((dt.len() as u32).to_le_bytes());
    tiff.extend((data_off as u32).to_le_bytes());
    tiff.extend(0u32.to_le_bytes());
    tiff.extend(&dt);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend(((app1.len() + 2) as u16).to_be_bytes());
    out.extend(app1);
    out.extend([0xFF, 0xC0, 0, 11, 8]);
    out.extend(h.to_be_bytes());
    out.extend(w.to_be_bytes());
    out.extend([1, 1, 0x11, 0]);
    out.extend([0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0x3F, 0]);
    out.extend(filler(seed, 3000));
    out.extend([0xFF, 0xD9]);
    out
}

fn png(w: u32, h: u32, seed: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, t: &[u8], d: &[u8]) {
        out.extend((d.len() as u32).to_be_bytes());
        out.extend(t);
        out.extend(d);
        out.extend([0, 0, 0, 0]); // CRC: not checked by anything that reads headers
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &filler(seed, 2000));
    chunk(&mut out, b"IEND", b"");
    out
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn blob_path(home: &Home, sha: &str) -> std::path::PathBuf {
    home.data().join("photos").join(&sha[..2]).join(sha)
}

fn photos(home: &Home) -> Vec<Value> {
    home.list("photos", &[])
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).expect("mkdir");
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write");
    p
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

// ---- local ----

#[test]
fn photos_add_dedups_walks_folders_reports_bad_files_and_lists_json() {
    let home = Home::new();
    let uid = home
        .ok(&["new", "contact", "Ann Example"])
        .trim()
        .to_string();
    let src = home.root().join("src");
    let a = jpeg(640, 480, 1, "2024:05:06 07:08:09");
    let b = png(32, 16, 2);
    write(&src, "a.JPG", &a);
    write(&src.join("deeper/more"), "b.png", &b);
    write(&src, "copy-of-a.jpeg", &a);
    write(&src, "notes.txt", b"not a photo");
    write(&src, "fake.jpg", b"this is text with a photo's name");
    let unreadable = write(&src, "locked.png", &png(1, 1, 3));
    std::fs::set_permissions(&unreadable, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    let running_as_root = std::fs::read(&unreadable).is_ok();

    let (code, out, err) = home.run(&[
        "photos",
        "add",
        s(&src),
        "--caption",
        "Trip",
        "--link",
        &uid,
    ]);
    assert_eq!(code, 3, "errors make exit 3\n{out}\n{err}");
    assert!(
        err.contains("skipped") && err.contains("notes.txt"),
        "{err}"
    );
    assert!(
        err.contains("fake.jpg") && err.contains("not a JPEG"),
        "{err}"
    );
    if !running_as_root {
        assert!(
            err.contains("locked.png") && err.contains("ermission"),
            "{err}"
        );
    }
    assert!(
        out.contains("(already there)"),
        "the copy is a duplicate: {out}"
    );

    let list = photos(&home);
    assert_eq!(list.len(), if running_as_root { 3 } else { 2 }, "{list:?}");
    for p in &list {
        for key in ["uid", "collection", "flags", "sha256", "caption", "links"] {
            assert!(p.get(key).is_some(), "list photos --json lacks {key}: {p}");
        }
        assert_eq!(p["caption"], "Trip");
        assert_eq!(p["links"], serde_json::json!([uid]));
        assert_eq!(p["collection"], "Photos");
    }
    let pa = list
        .iter()
        .find(|p| p["sha256"] == sha(&a))
        .expect("a listed");
    assert_eq!(pa["width"], 640);
    assert_eq!(pa["height"], 480);
    assert_eq!(pa["taken_at"], "2024-05-06T07:08:09");
    assert_eq!(pa["original_name"], "a.JPG");
    let pb = list
        .iter()
        .find(|p| p["sha256"] == sha(&b))
        .expect("b listed");
    assert_eq!(pb["mime"], "image/png");

    // The blob store: named by hash, bytes intact, private.
    let path = blob_path(&home, &sha(&a));
    assert_eq!(std::fs::read(&path).expect("blob"), a);
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().expect("prefix dir")), 0o700);
    assert_eq!(mode(&home.data().join("photos")), 0o700);

    // Adding the same bytes again adds nothing; the reference survives the original's removal.
    let (code, _, _) = home.run(&["photos", "add", s(&src.join("a.JPG"))]);
    assert_eq!(code, 0);
    std::fs::remove_dir_all(&src).expect("remove originals");
    assert_eq!(photos(&home).len(), list.len());

    // Export: original names, made unique, never over an existing file, bytes intact.
    let out_dir = home.root().join("export");
    write(&out_dir, "a.JPG", b"someone else's file");
    let (code, _, err) = home.run(&["photos", "export", s(&out_dir)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read(out_dir.join("a.JPG")).expect("kept"),
        b"someone else's file"
    );
    assert_eq!(
        std::fs::read(out_dir.join("a-2.JPG")).expect("exported a"),
        a
    );
    assert_eq!(std::fs::read(out_dir.join("b.png")).expect("exported b"), b);

    // Trash and back, with history, like any item.
    let id = pa["uid"].as_str().expect("uid").to_string();
    home.ok(&["delete", &id]);
    assert_eq!(home.list("photos", &["--trash"]).len(), 1);
    home.ok(&["undelete", &id]);
    assert!(home.history(&id).len() >= 3);
}

#[test]
fn photos_link_and_unlink_check_uids() {
    let home = Home::new();
    let contact = home.ok(&["new", "contact", "Bo"]).trim().to_string();
    let event = home
        .ok(&["new", "event", "Party", "--start", "2026-12-01 10:00"])
        .trim()
        .to_string();
    let f = write(home.root(), "p.png", &png(10, 10, 7));
    let id = home
        .ok(&["photos", "add", s(&f)])
        .split('\t')
        .next()
        .expect("id")
        .to_string();
    let (code, _, err) = home.run(&["photos", "link", &id, "no-such-uid"]);
    assert_eq!(code, 2, "{err}");
    home.ok(&["photos", "link", &id, &contact]);
    // A unique prefix of the id works too.
    home.ok(&["photos", "link", &id[..8], &event]);
    let p = &photos(&home)[0];
    let mut want = vec![contact.clone(), event.clone()];
    want.sort();
    assert_eq!(p["links"], serde_json::json!(want));
    home.ok(&["photos", "unlink", &id, &contact]);
    assert_eq!(photos(&home)[0]["links"], serde_json::json!([event]));
    let (code, _, _) = home.run(&["photos", "unlink", &id, &contact]);
    assert_eq!(code, 2, "unlinking what is not linked is a usage error");
    let (code, _, _) = home.run(&["photos", "link", "nope-nope", &contact]);
    assert_eq!(code, 2);

    // `edit` opens the sidecar; a valid change is a new revision, a broken one is refused.
    let script = home.root().join("ed.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nsed -i 's/\"caption\": null/\"caption\": \"Edited\"/' \"$1\"\n",
    )
    .expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let (code, _, err) = home.run_env(&["edit", &id], &[("EDITOR", s(&script))]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(photos(&home)[0]["caption"], "Edited");
    std::fs::write(&script, "#!/bin/sh\necho garbage > \"$1\"\n").expect("script");
    let (code, _, err) = home.run_env(&["edit", &id], &[("EDITOR", s(&script))]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("not a photo sidecar"), "{err}");
    assert_eq!(photos(&home)[0]["caption"], "Edited");
}

#[test]
fn contact_photo_becomes_linked_reference_and_card_stays_byte_identical() {
    use base64::Engine;
    let home = Home::new();
    let image = png(64, 48, 11);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&image);
    let fold = |line: String| -> String {
        let bytes = line.as_bytes();
        bytes
            .chunks(74)
            .map(|c| std::str::from_utf8(c).expect("ascii"))
            .collect::<Vec<_>>()
            .join("\r\n ")
    };
    let cards = format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card-3\r\nFN:Three\r\n{}\r\nX-ODD:kept\r\nEND:VCARD\r\n\
         BEGIN:VCARD\r\nVERSION:4.0\r\nUID:card-4\r\nFN:Four\r\n{}\r\nEND:VCARD\r\n",
        fold(format!("PHOTO;ENCODING=b;TYPE=PNG:{b64}")),
        fold(format!("PHOTO:data:image/png;base64,{b64}")),
    );
    let file = write(home.root(), "cards.vcf", cards.as_bytes());
    home.ok(&["import", s(&file)]);
    let list = photos(&home);
    assert_eq!(list.len(), 2, "{list:?}");
    for p in &list {
        assert_eq!(p["sha256"], sha(&image));
        assert_eq!(p["width"], 64);
    }
    let mut links: Vec<String> = list
        .iter()
        .map(|p| p["links"][0].as_str().expect("link").into())
        .collect();
    links.sort();
    assert_eq!(links, ["card-3", "card-4"]);
    assert_eq!(
        std::fs::read(blob_path(&home, &sha(&image))).expect("blob"),
        image
    );
    // Importing again adds nothing; the cards export byte-identical (I7).
    home.ok(&["import", s(&file)]);
    assert_eq!(photos(&home).len(), 2);
    let out = home.root().join("out.vcf");
    home.ok(&["export", "--contacts", s(&out)]);
    assert_eq!(std::fs::read(&out).expect("export"), cards.as_bytes());
}

// ---- with a WebDAV folder ----

fn configure(home: &Home, caldav: &DavServer, photos_url: &str, extra: &str) {
    if !caldav.storage().join("book-made").exists() {
        caldav.create_addressbook("Contacts");
        std::fs::write(caldav.storage().join("book-made"), b"").expect("mark");
    }
    write_config(
        home,
        caldav,
        &format!("photos_url = \"{photos_url}\"\n[sync]\n{extra}\n"),
    );
}

/// A config (0600) with the account `home` on `caldav`, and `more` after its credentials.
fn write_config(home: &Home, caldav: &DavServer, more: &str) {
    let (u, p) = caldav.credentials().unwrap_or(("", ""));
    let path = home.root().join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[[account]]\nname = \"home\"\nurl = \"{}\"\nusername = \"{u}\"\npassword = \"{p}\"\n\
             {more}",
            caldav.base_url()
        ),
    )
    .expect("config");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

fn sync_json(home: &Home, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec!["--sync", "--json"];
    args.extend_from_slice(extra);
    let (code, out, err) = home.run(&args);
    let v: Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("--sync --json printed no JSON ({e}): {out}\n{err}"));
    (code, v, err)
}

fn photo_report(v: &Value) -> &Value {
    &v["accounts"][0]["photos"]
}

fn add_three(home: &Home) -> Vec<Vec<u8>> {
    let dir = home.root().join("in");
    let imgs = vec![
        jpeg(100, 80, 21, "2023:01:02 03:04:05"),
        jpeg(120, 90, 22, "2023:02:03 04:05:06"),
        png(50, 40, 23),
    ];
    for (i, b) in imgs.iter().enumerate() {
        write(
            &dir,
            &format!("img{i}.{}", if i == 2 { "png" } else { "jpg" }),
            b,
        );
    }
    home.ok(&["photos", "add", s(&dir)]);
    imgs
}

fn server_files(dav: &WebDav) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dav.root().join("Photos"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn upload_verify_pull_into_fresh_home_and_noop_is_one_request() {
    let caldav = DavServer::radicale();
    let dav = WebDav::start();
    let url = dav.url("Photos/");
    let a = Home::new();
    configure(&a, &caldav, &url, "");
    let imgs = add_three(&a);
    let (code, v, err) = sync_json(&a, &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    let r = photo_report(&v);
    assert_eq!(r["blobs_uploaded"], 3, "{r}");
    assert_eq!(r["pushed"], 3, "{r}");
    // On the server: each blob named by its hash with its bytes, one sidecar per photo.
    let files = server_files(&dav);
    assert_eq!(
        files.iter().filter(|f| f.ends_with(".json")).count(),
        3,
        "{files:?}"
    );
    for img in &imgs {
        let name = files
            .iter()
            .find(|f| f.starts_with(&sha(img)))
            .unwrap_or_else(|| panic!("blob {} missing on the server: {files:?}", sha(img)));
        assert_eq!(
            std::fs::read(dav.root().join("Photos").join(name)).expect("blob"),
            *img
        );
    }
    // A no-op sync costs one request for the photos folder.
    let (code, v, _) = sync_json(&a, &[]);
    assert_eq!(code, 0);
    assert_eq!(photo_report(&v)["requests"], 1, "{v}");

    // A fresh home with the same config pulls sidecars and blobs, hash-checked.
    let b = Home::new();
    configure(&b, &caldav, &url, "");
    let (code, v, err) = sync_json(&b, &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(photo_report(&v)["pulled"], 3);
    assert_eq!(photo_report(&v)["blobs_fetched"], 3);
    let mut want: Vec<Value> = photos(&a).iter().map(|p| p["sha256"].clone()).collect();
    let mut got: Vec<Value> = photos(&b).iter().map(|p| p["sha256"].clone()).collect();
    want.sort_by_key(|v| v.to_string());
    got.sort_by_key(|v| v.to_string());
    assert_eq!(got, want);
    for img in &imgs {
        assert_eq!(
            std::fs::read(blob_path(&b, &sha(img))).expect("pulled blob"),
            *img
        );
    }
    let (code, out, err) = b.run(&["doctor"]);
    assert_eq!(code, 0, "{out}\n{err}");
}

#[test]
fn wiped_server_folder_trips_the_guard_and_restore_remote_puts_it_back() {
    let caldav = DavServer::radicale();
    let dav = WebDav::start();
    let home = Home::new();
    configure(&home, &caldav, &dav.url("Photos/"), "");
    let imgs = add_three(&home);
    assert_eq!(sync_json(&home, &[]).0, 0);
    let before = photos(&home);

    // Every file gone, the folder left.
    for f in server_files(&dav) {
        std::fs::remove_file(dav.root().join("Photos").join(f)).expect("wipe");
    }
    let (code, v, err) = sync_json(&home, &[]);
    assert_eq!(code, 4, "{v}\n{err}");
    assert!(photo_report(&v)["guard"].is_object(), "{v}");
    assert!(
        err.contains("restore-remote") && err.contains("--accept-remote-deletions"),
        "{err}"
    );
    assert_eq!(photos(&home), before, "nothing local changed");
    assert!(home.list("photos", &["--trash"]).is_empty());
    // The folder itself gone: the same.
    std::fs::remove_dir_all(dav.root().join("Photos")).expect("rm folder");
    let (code, v, _) = sync_json(&home, &[]);
    assert_eq!(code, 4, "{v}");
    assert_eq!(photos(&home), before);
    for img in &imgs {
        assert!(blob_path(&home, &sha(img)).is_file());
    }

    let (code, out, err) = home.run(&["restore-remote"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let files = server_files(&dav);
    assert_eq!(files.len(), 6, "3 blobs and 3 sidecars back: {files:?}");
    let (code, v, err) = sync_json(&home, &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(photos(&home), before);
}

#[test]
fn corrupt_local_blob_is_repaired_from_the_server() {
    let caldav = DavServer::radicale();
    let dav = WebDav::start();
    let home = Home::new();
    configure(&home, &caldav, &dav.url("Photos/"), "");
    let imgs = add_three(&home);
    assert_eq!(sync_json(&home, &[]).0, 0);
    let path = blob_path(&home, &sha(&imgs[0]));
    let mut bytes = imgs[0].clone();
    bytes[200] ^= 0x55;
    std::fs::write(&path, &bytes).expect("corrupt");
    std::fs::remove_file(blob_path(&home, &sha(&imgs[1]))).expect("lose one");

    let (code, out, _) = home.run(&["doctor"]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("corrupt") && out.contains(&sha(&imgs[0])),
        "{out}"
    );
    assert!(
        out.contains("missing") && out.contains(&sha(&imgs[1])),
        "{out}"
    );
    let (code, out, err) = home.run(&["doctor", "--repair"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(std::fs::read(&path).expect("repaired"), imgs[0]);
    assert_eq!(
        std::fs::read(blob_path(&home, &sha(&imgs[1]))).expect("fetched"),
        imgs[1]
    );
    assert_eq!(home.run(&["doctor"]).0, 0);
}

#[test]
fn corrupt_remote_blob_is_detected_and_never_replaces_a_good_copy() {
    let caldav = DavServer::radicale();
    let dav = WebDav::start();
    let url = dav.url("Photos/");
    let a = Home::new();
    configure(&a, &caldav, &url, "");
    let imgs = add_three(&a);
    assert_eq!(sync_json(&a, &[]).0, 0);
    // Same size, other bytes: only a hash finds it.
    let name = server_files(&dav)
        .into_iter()
        .find(|f| f.starts_with(&sha(&imgs[2])))
        .expect("blob on server");
    let remote = dav.root().join("Photos").join(&name);
    let mut bad = imgs[2].clone();
    bad[100] ^= 0xFF;
    std::fs::write(&remote, &bad).expect("corrupt remote");

    // A fresh home refuses it and says so; the other photos come through.
    let b = Home::new();
    configure(&b, &caldav, &url, "");
    let (code, v, err) = sync_json(&b, &[]);
    assert_eq!(code, 3, "{v}\n{err}");
    assert!(
        err.contains("corrupt") && err.contains(&sha(&imgs[2])),
        "{err}"
    );
    assert_eq!(photos(&b).len(), 2, "{v}\n{err}");
    assert!(
        !blob_path(&b, &sha(&imgs[2])).exists(),
        "a bad blob is never stored"
    );

    // The first home's doctor --deep re-hashes the server's copies; its own copy stays.
    let (code, out, _) = a.run(&["doctor", "--deep"]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("corrupt") && out.contains(&name), "{out}");
    assert_eq!(
        std::fs::read(blob_path(&a, &sha(&imgs[2]))).expect("local"),
        imgs[2]
    );
    let (code, _, _) = a.run(&["doctor", "--repair"]);
    assert_eq!(code, 0);
    assert_eq!(
        std::fs::read(blob_path(&a, &sha(&imgs[2]))).expect("local"),
        imgs[2]
    );
    // A truncated blob there is seen from the listing alone, at the next sync.
    std::fs::write(&remote, &imgs[2][..100]).expect("truncate");
    let (code, _, err) = a.run(&["--sync"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("damaged"), "{err}");
    assert_eq!(a.run(&["restore-remote"]).0, 0);
    assert_eq!(std::fs::read(&remote).expect("replaced"), imgs[2]);
}

#[test]
fn two_homes_converge_on_captions_and_links() {
    let caldav = DavServer::radicale();
    let dav = WebDav::start();
    let url = dav.url("Photos/");
    let a = Home::new();
    let b = Home::new();
    configure(&a, &caldav, &url, "");
    configure(&b, &caldav, &url, "");
    let contact = a.ok(&["new", "contact", "Cy"]).trim().to_string();
    let f = write(a.root(), "p.jpg", &jpeg(10, 10, 31, "2022:01:01 00:00:00"));
    let id = a
        .ok(&["photos", "add", s(&f)])
        .split('\t')
        .next()
        .expect("id")
        .to_string();
    assert_eq!(sync_json(&a, &[]).0, 0);
    assert_eq!(sync_json(&b, &[]).0, 0);
    assert_eq!(photos(&b).len(), 1);

    // A captions it; B links it to the contact (which B has from the CardDAV sync).
    a.ok(&["photos", "caption", &id, "At the lake"]);
    b.ok(&["photos", "link", &id, &contact]);
    assert_eq!(sync_json(&a, &[]).0, 0);
    // wsgidav's etags have one-second resolution: make B's write land in another second.
    std::thread::sleep(Duration::from_millis(1100));
    let (code, v, err) = sync_json(&b, &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(photo_report(&v)["merged"], 1, "{v}");
    assert_eq!(sync_json(&a, &[]).0, 0);
    for h in [&a, &b] {
        let p = &photos(h)[0];
        assert_eq!(p["caption"], "At the lake");
        assert_eq!(p["links"], serde_json::json!([contact]));
        assert_eq!(p["flags"], serde_json::json!([]));
    }

    // Both change the caption: a conflict; local wins there, the other kept as a revision.
    a.ok(&["photos", "caption", &id, "From A"]);
    b.ok(&["photos", "caption", &id, "From B, longer"]);
    assert_eq!(sync_json(&a, &[]).0, 0);
    std::thread::sleep(Duration::from_millis(1100));
    let (_, v, _) = sync_json(&b, &[]);
    assert_eq!(photo_report(&v)["conflicts"], 1, "{v}");
    let pb = &photos(&b)[0];
    assert_eq!(pb["caption"], "From B, longer");
    assert_eq!(pb["flags"], serde_json::json!(["conflict"]));
    let history = b.history(&id);
    assert!(
        history
            .iter()
            .any(|r| r["text"].as_str().unwrap_or_default().contains("From A")),
        "the other side's caption is kept: {history:?}"
    );
    assert_eq!(sync_json(&a, &[]).0, 0);
    assert_eq!(photos(&a)[0]["caption"], "From B, longer");
}

#[test]
fn hanging_photos_server_does_not_hold_up_caldav() {
    let caldav = DavServer::radicale();
    // Accepts connections and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let holder = std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in silent.incoming().take(16).flatten() {
            held.push(s);
        }
        std::thread::sleep(Duration::from_secs(40));
    });
    let home = Home::new();
    configure(
        &home,
        &caldav,
        &format!("http://127.0.0.1:{port}/Photos/"),
        "timeout_secs = 2",
    );
    home.ok(&["new", "contact", "Dee"]);
    let f = write(home.root(), "p.png", &png(4, 4, 41));
    home.ok(&["photos", "add", s(&f)]);
    let t = Instant::now();
    let (code, v, err) = sync_json(&home, &[]);
    assert_eq!(code, 5, "{v}\n{err}");
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "took {:?}",
        t.elapsed()
    );
    let acc = &v["accounts"][0];
    assert_eq!(
        acc["unreachable"], false,
        "the CalDAV/CardDAV part went through: {v}"
    );
    let pushed: u64 = acc["collections"]
        .as_array()
        .expect("collections")
        .iter()
        .map(|c| c["pushed"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(pushed, 1, "the contact reached the server: {v}");
    assert_eq!(photo_report(&v)["unreachable"], true, "{v}");
    assert_eq!(photos(&home).len(), 1, "local photos untouched");
    drop(holder);
}

#[test]
fn deletions_travel_both_ways_into_the_trash_and_blobs_stay() {
    let caldav = DavServer::radicale();
    let dav = WebDav::start();
    let url = dav.url("Photos/");
    let a = Home::new();
    configure(&a, &caldav, &url, "");
    let imgs = add_three(&a);
    assert_eq!(sync_json(&a, &[]).0, 0);
    let list = photos(&a);
    // Removed on the server (one of three, under guard_min): to the local trash, blob kept.
    let gone = list[0]["uid"].as_str().expect("uid").to_string();
    std::fs::remove_file(dav.root().join("Photos").join(format!("{gone}.json"))).expect("rm");
    let (code, v, err) = sync_json(&a, &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(photo_report(&v)["moved_to_trash"], 1, "{v}");
    let trash = a.list("photos", &["--trash"]);
    assert_eq!(trash.len(), 1);
    assert_eq!(trash[0]["uid"], gone.as_str());
    for img in &imgs {
        assert!(
            blob_path(&a, &sha(img)).is_file(),
            "no blob is ever removed"
        );
    }
    // Deleted here: the sidecar goes from the server (If-Match); its blob stays there.
    let here = list[1]["uid"].as_str().expect("uid").to_string();
    a.ok(&["delete", &here]);
    let (code, v, _) = sync_json(&a, &[]);
    assert_eq!(code, 0);
    assert_eq!(photo_report(&v)["deleted_remote"], 1, "{v}");
    let files = server_files(&dav);
    assert!(!files.contains(&format!("{here}.json")), "{files:?}");
    assert_eq!(
        files.iter().filter(|f| !f.ends_with(".json")).count(),
        3,
        "{files:?}"
    );
    // Undeleted here: it goes back up.
    a.ok(&["undelete", &here]);
    assert_eq!(sync_json(&a, &[]).0, 0);
    assert!(server_files(&dav).contains(&format!("{here}.json")));
}

/// What the photo sync relies on from the server, checked against the pinned wsgidav: etags,
/// `If-None-Match: *` and `If-Match` honoured on PUT and DELETE, sizes in the listing, a
/// missing folder reported as missing, the download cap.
#[test]
fn webdav_server_honours_preconditions_and_lists_sizes() {
    use holdfast::sync::dav::{Client, DavError, Options, Precondition};
    let dav = WebDav::start();
    let c = Client::new(&dav.url("Photos/"), None, None, Options::default()).expect("client");
    assert!(matches!(
        c.propfind_folder("/Photos/"),
        Err(DavError::NotFound { .. })
    ));
    c.mkcol("/Photos/").expect("mkcol");
    assert!(c
        .propfind_folder("/Photos/")
        .expect("list")
        .files
        .is_empty());
    let e1 = c
        .put_small(
            "/Photos/a.json",
            b"{\"v\":1}",
            "application/json",
            &Precondition::Create,
        )
        .expect("create")
        .expect("an etag on PUT");
    assert!(matches!(
        c.put_small(
            "/Photos/a.json",
            b"{}",
            "application/json",
            &Precondition::Create
        ),
        Err(DavError::PreconditionFailed { .. })
    ));
    assert!(matches!(
        c.put_small(
            "/Photos/a.json",
            b"{}",
            "application/json",
            &Precondition::Match("nope".into())
        ),
        Err(DavError::PreconditionFailed { .. })
    ));
    let listed = c.propfind_folder("/Photos/").expect("list");
    assert_eq!(listed.files.len(), 1);
    assert_eq!(
        listed.files[0].etag, e1,
        "listing and PUT etags compare equal once normalized"
    );
    assert_eq!(listed.files[0].size, Some(7));
    let e2 = c
        .put_small(
            "/Photos/a.json",
            b"{\"v\":22}",
            "application/json",
            &Precondition::Match(e1.clone()),
        )
        .expect("update")
        .expect("etag");
    assert_ne!(e1, e2);
    assert!(matches!(
        c.delete_file("/Photos/a.json", &e1),
        Err(DavError::PreconditionFailed { .. })
    ));
    // Streamed blob up and down, hashed; more than the cap fails the download.
    let blob = png(8, 8, 99);
    let path = write(&dav.root().join("..").join("local"), "b.png", &blob);
    c.put_file("/Photos/b.png", &path, "image/png", &Precondition::Create)
        .expect("put file");
    let mut f = tempfile::tempfile().expect("tmp");
    let got = c
        .get_to_file("/Photos/b.png", &mut f, blob.len() as u64, 0)
        .expect("get");
    assert_eq!(got.sha256, sha(&blob));
    assert_eq!(got.size, blob.len() as u64);
    assert!(c.get_to_file("/Photos/b.png", &mut f, 10, 0).is_err());
    c.delete_file("/Photos/a.json", &e2)
        .expect("delete with the right etag");
}

/// A contact whose PHOTO is not an image we read is imported as it is, and the import names the
/// file, the line and the reason (exit 3) instead of dropping the photo silently.
#[test]
fn an_unusable_contact_photo_is_reported_with_file_and_line() {
    let home = Home::new();
    let vcf = home.root().join("bad-photo.vcf");
    std::fs::write(
        &vcf,
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ok1\r\nFN:Fine Person\r\nEND:VCARD\r\n\
         BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bad1\r\nFN:Odd Photo\r\n\
         PHOTO;ENCODING=b;TYPE=JPEG:aGVsbG8gd29ybGQ=\r\nEND:VCARD\r\n",
    )
    .expect("write");
    let (code, out, err) = home.run(&["import", vcf.to_str().expect("path")]);
    assert_eq!(code, 3, "{out}\n{err}");
    assert!(
        err.contains("bad-photo.vcf:10:") && err.contains("bad1") && err.contains("PHOTO"),
        "names file, line and contact: {err}"
    );
    assert!(out.contains("2 new"), "both contacts imported: {out}");
    let (code, out, _) = home.run(&["list", "photos", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "[]", "no reference to a non-image");
}

/// Contacts pulled from the server whose PHOTO is not an image, or not base64 at all, are
/// stored as they came and unflagged (the cards are fine), and the sync names href, line,
/// contact and reason, exits 3 and carries them in `--json`; a good PHOTO in the same sync
/// becomes a linked reference.
#[test]
fn an_unusable_contact_photo_pulled_by_sync_is_reported_with_href_and_line() {
    use base64::Engine;
    use holdfast::sync::dav::Precondition;
    let caldav = DavServer::radicale();
    let book = caldav.create_addressbook("Contacts");
    let client = caldav.client();
    let image = png(40, 30, 31);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&image);
    let folded: String = b64
        .as_bytes()
        .chunks(70)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect::<Vec<_>>()
        .join("\r\n ");
    let cards = [
        (
            "good.vcf",
            format!(
                "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:good-1\r\nFN:Good Photo\r\n\
                 PHOTO;ENCODING=b;TYPE=PNG:{folded}\r\nEND:VCARD\r\n"
            ),
        ),
        // Base64 of "hello world": decodes, but is no image.
        (
            "notimage.vcf",
            "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:odd-1\r\nFN:Not An Image\r\nN:Image;Not;;;\r\n\
             PHOTO;ENCODING=b;TYPE=JPEG:aGVsbG8gd29ybGQ=\r\nEND:VCARD\r\n"
                .to_string(),
        ),
        // Not base64 at all. Radicale re-writes every card through Python vobject: a 3.0
        // `ENCODING=b` value must decode there (and comes back re-encoded), and a 4.0 `data:`
        // URI loses what follows an unescaped comma. A comma escaped as text survives, which
        // is how broken base64 reaches a client from this server.
        (
            "badbase64.vcf",
            "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:odd-2\r\nFN:Broken Base64\r\n\
             PHOTO:data:image/jpeg;base64\\,%%%not*base64%%%\r\nEND:VCARD\r\n"
                .to_string(),
        ),
        // No PHOTO yet: edited on both sides below, a clean merge.
        (
            "merge.vcf",
            "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:merge-1\r\nFN:Both Sides\r\nEND:VCARD\r\n"
                .to_string(),
        ),
    ];
    for (name, text) in &cards {
        client
            .put(
                &format!("{book}{name}"),
                text.as_bytes(),
                "text/vcard",
                &Precondition::Create,
            )
            .unwrap_or_else(|e| panic!("the server takes {name}: {e}"));
    }
    let home = Home::new();
    write_config(&home, &caldav, "");

    let (code, v, err) = sync_json(&home, &[]);
    assert_eq!(code, 3, "item errors: exit 3\n{v}\n{err}");
    let line_of = |href: &str| line_of_in(&err, href);
    let odd1 = line_of("notimage.vcf");
    assert!(
        odd1.starts_with("holdfast: home/")
            && odd1.contains("notimage.vcf: line 6: contact odd-1: ")
            && odd1.contains("not a JPEG"),
        "href, line, contact and reason: {odd1}"
    );
    let odd2 = line_of("badbase64.vcf");
    assert!(
        odd2.contains("badbase64.vcf: line 5: contact odd-2: ")
            && odd2.contains("PHOTO is not valid base64"),
        "href, line, contact and reason: {odd2}"
    );
    for l in [&odd1, &odd2] {
        assert!(!l.contains("flagged"), "the card is not flagged: {l}");
    }
    assert!(
        !err.contains("good.vcf"),
        "nothing to say of the good one: {err}"
    );
    let errors: Vec<&str> = v["accounts"][0]["collections"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["errors"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(errors.len(), 2, "--json carries both: {errors:?}");
    assert!(
        errors.iter().any(|e| e.contains("odd-1")) && errors.iter().any(|e| e.contains("odd-2")),
        "{errors:?}"
    );
    // All three stored, none flagged, each exactly as the server holds it.
    let contacts = home.list("contacts", &[]);
    assert_eq!(contacts.len(), 4, "{contacts:?}");
    for c in &contacts {
        assert_eq!(
            c["flags"].as_array().map(Vec::len),
            Some(0),
            "unflagged: {c}"
        );
    }
    for (name, uid) in [
        ("good.vcf", "good-1"),
        ("notimage.vcf", "odd-1"),
        ("badbase64.vcf", "odd-2"),
    ] {
        let held = client.get(&format!("{book}{name}")).expect("get").body;
        let hist: Value =
            serde_json::from_str(&home.ok(&["history", uid, "--json"])).expect("history json");
        let stored = hist
            .as_array()
            .and_then(|a| a.last())
            .and_then(|r| r["text"].as_str())
            .unwrap_or_default();
        assert_eq!(
            stored.as_bytes(),
            held.as_slice(),
            "{uid} stored byte-identical"
        );
    }
    // The good PHOTO became a reference linked to its contact; the odd ones none.
    let list = photos(&home);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["sha256"], sha(&image));
    assert_eq!(list[0]["links"], serde_json::json!(["good-1"]));

    // A clean merge stores the merged card: its PHOTO counts like a pulled one. Here an EMAIL
    // added locally, a PHOTO that is no image added on the server.
    let local = home.root().join("edit.vcf");
    std::fs::write(
        &local,
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:merge-1\r\nFN:Both Sides\r\n\
         EMAIL:both@example.org\r\nEND:VCARD\r\n",
    )
    .expect("write");
    home.ok(&["import", s(&local)]);
    let href = format!("{book}merge.vcf");
    let etag = client.get(&href).expect("get").etag.expect("etag");
    client
        .put(
            &href,
            b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:merge-1\r\nFN:Both Sides\r\n\
              PHOTO;ENCODING=b;TYPE=JPEG:aGVsbG8gd29ybGQ=\r\nEND:VCARD\r\n",
            "text/vcard",
            &Precondition::Match(etag),
        )
        .expect("server-side edit");
    let (code, v, err) = sync_json(&home, &[]);
    assert_eq!(code, 3, "item errors: exit 3\n{v}\n{err}");
    assert_eq!(v["accounts"][0]["collections"][0]["merged"], 1, "{v}");
    let merged = line_of_in(&err, "merge.vcf");
    assert!(
        merged.contains("contact merge-1: PHOTO is not a JPEG"),
        "the merged card's photo is reported: {merged}"
    );
    let stored = home.ok(&["history", "merge-1", "--json"]);
    assert!(
        stored.contains("EMAIL:both@example.org") && stored.contains("PHOTO"),
        "both sides kept: {stored}"
    );
    assert_eq!(photos(&home).len(), 1);
}

fn line_of_in(text: &str, needle: &str) -> String {
    text.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("stderr names {needle}: {text}"))
        .to_string()
}

/// A vCard 4.0 card's photo, written the way `P` in the terminal UI writes it, goes through
/// Radicale (which re-writes every card through Python vobject) whole: a second home pulls the
/// same image. An unescaped comma in the `data:` URI came back as `data:image/png\;base64`.
#[test]
fn a_card_photo_set_on_a_vcard4_comes_back_whole_through_radicale() {
    let caldav = DavServer::radicale();
    caldav.create_addressbook("Contacts");
    let config = |home: &Home| write_config(home, &caldav, "");
    let image = png(40, 30, 77);
    let card = holdfast::format::photo::set_card_photo(
        b"BEGIN:VCARD\r\nVERSION:4.0\r\nUID:v4-photo\r\nFN:Four Photo\r\nEND:VCARD\r\n",
        &image,
    )
    .expect("set the photo");
    let a = Home::new();
    config(&a);
    let file = write(a.root(), "v4.vcf", &card);
    a.ok(&["import", s(&file)]);
    let (code, v, err) = sync_json(&a, &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(v["accounts"][0]["collections"][0]["pushed"], 1, "{v}");

    let b = Home::new();
    config(&b);
    let (code, v, err) = sync_json(&b, &[]);
    assert_eq!(code, 0, "the pulled card's photo is whole: {v}\n{err}");
    let list = photos(&b);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["sha256"], sha(&image));
    assert_eq!(list[0]["links"][0], "v4-photo");
}
