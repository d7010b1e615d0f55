# SPDX-License-Identifier: MIT
# signatures.awk -- prints one line per function of an abidw XML file:
#   name(type, type, ...) -> type
# with every type resolved to its C spelling, so that two files can be
# compared line by line whatever ids abidw gave the types. check_abi.sh
# uses it beside abidiff, which (abigail 2.2) misses a swap of two
# parameters of different types, e.g. (size_t, const size_t *) turned into
# (const size_t *, size_t).
function attr(line, key,    m) {
    if (match(line, " " key "='[^']*'")) {
        m = substr(line, RSTART + length(key) + 3, RLENGTH - length(key) - 4)
        return m
    }
    return ""
}
function resolve(id, depth) {
    if (depth > 50) return "?"
    if (id in named) return named[id]
    if (id in ptr) return resolve(ptr[id], depth + 1) "*"
    if (id in qual) {
        # C spelling: "const T" for a value, "T* const" for a pointer.
        if (qual[id] in ptr) return resolve(qual[id], depth + 1) " " qual_word[id]
        return qual_word[id] " " resolve(qual[id], depth + 1)
    }
    if (id in arr) return resolve(arr[id], depth + 1) "[]"
    if (id in fntype) return "function"
    return "?" id
}
{
    id = attr($0, "id")
    if (id != "") {
        if ($0 ~ /<(type-decl|typedef-decl|enum-decl|class-decl|union-decl) /)
            named[id] = attr($0, "name")
        else if ($0 ~ /<pointer-type-def /)
            ptr[id] = attr($0, "type-id")
        else if ($0 ~ /<qualified-type-def /) {
            qual[id] = attr($0, "type-id")
            qual_word[id] = ($0 ~ /const='yes'/ ? "const" : "") ($0 ~ /volatile='yes'/ ? " volatile" : "")
        } else if ($0 ~ /<array-type-def /)
            arr[id] = attr($0, "element-type-id")
        else if ($0 ~ /<function-type /)
            fntype[id] = 1
    }
    if ($0 ~ /<function-decl /) {
        n_decl++
        decl_name[n_decl] = attr($0, "name")
        decl_params[n_decl] = ""
        in_decl = 1
        next
    }
    if (in_decl && $0 ~ /<parameter /) {
        decl_params[n_decl] = decl_params[n_decl] (decl_params[n_decl] == "" ? "" : " ") attr($0, "type-id")
        if ($0 ~ /is-variadic='yes'/) decl_params[n_decl] = decl_params[n_decl] " ..."
    }
    if (in_decl && $0 ~ /<return /) decl_ret[n_decl] = attr($0, "type-id")
    if ($0 ~ /<\/function-decl>/) in_decl = 0
}
END {
    for (i = 1; i <= n_decl; i++) {
        k = split(decl_params[i], p, " ")
        s = ""
        for (j = 1; j <= k; j++)
            s = s (j > 1 ? ", " : "") (p[j] == "..." ? "..." : resolve(p[j], 0))
        print decl_name[i] "(" s ") -> " resolve(decl_ret[i], 0)
    }
}
