//! Placeholder until the property-level merge lands (branch `merge`): identical texts merge,
//! anything else is a conflict.

/// The outcome of a three-way merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    Clean(Vec<u8>),
    Conflict { properties: Vec<String> },
}

pub fn merge(base: Option<&[u8]>, local: &[u8], remote: &[u8]) -> Merged {
    if local == remote || Some(remote) == base {
        Merged::Clean(local.to_vec())
    } else if Some(local) == base {
        Merged::Clean(remote.to_vec())
    } else {
        Merged::Conflict {
            properties: vec!["(whole item)".into()],
        }
    }
}
