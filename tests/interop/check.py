#!/usr/bin/env python3
"""Interop check: files that Holdfast EXPORTED must be readable by independent parsers.

Run by tests/interop.rs with the project's venv (.venv/bin/python, see scripts/test):

  check.py --vcf A.vcf [--vcf B.vcf ...] --ics EVENTS.ics --todos TODOS.ics --expect EXPECT.json

EXPECT.json (written by the Rust test from the SOURCE files it imported):
  {"contacts": {UID: [X-NAME, ...]}, "events": {UID: [...]}, "todos": {UID: [...]}}
X- names are upper-case, without a vCard group prefix (``item1.X-ABLabel`` -> ``X-ABLABEL``).
Only properties inside a UID-bearing component (VCARD, VEVENT/VTODO and their VALARMs) count:
VCALENDAR-level (X-WR-CALNAME) and VTIMEZONE-level (X-LIC-LOCATION) ones belong to no item.

Checks, each printed as one line; any failure => exit 1:
  1. vobject.readComponents parses every --vcf file; each expected contact UID is present once,
     no unexpected UID appears, and every source X- name is present on that card.
  2. icalendar.Calendar.from_ical parses --ics and --todos; same UID / X- checks for VEVENTs
     (overrides share the master's UID) and VTODOs; no VTODO in --ics, no VEVENT in --todos.
  3. khard (real CLI, isolated HOME/XDG) lists every contact UID of every --vcf file from a vdir
     made by splitting the file byte-for-byte, one card per file.
  4. khal (real CLI, isolated HOME/XDG) lists every event UID from a vdir made by splitting
     --ics byte-for-byte, one file per UID (overrides with their master, every VTIMEZONE copied).
"""
import argparse
import datetime as dt
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import icalendar
import vobject

FAILURES = []


def ok(msg):
    print(f"ok   {msg}")


def fail(msg):
    FAILURES.append(msg)
    print(f"FAIL {msg}")


def norm_name(name):
    name = name.upper()
    return name.split(".", 1)[1] if "." in name else name


# ---------------------------------------------------------------- expectation checks

def compare(label, expected, found):
    """expected: {uid: [X- names]} from the sources; found: {uid: set(X- names)} from an export."""
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing:
        fail(f"{label}: {len(missing)} expected UID(s) missing, e.g. {missing[:5]}")
    if extra:
        fail(f"{label}: {len(extra)} unexpected UID(s), e.g. {extra[:5]}")
    lost = []
    for uid, names in expected.items():
        if uid not in found:
            continue
        gone = sorted(set(names) - found[uid])
        if gone:
            lost.append(f"{uid}: {gone}")
    if lost:
        fail(f"{label}: X- properties lost on {len(lost)} item(s): " + "; ".join(lost[:10]))
    if not missing and not extra and not lost:
        nx = sum(len(v) for v in expected.values())
        ok(f"{label}: all {len(expected)} UIDs present, all {nx} source X- properties kept")


def vobject_cards(text):
    return list(vobject.readComponents(text, validate=False))


def check_vcf(path, expected):
    """Parse the whole file as a vobject user would (UTF-8 text -> readComponents). When that
    raises, say so (FAIL) and parse card by card to name every card vobject cannot read."""
    label = f"vobject {Path(path).name}"
    data = Path(path).read_bytes()
    cards, bad_uids = None, set()
    try:
        cards = vobject_cards(data.decode("utf-8"))
        ok(f"{label}: readComponents parsed {len(cards)} cards")
    except Exception as e:  # noqa: BLE001 - report any parser error
        fail(f"{label}: vobject.readComponents on the whole file raised {type(e).__name__}: {e}")
    if cards is None:
        cards, bad = [], []
        for raw in split_vcards(data):
            uid = unfolded_value([raw], "UID")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                bad.append(f"{uid}: the card is not valid UTF-8 as stored (a fold splits a "
                           f"multi-byte character?): {e}")
                bad_uids.add(uid)
                continue
            try:
                cards += vobject_cards(text)
            except Exception as e:  # noqa: BLE001
                bad.append(f"{uid}: vobject raised {type(e).__name__}: {e}")
                bad_uids.add(uid)
        if bad:
            fail(f"{label}: card by card, vobject cannot read {len(bad)} card(s):\n       "
                 + "\n       ".join(bad))
    found, dup, no_uid = {}, [], 0
    for card in cards:
        if card.name.upper() != "VCARD":
            fail(f"{label}: top-level component {card.name} is not a VCARD")
            continue
        uid_lines = card.contents.get("uid", [])
        if not uid_lines:
            no_uid += 1
            continue
        uid = str(uid_lines[0].value)
        if uid in found:
            dup.append(uid)
        names = set(found.get(uid, set()))
        for lines in card.contents.values():
            for line in lines:
                n = norm_name(line.name)
                if n.startswith("X-"):
                    names.add(n)
        found[uid] = names
    if no_uid:
        fail(f"{label}: {no_uid} card(s) without UID")
    if dup:
        fail(f"{label}: duplicate UID(s) {dup[:5]}")
    compare(label, expected, found)
    return bad_uids


def x_names_ical(comp):
    names = set()
    for key in comp.keys():
        k = norm_name(str(key))
        if k.startswith("X-"):
            names.add(k)
    for sub in comp.subcomponents:
        names |= x_names_ical(sub)
    return names


def check_ics(path, kind, expected):
    """kind: 'VEVENT' or 'VTODO'. Returns the parsed calendar (or None)."""
    label = f"icalendar {Path(path).name} ({kind})"
    other = "VTODO" if kind == "VEVENT" else "VEVENT"
    try:
        cal = icalendar.Calendar.from_ical(Path(path).read_bytes())
    except Exception as e:  # noqa: BLE001
        fail(f"{label}: Calendar.from_ical raised {type(e).__name__}: {e}")
        return None
    if cal.name != "VCALENDAR":
        fail(f"{label}: top-level component is {cal.name}")
    errors = []
    for c in cal.walk():
        for err in getattr(c, "errors", []) or []:
            errors.append(f"{c.name}: {err}")
    if errors:
        fail(f"{label}: icalendar recorded parse errors: {errors[:5]}")
    found = {}
    n = 0
    for comp in cal.subcomponents:
        if comp.name == other:
            fail(f"{label}: contains a {other} (UID {comp.get('UID')})")
            continue
        if comp.name != kind:
            continue
        n += 1
        uid = comp.get("UID")
        if uid is None:
            fail(f"{label}: a {kind} without UID")
            continue
        uid = str(uid)
        found.setdefault(uid, set()).update(x_names_ical(comp))
        if comp.name == "VEVENT" and comp.get("DTSTART") is None:
            fail(f"{label}: {uid} has no DTSTART")
        # decode the main date-time values (this is where TZIDs get resolved)
        for prop in ("DTSTART", "DTEND", "DUE", "RECURRENCE-ID"):
            if comp.get(prop) is not None:
                try:
                    comp.decoded(prop)
                except Exception as e:  # noqa: BLE001
                    fail(f"{label}: {uid} {prop} does not decode: {e}")
    ok(f"{label}: parsed {n} {kind}s")
    compare(label, expected, found)
    return cal


# ---------------------------------------------------------------- byte-level splitting

def split_lines(data):
    """Physical lines with their line endings kept."""
    return data.splitlines(keepends=True)


def logical_name(line):
    s = line.rstrip(b"\r\n")
    m = re.match(rb"([A-Za-z0-9.-]+)", s)
    return m.group(1).decode("ascii").upper() if m else ""


def split_vcards(data):
    """Return the raw bytes of each top-level VCARD (nothing re-serialised)."""
    cards, cur, depth = [], None, 0
    for line in split_lines(data):
        s = line.rstrip(b"\r\n").upper()
        if s == b"BEGIN:VCARD":
            depth += 1
            if depth == 1:
                cur = []
        if cur is not None:
            cur.append(line)
        if s == b"END:VCARD":
            depth -= 1
            if depth == 0 and cur is not None:
                cards.append(b"".join(cur))
                cur = None
    return cards


def unfolded_value(lines, prop):
    """Value of the first PROP in a list of raw physical lines (folding undone)."""
    text = b"".join(lines)
    text = re.sub(rb"\r?\n[ \t]", b"", text)
    for raw in text.splitlines():
        name = logical_name(raw)
        if norm_name(name) == prop:
            # skip parameters (a quoted parameter value may contain ':')
            i, q = 0, False
            while i < len(raw):
                ch = raw[i:i + 1]
                if ch == b'"':
                    q = not q
                elif ch == b":" and not q:
                    return raw[i + 1:].decode("utf-8", "replace")
                i += 1
    return None


def split_ics(data, kind):
    """Split a VCALENDAR into {uid: bytes of a complete VCALENDAR}, byte-for-byte.

    Calendar properties and every VTIMEZONE are copied into each file; components of `kind`
    are grouped by UID (a RECURRENCE-ID override lands in its master's file)."""
    lines = split_lines(data)
    eol = b"\r\n" if lines and lines[0].endswith(b"\r\n") else b"\n"
    head, timezones, groups, order = [], [], {}, []
    stack, block = [], None
    for line in lines:
        s = line.rstrip(b"\r\n")
        up = s.upper()
        if up.startswith(b"BEGIN:"):
            stack.append(up[6:].decode("ascii", "replace"))
            if len(stack) == 2:
                block = []
        if len(stack) >= 2 and block is not None:
            block.append(line)
        elif len(stack) == 1 and not up.startswith(b"END:VCALENDAR"):
            head.append(line)
        if up.startswith(b"END:"):
            name = stack.pop() if stack else ""
            if len(stack) == 1 and block is not None:
                if name == "VTIMEZONE":
                    timezones.append(b"".join(block))
                elif name == kind:
                    uid = unfolded_value(block, "UID") or f"no-uid-{len(order)}"
                    if uid not in groups:
                        groups[uid] = []
                        order.append(uid)
                    groups[uid].append(b"".join(block))
                block = None
    out = {}
    for uid in order:
        out[uid] = b"".join(head) + b"".join(timezones) + b"".join(groups[uid]) + b"END:VCALENDAR" + eol
    return out


def safe_name(uid, i):
    return f"{i:04d}-" + re.sub(r"[^A-Za-z0-9._-]", "_", uid)[:80]


# ---------------------------------------------------------------- real peer programs

def peer_env(run):
    env = dict(os.environ)
    for d in ("home", "xdg", "share", "cache"):
        (run / d).mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(run / "home"), XDG_CONFIG_HOME=str(run / "xdg"),
               XDG_DATA_HOME=str(run / "share"), XDG_CACHE_HOME=str(run / "cache"),
               TZ="UTC", LC_ALL="C.UTF-8", LANG="C.UTF-8", EDITOR="/bin/true")
    return env


def bin_path(name):
    p = Path(sys.executable).parent / name
    return str(p) if p.exists() else name


def run_cmd(cmd, env, label, timeout=60):
    t0 = time.monotonic()
    try:
        r = subprocess.run(cmd, env=env, capture_output=True, timeout=timeout)
    except Exception as e:  # noqa: BLE001
        fail(f"{label}: could not run {cmd}: {e}")
        return None
    out = r.stdout.decode("utf-8", "replace")
    err = r.stderr.decode("utf-8", "replace")
    if r.returncode != 0:
        fail(f"{label}: `{' '.join(cmd)}` exited {r.returncode}\n--- stdout\n{out[-1500:]}"
             f"\n--- stderr (end)\n{err[-1200:]}")
        return None
    print(f"     {label}: `{' '.join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))}` "
          f"exit 0 in {time.monotonic() - t0:.1f}s")
    return out, err


def not_utf8(items):
    """{uid: bytes} -> {uid: why} for items that are not valid UTF-8 as stored (khal and khard
    decode a whole file as UTF-8 before unfolding, so a fold inside a character breaks them)."""
    bad = {}
    for uid, data in items.items():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as e:
            bad[uid] = f"{e.reason} at byte {e.start}: {data[max(0, e.start - 30):e.end + 10]!r}"
    return bad


def write_khard(cards, run):
    book = run / "book"
    book.mkdir(parents=True)
    for i, (uid, card) in enumerate(cards.items()):
        (book / (safe_name(uid, i) + ".vcf")).write_bytes(card)
    conf = run / "khard.conf"
    conf.write_text("[general]\neditor = /bin/true\nmerge_editor = /bin/true\n"
                    "[addressbooks]\n[[interop]]\npath = " + str(book) + "/\n")
    return conf


def check_khard(vcf, expected_uids, work, vobject_bad):
    label = f"khard {Path(vcf).name}"
    run = work / f"khard-{Path(vcf).stem}"
    cards = {}
    for i, card in enumerate(split_vcards(Path(vcf).read_bytes())):
        cards[unfolded_value([card], "UID") or f"no-uid-{i}"] = card
    bad = not_utf8(cards)
    if bad:
        fail(f"{label}: {len(bad)} card(s) are not valid UTF-8 as stored (a fold splits a "
             "multi-byte character); khard reads each file as UTF-8 and crashes on them: "
             + "; ".join(f"{u}: {m}" for u, m in bad.items()))
    conf = write_khard(cards, run)
    env = peer_env(run)
    res = run_cmd([bin_path("khard"), "-c", str(conf), "list", "-p"], env, label)
    if res is None:
        # diagnosis only (the check has already failed): does khard read all the cards that
        # vobject (its parser) can read? (--skip-unparsable does not help: khard 0.22 still
        # dies on a UnicodeDecodeError from vobject's QUOTED-PRINTABLE decoding)
        skip = set(bad) | set(vobject_bad)
        rest = {u: c for u, c in cards.items() if u not in skip}
        conf = write_khard(rest, work / f"khard-{Path(vcf).stem}-rest")
        r = subprocess.run([bin_path("khard"), "-c", str(conf), "list", "-p"],
                           env=env, capture_output=True)
        got = {l.split("\t")[0] for l in r.stdout.decode("utf-8", "replace").splitlines()}
        lost = sorted(set(rest) - got)
        if r.returncode == 0 and not lost:
            print(f"     {label}: diagnosis: without the {len(skip)} card(s) vobject cannot read "
                  f"{sorted(skip)}, khard lists the other {len(rest)}")
        else:
            fail(f"{label}: even without the {len(skip)} card(s) vobject cannot read, khard "
                 f"exits {r.returncode} and misses {lost[:10]}\n"
                 f"{r.stderr.decode('utf-8', 'replace')[-1500:]}")
        return
    out, err = res
    listed = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            listed[parts[0]] = parts[1]
    missing = sorted(set(expected_uids) - set(listed))
    if missing:
        fail(f"{label}: {len(missing)} of {len(expected_uids)} contacts not listed by khard, "
             f"e.g. {missing[:5]}\n--- stderr\n{err[-2000:]}")
    else:
        ok(f"{label}: khard lists all {len(expected_uids)} contacts from a {len(cards)}-file vdir")
    # khard builds its display name from N (or FN); an empty one means it could not read them
    empty = [u for u in expected_uids if u in listed and not listed[u].strip()]
    if empty:
        fail(f"{label}: khard shows an empty name for {empty[:5]}")


def khal_window(cal):
    """From two days before the earliest DTSTART to two days after the latest (icalendar's view)."""
    starts = []
    for comp in cal.walk("VEVENT"):
        try:
            v = comp.decoded("DTSTART")
        except Exception:  # noqa: BLE001 - reported by check_ics already
            continue
        starts.append(v.date() if isinstance(v, dt.datetime) else v)
    if not starts:
        return None
    return min(starts) - dt.timedelta(days=2), max(starts) + dt.timedelta(days=2)


def run_khal(files, run, window, label, record=True):
    """Write `files` ({uid: bytes}) as a vdir, run `khal list` over `window`.
    Returns ({uid: title}, stderr) or None when khal failed (a FAIL is recorded if `record`)."""
    vdir = run / "calendars" / "interop"
    vdir.mkdir(parents=True)
    for i, (uid, data) in enumerate(files.items()):
        (vdir / (safe_name(uid, i) + ".ics")).write_bytes(data)
    conf = run / "khal.conf"
    conf.write_text(
        "[calendars]\n[[interop]]\npath = " + str(vdir) + "/\ntype = calendar\n"
        "[locale]\ntimeformat = %H:%M\ndateformat = %Y-%m-%d\nlongdateformat = %Y-%m-%d\n"
        "datetimeformat = %Y-%m-%d %H:%M\nlongdatetimeformat = %Y-%m-%d %H:%M\n"
        "local_timezone = UTC\ndefault_timezone = UTC\n"
        "[sqlite]\npath = " + str(run / "khal.db") + "\n")
    lo, hi = window
    cmd = [bin_path("khal"), "-c", str(conf), "list", "--once",
           "--format", "{uid}\t{title}", "--day-format", "", lo.isoformat(), hi.isoformat()]
    if record:
        res = run_cmd(cmd, peer_env(run), label)
    else:
        r = subprocess.run(cmd, env=peer_env(run), capture_output=True)
        res = (r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")) \
            if r.returncode == 0 else None
    if res is None:
        return None
    out, err = res
    listed = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0]:
            listed.setdefault(parts[0], parts[1])
    return listed, err


def check_khal(ics, cal, expected_uids, work):
    label = f"khal {Path(ics).name}"
    window = khal_window(cal)
    if window is None:
        fail(f"{label}: no VEVENT start dates to build a window from")
        return
    files = split_ics(Path(ics).read_bytes(), "VEVENT")
    bad = not_utf8(files)
    if bad:
        fail(f"{label}: {len(bad)} event(s) are not valid UTF-8 as stored (a fold splits a "
             "multi-byte character); khal's vdir reader decodes each file as UTF-8 and crashes: "
             + "; ".join(f"{u}: {m}" for u, m in bad.items()))
    res = run_khal(files, work / "khal", window, label)
    if res is None and bad:
        # diagnosis only (already failed): does khal read everything else?
        rest = {u: d for u, d in files.items() if u not in bad}
        res = run_khal(rest, work / "khal-rest", window, label, record=False)
        if res is None:
            fail(f"{label}: khal also fails without the non-UTF-8 events")
            return
        print(f"     {label}: diagnosis: without those {len(bad)} event(s) khal runs:")
        expected_uids = [u for u in expected_uids if u not in bad]
    elif res is None:
        return
    listed, err = res
    lo, hi = window
    missing = sorted(set(expected_uids) - set(listed))
    warnings = [l for l in err.splitlines() if l.strip()]
    if missing:
        fail(f"{label}: {len(missing)} of {len(expected_uids)} events not listed by khal "
             f"between {lo} and {hi}: {missing}\n--- khal stderr\n" + "\n".join(warnings[-30:]))
    else:
        ok(f"{label}: khal lists all {len(expected_uids)} events expected in it "
           f"(window {lo}..{hi})")
    # the summaries icalendar reads must be khal's titles
    want = {}
    for comp in cal.walk("VEVENT"):
        if comp.get("RECURRENCE-ID") is None and comp.get("SUMMARY") is not None:
            want[str(comp.get("UID"))] = str(comp.get("SUMMARY"))
    wrong = [f"{u}: {want[u]!r} vs khal {listed[u]!r}" for u in want
             if u in listed and listed[u] != want[u]]
    if wrong:
        fail(f"{label}: khal shows other titles than icalendar reads: {wrong[:5]}")
    else:
        ok(f"{label}: khal's titles are the SUMMARYs icalendar reads ({len(listed)} checked)")
    if warnings:
        print(f"     {label}: khal printed {len(warnings)} stderr line(s), last: {warnings[-3:]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vcf", action="append", default=[], required=True)
    ap.add_argument("--ics", required=True, help="exported events")
    ap.add_argument("--todos", required=True, help="exported to-dos")
    ap.add_argument("--expect", required=True, help="JSON file (or inline JSON)")
    ap.add_argument("--keep", help="keep the peer work dir here (debugging)")
    a = ap.parse_args()
    raw = a.expect if a.expect.lstrip().startswith("{") else Path(a.expect).read_text()
    exp = json.loads(raw)
    for k in ("contacts", "events", "todos"):
        exp.setdefault(k, {})
        exp[k] = {uid: [norm_name(n) for n in names] for uid, names in exp[k].items()}
    print("python " + sys.version.split()[0] + ", " + ", ".join(
        f"{p} {importlib.metadata.version(p)}" for p in ("vobject", "icalendar", "khard", "khal")))
    print(f"expect {len(exp['contacts'])} contacts, {len(exp['events'])} events, "
          f"{len(exp['todos'])} todos")

    vobject_bad = {}
    for vcf in a.vcf:
        vobject_bad[vcf] = check_vcf(vcf, exp["contacts"])
    cal = check_ics(a.ics, "VEVENT", exp["events"])
    check_ics(a.todos, "VTODO", exp["todos"])

    ctx = tempfile.TemporaryDirectory(prefix="holdfast-interop-") if not a.keep else None
    work = Path(ctx.name if ctx else a.keep)
    work.mkdir(parents=True, exist_ok=True)
    try:
        for vcf in a.vcf:
            check_khard(vcf, list(exp["contacts"]), work, vobject_bad[vcf])
        if cal is not None:
            check_khal(a.ics, cal, list(exp["events"]), work)
        else:
            fail("khal: skipped because icalendar could not parse the events export")
    finally:
        if ctx:
            ctx.cleanup()

    if FAILURES:
        print(f"\n{len(FAILURES)} interop check(s) FAILED")
        return 1
    print("\nall interop checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
