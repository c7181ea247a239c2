#!/usr/bin/env python3
"""Helper for scripts/bench_sync (run with the peers venv's python, which has Radicale 3.9).

  bench_sync_helper.py load CONFIG DATA                 fill the (stopped) server's storage from DATA
  bench_sync_helper.py compare A B                      compare two Radicale storages (verification)
  bench_sync_helper.py logstats LOG START END [RUNS]    requests in LOG[START:END] by method and client
  bench_sync_helper.py floor BASEURL LOG START END OUT  Radicale's floor for Holdfast's requests (curl)
  bench_sync_helper.py report JSONL EXTRA.json          markdown table + comparison with vdirsyncer

`load` does not go through HTTP PUT (2 hours of O(n) has_uid checks in Radicale for 8000 items):
every file goes through the same code as a PUT of one item (radicale.app.put.prepare: vobject
parse, check_and_sanitize_items, Item.prepare) and is stored with Collection.upload (the call
do_PUT makes), so the item file, its cache entry and the sync-token history are what PUT writes.
The collections themselves must already exist (bench_sync creates them with radicale.sh's
MKCOL/MKCALENDAR over HTTP). `compare` checks this against a PUT-loaded storage.
"""
import json, os, re, statistics, subprocess, sys, tempfile, urllib.parse
from pathlib import Path


def load(config_path, data):
    from radicale import config, storage
    from radicale.app.put import prepare
    import radicale.item as radicale_item
    conf = config.load([(config_path, False)])
    st = storage.load(conf)
    max_size = conf.get("server", "max_resource_size")
    max_occ = conf.get("server", "max_vevent_rrule_occurrence")
    # upload() scans the whole history cache after every item (_clean_history: drop the entries of
    # deleted items); that scan is what makes a PUT slower as the collection grows. Nothing is
    # deleted here, so it is run once per collection instead: the files written are the same.
    from radicale.storage.multifilesystem.history import CollectionPartHistory
    clean = CollectionPartHistory._clean_history
    CollectionPartHistory._clean_history = lambda self: None
    for coll, folder in (("/test/contacts/", "contacts"), ("/test/events/", "events"), ("/test/tasks/", "tasks")):
        with st.acquire_lock("w", "test"):
            col = next(iter(st.discover(coll)))
            files = sorted(Path(data, folder).iterdir())
            for f in files:
                vitems = radicale_item.read_components(f.read_text(encoding="utf-8"))
                path = coll + f.name
                items, _, _, _, exc = prepare(vitems, path, "", False, True, max_size, max_occ,
                                              tag=col.tag, write_whole_collection=False)
                if exc:
                    raise exc[1]
                item, = list(items)
                col.upload(f.name, item)
            clean(col)
        print(f"loaded {len(files)} -> {coll}", file=sys.stderr)


def compare(a, b):
    """Item files and .Radicale.props byte-equal, same set of cache/history entries."""
    bad = 0
    for root in ("collection-root/test",):
        ra, rb = Path(a, root), Path(b, root)
        fa = {p.relative_to(ra) for p in ra.rglob("*") if p.is_file()}
        fb = {p.relative_to(rb) for p in rb.rglob("*") if p.is_file()}
        if fa != fb:
            print("file sets differ:", sorted(map(str, fa ^ fb))[:10])
            bad += 1
        n = 0
        for rel in sorted(fa & fb):
            if ".Radicale.cache" in rel.parts:
                continue  # pickles with mtimes/etags of history; names compared above
            n += 1
            if (ra / rel).read_bytes() != (rb / rel).read_bytes():
                print("differs:", rel)
                bad += 1
        print(f"compared {n} item/props files, {len(fa)} files in all: {'IDENTICAL' if not bad else 'DIFFERENT'}")
    return 1 if bad else 0


# Radicale 3.9 info log lines:
#   [..] [INFO] REPORT request for '/test/events/' with depth '1' received from 127.0.0.1 using '...'
#   [..] [INFO] REPORT response status for '/test/events/' with depth '1' in 0.680 seconds: 207 Multi-Status
REQ = re.compile(r"\[\d+/([^\]]*)\] \[INFO\] (\w+) request for '([^']*)'(?:.*? using '([^']*)')?", re.I)
RESP = re.compile(r"\[\d+/([^\]]*)\] \[INFO\] (\w+) response status for '([^']*)'.*? in ([0-9.]+) seconds", re.I)


def segment(log, start, end):
    with open(log, "rb") as f:
        f.seek(start)
        return f.read(end - start).decode(errors="replace")


def parse(text):
    """[(method, path, user_agent, server_seconds)] in request order (threads matched by id)."""
    out, open_by_thread = [], {}
    for line in text.splitlines():
        m = REQ.search(line)
        if m:
            open_by_thread.setdefault(m.group(1), []).append(len(out))
            out.append([m.group(2), m.group(3), m.group(4) or "(none: dav.py)", None])
            continue
        m = RESP.search(line)
        if m and open_by_thread.get(m.group(1)):
            out[open_by_thread[m.group(1)].pop(0)][3] = float(m.group(4))
    return out


def logstats(log, start, end, runs=1):
    reqs = parse(segment(log, int(start), int(end)))
    by = {}
    for meth, _, ua, secs in reqs:
        d = by.setdefault(ua, {})
        c = d.setdefault(meth, [0, 0.0])
        c[0] += 1
        c[1] += secs or 0.0
    res = {k: {m: {"count": round(c / runs, 1), "server_s": round(s / runs, 3)} for m, (c, s) in v.items()}
           for k, v in by.items()}
    print(json.dumps(res))


def curl(base, method, path, depth, body):
    with tempfile.NamedTemporaryFile("w", delete=False) as f:
        f.write(body)
    try:
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{time_total} %{http_code}", "-u", "test:test",
                              "-X", method, "-H", f"Depth: {depth}", "-H", "Content-Type: application/xml; charset=utf-8",
                              "--data-binary", "@" + f.name, base + path], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(f.name)
    secs, code = out.split()
    return float(secs), code


SYNC0 = ('<?xml version="1.0" encoding="utf-8"?><sync-collection xmlns="DAV:"><sync-token/><sync-level>1</sync-level>'
         '<prop><getetag/></prop></sync-collection>')
NS = {"VCALENDAR": ("calendar-multiget", "urn:ietf:params:xml:ns:caldav", "calendar-data"),
      "VADDRESSBOOK": ("addressbook-multiget", "urn:ietf:params:xml:ns:carddav", "address-data")}


def hrefs_of(base, coll):
    r = subprocess.run(["curl", "-s", "-u", "test:test", "-X", "REPORT", "-H", "Depth: 1", "-H", "Content-Type: application/xml",
                        "--data-binary", SYNC0, base + coll], capture_output=True, check=True).stdout.decode()
    hs = re.findall(r"<(?:\w+:)?href>([^<]+)</", r)
    return [h for h in hs if h.rstrip("/") != coll.rstrip("/")]


def floor(base, log, start, end, out, batch=500, reps=3):
    batch0 = int(batch)
    """Time (curl, one request at a time, median of `reps`) the requests Holdfast needed in one initial
    sync, as logged by Radicale: the full sync-collection REPORT of each collection, multigets of all
    its hrefs in the batch size Holdfast used (from its REPORT count; `batch` if none), and every other
    logged request (PROPFIND discovery) at Radicale's logged time. Sum = Radicale's serial floor."""
    reqs = parse(segment(log, int(start), int(end)))
    tags = {"/test/contacts/": "VADDRESSBOOK", "/test/events/": "VCALENDAR", "/test/tasks/": "VCALENDAR"}
    rows, total = [], 0.0
    for coll, tag in tags.items():
        ts = sorted(curl(base, "REPORT", coll, 1, SYNC0)[0] for _ in range(reps))
        t = ts[len(ts) // 2]
        rows.append((f"sync-collection, empty token, {coll}", 1, t))
        total += t
        hs = hrefs_of(base, coll)
        elem, ns, dprop = NS[tag]
        # the batch Holdfast actually used: its REPORTs on this collection, less the sync-collection
        n_mg = sum(1 for r in reqs if r[0] == "REPORT" and r[1] == coll) - 1
        batch = -(-len(hs) // n_mg) if n_mg > 0 else batch0
        mt = 0.0
        nb = 0
        for i in range(0, len(hs), batch):
            body = (f'<?xml version="1.0" encoding="utf-8"?><C:{elem} xmlns="DAV:" xmlns:C="{ns}"><prop><getetag/><C:{dprop}/></prop>'
                    + "".join(f"<href>{h}</href>" for h in hs[i:i + batch]) + f"</C:{elem}>")
            ts = sorted(curl(base, "REPORT", coll, 1, body)[0] for _ in range(reps))
            mt += ts[len(ts) // 2]
            nb += 1
        rows.append((f"{elem} {batch} hrefs/request, {len(hs)} hrefs, {coll}", nb, mt))
        total += mt
    # other requests Holdfast sent (discovery PROPFINDs): their props are not in the log, so they
    # count at Radicale's own logged time for them in the probe sync
    others = [r for r in reqs if r[0] != "REPORT"]
    n_report = len(reqs) - len(others)
    ot = sum(r[3] or 0.0 for r in others)
    rows.append((f"other requests Holdfast sent ({', '.join(sorted({r[0] for r in others})) or 'none'}), Radicale's logged time in the probe sync", len(others), ot))
    total += ot
    res = {"rows": rows, "floor_s": total, "holdfast_reports": n_report,
           "floor_reports": sum(r[1] for r in rows if "REPORT" in r[0] or "multiget" in r[0] or "sync-collection" in r[0])}
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps(res))


def report(jsonl, extra_path):
    recs = [json.loads(l) for l in open(jsonl)]
    extra = json.load(open(extra_path))
    vds = {"initial": 6.000, "noop": 1.676, "changed": 1.769}
    lines = ["| operation | median s | min–max s | peak RSS MiB | HTTP requests / run (by method) | Radicale server s / run | rc | vs vdirsyncer (same run) | vs recorded vdirsyncer | goal |",
             "|---|---:|---:|---:|---|---:|---|---:|---:|---|"]
    med = {r["name"]: r for r in recs}
    for r in recs:
        runs = r["runs"]
        reqs = sorted({x["requests"] for x in runs if x["requests"] is not None})
        meth = runs[-1]["methods"]
        req = "–" if not reqs else ("/".join(map(str, reqs)) + " (" + ", ".join(f"{k} {v}" for k, v in sorted(meth.items())) + ")")
        rcs = "/".join(sorted({str(x["rc"]) for x in runs}))
        key = r.get("key") or extra.get("keys", {}).get(r["name"])
        st = extra.get("server", {}).get(r["name"])
        srv = "–" if not st else f"{sum(v['server_s'] for v in st.values()):.3f}"
        same = rec = goal = "–"
        if key and key in extra.get("pairs", {}):
            peer = med.get(extra["pairs"][key])
            g = {"initial": 3, "noop": 5, "changed": 5}[key]
            if peer:
                x = peer["median"] / r["median"]
                same = f"{x:.1f}×"
            y = vds[key] / r["median"]
            rec = f"{y:.1f}×"
            ok = (peer["median"] / r["median"] if peer else y) >= g
            goal = f"≥ {g}×: {'met' if ok else 'MISSED'}"
        lines.append(f"| {r['name']} | {r['median']:.3f} | {r['min']:.3f}–{r['max']:.3f} | {r['rss_kb_max'] / 1024:.0f} "
                     f"| {req} | {srv} | {rcs} | {same} | {rec} | {goal} |")
    print("\n".join(lines))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "load":
        load(*args)
    elif cmd == "compare":
        sys.exit(compare(*args))
    elif cmd == "logstats":
        logstats(args[0], args[1], args[2], int(args[3]) if len(args) > 3 else 1)
    elif cmd == "floor":
        floor(*args)
    elif cmd == "report":
        report(*args)
    else:
        raise SystemExit(__doc__)
