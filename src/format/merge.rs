//! Three-way merge of one item's text, property by property (DESIGN.md §5).
//!
//! Owns: deciding, for an item both sides changed since the base, whether the changes touch
//! different properties (then both are carried into one text) or the same one (then the caller
//! flags a conflict). Works on logical lines at the byte level and starts from the local text, so
//! every line the merge does not change keeps its exact bytes, folding and line endings (I7).
//! Never panics, whatever the bytes: text it cannot read is a conflict, never a guess.

use std::collections::{BTreeMap, HashMap};

use super::lines::{decode, logical_lines, physical, trim, Line};

/// The outcome of a three-way merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// One text carrying the changes of both sides.
    Clean(Vec<u8>),
    /// Both sides changed the same thing (or a text could not be read): the names of what
    /// clashed, like `"VEVENT SUMMARY"`, `"TEL"`, `"VEVENT VALARM"`, or a reason (`"unparsable: …"`).
    Conflict { properties: Vec<String> },
}

/// Deeper than any real item nests (VCALENDAR > VTIMEZONE > STANDARD is three); bounds the
/// recursion on hostile input.
const MAX_DEPTH: usize = 16;

/// Properties that may appear several times with independent values: concurrent additions and
/// removals combine. Everything else (FN, SUMMARY, DTSTART, RRULE …) is one value.
const MULTI: &[&str] = &[
    "TEL",
    "EMAIL",
    "ADR",
    "LABEL",
    "URL",
    "IMPP",
    "RELATED",
    "MEMBER",
    "CLIENTPIDMAP",
    "CATEGORIES",
    "ATTENDEE",
    "EXDATE",
    "RDATE",
    "COMMENT",
    "CONTACT",
    "ATTACH",
    "RESOURCES",
    "REQUEST-STATUS",
];

/// Properties every writer bumps on every save: they never make a conflict.
const VOLATILE: &[&str] = &["DTSTAMP", "LAST-MODIFIED", "REV", "SEQUENCE", "PRODID"];

/// Merges `local` and `remote`, both derived from `base` (the text both sides last agreed on,
/// `None` when unknown). Without a base, a property both sides have with different values is a
/// conflict, and anything only one side has is kept.
pub fn merge(base: Option<&[u8]>, local: &[u8], remote: &[u8]) -> Merged {
    // Only one side changed: its text is the answer, whatever it holds.
    if local == remote || base == Some(remote) {
        return Merged::Clean(local.to_vec());
    }
    if base == Some(local) {
        return Merged::Clean(remote.to_vec());
    }
    let l = match Text::read(local) {
        Ok(t) => t,
        Err(e) => return conflict(format!("unparsable local text: {e}")),
    };
    let r = match Text::read(remote) {
        Ok(t) => t,
        Err(e) => return conflict(format!("unparsable remote text: {e}")),
    };
    if l.root.name != r.root.name {
        return conflict(format!(
            "unparsable: a {} against a {}",
            l.root.name, r.root.name
        ));
    }
    // An unreadable base is as good as none: the merge then only combines what cannot clash.
    let b = base
        .and_then(|b| Text::read(b).ok())
        .filter(|b| b.root.name == l.root.name);
    let mut m = Merger::new(b.as_ref(), &l, &r);
    m.component(b.as_ref().map(|b| &b.root), &l.root, &r.root, true);
    if !m.conflicts.is_empty() {
        return Merged::Conflict {
            properties: m.conflicts,
        };
    }
    let out = render(&l, &m.plan);
    if out == local {
        return Merged::Clean(out);
    }
    match Text::read(&out) {
        Ok(t) => {
            let merged = canon(&t, &t.root);
            if merged == canon(&l, &l.root) {
                Merged::Clean(local.to_vec())
            } else if merged == canon(&r, &r.root) {
                Merged::Clean(remote.to_vec())
            } else {
                Merged::Clean(out)
            }
        }
        Err(e) => conflict(format!("unparsable merge result: {e}")),
    }
}

fn conflict(reason: String) -> Merged {
    Merged::Conflict {
        properties: vec![reason],
    }
}

/// One component: its BEGIN and END line indices, its own property lines and its children.
struct Comp {
    name: String,
    begin: usize,
    end: usize,
    props: Vec<usize>,
    children: Vec<Comp>,
}

/// Who a top-level calendar component is: (name, UID, RECURRENCE-ID), or ("VTIMEZONE", TZID).
type Ident = (String, String, String);

/// A text read for merging: its logical lines, each with the byte range it came from.
struct Text<'a> {
    raw: &'a [u8],
    lines: Vec<Line>,
    /// Byte range of each logical line, folds and terminator included.
    spans: Vec<(usize, usize)>,
    root: Comp,
    /// Identities of the root's children when the root is a VCALENDAR (else empty).
    idents: Vec<Ident>,
    crlf: bool,
}

impl<'a> Text<'a> {
    fn read(raw: &'a [u8]) -> Result<Self, String> {
        let lines = logical_lines(raw);
        let spans = spans(raw, &lines);
        let mut stack: Vec<Comp> = Vec::new();
        let mut root = None;
        for (i, line) in lines.iter().enumerate() {
            if root.is_some() {
                return Err(format!("text after the end (line {})", line.number));
            }
            match line.marker() {
                Some((true, name)) => {
                    if stack.len() >= MAX_DEPTH {
                        return Err(format!("components nested too deep (line {})", line.number));
                    }
                    stack.push(Comp {
                        name,
                        begin: i,
                        end: i,
                        props: Vec::new(),
                        children: Vec::new(),
                    });
                }
                Some((false, name)) => {
                    let Some(mut comp) = stack.pop() else {
                        return Err(format!("END:{name} without BEGIN (line {})", line.number));
                    };
                    if comp.name != name {
                        return Err(format!(
                            "END:{name} where END:{} was expected (line {})",
                            comp.name, line.number
                        ));
                    }
                    comp.end = i;
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(comp),
                        None => root = Some(comp),
                    }
                }
                None => {
                    let Some(comp) = stack.last_mut() else {
                        return Err(format!("text outside BEGIN/END (line {})", line.number));
                    };
                    if line.colon().is_none() {
                        return Err(format!("a line without a colon (line {})", line.number));
                    }
                    comp.props.push(i);
                }
            }
        }
        if let Some(open) = stack.last() {
            return Err(format!("BEGIN:{} is never ended", open.name));
        }
        let root = root.ok_or_else(|| "no BEGIN/END".to_string())?;
        let crlf = raw.windows(2).any(|w| w == b"\r\n") || !raw.contains(&b'\n');
        let mut text = Text {
            raw,
            lines,
            spans,
            root,
            idents: Vec::new(),
            crlf,
        };
        if text.root.name == "VCALENDAR" {
            let mut idents = Vec::with_capacity(text.root.children.len());
            for c in &text.root.children {
                let id = text.ident(c);
                if idents.contains(&id) {
                    return Err(format!("two {} with the same identity", c.name));
                }
                idents.push(id);
            }
            text.idents = idents;
        }
        Ok(text)
    }

    fn line(&self, i: usize) -> &[u8] {
        self.lines.get(i).map_or(&[], |l| &l.text)
    }

    fn span(&self, first: usize, last: usize) -> &[u8] {
        let from = self.spans.get(first).map_or(0, |s| s.0);
        let to = self.spans.get(last).map_or(from, |s| s.1);
        self.raw.get(from..to).unwrap_or_default()
    }

    /// The trimmed value of the component's first `name` property.
    fn value_of(&self, comp: &Comp, name: &str) -> String {
        comp.props
            .iter()
            .filter_map(|&i| self.lines.get(i))
            .find(|l| l.name() == name)
            .and_then(|l| l.value())
            .map(|v| decode(trim(v)))
            .unwrap_or_default()
    }

    fn ident(&self, c: &Comp) -> Ident {
        if c.name == "VTIMEZONE" {
            (c.name.clone(), self.value_of(c, "TZID"), String::new())
        } else {
            (
                c.name.clone(),
                self.value_of(c, "UID"),
                self.value_of(c, "RECURRENCE-ID"),
            )
        }
    }

    /// The component's property lines grouped by key (`GROUP.NAME`, upper-cased), in order.
    fn groups(&self, comp: &Comp) -> Vec<(String, Vec<usize>)> {
        let mut out: Vec<(String, Vec<usize>)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for &i in &comp.props {
            let Some(line) = self.lines.get(i) else {
                continue;
            };
            let k = key(line);
            match index.get(&k) {
                Some(&at) => {
                    if let Some(g) = out.get_mut(at) {
                        g.1.push(i);
                    }
                }
                None => {
                    index.insert(k.clone(), out.len());
                    out.push((k, vec![i]));
                }
            }
        }
        out
    }
}

/// The property key: group and name before any parameter, upper-cased (`item1.EMAIL`).
fn key(line: &Line) -> String {
    let head = line.head();
    let name = head.split(|&b| b == b';').next().unwrap_or(head);
    String::from_utf8_lossy(trim(name)).to_ascii_uppercase()
}

/// Byte range of each logical line: from its first physical line to its last, blank lines that
/// `logical_lines` skipped after it excluded.
fn spans(raw: &[u8], lines: &[Line]) -> Vec<(usize, usize)> {
    let phys: Vec<(usize, usize, bool)> = physical(raw)
        .map(|(_, text, s, e)| {
            let blank = !matches!(text.first(), Some(b' ' | b'\t'))
                && text.iter().all(|b| b.is_ascii_whitespace());
            (s, e, blank)
        })
        .collect();
    let mut out = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let first = l.number.saturating_sub(1);
        let next = lines
            .get(i + 1)
            .map_or(phys.len(), |n| n.number.saturating_sub(1));
        let mut last = next.saturating_sub(1).max(first);
        while last > first && phys.get(last).is_some_and(|p| p.2) {
            last -= 1;
        }
        let start = phys.get(first).map_or(raw.len(), |p| p.0);
        let end = phys.get(last).map_or(start, |p| p.1).max(start);
        out.push((start, end));
    }
    out
}

/// An item's content without order or bytes that do not matter: equal canons, equal items.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Canon {
    name: String,
    props: Vec<Vec<u8>>,
    children: Vec<Canon>,
}

fn canon(text: &Text, comp: &Comp) -> Canon {
    let mut props: Vec<Vec<u8>> = comp.props.iter().map(|&i| text.line(i).to_vec()).collect();
    props.sort();
    let mut children: Vec<Canon> = comp.children.iter().map(|c| canon(text, c)).collect();
    children.sort();
    Canon {
        name: comp.name.clone(),
        props,
        children,
    }
}

/// What one key (a property, or a kind of nested block) becomes.
enum Pick<T> {
    Local,
    Remote,
    /// How many of each value the result holds.
    Counts(BTreeMap<T, usize>),
    Conflict,
}

fn counts<T: Ord + Clone>(items: &[T]) -> BTreeMap<T, usize> {
    let mut out = BTreeMap::new();
    for v in items {
        *out.entry(v.clone()).or_insert(0) += 1;
    }
    out
}

/// The three-way decision for one key, on multisets of values. `base` is `None` when the
/// component has no base: then only a side that lacks the key gives way.
fn decide<T: Ord + Clone>(base: Option<&[T]>, l: &[T], r: &[T], multi: bool) -> Pick<T> {
    let (lc, rc) = (counts(l), counts(r));
    if lc == rc {
        return Pick::Local;
    }
    let Some(base) = base else {
        return match (l.is_empty(), r.is_empty()) {
            (true, _) => Pick::Remote,
            (_, true) => Pick::Local,
            _ => Pick::Conflict,
        };
    };
    let bc = counts(base);
    if lc == bc {
        return Pick::Remote;
    }
    if rc == bc {
        return Pick::Local;
    }
    if !multi {
        return Pick::Conflict;
    }
    // Set merge: base, minus what either removed, plus what either added.
    let mut all: BTreeMap<T, (usize, usize, usize)> = BTreeMap::new();
    for (v, n) in &bc {
        all.entry(v.clone()).or_default().0 = *n;
    }
    for (v, n) in &lc {
        all.entry(v.clone()).or_default().1 = *n;
    }
    for (v, n) in &rc {
        all.entry(v.clone()).or_default().2 = *n;
    }
    let mut removed_by_both = false;
    let (mut added_l, mut added_r) = (BTreeMap::new(), BTreeMap::new());
    let mut result = BTreeMap::new();
    for (v, (b, l, r)) in all {
        removed_by_both |= l < b && r < b;
        if l > b {
            added_l.insert(v.clone(), l - b);
        }
        if r > b {
            added_r.insert(v.clone(), r - b);
        }
        let n = if l == b {
            r
        } else if r == b {
            l
        } else if l < b && r < b {
            l.min(r)
        } else {
            l.max(r)
        };
        if n > 0 {
            result.insert(v, n);
        }
    }
    // Both replaced the same value, each with something else: the same value edited two ways.
    if removed_by_both && !added_l.is_empty() && !added_r.is_empty() && added_l != added_r {
        return Pick::Conflict;
    }
    Pick::Counts(result)
}

/// Volatile properties: the later timestamp, the larger SEQUENCE, local's PRODID.
fn volatile<T>(name: &str, l: &[&Line], r: &[&Line]) -> Pick<T> {
    if l.is_empty() {
        return Pick::Remote;
    }
    if r.is_empty() || name == "PRODID" {
        return Pick::Local;
    }
    let remote_newer = if name == "SEQUENCE" {
        let seq = |ls: &[&Line]| {
            ls.iter()
                .filter_map(|l| decode(trim(l.value()?)).parse::<u64>().ok())
                .max()
        };
        seq(r) > seq(l)
    } else {
        // Timestamps (20250101T100000Z, 2025-01-01T10:00:00Z) compared on their digits.
        let stamp = |ls: &[&Line]| {
            ls.iter()
                .map(|l| {
                    let mut d: Vec<u8> = l
                        .value()
                        .unwrap_or_default()
                        .iter()
                        .copied()
                        .filter(u8::is_ascii_digit)
                        .collect();
                    d.resize(d.len().max(20), b'0');
                    d
                })
                .max()
        };
        stamp(r) > stamp(l)
    };
    if remote_newer {
        Pick::Remote
    } else {
        Pick::Local
    }
}

/// Edits to the local text: lines dropped, and bytes inserted before a line.
struct Plan {
    drop: Vec<bool>,
    before: Vec<Vec<u8>>,
}

struct Merger<'a> {
    base: Option<&'a Text<'a>>,
    local: &'a Text<'a>,
    remote: &'a Text<'a>,
    plan: Plan,
    conflicts: Vec<String>,
}

impl<'a> Merger<'a> {
    fn new(base: Option<&'a Text<'a>>, local: &'a Text<'a>, remote: &'a Text<'a>) -> Self {
        let n = local.lines.len();
        Merger {
            base,
            local,
            remote,
            plan: Plan {
                drop: vec![false; n],
                before: vec![Vec::new(); n + 1],
            },
            conflicts: Vec::new(),
        }
    }

    fn conflict(&mut self, name: String) {
        if !self.conflicts.contains(&name) {
            self.conflicts.push(name);
        }
    }

    fn insert(&mut self, before: usize, bytes: &[u8]) {
        let newline: &[u8] = if self.local.crlf { b"\r\n" } else { b"\n" };
        if let Some(at) = self.plan.before.get_mut(before) {
            // Remote's own bytes and folds, with local's line endings.
            for (_, text, _, _) in physical(bytes) {
                at.extend_from_slice(text);
                at.extend_from_slice(newline);
            }
        }
    }

    fn drop_lines(&mut self, first: usize, last: usize) {
        for i in first..=last {
            if let Some(d) = self.plan.drop.get_mut(i) {
                *d = true;
            }
        }
    }

    fn component(&mut self, b: Option<&'a Comp>, l: &'a Comp, r: &'a Comp, root: bool) {
        // vCard properties are named bare ("TEL"); calendar ones with their component.
        let prefix = if l.name == "VCARD" {
            String::new()
        } else {
            format!("{} ", l.name)
        };
        self.properties(&prefix, b, l, r);
        if root && l.name == "VCALENDAR" {
            self.identified(b, l, r);
        } else {
            self.blocks(&prefix, b, l, r);
        }
    }

    fn properties(&mut self, prefix: &str, b: Option<&'a Comp>, l: &'a Comp, r: &'a Comp) {
        let (local, remote) = (self.local, self.remote);
        let bg = match (self.base, b) {
            (Some(t), Some(c)) => Some((t, t.groups(c))),
            _ => None,
        };
        let lg = local.groups(l);
        let rg = remote.groups(r);
        let mut keys: Vec<&String> = lg.iter().map(|g| &g.0).collect();
        for k in rg
            .iter()
            .map(|g| &g.0)
            .chain(bg.iter().flat_map(|b| b.1.iter().map(|g| &g.0)))
        {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        let find = |g: &[(String, Vec<usize>)], k: &str| -> Vec<usize> {
            g.iter()
                .find(|x| x.0 == k)
                .map(|x| x.1.clone())
                .unwrap_or_default()
        };
        for k in keys {
            let li = find(&lg, k);
            let ri = find(&rg, k);
            let lt: Vec<&[u8]> = li.iter().map(|&i| local.line(i)).collect();
            let rt: Vec<&[u8]> = ri.iter().map(|&i| remote.line(i)).collect();
            let bt: Option<Vec<&[u8]>> = bg
                .as_ref()
                .map(|(t, g)| find(g, k).iter().map(|&i| t.line(i)).collect());
            let name = k.rsplit('.').next().unwrap_or(k);
            let multi = name.starts_with("X-") || MULTI.contains(&name);
            let mut pick = decide(bt.as_deref(), &lt, &rt, multi);
            if matches!(pick, Pick::Conflict) && VOLATILE.contains(&name) {
                let lines = |t: &'a Text, idx: &[usize]| -> Vec<&'a Line> {
                    idx.iter().filter_map(|&i| t.lines.get(i)).collect()
                };
                pick = volatile(name, &lines(local, &li), &lines(remote, &ri));
            }
            let target = match pick {
                Pick::Local => continue,
                Pick::Remote => counts(&rt),
                Pick::Counts(c) => c,
                Pick::Conflict => {
                    self.conflict(format!("{prefix}{k}"));
                    continue;
                }
            };
            self.apply_properties(l, r, &li, &ri, target);
        }
    }

    /// Makes the local lines of one key hold `target`: local lines kept where they can be,
    /// the rest copied from remote after the key's last local line (or after the line remote
    /// has before it).
    fn apply_properties(
        &mut self,
        l: &Comp,
        r: &Comp,
        li: &[usize],
        ri: &[usize],
        mut target: BTreeMap<&[u8], usize>,
    ) {
        let (local, remote) = (self.local, self.remote);
        for &i in li {
            match target.get_mut(local.line(i)) {
                Some(n) if *n > 0 => *n -= 1,
                _ => self.drop_lines(i, i),
            }
        }
        let mut bytes = Vec::new();
        for &j in ri {
            if let Some(n) = target.get_mut(remote.line(j)) {
                if *n > 0 {
                    *n -= 1;
                    bytes.extend_from_slice(remote.span(j, j));
                    if bytes.last() != Some(&b'\n') {
                        bytes.push(b'\n');
                    }
                }
            }
        }
        if bytes.is_empty() {
            return;
        }
        let at = match (li.last(), ri.first()) {
            (Some(&last), _) => last + 1,
            (None, Some(&first)) => {
                // After the last local line of the nearest key remote has before it.
                let known: HashMap<String, usize> = l
                    .props
                    .iter()
                    .filter_map(|&i| Some((key(local.lines.get(i)?), i)))
                    .collect();
                let upto = r.props.iter().position(|&j| j == first).unwrap_or(0);
                r.props
                    .get(..upto)
                    .unwrap_or_default()
                    .iter()
                    .rev()
                    .find_map(|&j| known.get(&key(remote.lines.get(j)?)))
                    .map_or(l.begin + 1, |&i| i + 1)
            }
            (None, None) => l.begin + 1,
        };
        self.insert(at, &bytes);
    }

    /// Top-level calendar components, matched by identity and merged one by one.
    fn identified(&mut self, b: Option<&'a Comp>, l: &'a Comp, r: &'a Comp) {
        let (local, remote) = (self.local, self.remote);
        let base = self.base.zip(b);
        let mut ids: Vec<&Ident> = local.idents.iter().collect();
        let extra = remote
            .idents
            .iter()
            .chain(base.iter().flat_map(|(t, _)| t.idents.iter()));
        for id in extra {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let pos = |t: &Text, id: &Ident| t.idents.iter().position(|x| x == id);
        for id in ids {
            let lc = pos(local, id).and_then(|i| l.children.get(i));
            let rc = pos(remote, id).and_then(|i| r.children.get(i));
            let bc =
                base.and_then(|(t, c)| pos(t, id).and_then(|i| c.children.get(i)).map(|c| (t, c)));
            match (lc, rc) {
                (Some(lc), Some(rc)) => self.component(bc.map(|x| x.1), lc, rc, false),
                (Some(lc), None) => match bc {
                    None => {}
                    Some((t, bc)) if canon(t, bc) == canon(local, lc) => {
                        self.drop_lines(lc.begin, lc.end)
                    }
                    Some(_) => self.conflict(lc.name.clone()),
                },
                (None, Some(rc)) => match bc {
                    None => {
                        // After the component remote has before it, if local has that one too.
                        let at = r
                            .children
                            .iter()
                            .zip(&remote.idents)
                            .take_while(|(_, x)| *x != id)
                            .filter_map(|(_, x)| pos(local, x).and_then(|i| l.children.get(i)))
                            .last()
                            .map_or_else(
                                || l.children.first().map_or(l.end, |c| c.begin),
                                |c| c.end + 1,
                            );
                        self.insert(at, remote.span(rc.begin, rc.end));
                    }
                    Some((t, bc)) if canon(t, bc) == canon(remote, rc) => {}
                    Some(_) => self.conflict(rc.name.clone()),
                },
                (None, None) => {}
            }
        }
    }

    /// Nested components without identity (VALARM, STANDARD …): per name, a multiset of whole
    /// blocks, merged like a multi-valued property.
    fn blocks(&mut self, prefix: &str, b: Option<&'a Comp>, l: &'a Comp, r: &'a Comp) {
        let (local, remote) = (self.local, self.remote);
        let base = self.base.zip(b);
        let mut names: Vec<&String> = Vec::new();
        let all = l
            .children
            .iter()
            .chain(&r.children)
            .chain(base.iter().flat_map(|(_, c)| c.children.iter()));
        for c in all {
            if !names.contains(&&c.name) {
                names.push(&c.name);
            }
        }
        for name in names {
            let of = |t: &Text, c: &'a Comp| -> (Vec<&'a Comp>, Vec<Canon>) {
                let blocks: Vec<&Comp> = c.children.iter().filter(|x| &x.name == name).collect();
                let canons = blocks.iter().map(|x| canon(t, x)).collect();
                (blocks, canons)
            };
            let (lb, lt) = of(local, l);
            let (rb, rt) = of(remote, r);
            let bt = base.map(|(t, c)| of(t, c).1);
            let mut target = match decide(bt.as_deref(), &lt, &rt, true) {
                Pick::Local => continue,
                Pick::Remote => counts(&rt),
                Pick::Counts(c) => c,
                Pick::Conflict => {
                    self.conflict(format!("{prefix}{name}"));
                    continue;
                }
            };
            for (block, c) in lb.iter().zip(&lt) {
                match target.get_mut(c) {
                    Some(n) if *n > 0 => *n -= 1,
                    _ => self.drop_lines(block.begin, block.end),
                }
            }
            let at = lb.last().map_or(l.end, |c| c.end + 1);
            for (block, c) in rb.iter().zip(&rt) {
                if let Some(n) = target.get_mut(c) {
                    if *n > 0 {
                        *n -= 1;
                        self.insert(at, remote.span(block.begin, block.end));
                    }
                }
            }
        }
    }
}

/// The local text with the plan applied; every byte the plan does not touch is copied as is.
fn render(text: &Text, plan: &Plan) -> Vec<u8> {
    let extra: usize = plan.before.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(text.raw.len() + extra);
    let mut cursor = 0;
    for (i, &(s, e)) in text.spans.iter().enumerate() {
        out.extend_from_slice(text.raw.get(cursor..s).unwrap_or_default());
        if let Some(b) = plan.before.get(i) {
            out.extend_from_slice(b);
        }
        if !plan.drop.get(i).copied().unwrap_or(false) {
            out.extend_from_slice(text.raw.get(s..e).unwrap_or_default());
        }
        cursor = cursor.max(e);
    }
    out.extend_from_slice(text.raw.get(cursor..).unwrap_or_default());
    out
}
