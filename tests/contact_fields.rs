//! The contact detail's labelled fields, from cards in vCard 2.1, 3.0, 4.0 and Apple's grouped
//! labels: every email, phone and address keeps its type.

use holdfast::format::vcard::{labelled_fields, LabelledField};

fn fields(card: &str) -> Vec<(String, String, String)> {
    labelled_fields(card.as_bytes())
        .expect("card parses")
        .into_iter()
        .map(
            |LabelledField {
                 field,
                 label,
                 value,
             }| (field.to_string(), label, value),
        )
        .collect()
}

fn has(f: &[(String, String, String)], field: &str, label: &str, value: &str) -> bool {
    f.iter()
        .any(|(a, b, c)| a == field && b == label && c == value)
}

#[test]
fn vcard_4_types_and_pref() {
    let f = fields(
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ann\r\nEMAIL;TYPE=work;PREF=1:ann@work.example\r\n\
         EMAIL;TYPE=home:ann@home.example\r\nTEL;TYPE=\"cell,voice\";VALUE=uri:tel:+49-151-1\r\n\
         ADR;TYPE=home:;;Main St 1;Berlin;;10115;Germany\r\nURL:https://ann.example\r\n\
         BDAY:19800310\r\nNOTE:likes tea\r\nORG:ACME\r\nTITLE:Engineer\r\nEND:VCARD\r\n",
    );
    assert!(has(&f, "email", "work, pref", "ann@work.example"), "{f:?}");
    assert!(has(&f, "email", "home", "ann@home.example"), "{f:?}");
    assert!(
        f.iter().any(|(a, b, _)| a == "phone" && b == "cell"),
        "{f:?}"
    );
    assert!(
        has(&f, "address", "home", "Main St 1, Berlin, 10115, Germany"),
        "{f:?}"
    );
    assert!(has(&f, "url", "", "https://ann.example"), "{f:?}");
    assert!(has(&f, "birthday", "", "1980-03-10"), "{f:?}");
    assert!(has(&f, "note", "", "likes tea"), "{f:?}");
    assert!(has(&f, "org", "", "ACME"), "{f:?}");
    assert!(has(&f, "title", "", "Engineer"), "{f:?}");
}

#[test]
fn vcard_3_repeated_type_parameters() {
    let f = fields(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bo\r\nTEL;TYPE=WORK;TYPE=VOICE:+1 555 1\r\n\
         TEL;TYPE=HOME,FAX:+1 555 2\r\nEMAIL;TYPE=INTERNET;TYPE=PREF:bo@x.example\r\nEND:VCARD\r\n",
    );
    assert!(has(&f, "phone", "work", "+1 555 1"), "{f:?}");
    assert!(has(&f, "phone", "home, fax", "+1 555 2"), "{f:?}");
    assert!(has(&f, "email", "pref", "bo@x.example"), "{f:?}");
}

#[test]
fn vcard_2_1_bare_types() {
    let f = fields(
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Doe;Jo\r\nTEL;WORK;VOICE:+44 20 1\r\nTEL;CELL:+44 7700 1\r\n\
         EMAIL;INTERNET;HOME:jo@home.example\r\nEND:VCARD\r\n",
    );
    assert!(has(&f, "phone", "work", "+44 20 1"), "{f:?}");
    assert!(has(&f, "phone", "cell", "+44 7700 1"), "{f:?}");
    assert!(has(&f, "email", "home", "jo@home.example"), "{f:?}");
}

#[test]
fn apple_grouped_labels() {
    let f = fields(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cy\r\nitem1.TEL:+33 1 2\r\n\
         item1.X-ABLabel:_$!<Mobile>!$_\r\nitem2.EMAIL;type=INTERNET:cy@club.example\r\n\
         item2.X-ABLabel:Chess club\r\nitem3.URL:https://cy.example\r\nitem3.X-ABLabel:_$!<HomePage>!$_\r\n\
         PHOTO;VALUE=uri:https://cy.example/me.jpg\r\nEND:VCARD\r\n",
    );
    assert!(has(&f, "phone", "Mobile", "+33 1 2"), "{f:?}");
    assert!(has(&f, "email", "Chess club", "cy@club.example"), "{f:?}");
    assert!(has(&f, "url", "HomePage", "https://cy.example"), "{f:?}");
    assert!(has(&f, "photo", "", "https://cy.example/me.jpg"), "{f:?}");
}
