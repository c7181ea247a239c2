//! calendar-multiget / addressbook-multiget (RFC 4791 §7.9, RFC 6352 §8.7) in batches: the
//! exact bytes of each item, and the hrefs the server could not give.

use std::collections::BTreeMap;

use reqwest::Url;

use super::xml::{escape, CALDAV, CARDDAV, DAV};
use super::{expect_207, path_key, Client, CollectionKind, Fetched, Multiget, Result};

impl Client {
    /// calendar-multiget or addressbook-multiget (by `kind`) of `hrefs`, in batches of
    /// `Options::multiget_batch`.
    pub fn multiget(
        &self,
        collection: &str,
        kind: &CollectionKind,
        hrefs: &[String],
    ) -> Result<Multiget> {
        let url = self.url(collection)?;
        let mut result = Multiget::default();
        let batch = self.http.options().multiget_batch.max(1);
        for chunk in hrefs.chunks(batch) {
            self.multiget_batch(&url, kind, chunk, &mut result)?;
        }
        Ok(result)
    }

    fn multiget_batch(
        &self,
        url: &Url,
        kind: &CollectionKind,
        hrefs: &[String],
        result: &mut Multiget,
    ) -> Result<()> {
        let (report, ns, data) = match kind {
            CollectionKind::Addressbook => ("addressbook-multiget", CARDDAV, "address-data"),
            CollectionKind::Calendar { .. } => ("calendar-multiget", CALDAV, "calendar-data"),
        };
        // Requested hrefs by their decoded path, to match whatever spelling comes back.
        let mut wanted: BTreeMap<String, (String, bool)> = BTreeMap::new();
        let mut body = format!(
            r#"<?xml version="1.0" encoding="utf-8"?><x:{report} xmlns:d="DAV:" xmlns:x="{ns}"><d:prop><d:getetag/><x:{data}/></d:prop>"#
        );
        for href in hrefs {
            let target = self.url(href)?;
            wanted.insert(path_key(&target), (href.clone(), false));
            body.push_str(&format!("<d:href>{}</d:href>", escape(target.path())));
        }
        body.push_str(&format!("</x:{report}>"));
        let reply = self.report(url, Some("1"), &body)?;
        if reply.status.as_u16() != 207 {
            return Err(expect_207(url, &reply));
        }
        let ms = self.multistatus(&reply)?;
        for response in &ms.responses {
            for raw in &response.hrefs {
                let target = self.http.resolve(&reply.url, raw)?;
                let Some((href, seen)) = wanted.get_mut(&path_key(&target)) else {
                    continue;
                };
                if *seen {
                    continue;
                }
                *seen = true;
                let status = response.status.unwrap_or(200);
                match response.prop(ns, data) {
                    Some(element) if (200..300).contains(&status) => result.found.push(Fetched {
                        href: href.clone(),
                        etag: response
                            .prop(DAV, "getetag")
                            .map(|e| e.text().trim().to_string())
                            .filter(|e| !e.is_empty()),
                        body: element.text().into_bytes(),
                    }),
                    _ => {
                        let status = if (200..300).contains(&status) {
                            response.prop_status(ns, data).unwrap_or(404)
                        } else {
                            status
                        };
                        result.missing.push((href.clone(), status));
                    }
                }
            }
        }
        for (href, seen) in wanted.into_values() {
            if !seen {
                result.missing.push((href, 404));
            }
        }
        Ok(())
    }
}
