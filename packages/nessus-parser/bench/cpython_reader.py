"""The CPython baseline for the parser benchmark: xml.etree.ElementTree.iterparse (expat, in C)
doing the same extraction as nessus-parser: host properties, one normalised dict per
ReportItem (typed numbers, booleans, ISO dates, repeated children as lists, compliance object,
derived cvss_score, stable finding id), clearing elements as it goes so memory stays flat.

    python3 bench/cpython_reader.py FILE            prints a summary as JSON
    python3 bench/cpython_reader.py --emit FILE     also prints each finding's key fields (tests)
"""

import hashlib
import json
import resource
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

CM = "{http://www.nessus.org/cm}"
ARRAYS = {"cve", "bid", "xref", "see_also", "cwe", "cpe", "iava", "iavb", "iavt", "msft", "mskb",
          "osvdb", "cert", "edb-id", "secunia", "owasp", "tra", "attachment"}
NUMBERS = {"cvss_base_score", "cvss_temporal_score", "cvss3_base_score", "cvss3_temporal_score",
           "cvss4_base_score", "cvss4_threat_score", "vpr_score", "epss_score"}
BOOLEANS = {"exploit_available", "exploited_by_malware", "exploited_by_nessus", "in_the_news",
            "unsupported_by_vendor"}
DATES = {"plugin_publication_date", "plugin_modification_date", "patch_publication_date",
         "vuln_publication_date", "cisa-known-exploited"}
RISK = {"none": "None", "info": "None", "low": "Low", "medium": "Medium", "high": "High", "critical": "Critical"}


def to_number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def to_bool(text):
    value = (text or "").strip().lower()
    return True if value in ("true", "yes", "1") else False if value in ("false", "no", "0") else None


def to_date(text):
    value = (text or "").strip()
    if len(value) == 10 and value[4] in "/-":
        return value.replace("/", "-")
    try:
        return datetime.fromisoformat(value).astimezone(timezone.utc).isoformat()
    except ValueError:
        return None


def to_timestamp(text):
    try:
        return datetime.strptime(text.strip(), "%a %b %d %H:%M:%S %Y").replace(tzinfo=timezone.utc).isoformat()
    except (AttributeError, ValueError):
        return None


def finding_of(item, host):
    a = item.attrib
    finding = {
        "host": host["name"], "host_ip": host["host_ip"], "host_fqdn": host["host_fqdn"],
        "port": int(a.get("port", 0)), "protocol": a.get("protocol", "").lower(),
        "svc_name": a.get("svc_name", ""), "plugin_id": int(a.get("pluginID", 0)),
        "plugin_name": a.get("pluginName", ""), "plugin_family": a.get("pluginFamily", ""),
        "severity": int(a.get("severity", 0)), "cve": [],
    }
    compliance = None
    for child in item:
        tag, text = child.tag, child.text or ""
        if tag.startswith(CM):
            compliance = compliance or {}
            compliance[tag[len(CM):].replace("compliance-", "").replace("-", "_")] = text
            continue
        if tag == "cvss":
            tag = "cvss_base_score"
        elif tag == "cvssv3":
            tag = "cvss3_base_score"
        if tag in ARRAYS:
            values = text.split("\n") if tag == "see_also" else [text]
            finding.setdefault(tag.replace("-", "_"), []).extend(v.strip() for v in values if v.strip())
        elif tag in NUMBERS:
            finding[tag] = to_number(text)
        elif tag in BOOLEANS or tag.startswith("exploit_framework_"):
            finding[tag] = to_bool(text)
        elif tag in DATES:
            finding[tag.replace("-", "_")] = to_date(text)
        elif tag == "risk_factor":
            finding[tag] = RISK.get(text.strip().lower(), text)
        else:
            finding[tag.replace("-", "_")] = text
    finding["compliance"] = compliance
    for version, field in (("4", "cvss4_base_score"), ("3", "cvss3_base_score"), ("2", "cvss_base_score")):
        if finding.get(field) is not None:
            finding["cvss_score"], finding["cvss_version"] = finding[field], version
            break
    key = "\0".join(str(v) for v in (finding["host"], 0, finding["port"], finding["protocol"],
                                      finding["plugin_id"], (compliance or {}).get("check_id", "")))
    finding["finding_id"] = hashlib.sha256(key.encode()).hexdigest()[:24]
    return finding


def host_of(name, props):
    return {"name": name, "properties": props, "host_ip": props.get("host-ip"),
            "host_fqdn": props.get("host-fqdn"), "host_start": to_timestamp(props.get("HOST_START")),
            "host_end": to_timestamp(props.get("HOST_END"))}


def main(argv):
    emit = "--emit" in argv
    path = [a for a in argv if a != "--emit"][0]
    hosts = findings = 0
    by_severity = {str(s): 0 for s in range(5)}
    host_name, host = "", None
    out = sys.stdout
    for event, element in ET.iterparse(path, events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag == "ReportHost":
                host_name, host = element.get("name", ""), None
            continue
        if tag == "ReportItem":
            if host is None:
                host = host_of(host_name, {})
            finding = finding_of(element, host)
            findings += 1
            severity = str(finding["severity"])
            if severity in by_severity:
                by_severity[severity] += 1
            if emit:
                out.write(json.dumps({k: finding.get(k) for k in ("host", "port", "protocol", "plugin_id", "severity", "cve")}) + "\n")
            element.clear()
        elif tag == "HostProperties":
            host = host_of(host_name, {t.get("name"): t.text or "" for t in element})
            element.clear()
        elif tag in ("ReportHost", "Policy"):
            hosts += tag == "ReportHost"
            element.clear()
    summary = {"hosts": hosts, "findings": findings, "by_severity": by_severity,
               "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    out.write(json.dumps(summary) + "\n")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except ET.ParseError as error:
        sys.stderr.write(f"cpython_reader: {error}\n")
        sys.exit(1)
