#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# gen_api.sh -- generates docs/api.md, the API reference, from the public
# header include/pcmup.h. The header is the manual; this script only lays it
# out: one entry per group of declarations (a doc comment and the
# declarations written directly under it), grouped by the header's
# numbered sections, plus a table of status codes and a table of settings
# parsed from the enums' comments.
#
# Usage: docs/gen_api.sh [header [output]]
#   defaults: include/pcmup.h and docs/api.md, relative to the repository.
# The settings table's defaults, values and rules are the library's: the
# script runs $PCMUP_SETTINGS_TABLE (default: build/tools/pcmup-settings-
# table of the repository's build directory) to list them.
# Needs bash, a POSIX awk (mawk is enough) and that program built.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
header=${1:-$root/include/pcmup.h}
output=${2:-$root/docs/api.md}

[ -r "$header" ] || { echo "gen_api.sh: cannot read $header" >&2; exit 1; }

version=$(awk '/^#define PCMUP_VERSION_(MAJOR|MINOR|PATCH) /{v = v (v == "" ? "" : ".") $3}
               END{print v}' "$header")

table_program=${PCMUP_SETTINGS_TABLE:-$root/build/tools/pcmup-settings-table}
[ -x "$table_program" ] || {
    echo "gen_api.sh: no $table_program: build the tools, or set PCMUP_SETTINGS_TABLE" >&2
    exit 1
}

tmp=$(mktemp)
settings=$(mktemp)
trap 'rm -f "$tmp" "$settings"' EXIT
"$table_program" > "$settings"

LC_ALL=C awk -v version="$version" -v header_name="include/pcmup.h" -v settings_file="$settings" '
# ---------------------------------------------------------------- helpers

function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }

# Escapes Markdown emphasis characters outside `code spans`, so that
# M_{l-1}, r^-a and "out * in" print as written.
function esc(s,    out, i, c, incode) {
    out = ""; incode = 0
    for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c == "`") incode = !incode
        else if (!incode && (c == "*" || c == "_" || c == "\\")) out = out "\\"
        out = out c
    }
    return out
}

function cell(s) { s = esc(s); gsub(/\|/, "\\|", s); return s }

function indent_of(s) { match(s, /^ */); return RLENGTH }

function emit(s) { body[++nbody] = s }

# Comment text (the /* and leading " * " removed, relative indentation
# kept) to Markdown: paragraphs keep their line breaks; "- " and "1. "
# lines are list items (deeper-indented lines continue them); other
# indented lines are preformatted text.
function comment_md(n, lines,    i, s, ind, mode, item_ind) {
    mode = ""   # "", "p" paragraph, "l" list, "pre"
    for (i = 1; i <= n; i++) {
        s = lines[i]
        if (trim(s) == "") {
            if (mode == "pre") emit("```")
            if (mode != "") emit("")
            mode = ""
            continue
        }
        ind = indent_of(s)
        if (s ~ /^ *(- |[0-9]+\. )/) {
            if (mode == "pre") { emit("```"); emit("") }
            else if (mode == "p") emit("")
            mode = "l"; item_ind = ind
            emit(esc(trim(s)))
            continue
        }
        if (mode == "l" && ind > item_ind) { emit("   " esc(trim(s))); continue }
        if (ind >= 2) {
            if (mode != "pre") {
                if (mode != "") emit("")
                emit("```text"); mode = "pre"; pre_base = ind; fence = nbody
            }
            # Preformatted lines that end in ";" are C: say so.
            if (s ~ /;[ \t]*(\/\/.*)?$/) body[fence] = "```c"
            emit(ind >= pre_base ? substr(s, pre_base + 1) : trim(s))
            continue
        }
        if (mode == "pre") { emit("```"); emit("") }
        if (mode == "l") emit("")
        s = trim(s)
        # A line that Markdown would read as a list, quote or heading
        # joins the line before it.
        if (mode == "p" && s ~ /^([-+#>]|[0-9]+[.)] )/) { body[nbody] = body[nbody] " " esc(s); continue }
        mode = "p"
        emit(esc(s))
    }
    if (mode == "pre") emit("```")
    emit("")
}

# The lines of a /* ... */ comment, without the comment markers.
function strip_comment(s) {
    sub(/^\/\*+ ?/, "", s)
    sub(/ ?\*+\/[ \t]*$/, "", s)
    sub(/^ \* ?/, "", s)
    sub(/^ \*$/, "", s)
    return s
}

# ------------------------------------------------------------ the blocks

# A code block just read (with the comment above it, if any) becomes an
# entry: declarations of functions, or a type / macro.
function flush_block(    i, s, names, nnames, sig, kind, name, anchors, t) {
    if (ncode == 0) {
        if (ncom > 0) comment_md(ncom, com)
        ncom = 0
        return
    }
    kind = (code[1] ~ /^PCMUP_API/) ? "func" : "type"
    nnames = 0; anchors = ""
    for (i = 1; i <= ncode; i++) {
        s = code[i]
        if (kind == "func" && s ~ /^PCMUP_API/) {
            t = s; sub(/\(.*/, "", t); sub(/.*[ *]/, "", t)
            names[++nnames] = t
        } else if (kind == "type") {
            t = ""
            if (s ~ /^typedef [a-z ]*struct [a-z_]+ [a-z_]+;/) { t = s; sub(/;.*/, "", t); sub(/.* /, "", t) }
            else if (s ~ /^} [a-z_]+;/) { t = s; sub(/^} /, "", t); sub(/;.*/, "", t) }
            else if (s ~ /^#define [A-Z_]+/) { t = s; sub(/^#define /, "", t); sub(/[ (].*/, "", t) }
            if (t != "") names[++nnames] = t
        }
    }
    t = ""
    for (i = 1; i <= nnames; i++) {
        anchors = anchors "<a id=\"" names[i] "\"></a>"
        t = t (i > 1 ? ", " : "") "`" names[i] "`"
        if (kind == "func") toc[sec] = toc[sec] (toc[sec] == "" ? "" : ", ") "[`" names[i] "`](#" names[i] ")"
        else types[sec] = types[sec] (types[sec] == "" ? "" : ", ") "[`" names[i] "`](#" names[i] ")"
    }
    emit("### " anchors t)
    emit("")
    emit("```c")
    for (i = 1; i <= ncode; i++) {
        s = code[i]
        # Drop the export macro and re-align the continuation lines.
        if (kind == "func") {
            if (s ~ /^PCMUP_API /) sub(/^PCMUP_API /, "", s)
            else if (s ~ /^          /) s = substr(s, 11)
        }
        emit(s)
    }
    emit("```")
    emit("")
    if (ncom > 0) comment_md(ncom, com)
    else if (kind == "func") emit("*No doc comment in the header.*\n")
    if (last_enum == "pcmup_status") status_table()
    if (last_enum == "pcmup_setting") settings_table()
    last_enum = ""
    ncode = 0; ncom = 0
}

# ---------------------------------------------------------------- tables

function status_table(    i) {
    emit("Status codes (`pcmup_status_name()` returns the name):")
    emit("")
    emit("| value | name | meaning |")
    emit("|---:|---|---|")
    for (i = 1; i <= nstatus; i++)
        emit("| " st_val[i] " | `" st_name[i] "` | " cell(st_text[i]) " |")
    emit("")
}

# The settings: key and meaning from the header, the rest from the
# table of the library itself (settings_file: lines of pcmup-settings-table,
# "value<TAB>name<TAB>default<TAB>values<TAB>rules").
function settings_table(    i, line, f, v) {
    while ((getline line < settings_file) > 0) {
        split(line, f, /\t/)
        s_name[f[1]] = f[2]; s_def[f[1]] = f[3]; s_range[f[1]] = f[4]
        s_rules[f[1]] = f[5]
    }
    close(settings_file)
    emit("Settings (`pcmup_algo_set()`, `pcmup_algo_get()`); name, default, values and rules are the answers of the library (`pcmup_setting_name()`, `pcmup_setting_default()`, `pcmup_setting_bounds()`, `pcmup_setting_value_name()`, `pcmup_setting_accepts()`), listed by `pcmup-settings-table` (tools/settings_table.c):")
    emit("")
    emit("| key | value | name | meaning | default | values | rules |")
    emit("|---|---:|---|---|---|---|---|")
    for (i = 1; i <= nset; i++) {
        v = set_val[i]
        if (!(v in s_name)) {
            print "gen_api.sh: the library has no setting " v " (" set_name[i] ")" > "/dev/stderr"
            exit 1
        }
        emit("| `" set_name[i] "` | " v " | `" s_name[v] "` | " cell(set_text[i]) " | " cell(s_def[v]) " | " cell(s_range[v]) " | " s_rules[v] " |")
    }
    emit("")
}

# Enum entries "NAME = value, /* comment */", the comment possibly going on
# over the following lines.
function enum_entry(s,    name, val, text) {
    if (s !~ /^ +PCMUP_[A-Z_0-9]+ = [0-9]+/) return
    name = s; sub(/^ +/, "", name); sub(/ .*/, "", name)
    val = s; sub(/^[^=]*= */, "", val); sub(/[^0-9].*/, "", val)
    text = ""
    if (s ~ /\/\*/) { text = s; sub(/.*\/\* */, "", text); sub(/ *\*\/.*/, "", text) }
    cur_name = name; cur_val = val; cur_text = text
    cur_open = (s ~ /\/\*/ && s !~ /\*\//)
    enum_list = enum_list (enum_list == "" ? "" : ", ") "`" name "` (" val ")"
    store_entry()
}

function store_entry() {
    if (cur_enum == "status") { st_name[nstatus] = cur_name; st_val[nstatus] = cur_val; st_text[nstatus] = cur_text }
    if (cur_enum == "setting") { set_name[nset] = cur_name; set_val[nset] = cur_val; set_text[nset] = cur_text }
}

# ------------------------------------------------------------------ main

BEGIN { state = "pre"; ncode = 0; ncom = 0; nbody = 0; nsec = 0; cur_enum = "" }

# Stop at the C++ guard that closes the header.
state != "pre" && /^#ifdef __cplusplus/ { flush_block(); state = "done" }
state == "done" { next }

# Section banners: /* ===... / * N. Title / * intro ... / * ===... */
/^\/\* =+$/ {
    if (state != "pre") flush_block()
    state = "banner_title"; next
}
state == "banner_title" {
    s = $0; sub(/^ \* /, "", s)
    sec = ++nsec; sec_title[sec] = s
    emit("## <a id=\"section-" sec "\"></a>" s)
    emit("")
    nintro = 0; state = "banner"; next
}
state == "banner" {
    if ($0 ~ /^ \* =+ \*\/$/) {
        # drop the blank line after the title
        start = 1; while (start <= nintro && trim(intro[start]) == "") start++
        n = 0; for (i = start; i <= nintro; i++) tmpl[++n] = intro[i]
        if (n > 0) comment_md(n, tmpl)
        state = "body"; next
    }
    intro[++nintro] = strip_comment($0); next
}
# The opening comment of the header, without its first line (the title).
state == "pre" && NR == 1 && /^\/\*/ { state = "top"; next }
state == "top" {
    if ($0 ~ /\*\//) { state = "pre"; next }
    s = strip_comment($0)
    if (ntop == 0 && s ~ / -- /) next
    if (ntop == 0 && trim(s) == "") next
    top[++ntop] = s
    next
}
state == "pre" { next }

# Inside a comment.
state == "comment" {
    com[++ncom] = strip_comment($0)
    if ($0 ~ /\*\//) state = "body"
    next
}

state == "body" {
    if ($0 ~ /^[ \t]*$/) { flush_block(); next }
    if ($0 ~ /^\/\*/) {
        if (ncode > 0 || ncom > 0) flush_block()
        com[++ncom] = strip_comment($0)
        if ($0 !~ /\*\//) state = "comment"
        next
    }
    code[++ncode] = $0
    # Enums whose entries feed the tables.
    if ($0 ~ /^typedef enum/) { cur_enum = "enum"; enum_list = "" }
    if (cur_enum != "" && $0 ~ /^} [a-z_]+;/) {
        t = $0; sub(/^} /, "", t); sub(/;.*/, "", t)
        enum_values[t] = enum_list
        if (t == "pcmup_status" || t == "pcmup_setting") last_enum = t
        cur_enum = ""
        next
    }
    if (cur_enum != "") {
        if (cur_open) {
            s = $0; sub(/^ +/, "", s)
            if (s ~ /\*\//) { sub(/ *\*\/.*/, "", s); cur_open = 0 }
            cur_text = cur_text " " s
            store_entry()
            next
        }
        if ($0 ~ /PCMUP_OK = 0/) { cur_enum = "status" }
        if ($0 ~ /PCMUP_SET_LR = 0/) { cur_enum = "setting" }
        if ($0 ~ /^ +PCMUP_/) {
            if (cur_enum == "status") nstatus++
            if (cur_enum == "setting") nset++
            enum_entry($0)
            if (cur_enum == "status" && st_text[nstatus] == "") st_text[nstatus] = "success"
        }
    }
    next
}

END {
    print "# libpcmup " version " API reference"
    print ""
    print "Generated from `" header_name "` by `docs/gen_api.sh`; do not edit by hand:"
    print "run `docs/gen_api.sh` after changing the header. See also"
    print "[architecture.md](architecture.md), [parameterization.md](parameterization.md)"
    print "and [abi.md](abi.md)."
    print ""
    print "Each entry shows the declarations as the header writes them (without the"
    print "`PCMUP_API` export macro), then the comment written directly above them."
    print "Declarations that the header writes together under one comment share an"
    print "entry, also where the comment speaks only of the first of them."
    print ""
    print "## Contents"
    print ""
    if (ntop > 0) print "- [Overview](#overview)"
    for (i = 1; i <= nsec; i++) {
        print "- [" sec_title[i] "](#section-" i ")"
        if (types[i] != "") print "  - types and constants: " types[i]
        if (toc[i] != "") print "  - functions: " toc[i]
    }
    print "- Tables: [status codes](#pcmup_status), [settings](#pcmup_setting)"
    print ""
    if (ntop > 0) {
        # The overview is rendered last but printed first.
        first = nbody + 1
        emit("## <a id=\"overview\"></a>Overview")
        emit("")
        comment_md(ntop, top)
        for (i = first; i <= nbody; i++) print body[i]
        nbody = first - 1
    }
    for (i = 1; i <= nbody; i++) print body[i]
}
' "$header" > "$tmp"

# Collapse runs of blank lines left by empty comments.
cat -s "$tmp" > "$output"
echo "gen_api.sh: wrote $output" >&2
