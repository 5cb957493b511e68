#!/usr/bin/env bash
# Verifies the monitoring artifacts (artifacts/monitoring, docs/monitoring.md)
# with a real promtool, built from the Go module proxy by
# hack/install-promtool.sh (cold ~5 min on 2 cores, then cached):
#  1. `promtool check rules` of arl-rules.yaml (lint problems are fatal);
#  2. `promtool test rules` of tests/arl-rules-test.yaml;
#  3. arl-prometheusrule.yaml's spec equals arl-rules.yaml (`--update`
#     rewrites it from arl-rules.yaml); every alert has a severity, a summary,
#     a description, a runbook_url into docs/operations.md whose section
#     exists, a section in docs/monitoring.md, and at least one test where it
#     fires and one where it does not;
#  4. every `arl_*` metric name in the rules, their tests, the dashboard and
#     docs/monitoring.md is one ARL serves (a PromQL expression must name a
#     series: a histogram's _bucket, _sum or _count);
#  5. the dashboard's structure (schemaVersion >= 36, the ${datasource},
#     namespace and pool variables, every panel on ${datasource}) and every
#     PromQL expression in it, its variables' queries included: their
#     variables are replaced by concrete values and `promtool check rules`
#     checks them as recording rules.
# Python 3 with PyYAML (Debian's python3-yaml) does the structural checks.
# It writes nothing but a temporary directory, removed on exit (and with
# --update, arl-prometheusrule.yaml).
#
# Usage: hack/verify-monitoring.sh [--update]
set -o errexit -o nounset -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${ARL_ROOT}"

mode=check
case "${1:-}" in
  "") ;;
  --update) mode=update ;;
  *) arl::die "usage: hack/verify-monitoring.sh [--update]" ;;
esac

mon=artifacts/monitoring
for f in "${mon}/arl-rules.yaml" "${mon}/arl-prometheusrule.yaml" "${mon}/tests/arl-rules-test.yaml" \
         "${mon}/arl-dashboard.json" docs/monitoring.md docs/operations.md; do
  [ -f "${f}" ] || [ "${mode}/${f}" = "update/${mon}/arl-prometheusrule.yaml" ] || arl::die "missing ${f}"
done

/usr/bin/python3 -c 'import yaml' 2>/dev/null || arl::apt_ensure python3 python3-yaml

tmp="$(mktemp -d "${TMPDIR:-/tmp}/arl-verify-monitoring.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT

failed=()
# check NAME CMD...: runs CMD, shows its output only when it fails.
check() {
  local name="$1"; shift
  if "$@" >"${tmp}/out" 2>&1; then
    arl::log "ok: ${name}"
  else
    cat "${tmp}/out" >&2
    arl::log "FAILED: ${name}"
    failed+=("${name}")
  fi
}

# The structural checks; also updates the PrometheusRule (--update) and
# writes the dashboard's expressions as a rules file for promtool.
structure() {
  /usr/bin/python3 - "$1" "${mon}" "${tmp}/dashboard-rules.yaml" <<'PY'
import json, re, sys
import yaml

mode, mon, dash_rules_out = sys.argv[1:4]
rules_path = f"{mon}/arl-rules.yaml"
prule_path = f"{mon}/arl-prometheusrule.yaml"
tests_path = f"{mon}/tests/arl-rules-test.yaml"
dash_path = f"{mon}/arl-dashboard.json"
errors = []
def err(msg):
    errors.append(msg)

# The metrics ARL serves, as docs/metrics.md's tables list them (a row
# per metric: | `name` | type | ...); nothing else named arl_* exists.
HISTOGRAMS, SERIES = set(), set()
for line in open(f"{mon}/../../docs/metrics.md"):
    row = re.match(r"\| `(arl_[a-z0-9_]+)` \| (histogram|gauge|counter) \|", line)
    if row:
        (HISTOGRAMS if row.group(2) == "histogram" else SERIES).add(row.group(1))
if not HISTOGRAMS or not SERIES:
    sys.exit("docs/metrics.md lists no metrics: its tables' format changed?")
SERIES |= {h + s for h in HISTOGRAMS for s in ("_bucket", "_sum", "_count")}
TOKEN = re.compile(r"(?<![A-Za-z0-9_])arl_[A-Za-z0-9_]*")

def check_names(text, where, promql):
    """promql: the text is an expression, whose arl_ names must be series
    (a recording rule's name, after a colon, may name a histogram); else
    prose, which may name a histogram or the prefix itself."""
    for m in TOKEN.finditer(text):
        name, colon = m.group(0), text[m.start() - 1:m.start()] == ":"
        if name in SERIES or ((colon or not promql) and name in HISTOGRAMS) or (not promql and name == "arl_"):
            continue
        err(f"{where}: {name!r} is not a metric ARL serves")

rules_text = open(rules_path).read()
rules = yaml.safe_load(rules_text)

# --- PrometheusRule: generated from the rules file, or checked against it.
if mode == "update":
    lines = rules_text.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("groups:"))
    body = "\n".join(("  " + l) if l.strip() else "" for l in lines[start:])
    with open(prule_path, "w") as f:
        f.write(
            "# GENERATED from arl-rules.yaml by `hack/verify-monitoring.sh --update`: edit that\n"
            "# file, then run it; hack/verify-monitoring.sh fails when the two differ.\n"
            "# ARL's recording and alerting rules for the Prometheus Operator\n"
            "# (docs/monitoring.md): kubectl apply -f artifacts/monitoring/arl-prometheusrule.yaml\n"
            "# Your Prometheus must select it: its ruleNamespaceSelector must take\n"
            "# arl-system and its ruleSelector these labels (add the one it needs,\n"
            "# e.g. release: <your kube-prometheus-stack release>).\n"
            "apiVersion: monitoring.coreos.com/v1\n"
            "kind: PrometheusRule\n"
            "metadata:\n"
            "  name: arl\n"
            "  namespace: arl-system\n"
            "  labels:\n"
            "    app.kubernetes.io/name: arl\n"
            "    app.kubernetes.io/part-of: arl\n"
            "    app.kubernetes.io/component: monitoring\n"
            "spec:\n" + body + "\n")
    print(f"wrote {prule_path} from {rules_path}")
    sys.exit(0)
prule = yaml.safe_load(open(prule_path))
if not isinstance(prule, dict):
    err(f"{prule_path}: not a YAML object")
    prule = {}
if prule.get("apiVersion") != "monitoring.coreos.com/v1" or prule.get("kind") != "PrometheusRule":
    err(f"{prule_path}: not a monitoring.coreos.com/v1 PrometheusRule")
if (prule.get("metadata") or {}).get("namespace") != "arl-system":
    err(f"{prule_path}: metadata.namespace is not arl-system")
if prule.get("spec") != rules:
    where = "its spec"
    for i, (a, b) in enumerate(zip((prule.get("spec") or {}).get("groups") or [], rules.get("groups") or [])):
        if a != b:
            where = f"group {i} ({b.get('name')})"
            break
    err(f"{prule_path}: {where} differs from {rules_path}: run hack/verify-monitoring.sh --update")

# --- Every alert: labels, annotations, runbook, docs, tests.
def slug(heading):
    h = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return h.replace(" ", "-")
def anchors(path):
    return {slug(l.lstrip("#")) for l in open(path) if l.startswith("#")}
ops_anchors = anchors("docs/operations.md")
mon_doc = open("docs/monitoring.md").read()
mon_headings = [l for l in mon_doc.splitlines() if l.startswith("#")]

tests = yaml.safe_load(open(tests_path))
fires, quiet = set(), set()
for group in tests.get("tests") or []:
    for t in group.get("alert_rule_test") or []:
        (fires if t.get("exp_alerts") else quiet).add(t.get("alertname"))

alerts = []
for g in rules.get("groups") or []:
    for r in g.get("rules") or []:
        where = f"{rules_path}: group {g.get('name')}, " + (f"alert {r['alert']}" if "alert" in r else f"record {r.get('record')}")
        check_names(str(r.get("expr", "")), where + ", expr", promql=True)
        if "record" in r:
            check_names(r["record"], where, promql=True)
        if "alert" not in r:
            continue
        name = r["alert"]
        alerts.append(name)
        if not (r.get("labels") or {}).get("severity") in ("critical", "warning", "info"):
            err(f"{where}: no severity label (critical, warning or info)")
        ann = r.get("annotations") or {}
        for a in ("summary", "description"):
            if not str(ann.get(a, "")).strip():
                err(f"{where}: no {a} annotation")
        rb = str(ann.get("runbook_url", ""))
        if not rb.startswith("docs/operations.md"):
            err(f"{where}: runbook_url {rb!r} does not point into docs/operations.md")
        elif "#" in rb and rb.split("#", 1)[1] not in ops_anchors:
            err(f"{where}: runbook_url {rb!r}: docs/operations.md has no such section")
        if not any(name in h for h in mon_headings):
            err(f"{where}: docs/monitoring.md has no section for it")
        if name not in fires:
            err(f"{where}: no test in {tests_path} where it fires")
        if name not in quiet:
            err(f"{where}: no test in {tests_path} where it does not fire")
if len(set(alerts)) != len(alerts):
    err(f"{rules_path}: an alert name is used twice")
for name in (fires | quiet) - set(alerts):
    err(f"{tests_path}: tests alert {name!r}, which {rules_path} does not have")

for path in (rules_path, prule_path, tests_path, dash_path, "docs/monitoring.md"):
    check_names(open(path).read(), path, promql=False)

# --- Dashboard: structure, and its expressions as recording rules.
dash = json.load(open(dash_path))
if not isinstance(dash.get("schemaVersion"), int) or dash["schemaVersion"] < 36:
    err(f"{dash_path}: schemaVersion {dash.get('schemaVersion')!r} < 36")
variables = (dash.get("templating") or {}).get("list") or []
byname = {v.get("name"): v for v in variables}
ds = byname.get("datasource") or {}
if ds.get("type") != "datasource" or ds.get("query") != "prometheus":
    err(f"{dash_path}: no Prometheus data source variable named datasource")
def var_query(v):
    q = v.get("query")
    return q.get("query", "") if isinstance(q, dict) else (q or "")
for name in ("namespace", "pool"):
    v = byname.get(name) or {}
    if v.get("type") != "query" or not var_query(v).startswith("label_values(") or not var_query(v).rstrip().endswith(f", {name})"):
        err(f"{dash_path}: no {name} variable from label_values(..., {name})")

# Concrete values for the variables: Grafana's own, then the dashboard's.
values = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h", "__interval_ms": "60000",
          "__range_s": "3600", "__range_ms": "3600000", "__dashboard": "ARL", "__org": "1", "__user": "admin"}
samples = {"datasource": "prometheus", "namespace": "team-a", "pool": "python"}
for v in variables:
    n = v.get("name")
    values[n] = samples.get(n, "5m" if v.get("type") == "interval" else "x")
VAR = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)")
def substitute(expr, where):
    def one(m):
        n = m.group(1) or m.group(2) or m.group(3)
        if n not in values:
            err(f"{where}: unknown variable ${n}")
            return "x"
        return values[n]
    return VAR.sub(one, expr)

exprs = []  # (record name, expression, where)
for v in variables:
    q = var_query(v)
    where = f"{dash_path}: variable {v.get('name')}"
    m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\)\s*", q) or re.fullmatch(r"\s*query_result\((.*)\)\s*", q)
    if v.get("type") == "query" and m:
        check_names(m.group(1), where, promql=True)
        exprs.append((f"dashboard:variable_{v.get('name')}", substitute(m.group(1), where), where))
    if v.get("type") == "query" and (v.get("datasource") or {}).get("uid") != "${datasource}":
        err(f"{where}: its datasource is not ${{datasource}}")

def all_panels(panels):
    for p in panels or []:
        yield p
        yield from all_panels(p.get("panels"))
ids = set()
for p in all_panels(dash.get("panels")):
    pid, title = p.get("id"), p.get("title", "")
    where = f"{dash_path}: panel {pid} ({title!r})"
    if pid in ids:
        err(f"{where}: id used twice")
    ids.add(pid)
    if p.get("type") in ("row", "text"):
        continue
    if (p.get("datasource") or {}).get("uid") != "${datasource}":
        err(f"{where}: its datasource is not ${{datasource}}")
    targets = p.get("targets") or []
    if not targets:
        err(f"{where}: no targets")
    for t in targets:
        ref = t.get("refId", "")
        tw = f"{where}, target {ref}"
        expr = (t.get("expr") or "").strip()
        if not expr:
            err(f"{tw}: no expr")
            continue
        if (t.get("datasource") or {}).get("uid") not in (None, "${datasource}"):
            err(f"{tw}: its datasource is not ${{datasource}}")
        check_names(expr, tw, promql=True)
        exprs.append((f"dashboard:panel_{pid}_{ref}", substitute(expr, tw), tw))
if not exprs:
    err(f"{dash_path}: no expressions")

with open(dash_rules_out, "w") as f:
    yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [{"record": r, "expr": e} for r, e, _ in exprs]}]},
                   f, sort_keys=False, width=1000)
with open(dash_rules_out + ".map", "w") as f:
    for r, e, w in exprs:
        f.write(f"{r}: {w}\n    {e}\n")

for e in errors:
    print("  " + e, file=sys.stderr)
print(f"{len(alerts)} alerts, {len(exprs)} dashboard expressions; {len(errors)} problem(s)")
sys.exit(1 if errors else 0)
PY
}

# --update: rewrite the PrometheusRule from the rules file first (no build
# needed for that), then verify everything as usual.
if [ "${mode}" = update ]; then
  structure update >&2 || arl::die "could not write ${mon}/arl-prometheusrule.yaml"
fi

promtool="$(arl::timed "install promtool" "${ARL_ROOT}/hack/install-promtool.sh")" ||
  arl::die "could not build promtool (hack/install-promtool.sh)"
arl::log "using $("${promtool}" --version 2>&1 | head -n1) (${promtool})"

check "structure: PrometheusRule = rules file, alerts, metric names, dashboard" structure check
check "promtool check rules ${mon}/arl-rules.yaml" "${promtool}" check rules --lint=all --lint-fatal "${mon}/arl-rules.yaml"
check "promtool test rules ${mon}/tests/arl-rules-test.yaml" "${promtool}" test rules "${mon}/tests/arl-rules-test.yaml"
if [ -s "${tmp}/dashboard-rules.yaml" ]; then
  dashboard_exprs() {
    "${promtool}" check rules --lint=none "${tmp}/dashboard-rules.yaml" ||
      { echo "(which expression is which panel's:)"; cat "${tmp}/dashboard-rules.yaml.map"; return 1; }
  }
  check "promtool check rules on every PromQL expression of ${mon}/arl-dashboard.json" dashboard_exprs
else
  arl::log "FAILED: no expressions extracted from ${mon}/arl-dashboard.json"
  failed+=("dashboard expressions")
fi

if [ "${#failed[@]}" -gt 0 ]; then
  arl::die "verify-monitoring: ${#failed[@]} check(s) failed: $(printf '[%s] ' "${failed[@]}")"
fi
arl::log "verify-monitoring: all checks passed"
