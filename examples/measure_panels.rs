//! Measures what the UI's panels cost on a big database: the to-do tree (20,000 to-dos, a
//! quarter of them subtasks) first and deep pages, global search per key typed over 100,000
//! contacts, and locating a hit. `cargo run --release --example measure_panels -- DIR` (the
//! database is made in DIR on the first run and reused after).

use holdfast::format::lines;
use holdfast::model::Kind;
use holdfast::store::{Filter, Incoming, Store};
use std::time::Instant;

fn main() {
    let dir = std::env::args().nth(1).expect("dir");
    let dir = std::path::Path::new(&dir);
    let fresh = !dir.join("holdfast.db").exists();
    let mut store = Store::open(dir).expect("open");
    if fresh {
        let mut vcf = String::new();
        for i in 0..100_000 {
            vcf.push_str(&format!("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c{i}\r\nFN:Person {i} Müller{}\r\nEMAIL:p{i}@x.org\r\nEND:VCARD\r\n", i % 97));
        }
        let mut ics = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n");
        for i in 0..20_000 {
            let rel = if i % 4 == 1 {
                format!("RELATED-TO:t{}\r\n", i - 1)
            } else {
                String::new()
            };
            let due = if i % 3 == 0 {
                format!("DUE;VALUE=DATE:2026{:02}{:02}\r\n", 1 + i % 12, 1 + i % 28)
            } else {
                String::new()
            };
            ics.push_str(&format!("BEGIN:VTODO\r\nUID:t{i}\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Task {i}\r\n{rel}{due}END:VTODO\r\n"));
        }
        ics.push_str("END:VCALENDAR\r\n");
        for text in [vcf, ics] {
            let split = lines::split(text.as_bytes());
            let batch = split
                .items
                .into_iter()
                .map(|item| Incoming {
                    collection_id: store
                        .collection_id(item.kind.default_collection())
                        .expect("c"),
                    item,
                })
                .collect();
            store.bulk_mode().expect("bulk");
            store.import_batch(batch, "m").expect("import");
        }
        store.interactive_mode().expect("i");
    }
    let f = Filter {
        kind: Some(Kind::Todo),
        open_only: true,
        ..Filter::default()
    };
    for _ in 0..3 {
        let t = Instant::now();
        let rows = store.todo_tree_page(&f, 0, 40).expect("tree");
        println!("tree first page {:?} ({} rows)", t.elapsed(), rows.len());
        let t = Instant::now();
        let rows = store.todo_tree_page(&f, 14_000, 40).expect("tree");
        println!("tree deep page {:?} ({} rows)", t.elapsed(), rows.len());
    }
    for q in ["m", "mu", "mull", "person 4", "zzz"] {
        let t = Instant::now();
        let g = store.search_all(q, 17).expect("search");
        println!(
            "search {q:?} {:?} {:?}",
            t.elapsed(),
            g.iter().map(|g| g.total).collect::<Vec<_>>()
        );
    }
    let c = store.find("c99999", None).expect("c");
    let t = Instant::now();
    println!(
        "contact pos {:?} {:?}",
        store.contact_position(c.id),
        t.elapsed()
    );
    let c = store.find("t19997", None).expect("c");
    let t = Instant::now();
    println!(
        "todo pos {:?} {:?}",
        store.todo_position(&f, c.id),
        t.elapsed()
    );
}
