#!/usr/bin/env python3
"""Checks every AWS request dr made against the botocore service models (the reference, not the
emulator), and every HTTP request dr's libcurl transport sent against the rule that tests never
leave the machine.

  check-aws-requests.py FILE.jsonl [FILE.jsonl ...] [--quiet]

FILE is what `DR_AWS_REQUEST_LOG=FILE` records (Sources/DRAWS/Core/AWSRequestRecorder.swift):
one JSON line per request, `"kind": "aws"` (service, wire protocol, operation, method, URL,
Content-Type, X-Amz-Target, body) or `"kind": "http"` (method, URL).

For an AWS request, per the model of its service and API version (botocore's
data/<service>/<version>/service-2.json[.gz]):
  - the operation exists; the protocol's envelope is right (Query: POST, form body, Action and
    Version; JSON: POST, Content-Type application/x-amz-json-<version>, X-Amz-Target
    <prefix>.<operation>; REST-XML: the operation's method and request URI);
  - every parameter is a member of the input shape, serialized as the protocol serializes it
    (Query: `Name`, `List.<member>.N`, `Map.entry.N.key`, locationName; REST-XML: URI labels,
    query-string members, the body's root element, namespace and nesting; JSON: member names);
  - required members are present; values have the member's type (string, integer, long,
    boolean, timestamp, double, blob) and keep to its enum, min/max length or range and pattern;
  - a Query request's `PreSignedUrl` is itself a request of the same operation.
For an HTTP request: it goes to 127.0.0.1 (or localhost / ::1).

Prints one line per violation and a summary; exits 1 when there is any violation (or a line that
does not parse), 0 otherwise.
"""
import base64
import datetime
import gzip
import json
import os
import re
import sys
import urllib.parse
import xml.etree.ElementTree as ET

try:
    import regex  # the models' patterns use \p{...} classes, which `re` lacks
except ImportError:
    sys.exit("check-aws-requests: the python module `regex` is missing (scripts/setup.sh installs it)")

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
PRESIGN_EXTRAS = {"DestinationRegion", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                  "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token"}


def botocore_data():
    import botocore
    return os.path.join(os.path.dirname(botocore.__file__), "data")


class Models:
    def __init__(self):
        self.data = botocore_data()
        self.cache = {}

    def get(self, service_id, api_version):
        key = (service_id, api_version)
        if key not in self.cache:
            name = service_id.lower().replace(" ", "")
            folder = os.path.join(self.data, name, api_version)
            model = None
            for file in ("service-2.json", "service-2.json.gz"):
                path = os.path.join(folder, file)
                if os.path.exists(path):
                    opener = gzip.open if path.endswith(".gz") else open
                    with opener(path, "rt", encoding="utf-8") as f:
                        model = json.load(f)
                    break
            if model is not None and model["metadata"].get("serviceId") != service_id:
                model = None
            self.cache[key] = model
        return self.cache[key]


class Checker:
    def __init__(self, model, where):
        self.model = model
        self.shapes = model["shapes"]
        self.where = where
        self.problems = []
        # EC2's own Query dialect: members by queryName (else the locationName capitalised),
        # every list flattened as Name.N.
        self.ec2 = model["metadata"]["protocol"] == "ec2"

    def fail(self, path, message):
        self.problems.append(f"{path}: {message}" if path else message)

    # --- scalar values -------------------------------------------------------------------

    def check_scalar(self, shape_name, value, path, protocol):
        """`value` is a string (Query, REST-XML) or a JSON value (JSON protocol)."""
        shape = self.shapes[shape_name]
        kind = shape["type"]
        if kind == "string":
            if not isinstance(value, str):
                return self.fail(path, f"expected a string, got {json.dumps(value)}")
            if "enum" in shape and value not in shape["enum"]:
                return self.fail(path, f"'{value}' is not one of {shape_name}'s values {shape['enum']}")
            self.check_length(shape, len(value), path, "characters")
            if "pattern" in shape and not self.matches(shape["pattern"], value):
                self.fail(path, f"'{value}' does not match {shape_name}'s pattern {shape['pattern']}")
        elif kind in ("integer", "long"):
            number = value
            if protocol != "json":
                if not re.fullmatch(r"-?[0-9]+", value or ""):
                    return self.fail(path, f"'{value}' is not a whole number ({kind})")
                number = int(value)
            elif isinstance(value, bool) or not isinstance(value, int):
                return self.fail(path, f"expected a whole number ({kind}), got {json.dumps(value)}")
            self.check_range(shape, number, path)
        elif kind in ("double", "float"):
            if protocol != "json":
                try:
                    float(value)
                except ValueError:
                    return self.fail(path, f"'{value}' is not a number ({kind})")
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                return self.fail(path, f"expected a number ({kind}), got {json.dumps(value)}")
        elif kind == "boolean":
            if protocol == "json":
                if not isinstance(value, bool):
                    self.fail(path, f"expected true or false, got {json.dumps(value)}")
            elif value not in ("true", "false"):
                self.fail(path, f"'{value}' is not true or false")
        elif kind == "timestamp":
            fmt = shape.get("timestampFormat") or ("unixTimestamp" if protocol == "json" else "iso8601")
            if fmt == "unixTimestamp":
                ok = (isinstance(value, (int, float)) and not isinstance(value, bool)) if protocol == "json" \
                    else bool(re.fullmatch(r"[0-9]+(\.[0-9]+)?", value or ""))
            else:
                ok = isinstance(value, str) and iso8601(value)
            if not ok:
                self.fail(path, f"{json.dumps(value)} is not a {fmt} timestamp")
        elif kind == "blob":
            try:
                base64.b64decode(value, validate=True)
            except Exception:
                self.fail(path, "is not base64")
        else:
            self.fail(path, f"a {kind} ({shape_name}) given as a single value")

    def check_length(self, shape, length, path, unit):
        if "min" in shape and length < shape["min"]:
            self.fail(path, f"{length} {unit}, fewer than the minimum {shape['min']}")
        if "max" in shape and length > shape["max"]:
            self.fail(path, f"{length} {unit}, more than the maximum {shape['max']}")

    def check_range(self, shape, number, path):
        if "min" in shape and number < shape["min"]:
            self.fail(path, f"{number} is below the minimum {shape['min']}")
        if "max" in shape and number > shape["max"]:
            self.fail(path, f"{number} is above the maximum {shape['max']}")

    @staticmethod
    def matches(pattern, value):
        # The services match the whole value (an implicit anchor), with Java's ASCII \w.
        return regex.fullmatch(pattern, value, flags=regex.ASCII) is not None

    def required(self, shape_name, present, path):
        for name in self.shapes[shape_name].get("required", []):
            if name not in present:
                self.fail(path, f"required member {name} is missing")

    # --- Query ---------------------------------------------------------------------------

    def check_query_params(self, shape_name, params, path, allowed_extra=()):
        """`params`: {relative key: value}, '' for the node's own value."""
        shape = self.shapes[shape_name]
        kind = shape["type"]
        if kind == "structure":
            names = {}
            for member, ref in shape.get("members", {}).items():
                target = self.shapes[ref["shape"]]
                serialized = ref.get("locationName", member)
                if self.ec2:
                    location = ref.get("locationName")
                    serialized = ref.get("queryName") or (location[:1].upper() + location[1:] if location else member)
                elif target.get("flattened") and target["type"] == "list" and target["member"].get("locationName"):
                    serialized = target["member"]["locationName"]
                names[serialized] = member
            groups = {}
            for key, value in params.items():
                if key == "":
                    self.fail(path, f"a structure ({shape_name}) given as the single value '{value}'")
                    continue
                head, _, rest = key.partition(".")
                if head not in names:
                    if path == "" and head in allowed_extra:
                        continue
                    self.fail(join(path, head), f"not a member of {shape_name}")
                    continue
                groups.setdefault(head, {})[rest] = value
            for serialized, sub in groups.items():
                member = names[serialized]
                self.check_query_params(shape["members"][member]["shape"], sub, join(path, serialized))
            self.required(shape_name, {names[k] for k in groups}, path or shape_name)
        elif kind == "list":
            if params == {"": ""}:
                self.check_length(shape, 0, path, "items")
                return
            member_name = shape["member"].get("locationName", "member")
            indices = {}
            for key, value in params.items():
                flat = shape.get("flattened") or self.ec2
                parts = key.split(".", 2) if not flat else [member_name] + key.split(".", 1)
                if len(parts) < 2 or parts[0] != member_name or not parts[1].isdigit():
                    self.fail(join(path, key), f"a list ({shape_name}) is serialized as {path}.N" if flat else f"a list ({shape_name}) is serialized as {path}.{member_name}.N")
                    continue
                indices.setdefault(int(parts[1]), {})[parts[2] if len(parts) > 2 else ""] = value
            if indices and sorted(indices) != list(range(1, len(indices) + 1)):
                self.fail(path, f"list indices {sorted(indices)} are not 1..{len(indices)}")
            self.check_length(shape, len(indices), path, "items")
            for i, sub in sorted(indices.items()):
                self.check_query_params(shape["member"]["shape"], sub, f"{path}.{i}" if flat else f"{path}.{member_name}.{i}")
        elif kind == "map":
            key_name = shape["key"].get("locationName", "key")
            value_name = shape["value"].get("locationName", "value")
            entries = {}
            for key, value in params.items():
                parts = key.split(".", 3) if not shape.get("flattened") else ["entry"] + key.split(".", 2)
                if len(parts) < 3 or parts[0] != "entry" or not parts[1].isdigit() or parts[2] not in (key_name, value_name):
                    self.fail(join(path, key), f"a map ({shape_name}) is serialized as {path}.entry.N.{key_name}/{value_name}")
                    continue
                entries.setdefault(int(parts[1]), {}).setdefault(parts[2], {})[parts[3] if len(parts) > 3 else ""] = value
            for i, entry in sorted(entries.items()):
                for part, ref in ((key_name, shape["key"]), (value_name, shape["value"])):
                    if part not in entry:
                        self.fail(f"{path}.entry.{i}", f"has no {part}")
                    else:
                        self.check_query_params(ref["shape"], entry[part], f"{path}.entry.{i}.{part}")
        else:
            if list(params.keys()) != [""]:
                self.fail(path, f"a {kind} ({shape_name}) given as nested parameters {sorted(params)}")
                return
            self.check_scalar(shape_name, params[""], path, "query")

    def check_query(self, record, operation):
        op = self.model["operations"][operation]
        if record["method"] != "POST":
            self.fail("", f"Query requests are POSTs, not {record['method']}")
        if not (record.get("content_type") or "").startswith("application/x-www-form-urlencoded"):
            self.fail("", f"Content-Type {record.get('content_type')} is not application/x-www-form-urlencoded")
        pairs = urllib.parse.parse_qsl(record["body"], keep_blank_values=True)
        self.check_query_pairs(pairs, operation, op)

    def check_query_pairs(self, pairs, operation, op, allowed_extra=(), where=""):
        params = {}
        for key, value in pairs:
            if key in params:
                self.fail(where + key, "given twice")
            params[key] = value
        if params.pop("Action", None) != operation:
            self.fail(where, f"Action is not {operation}")
        version = params.pop("Version", None)
        if version != self.model["metadata"]["apiVersion"]:
            self.fail(where, f"Version {version} is not {self.model['metadata']['apiVersion']}")
        if "input" not in op:
            for key in params:
                self.fail(where + key, f"{operation} takes no parameters")
            return
        shape_name = op["input"]["shape"]
        checker = Checker(self.model, self.where)
        checker.check_query_params(shape_name, {k: v for k, v in params.items()}, "", allowed_extra)
        self.problems += [where + p for p in checker.problems]
        presigned = params.get("PreSignedUrl")
        if presigned and not allowed_extra:
            url = urllib.parse.urlparse(presigned)
            inner = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
            self.check_query_pairs(inner, operation, op, allowed_extra=PRESIGN_EXTRAS, where="PreSignedUrl: ")

    # --- JSON ----------------------------------------------------------------------------

    def check_json_value(self, shape_name, value, path):
        shape = self.shapes[shape_name]
        kind = shape["type"]
        if kind == "structure":
            if not isinstance(value, dict):
                return self.fail(path, f"expected an object ({shape_name}), got {json.dumps(value)[:60]}")
            members = shape.get("members", {})
            for key, item in value.items():
                if key not in members:
                    self.fail(join(path, key), f"not a member of {shape_name}")
                elif item is not None:
                    self.check_json_value(members[key]["shape"], item, join(path, key))
            self.required(shape_name, {k for k, v in value.items() if v is not None}, path or shape_name)
        elif kind == "list":
            if not isinstance(value, list):
                return self.fail(path, f"expected an array ({shape_name})")
            self.check_length(shape, len(value), path, "items")
            for i, item in enumerate(value):
                self.check_json_value(shape["member"]["shape"], item, f"{path}[{i}]")
        elif kind == "map":
            if not isinstance(value, dict):
                return self.fail(path, f"expected an object ({shape_name})")
            self.check_length(shape, len(value), path, "entries")
            for key, item in value.items():
                self.check_scalar(shape["key"]["shape"], key, f"{path} key", "json")
                self.check_json_value(shape["value"]["shape"], item, f"{path}.{key}")
        else:
            self.check_scalar(shape_name, value, path, "json")

    def check_json(self, record, operation):
        meta = self.model["metadata"]
        op = self.model["operations"][operation]
        if record["method"] != "POST":
            self.fail("", f"JSON requests are POSTs, not {record['method']}")
        wanted_type = f"application/x-amz-json-{meta.get('jsonVersion', '1.0')}"
        if record.get("content_type") != wanted_type:
            self.fail("", f"Content-Type {record.get('content_type')} is not {wanted_type}")
        if record.get("target") != f"{meta['targetPrefix']}.{operation}":
            self.fail("", f"X-Amz-Target {record.get('target')} is not {meta['targetPrefix']}.{operation}")
        try:
            body = json.loads(record["body"] or "{}")
        except ValueError:
            return self.fail("", "the body is not JSON")
        if "input" in op:
            self.check_json_value(op["input"]["shape"], body, "")
        elif body not in ({}, None):
            self.fail("", f"{operation} takes no input")

    # --- REST-XML ------------------------------------------------------------------------

    def check_xml_element(self, shape_name, element, path):
        shape = self.shapes[shape_name]
        kind = shape["type"]
        children = list(element)
        if kind == "structure":
            names = {ref.get("locationName", m): m for m, ref in shape.get("members", {}).items() if "location" not in ref}
            seen = set()
            for child in children:
                tag = local(child.tag)
                if tag not in names:
                    self.fail(join(path, tag), f"not a member of {shape_name}")
                    continue
                if tag in seen:
                    self.fail(join(path, tag), "given twice")
                seen.add(tag)
                self.check_xml_element(shape["members"][names[tag]]["shape"], child, join(path, tag))
            self.required(shape_name, {names[t] for t in seen}, path or shape_name)
        elif kind == "list":
            member_name = shape["member"].get("locationName", "member")
            for i, child in enumerate(children):
                if local(child.tag) != member_name:
                    self.fail(f"{path}[{i}]", f"list items of {shape_name} are <{member_name}>, not <{local(child.tag)}>")
                else:
                    self.check_xml_element(shape["member"]["shape"], child, f"{path}[{i}]")
            self.check_length(shape, len(children), path, "items")
        elif kind == "map":
            self.fail(path, "maps in REST-XML bodies are not checked")
        else:
            if children:
                return self.fail(path, f"a {kind} ({shape_name}) with child elements")
            self.check_scalar(shape_name, element.text or "", path, "rest-xml")

    def check_rest_xml(self, record, operation):
        op = self.model["operations"][operation]
        http = op["http"]
        url = urllib.parse.urlsplit(record["url"])
        if record["method"] != http["method"]:
            self.fail("", f"{operation} is a {http['method']}, not a {record['method']}")
        template_path, _, template_query = http["requestUri"].partition("?")
        shape_name = op.get("input", {}).get("shape")
        shape = self.shapes[shape_name] if shape_name else {"members": {}}
        members = shape.get("members", {})
        present = set()
        # The path: literal segments and {Label} / {Label+} members.
        labels = {}
        path_pattern = "^" + re.sub(r"\\\{(\w+)(\\\+)?\\\}", lambda m: f"(?P<{m.group(1)}>{'.+' if m.group(2) else '[^/]+'})",
                             re.escape(template_path)) + "$"
        match = re.match(path_pattern, url.path)
        if not match:
            self.fail("", f"the path {url.path} does not match {http['requestUri']}")
        else:
            labels = match.groupdict()
        for member, ref in members.items():
            location = ref.get("location")
            name = ref.get("locationName", member)
            if location == "uri" and name in labels:
                present.add(member)
                self.check_scalar(ref["shape"], urllib.parse.unquote(labels[name]), member, "rest-xml")
        # The query string.
        by_name = {ref.get("locationName", m): m for m, ref in members.items() if ref.get("location") == "querystring"}
        fixed = dict(urllib.parse.parse_qsl(template_query, keep_blank_values=True))
        for key, value in urllib.parse.parse_qsl(url.query, keep_blank_values=True):
            if key in fixed:
                continue
            if key not in by_name:
                self.fail(f"?{key}", f"not a query-string member of {shape_name or operation}")
                continue
            present.add(by_name[key])
            self.check_scalar(members[by_name[key]]["shape"], value, f"?{key}", "rest-xml")
        # The body.
        body_members = {m: ref for m, ref in members.items() if "location" not in ref}
        body = record["body"] or ""
        if shape.get("payload"):
            self.fail("", "payload members are not checked")
        elif body_members:
            try:
                root = ET.fromstring(body.encode("utf-8"))
            except ET.ParseError as e:
                self.fail("", f"the body is not XML ({e})")
                root = None
            if root is not None:
                wanted = op["input"].get("locationName", shape_name)
                namespace = op["input"].get("xmlNamespace", {}).get("uri")
                if local(root.tag) != wanted:
                    self.fail("", f"the body's root element is <{local(root.tag)}>, not <{wanted}>")
                if namespace and not root.tag.startswith("{" + namespace + "}"):
                    self.fail("", f"the body's root element is not in the namespace {namespace}")
                names = {ref.get("locationName", m): m for m, ref in body_members.items()}
                for child in root:
                    tag = local(child.tag)
                    if tag not in names:
                        self.fail(tag, f"not a member of {shape_name}")
                        continue
                    present.add(names[tag])
                    self.check_xml_element(body_members[names[tag]]["shape"], child, tag)
        elif body.strip():
            self.fail("", f"{operation} takes no body")
        if shape_name:
            self.required(shape_name, present, shape_name)


def local(tag):
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


def join(path, name):
    return f"{path}.{name}" if path else name


def iso8601(text):
    try:
        datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def check_record(record, models):
    """The violations of one recorded request (a list of strings)."""
    if record.get("kind") == "http":
        host = urllib.parse.urlsplit(record.get("url", "")).hostname
        return [] if host in LOCAL_HOSTS else [f"HTTP {record.get('method')} to {host}: tests must not leave the machine (127.0.0.1 only)"]
    model = models.get(record["service"], record["api_version"])
    name = f"{record['service']} {record['operation']}"
    if model is None:
        return [f"{name}: botocore has no model of {record['service']} {record['api_version']}"]
    if record["operation"] not in model["operations"]:
        return [f"{name}: {record['service']} has no operation {record['operation']}"]
    protocol = model["metadata"]["protocol"]
    recorded = record["wire_protocol"]
    checker = Checker(model, name)
    if (protocol, recorded) in (("query", "query"), ("ec2", "ec2")):
        checker.check_query(record, record["operation"])
    elif protocol == "json" and recorded.startswith("json"):
        checker.check_json(record, record["operation"])
    elif protocol == "rest-xml" and recorded == "rest-xml":
        checker.check_rest_xml(record, record["operation"])
    else:
        checker.fail("", f"sent as {recorded}, but the service speaks {protocol}")
    return [f"{name}: {p}" for p in checker.problems]


def main(argv):
    quiet = "--quiet" in argv
    files = [a for a in argv if a != "--quiet"]
    if not files:
        print(__doc__, file=sys.stderr)
        return 2
    models = Models()
    violations, counts, http = 0, {}, 0
    for file in files:
        if not os.path.exists(file):
            continue
        with open(file, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    print(f"{file}:{number}: the line does not parse as JSON")
                    violations += 1
                    continue
                if record.get("kind") == "http":
                    http += 1
                else:
                    key = f"{record.get('service')} {record.get('operation')}"
                    counts[key] = counts.get(key, 0) + 1
                for problem in check_record(record, models):
                    violations += 1
                    print(f"{file}:{number}: {problem}")
    total = sum(counts.values())
    if not quiet:
        for key in sorted(counts):
            print(f"  {counts[key]:5d}  {key}", file=sys.stderr)
    print(f"check-aws-requests: {total} AWS requests ({len(counts)} operations) and {http} HTTP requests checked "
          f"against the botocore models: {violations} violation(s)", file=sys.stderr)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
