#!/usr/bin/env python3
"""Fails when a C function of msrp/, ice/ or gateway/ is longer than 80
lines, from its opening brace to its closing brace, and the comment right
above its definition does not say why it must be long.

The functions and their lengths come from clang-tidy's
readability-function-size check, run over the build's compilation database
(compile_commands.json), so C is read by a C compiler: strings, comments,
macros, struct and initializer braces are never mistaken for a function.
Headers of those folders are checked through the files that include them.

A function may stay long when its definition is preceded by a comment (the
line right above it, or the comment block right above it) that says

    Long because <the reason, in a few words>

for example a state machine over one grammar, or a table-like switch, that
splitting would scatter.  Nothing else exempts a function: a NOLINT for this
check is refused, so that every exemption carries its reason.

Usage: check-function-size.py SOURCE-ROOT BUILD-ROOT
       check-function-size.py --self-test
"""

import concurrent.futures
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

MAX_LINES = 80
FOLDERS = ("msrp", "ice", "gateway")

# Being reworked on other branches right now: their long functions are
# listed but do not fail the check.  The lead removes this list once that
# work is merged and split.
BEING_REWORKED = ()

# clang-tidy counts the lines after the opening brace up to the closing
# one; MAX_LINES counts both braces.
TIDY_CONFIG = json.dumps({
    "Checks": "-*,readability-function-size",
    "CheckOptions": [
        {"key": "readability-function-size.LineThreshold",
         "value": str(MAX_LINES - 1)},
        {"key": "readability-function-size.StatementThreshold",
         "value": "4294967295"},
    ],
})

WARNING = re.compile(
    r"^(?P<path>[^:\n]+):(?P<line>\d+):\d+: warning: function '(?P<name>[^']+)'"
    r" exceeds recommended size/complexity thresholds"
    r" \[readability-function-size\]\n"
    r"(?:.*\n)*?"
    r"[^:\n]+:\d+:\d+: note: (?P<lines>\d+) lines including whitespace",
    re.MULTILINE)

MARKER = re.compile(r"\bLong because\b[\s:,]*\S+(?:\s+\S+){2,}")

# A NOLINT that would silence this check (no list, a wildcard, or the
# check named).
NOLINT = re.compile(
    r"NOLINT(?:NEXTLINE|BEGIN)?(?!\s*\()|"
    r"NOLINT(?:NEXTLINE|BEGIN)?\s*\([^)]*(?:\*|function-size)[^)]*\)")


class CheckError(Exception):
    pass


def checked_sources(root, build):
    """The .c files of FOLDERS, each with its compilation database entry."""
    db_path = os.path.join(build, "compile_commands.json")
    try:
        with open(db_path) as f:
            db = json.load(f)
    except OSError as e:
        raise CheckError("cannot read %s: %s" % (db_path, e))
    compiled = {}
    for entry in db:
        path = os.path.normpath(os.path.join(entry["directory"],
                                             entry["file"]))
        compiled[path] = entry
    sources = []
    for folder in FOLDERS:
        for dirpath, _, names in os.walk(os.path.join(root, folder)):
            for n in names:
                if n.endswith(".c"):
                    sources.append(os.path.normpath(os.path.join(dirpath, n)))
    sources.sort()
    missing = [os.path.relpath(s, root) for s in sources if s not in compiled]
    if missing:
        raise CheckError("not in %s, so not checked: %s"
                         % (db_path, " ".join(missing)))
    return sources, compiled


def run_tidy(build, source, directory):
    """(path, name line, name, lines from brace to brace) of each function
    of @source, or of a header it includes, over MAX_LINES."""
    proc = subprocess.run(
        ["clang-tidy", "-p", build, "--quiet", "--config=" + TIDY_CONFIG,
         "--header-filter=.*", "--extra-arg=-w", source],
        cwd=directory, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CheckError("clang-tidy failed on %s:\n%s%s"
                         % (source, proc.stdout, proc.stderr))
    found = []
    for m in WARNING.finditer(proc.stdout):
        path = os.path.normpath(os.path.join(directory, m.group("path")))
        found.append((path, int(m.group("line")), m.group("name"),
                      int(m.group("lines")) + 1))
    return found


def is_head_line(text):
    """A line of a definition's head above the name: the return type and
    storage class, as GNU style writes them on their own line."""
    s = text.strip()
    return (s != "" and not s.endswith((";", "{", "}", "*/", "\\"))
            and not s.startswith(("#", "/*", "//", "*")))


def comment_above(lines, name_line):
    """The text of the comment right above the definition whose name is on
    NAME_LINE (1-based), or ""."""
    j = name_line - 2
    while j >= 0 and name_line - 2 - j < 4 and is_head_line(lines[j]):
        j -= 1
    if j < 0:
        return ""
    last = lines[j].rstrip()
    if last.endswith("*/"):
        k = j
        while k >= 0 and "/*" not in lines[k]:
            k -= 1
        block = lines[max(k, 0):j + 1]
    elif last.lstrip().startswith("//"):
        k = j
        while k >= 0 and lines[k].lstrip().startswith("//"):
            k -= 1
        block = lines[k + 1:j + 1]
    else:
        return ""
    text = " ".join(block)
    text = re.sub(r"/\*+|\*+/|^\s*\*|//", " ", text)
    return " ".join(text.split())


def check(root, build, reworked_patterns):
    """Returns (long with their reason, being reworked, offenders, refused
    NOLINTs), each a list of "file:line name N lines" or "file:line"."""
    sources, compiled = checked_sources(root, build)

    refused = []
    for s in sources:
        with open(s, encoding="utf-8", errors="replace") as f:
            for i, text in enumerate(f, 1):
                if NOLINT.search(text):
                    refused.append("%s:%d" % (os.path.relpath(s, root), i))

    found = {}
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        jobs = [pool.submit(run_tidy, build, s, compiled[s]["directory"])
                for s in sources]
        for job in jobs:
            for path, line, name, n in job.result():
                rel = os.path.relpath(path, root)
                if rel.split(os.sep)[0] in FOLDERS:
                    found[(rel, line)] = (name, n)

    long_ok, reworked, bad = [], [], []
    for (rel, line), (name, n) in sorted(found.items()):
        with open(os.path.join(root, rel), encoding="utf-8",
                  errors="replace") as f:
            lines = f.read().split("\n")
        desc = "%s:%d %s %d lines" % (rel, line, name, n)
        if MARKER.search(comment_above(lines, line)):
            long_ok.append(desc)
        elif any(fnmatch.fnmatch(rel, p) for p in reworked_patterns):
            reworked.append(desc)
        else:
            bad.append(desc)
    return long_ok, reworked, bad, refused, len(sources)


def fixture_function(name, body_lines, above=""):
    """A GNU-style definition whose braces enclose @body_lines lines."""
    body = (["  int y = x;", ""]
            + ["  y += %d;" % i for i in range(body_lines - 5)]
            + ["  return y;"])
    return "%sstatic int\n%s (int x)\n{\n%s\n}\n\n" % (
        above, name, "\n".join(body))


def self_test():
    """The check against a small tree whose answers are known: long
    functions with and without their reason, at the limit and one past it,
    and long things that are not functions."""
    with tempfile.TemporaryDirectory(prefix="check-function-size.") as tmp:
        os.makedirs(os.path.join(tmp, "msrp"))
        os.makedirs(os.path.join(tmp, "gateway"))
        os.makedirs(os.path.join(tmp, "build"))
        src = ["#include <stddef.h>\n\n"]
        # Not functions: a struct, an initializer, braces in strings and
        # comments, a macro body, each over 80 lines.
        src.append("struct big\n{\n%s};\n\n"
                   % "".join("  int f%d;\n" % i for i in range(90)))
        src.append("static const int table[] = {\n%s};\n\n"
                   % "".join("  %d,\n" % i for i in range(90)))
        src.append("static const char *const braces[] = {\n%s};\n\n"
                   % "".join('  "{ %d", /* } */\n' % i for i in range(90)))
        src.append("#define BODY \\\n%s  0\n\n"
                   % "".join("  %d + \\\n" % i for i in range(90)))
        src.append("int use (void);\nint\nuse (void)\n{\n"
                   "  return table[0] + (int) sizeof (struct big)\n"
                   "         + (braces[0] != NULL) + BODY;\n}\n\n")
        src.append(fixture_function("at_the_limit", 80))
        src.append(fixture_function("one_past", 81))
        src.append(fixture_function(
            "with_reason", 120,
            "/* Reads one grammar.  Long because it is one switch over\n"
            " * the states of that grammar. */\n"))
        src.append(fixture_function(
            "with_line_reason", 100,
            "// Long because: a table-like switch, one case per code.\n"))
        src.append(fixture_function(
            "no_reason_given", 100, "/* Long because. */\n"))
        src.append(fixture_function(
            "reason_too_far", 100,
            "/* Long because it is one switch over states. */\n\n"))
        src.append(fixture_function(
            "silenced", 100,
            "/* NOLINTNEXTLINE(readability-function-size) */\n"))
        with open(os.path.join(tmp, "msrp", "fixture.c"), "w") as f:
            f.write("".join(src))
        with open(os.path.join(tmp, "gateway", "other.c"), "w") as f:
            f.write(fixture_function("reworked", 90))
        db = [{"directory": os.path.join(tmp, "build"),
               "file": "../%s" % rel,
               "command": "cc -std=gnu11 -c ../%s -o x.o" % rel}
              for rel in ("msrp/fixture.c", "gateway/other.c")]
        with open(os.path.join(tmp, "build", "compile_commands.json"),
                  "w") as f:
            json.dump(db, f)

        long_ok, reworked, bad, refused, _ = check(
            tmp, os.path.join(tmp, "build"), ("gateway/other.c",))
        names = lambda l: sorted(d.split()[1] for d in l)
        got = (names(long_ok), names(reworked), names(bad), len(refused))
        want = (["with_line_reason", "with_reason"], ["reworked"],
                ["no_reason_given", "one_past", "reason_too_far", "silenced"],
                1)
        lengths = {d.split()[1]: int(d.split()[2]) for d in long_ok + bad}
        if got != want or lengths.get("one_past") != 81:
            raise CheckError("self-test: got %r, want %r (one_past: %r "
                             "lines)" % (got, want, lengths.get("one_past")))
    print("check-function-size: self-test passed")


def main():
    if shutil.which("clang-tidy") is None:
        print("check-function-size: clang-tidy is not installed "
              "(packaging/setup.sh)")
        return 1
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return 0
    if len(sys.argv) != 3:
        print(__doc__.split("\n\n")[-1].strip())
        return 1
    start = time.monotonic()
    long_ok, reworked, bad, refused, n_files = check(
        os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]),
        BEING_REWORKED)
    for d in long_ok:
        print("long, with its reason: " + d)
    for d in reworked:
        print("being reworked, not failed: " + d)
    for d in bad:
        print(d)
    for r in refused:
        print("%s: NOLINT for the function size; say 'Long because ...'"
              " above the function instead" % r)
    print("check-function-size: %d files in %.1f s, %d functions over %d"
          " lines without a 'Long because' comment%s"
          % (n_files, time.monotonic() - start, len(bad), MAX_LINES,
             ", %d NOLINT refused" % len(refused) if refused else ""))
    return 1 if bad or refused else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CheckError as e:
        print("check-function-size: %s" % e)
        sys.exit(1)
