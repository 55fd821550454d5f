"""Corpus lines whose stdout or exit code differ from bash, each with the reason.

The differential test fails if a line listed here starts to match (so the list
only ever shrinks) or if a line not listed here differs."""

_PARSE = ("tree-sitter-bash rejects this at parse time, so Mirage refuses the whole line with "
          "exit 2; bash accepts it")

KNOWN: dict[str, str] = {
    "for i in; do echo never; done; echo done": _PARSE + " (an empty 'in' list).",
    "[ a \\< b ]; echo $?": _PARSE + " (an escaped '<' inside [ ]).",
    "[ 1 -lt ]; echo $?": "bash reports the malformed test at run time (status 2) and goes on; "
                          "tree-sitter-bash flags a missing ']' so Mirage refuses the line (exit 2).",
    "echo 'not json' | jq . 2>/dev/null; echo $?": "the reference jq here is 1.6, which exits 4 on "
                                                   "invalid JSON; jq 1.7+ (the library Mirage uses) "
                                                   "exits 2.",
    "cat <<A; cat <<B\nfirst\nA\nsecond\nB": _PARSE + " (two here-docs on one line).",
    "cat <<EOF > hf.txt; echo done\nx\nEOF": _PARSE + " (a ';' after a here-doc and a redirect).",
    "n=007; echo $((10#$n))": _PARSE + " ('#' inside $(( )) is read as a comment).",
    "awk 'BEGIN { print length(\"héllo\") }'": "Mirage's awk works on UTF-8 characters (5); the "
                                               "reference runs with LC_ALL=C, where gawk counts "
                                               "bytes (6).",
}
