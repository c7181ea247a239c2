//! Listing the collections of a home set, for syncs after the first (which discovers).

use super::{Client, RemoteCollection, Result};

impl Client {
    /// The collections in `home` (PROPFIND Depth 1 with the listing properties): one request
    /// that also brings each collection's ctag and sync token.
    pub fn collections_in(&self, home: &str) -> Result<Vec<RemoteCollection>> {
        let _ = home;
        todo!("issue 3: dav client")
    }

    /// True when `href` is the account URL itself (the account names one collection).
    pub fn is_base(&self, href: &str) -> bool {
        let _ = href;
        todo!("issue 3: dav client")
    }
}
