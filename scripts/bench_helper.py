#!/usr/bin/env python3
"""Timing and reporting half of scripts/bench (the bash half builds, generates data and writes
the peer tools' configs, then calls this once).

Every figure is the wall clock of one whole CLI invocation (process start included), taken with
time.perf_counter() around the child; peak RSS is ru_maxrss from os.wait4() of that child, as in
../shared/peers/measure.py, so the numbers are comparable with the peers' recorded ones.

  bench_helper.py --bin target/release/holdfast --tmp DIR --big DIR [--peers DIR --peer-run DIR] \
                  --runs 10 --report target/bench/report.md

Exit status: 0 when every budget passes, 1 when one fails (the report is written either way).
"""
import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from pathlib import Path

NOT_INSTALLED = "not installed (run ../shared/peers/setup.sh)"
TIMEOUT = float(os.environ.get("BENCH_TIMEOUT", "900"))  # seconds per command, then it is killed
MB = 1_000_000  # budgets are in MB (10^6 bytes); MiB is shown next to RSS for the peers' tables


IMPORT_RUNS = int(os.environ.get("IMPORT_RUNS", "3"))


def log(msg=""):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Running and timing commands
# ---------------------------------------------------------------------------------------------

def run_once(cmd, env, keep_stdout=False):
    """Run cmd once (stdin /dev/null, stdout/stderr to temp files). Returns a dict with secs,
    rss_kb (peak RSS of the child, KiB), rc, stdout_lines, stderr_tail and optionally stdout."""
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        t0 = time.perf_counter()
        try:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe, env=env)
        except OSError as e:
            return {"secs": 0.0, "rss_kb": 0, "rc": 127, "stdout_lines": 0, "stdout": b"",
                    "stderr_tail": f"cannot start {cmd[0]}: {e}"}
        killer = threading.Timer(TIMEOUT, p.kill)  # a hung command must not hang the benchmark
        killer.start()
        _, status, ru = os.wait4(p.pid, 0)  # reap it ourselves to get this child's rusage
        secs = time.perf_counter() - t0
        timed_out = not killer.is_alive() and secs >= TIMEOUT
        killer.cancel()
        p.returncode = rc = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read(), fe.read()
    r = {"secs": secs, "rss_kb": ru.ru_maxrss, "rc": rc, "stdout_lines": out.count(b"\n"),
         "stderr_tail": err.decode(errors="replace")[-800:]}
    if timed_out:
        r["stderr_tail"] += f"\n[bench: killed after {TIMEOUT:.0f} s (BENCH_TIMEOUT)]"
    if keep_stdout:
        r["stdout"] = out
    return r


def bench(name, cmd, env, runs, prepare=None):
    """Run cmd `runs` times (prepare() before each run, untimed). Median/min/max seconds."""
    rs = []
    for i in range(runs):
        if prepare:
            prepare()
        r = run_once(cmd, env)
        rs.append(r)
        log(f"    {name} run {i + 1}/{runs}: {fmt_secs(r['secs'])} rc={r['rc']} lines={r['stdout_lines']}")
    secs = [r["secs"] for r in rs]
    bad = [r for r in rs if r["rc"] != 0]
    return {"name": name, "cmd": " ".join(map(str, cmd)), "runs": len(rs), "median": statistics.median(secs),
            "min": min(secs), "max": max(secs), "rss_kb_max": max(r["rss_kb"] for r in rs),
            "rc": bad[0]["rc"] if bad else 0, "stdout_lines": rs[-1]["stdout_lines"],
            "stderr_tail": (bad[0] if bad else rs[-1])["stderr_tail"]}


def single(name, cmd, env, keep_stdout=False):
    log(f"  {name}: {' '.join(map(str, cmd))}")
    r = run_once(cmd, env, keep_stdout)
    log(f"    {fmt_secs(r['secs'])} rc={r['rc']} peak RSS {r['rss_kb'] / 1024:.0f} MiB lines={r['stdout_lines']}")
    if r["rc"] != 0:
        log(f"    stderr: {r['stderr_tail'].strip()[-400:]}")
    r["name"] = name
    r["cmd"] = " ".join(map(str, cmd))
    return r


def json_count(r):
    """Number of elements in a `--json` answer, or None when it is not a JSON array."""
    if r["rc"] != 0:
        return None
    try:
        doc = json.loads(r.get("stdout", b"").decode())
    except (ValueError, UnicodeDecodeError):
        return None
    return len(doc) if isinstance(doc, list) else None


# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------

def fmt_secs(s):
    if s is None:
        return "–"
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def fmt_int(n):
    return "–" if n is None else f"{n:,}"


def rc_note(r):
    if r["rc"] == 0:
        return ""
    return f" (killed by signal {-r['rc']})" if r["rc"] < 0 else f" (exit {r['rc']})"


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(out)


def fold(s):
    """Case- and diacritic-insensitive form, like FTS5 unicode61 remove_diacritics 2."""
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c)).lower()


# ---------------------------------------------------------------------------------------------
# Data set facts
# ---------------------------------------------------------------------------------------------

def manifest(d):
    m = json.loads((Path(d) / "manifest.json").read_text())
    m["items"] = m["contacts"] + m["events"] + m["todos"]
    m["input_bytes"] = sum((Path(d) / f).stat().st_size for f in ("all.vcf", "all.ics"))
    return m


def name_matches(vcf, query):
    """How many contacts have `query` in their FN (folded): what `list contacts --query` should find
    at least (the index also covers e-mails, phones and notes)."""
    text = Path(vcf).read_bytes().replace(b"\r\n ", b"").decode(errors="replace")
    q = fold(query)
    return sum(1 for line in text.split("\r\n") if line.startswith("FN:") and q in fold(line[3:]))


def db_size(data_dir):
    """(bytes, description) of the SQLite DB in data_dir, -wal included."""
    d = Path(data_dir)
    db = d / "holdfast.db"
    if not db.exists():
        found = sorted(d.rglob("*.db")) + sorted(d.rglob("*.sqlite*"))
        found = [f for f in found if f.is_file() and "backups" not in f.parts and not str(f).endswith(("-wal", "-shm"))]
        if not found:
            return None, "no *.db file in the data dir"
        db = max(found, key=lambda f: f.stat().st_size)
    total = db.stat().st_size
    wal = Path(str(db) + "-wal")
    desc = db.name
    if wal.exists():
        total += wal.stat().st_size
        desc += f" + {wal.name} ({wal.stat().st_size / MB:.1f} MB)"
    return total, desc


def reset_dir(d):
    def f():
        shutil.rmtree(d, ignore_errors=True)
        Path(d).mkdir(parents=True)
    return f


def recorded_medians(path):
    """name -> median seconds from the peers' results/bench.jsonl (empty if unreadable)."""
    rec = {}
    try:
        for line in Path(path).read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                rec[r["name"]] = r["median"]
    except (OSError, ValueError, KeyError):
        pass
    return rec


def recorded_md5(results_md):
    """{'all.ics': md5, 'all.vcf': md5} as stated in the peers' RESULTS.md, if it says so."""
    try:
        text = Path(results_md).read_text()
    except OSError:
        return {}
    return {f: m for f, m in re.findall(r"(all\.(?:ics|vcf)) has md5\s+([0-9a-f]{32})", text)}


def md5(path):
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


# ---------------------------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------------------------

class Report:
    def __init__(self):
        self.rows = []      # final table: metric | value | budget | pass/fail
        self.failed = False

    def add(self, metric, value, budget="–", ok=None, why=""):
        verdict = "info" if ok is None else ("pass" if ok else "**FAIL**")
        if why and not ok:
            verdict += f" ({why})"
        if ok is False:
            self.failed = True
        self.rows.append((metric, value, budget, verdict))


def holdfast_env(tmp, data_dir):
    env = os.environ.copy()
    env.update(HOLDFAST_DATA_DIR=str(data_dir), HOLDFAST_CONFIG=str(Path(tmp) / "empty.toml"),
               TZ="UTC", NO_COLOR="1")
    return env


def big_dataset(a, rep, raw):
    """Section 3: the large data set, budgets from the issue."""
    big = Path(a.big)
    m = manifest(big)
    items, anchor = m["items"], dt.date.fromisoformat(m["anchor"])
    data = Path(a.tmp) / "data"
    env = holdfast_env(a.tmp, data)
    hf = a.bin
    log(f"\n== Large data set: {m['contacts']:,} contacts, {m['events']:,} events, {m['todos']:,} todos "
        f"= {items:,} items, input {m['input_bytes'] / MB:.1f} MB, anchor {anchor}")
    raw["big"] = {"manifest": m}

    # --- import --------------------------------------------------------------------------------
    # Median of IMPORT_RUNS imports, each into a fresh data dir. Before each run the page cache
    # is flushed (os.sync, untimed): otherwise the writeback of the just-generated data set (and
    # of the previous run's database) competes with the import's own fsyncs, and the figure
    # measures the disk's backlog rather than Holdfast.
    # The runs' data dirs are removed only after the last run: ext4 skips inodes freed in the
    # last ~30 s when it allocates new ones (`recently_deleted`), so creating the photo store's
    # ~10,000 blob files right after deleting the previous run's cost seconds of kernel time
    # that no user pays.
    runs = []
    shutil.rmtree(data, ignore_errors=True)
    run_dirs = [Path(a.tmp) / f"import-run-{i + 1}" for i in range(IMPORT_RUNS)]
    for i, d in enumerate(run_dirs):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        os.sync()
        r = single(f"import run {i + 1}/{IMPORT_RUNS}", [hf, "import", big / "all.vcf", big / "all.ics"],
                   holdfast_env(a.tmp, d))
        runs.append(r)
    run_dirs[-1].rename(data)
    for d in run_dirs[:-1]:
        shutil.rmtree(d, ignore_errors=True)
    runs_sorted = sorted(runs, key=lambda r: r["secs"])
    imp = dict(runs_sorted[len(runs_sorted) // 2])
    imp["rss_kb"] = max(r["rss_kb"] for r in runs)
    imp["rc"] = max(r["rc"] for r in runs)
    imp["all_secs"] = [r["secs"] for r in runs]
    # Every run imports the same data, so the last run's data dir serves the steps below.
    rate = items / imp["secs"] if imp["secs"] > 0 else 0
    rss_mb = imp["rss_kb"] * 1024 / MB
    raw["big"]["import"] = imp
    # Did it really import? Count contacts back (untimed). Catches a fast import that did nothing.
    chk = single("check: list contacts --json", [hf, "list", "contacts", "--json"], env, keep_stdout=True)
    listed = json_count(chk)
    chk.pop("stdout", None)
    raw["big"]["import_check"] = dict(chk, count=listed)
    db_after_import, _ = db_size(data)

    ok_imp = imp["rc"] == 0 and listed == m["contacts"]
    why = f"exit {imp['rc']}" if imp["rc"] != 0 else (
        "" if listed == m["contacts"] else f"list contacts --json gave {fmt_int(listed) if listed is not None else 'no JSON array'}")
    rep.add(f"import {items:,} items (all.vcf + all.ics)",
            f"{fmt_secs(imp['secs'])} = {rate:,.0f} items/s (median of {len(runs)}: "
            + ", ".join(fmt_secs(x) for x in imp["all_secs"]) + ")", "≥ 20,000 items/s",
            ok_imp and rate >= 20_000, why or ("too slow" if rate < 20_000 else ""))
    # wait4's ru_maxrss of a child forked from Python never reads below the launcher's own RSS
    # (the kernel carries the pre-exec high-water mark over exec): show that floor next to it.
    floor = run_once(["true"], env)["rss_kb"]
    raw["big"]["rss_floor_kb"] = floor
    rep.add("import peak RSS", f"{rss_mb:.0f} MB ({imp['rss_kb'] / 1024:.0f} MiB; "
            f"any child measured this way reads ≥ {floor / 1024:.0f} MiB)", "< 300 MB",
            ok_imp and rss_mb < 300,
            f"exit {imp['rc']}" if imp["rc"] else ("import incomplete" if not ok_imp else "too much"))
    rep.add("contacts listed after import (`list contacts --json`)",
            f"{fmt_int(listed)} of {m['contacts']:,}", f"= {m['contacts']:,}", listed == m["contacts"],
            "" if listed is not None else f"no JSON array{rc_note(chk)}")

    # --- export --------------------------------------------------------------------------------
    ex = Path(a.tmp) / "export"
    reset_dir(ex)()
    files = [ex / "contacts.vcf", ex / "calendar.ics", ex / "todos.ics"]
    exp = single("export", [hf, "export", "--contacts", files[0], "--calendar", files[1], "--todos", files[2]], env)
    written = sum(f.stat().st_size for f in files if f.exists())
    mbps = written / MB / exp["secs"] if exp["secs"] > 0 else 0
    raw["big"]["export"] = dict(exp, bytes=written, files={f.name: (f.stat().st_size if f.exists() else None) for f in files})
    missing = [f.name for f in files if not f.exists()]
    why = f"exit {exp['rc']}" if exp["rc"] else (f"missing {', '.join(missing)}" if missing else ("too slow" if mbps < 50 else ""))
    rep.add("export (contacts + calendar + todos)",
            f"{written / MB:.1f} MB in {fmt_secs(exp['secs'])} = {mbps:.1f} MB/s "
            f"(input was {m['input_bytes'] / MB:.1f} MB)",
            "≥ 50 MB/s", exp["rc"] == 0 and not missing and written > 0 and mbps >= 50, why)

    # --- list contacts --query ----------------------------------------------------------------
    q = a.query
    expect = name_matches(big / "all.vcf", q)
    log(f"  list contacts --query {q} (×{a.runs}; {expect:,} contacts have it in their name)")
    lc = bench("list contacts --query", [hf, "list", "contacts", "--query", q], env, a.runs)
    lcj = run_once([hf, "list", "contacts", "--query", q, "--json"], env, keep_stdout=True)
    lc["json_count"] = json_count(lcj)
    raw["big"]["list_contacts_query"] = dict(lc, expected_name_matches=expect)
    why = f"exit {lc['rc']}" if lc["rc"] else ("no output" if lc["stdout_lines"] == 0 else ("too slow" if lc["median"] >= 0.020 else ""))
    rep.add(f"`list contacts --query {q}` median of {a.runs}",
            f"{fmt_secs(lc['median'])} ({lc['stdout_lines']:,} lines; --json: {fmt_int(lc['json_count'])} "
            f"contacts; {expect:,} have “{q}” in their name)",
            "< 20 ms", lc["rc"] == 0 and lc["stdout_lines"] > 0 and lc["median"] < 0.020, why)

    # --- list events 31 days ------------------------------------------------------------------
    frm, to = anchor.isoformat(), (anchor + dt.timedelta(days=31)).isoformat()
    cmd = [hf, "list", "events", "--from", frm, "--to", to]
    warm = single(f"list events {frm}..{to} warm-up (extends the occurrence horizon)", cmd, env)
    log(f"  list events --from {frm} --to {to} (×{a.runs})")
    le = bench("list events 31d", cmd, env, a.runs)
    lej = run_once(cmd + ["--json"], env, keep_stdout=True)
    le["json_count"] = json_count(lej)
    raw["big"]["list_events_warmup"] = warm
    raw["big"]["list_events"] = le
    why = f"exit {le['rc']}" if le["rc"] else ("no output" if le["stdout_lines"] == 0 else ("too slow" if le["median"] >= 0.020 else ""))
    rep.add(f"`list events --from {frm} --to {to}` median of {a.runs}",
            f"{fmt_secs(le['median'])} ({le['stdout_lines']:,} lines; --json: {fmt_int(le['json_count'])} occurrences)",
            "< 20 ms", le["rc"] == 0 and le["stdout_lines"] > 0 and le["median"] < 0.020, why)
    rep.add("  first `list events` (warm-up, extends horizon)", fmt_secs(warm["secs"]) + rc_note(warm))

    # --- the same two lists at the size a screen shows (info: how time scales with output) -----
    nq = "lukasz lecki"
    ln = bench("list contacts --query (narrow)", [hf, "list", "contacts", "--query", nq], env, a.runs)
    raw["big"]["list_contacts_narrow"] = ln
    rep.add(f"  `list contacts --query '{nq}'` median of {a.runs}",
            f"{fmt_secs(ln['median'])} ({ln['stdout_lines']:,} lines){rc_note(ln)}")
    d1 = (anchor + dt.timedelta(days=1)).isoformat()
    l1 = bench("list events 1 day", [hf, "list", "events", "--from", frm, "--to", d1], env, a.runs)
    raw["big"]["list_events_1d"] = l1
    rep.add(f"  `list events --from {frm} --to {d1}` median of {a.runs}",
            f"{fmt_secs(l1['median'])} ({l1['stdout_lines']:,} lines){rc_note(l1)}")

    # --- DB size --------------------------------------------------------------------------------
    size, desc = db_size(data)
    raw["big"]["db"] = {"bytes": size, "after_import_bytes": db_after_import, "desc": desc}
    if size is None:
        rep.add("DB bytes per item", desc, "–", None)
    else:
        after = f"; {db_after_import / items:,.0f} right after import" if db_after_import else ""
        rep.add("DB bytes per item",
                f"{size / items:,.0f} B ({desc}: {size / MB:.1f} MB / {items:,} items{after}; "
                f"input {m['input_bytes'] / items:,.0f} B/item)")


def peers_dataset(a, rep, raw):
    """Section 4: holdfast vs calcurse/khal/khard/todoman on the peers' default data set."""
    pdir = Path(a.peers)
    m = manifest(pdir)
    anchor = dt.date.fromisoformat(m["anchor"])
    frm, to = anchor.isoformat(), (anchor + dt.timedelta(days=30)).isoformat()
    hf = a.bin
    data = Path(a.tmp) / "peers-data"
    env = holdfast_env(a.tmp, data)
    run = Path(a.peer_run)
    venv = Path(a.peer_venv) / "bin"
    penv = os.environ.copy()
    penv.update(json.loads((run / "peer_env.json").read_text()))   # HOME, XDG_*, TZ from peer_configs.sh
    rec = recorded_medians(a.recorded)
    same = {f: md5(pdir / f) == h for f, h in recorded_md5(a.recorded_md).items()}
    log(f"\n== Peers' data set: {m['contacts']:,} contacts, {m['events']:,} events, {m['todos']:,} todos, anchor {anchor}"
        + (f"; identical to the recorded one: {'yes' if all(same.values()) else 'NO'}" if same else ""))
    raw["peers"] = {"manifest": m, "same_as_recorded": same}

    calcurse = shutil.which("calcurse")
    tools = {"calcurse": calcurse, "khal": venv / "khal", "khard": venv / "khard", "todoman": venv / "todo"}
    have = {k: bool(v) and os.access(v, os.X_OK) for k, v in tools.items()}
    ccdir = run / "calcurse"
    cc = [calcurse or "calcurse", "-C", ccdir, "-D", ccdir]

    def peer_bench(tool, name, cmd, prepare=None, cold_prepare=None):
        if not have[tool]:
            log(f"  {name}: {NOT_INSTALLED}")
            return None
        r = {}
        if cold_prepare:  # one cold run first: builds the tool's cache, reported separately
            cold_prepare()
            r["cold"] = single(f"{name} (cold: builds cache)", cmd, penv)
        log(f"  {name} (×{a.runs})")
        r.update(bench(name, cmd, penv, a.runs, prepare))
        return r

    def hf_bench(name, cmd, prepare=None, warmup=False):
        r = {}
        if warmup:
            r["warmup"] = single(f"holdfast {name} warm-up", cmd, env)
        log(f"  holdfast {name} (×{a.runs})")
        r.update(bench(f"holdfast {name}", cmd, env, a.runs, prepare))
        return r

    # (operation, holdfast result, peer tool, peer command as shown, peer result, name in the recorded jsonl)
    pairs = []
    # import into an empty data dir (fresh for every run, untimed)
    h = hf_bench("import all.vcf all.ics", [hf, "import", pdir / "all.vcf", pdir / "all.ics"], prepare=reset_dir(data))
    p = peer_bench("calcurse", "calcurse -i all.ics", cc + ["-i", pdir / "all.ics"], prepare=reset_dir(ccdir))
    chk = run_once([hf, "list", "contacts", "--json"], env, keep_stdout=True)  # did it really import?
    h["contacts_listed"] = json_count(chk)
    if h["rc"] == 0 and h["contacts_listed"] != m["contacts"]:
        h["incomplete"] = f"import incomplete: list contacts --json gave {fmt_int(h['contacts_listed'])} of {m['contacts']:,}"
        log(f"    {h['incomplete']}")
    pairs.append(("import into an empty data dir", h, "calcurse", "`calcurse -i all.ics` (events + todos only)", p,
                  "calcurse -i all.ics (empty datadir)"))
    # 30-day listing from the anchor
    h = hf_bench(f"list events --from {frm} --to {to}", [hf, "list", "events", "--from", frm, "--to", to], warmup=True)
    p = peer_bench("calcurse", "calcurse -Q 30 days", cc + ["--input-datefmt", "4", "-Q", "--from", frm, "--days", "30"])
    pairs.append(("30-day listing", h, "calcurse", f"`calcurse -Q --from {frm} --days 30`", p, "calcurse -Q 30 days"))
    p = peer_bench("khal", "khal list 30d", [venv / "khal", "-c", run / "khal.conf", "list", frm, "30d"],
                   cold_prepare=lambda: (run / "khal.db").unlink(missing_ok=True))
    pairs.append(("30-day listing", h, "khal", f"`khal list {frm} 30d` (warm cache)", p, "khal list 30d (warm cache)"))
    # contacts
    h = hf_bench("list contacts", [hf, "list", "contacts"])
    p = peer_bench("khard", "khard list", [venv / "khard", "-c", run / "khard.conf", "list"])
    pairs.append(("list all contacts", h, "khard", "`khard list`", p, "khard list"))
    # todos
    h = hf_bench("list todos", [hf, "list", "todos"])
    p = peer_bench("todoman", "todoman list", [venv / "todo", "-c", run / "todoman.py", "--color", "never", "list"],
                   cold_prepare=lambda: (run / "todoman.sqlite3").unlink(missing_ok=True))
    pairs.append(("list todos", h, "todoman", "`todo list` (todoman, warm cache)", p, "todoman list (warm cache)"))

    rows = []
    raw["peers"]["pairs"] = []
    for op, h, tool, plabel, p, recname in pairs:
        recorded = rec.get(recname)
        is_list = "import" not in op  # a listing that prints nothing is not a result
        hcell = fmt_secs(h["median"]) + rc_note(h)
        if "warmup" in h:
            hcell += f" (first run {fmt_secs(h['warmup']['secs'])})"
        ratio = None
        if p is None:
            pcell, lines = NOT_INSTALLED, f"{h['stdout_lines']:,} / –"
        else:
            pcell = fmt_secs(p["median"]) + rc_note(p)
            if "cold" in p:
                pcell += f" (cold {fmt_secs(p['cold']['secs'])})"
            if h["median"] > 0 and h["rc"] == 0 and p["rc"] == 0:
                ratio = p["median"] / h["median"]
            lines = f"{h['stdout_lines']:,} / {p['stdout_lines']:,}"
        rcell = "–" if ratio is None else f"{ratio:.1f}×"
        rows.append((op, hcell, plabel, pcell, rcell, fmt_secs(recorded), lines))
        raw["peers"]["pairs"].append({"operation": op, "holdfast": h, "peer": plabel, "peer_result": p,
                                      "ratio": ratio, "peer_recorded_median": recorded})
        # One row per comparison in the final table. Beating the peer is the target
        # (../shared/peers/README.md: "the numbers that the project has to beat").
        metric = f"peers: {op}, holdfast vs {tool}"
        if p is None:
            rep.add(metric, f"holdfast {fmt_secs(h['median'])}{rc_note(h)}; {tool} {NOT_INSTALLED}",
                    "peer/holdfast ≥ 1×", None)
            continue
        if h["rc"]:
            why = f"holdfast exit {h['rc']}"
        elif h.get("incomplete"):
            why = h["incomplete"]
        elif p["rc"]:
            why = f"{tool} exit {p['rc']}"
        elif is_list and h["stdout_lines"] == 0:
            why = "holdfast printed nothing"
        elif ratio < 1:
            why = "slower than the peer"
        else:
            why = ""
        rep.add(metric, f"holdfast {fmt_secs(h['median'])}, {tool} {fmt_secs(p['median'])} → {rcell}"
                + (f" (recorded {tool}: {fmt_secs(recorded)})" if recorded is not None else ""),
                "peer/holdfast ≥ 1×", None if why.startswith(tool) else not why, why)  # a failing peer is not our fail

    table = md_table(["operation", "holdfast (median)", "peer", "peer (this run, median)",
                      "ratio peer/holdfast", "peer (recorded)", "stdout lines holdfast / peer"], rows)
    note = (f"Median of {a.runs} runs each, process start included. Peers run with the configs of "
            "../shared/peers/peer_configs.sh (TZ=Europe/Berlin, isolated HOME) reading the generator's "
            "per-item files directly (the recorded runs read the vdirs vdirsyncer had synced from Radicale); "
            "holdfast runs with TZ=UTC and an empty config. calcurse imports only all.ics; holdfast imports "
            "all.vcf too. “peer (recorded)” is ../shared/peers/results/bench.jsonl.")
    return table, note


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, type=Path)
    ap.add_argument("--tmp", required=True, type=Path)
    ap.add_argument("--big", required=True, type=Path)
    ap.add_argument("--peers", type=Path, help="peers' default data set (omit to skip the comparison)")
    ap.add_argument("--peer-run", type=Path, help="dir with the peer configs and peer_env.json")
    ap.add_argument("--peer-venv", type=Path, default=Path("/tmp/peers-venv"))
    ap.add_argument("--recorded", type=Path, help="peers' results/bench.jsonl")
    ap.add_argument("--recorded-md", type=Path, help="peers' RESULTS.md (for the data set md5s)")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--query", default="muller")
    ap.add_argument("--report", required=True, type=Path)
    a = ap.parse_args()
    if a.runs < 1:
        ap.error("--runs must be at least 1")
    a.bin = a.bin.resolve()
    (a.tmp / "empty.toml").write_text("")

    rep, raw = Report(), {"runs": a.runs, "bin": str(a.bin)}
    started = dt.datetime.now(dt.timezone.utc)
    big_dataset(a, rep, raw)
    peer_table = None
    if a.peers:
        peer_table, peer_note = peers_dataset(a, rep, raw)

    # ---- report ---------------------------------------------------------------------------------
    final = md_table(["metric", "value", "budget", "pass/fail"], rep.rows)
    m = raw["big"]["manifest"]
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = 0
    head = [
        "# Holdfast benchmark (scripts/bench)",
        "",
        f"- run: {started:%Y-%m-%d %H:%M} UTC on {platform.node()}: {os.cpu_count()} cores, {mem:.0f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}",
        f"- binary: `{a.bin}` ({a.bin.stat().st_size / MB:.1f} MB, built {dt.datetime.fromtimestamp(a.bin.stat().st_mtime):%Y-%m-%d %H:%M})",
        f"- large data set: `gen_data.py -N {m['contacts']} -M {m['events']} -K {m['todos']}` (seed {m['seed']}, "
        f"anchor {m['anchor']}) = {m['items']:,} items, {m['input_bytes'] / MB:.1f} MB",
        f"- RUNS={a.runs} (medians); every time is one whole CLI call, process start included; "
        "HOLDFAST_DATA_DIR fresh, HOLDFAST_CONFIG empty, TZ=UTC, NO_COLOR=1; MB = 10^6 bytes",
    ]
    body = head + [""]
    if peer_table:
        body += ["## Side by side with the peer tools (peers' default data set)", "", peer_table, "", peer_note, ""]
    body += ["## Summary", "", final, ""]
    verdict = "FAIL: at least one budget was missed" if rep.failed else "all budgets met"
    body += [f"Result: **{verdict}**.", ""]
    text = "\n".join(body)

    a.report.parent.mkdir(parents=True, exist_ok=True)
    a.report.write_text(text)
    (a.report.parent / "results.json").write_text(json.dumps(raw, indent=1, default=str, ensure_ascii=False) + "\n")
    if peer_table:
        print("\n## Side by side with the peer tools\n\n" + peer_table + "\n\n" + peer_note)
    print("\n## Summary\n\n" + final + f"\n\nResult: {verdict}.")
    print(f"Report: {a.report}   raw figures: {a.report.parent / 'results.json'}")
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
