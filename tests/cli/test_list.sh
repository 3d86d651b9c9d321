#!/usr/bin/env bash
# kpsim list: one line per catalog scenario, "PATH<TAB>PURPOSE" with PATH
# from the repository root, sorted by family then name; the root is found
# from the executable's path whatever the current directory; a broken
# catalog file is reported as FILE:LINE:COLUMN with exit 2.
set -u
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# The real catalog: every file listed once, well-formed lines, exit 0.
out=$("$KPSIM" list) || fail "list exit $?"
n_files=$(ls scenarios/catalog/*.textpb | wc -l)
[ "$(printf '%s\n' "$out" | wc -l)" -eq "$n_files" ] || fail "want $n_files lines, got: $out"
printf '%s\n' "$out" | grep -vqP '^scenarios/catalog/[^\t/]+\.textpb\t[^\t]+$' && fail "malformed line in: $out"
grep -qP '^scenarios/catalog/happy_path_linger\.textpb\tBatching with linger' <<<"$out" || fail "happy_path_linger missing"
# Same output from another directory (root found from the executable).
abs=$(cd "$(dirname "$KPSIM")" && pwd)/$(basename "$KPSIM")
out2=$(cd "$tmp" && "$abs" list) || fail "list from elsewhere: exit $?"
[ "$out" = "$out2" ] || fail "list from another directory differs"

# Order: family, then name — not file name.
mkdir -p "$tmp/r/scenarios/catalog"
mk() { # file family name
  printf 'name: "%s"\npurpose: "p %s"\nfamily: "%s"\ncluster { topic { name: "t" } }\nproducer { workload { topic: "t" records: 1 } }\n' \
    "$3" "$3" "$2" > "$tmp/r/scenarios/catalog/$1.textpb"
}
mk a_file zeta alpha; mk b_file basics zulu; mk c_file basics beta; mk d_file faults aaa
out=$("$KPSIM" list --root "$tmp/r") || fail "list --root: exit $?"
want=$(printf 'scenarios/catalog/c_file.textpb\tp beta\nscenarios/catalog/b_file.textpb\tp zulu\nscenarios/catalog/d_file.textpb\tp aaa\nscenarios/catalog/a_file.textpb\tp alpha')
[ "$out" = "$want" ] || fail "order: got
$out"

# A broken file: reported with its position, the others still listed, exit 2.
printf 'name: "broken"\npurpose: "p"\nfamily: "basics"\ncluster { brokers: "two" }\n' > "$tmp/r/scenarios/catalog/e_broken.textpb"
out=$("$KPSIM" list --root "$tmp/r" 2>"$tmp/err"); rc=$?
[ $rc -eq 2 ] || fail "broken catalog: exit $rc, want 2"
grep -q 'e_broken.textpb:4:20: expected an integer for field .brokers. (int32), got "two"' "$tmp/err" || fail "broken catalog: stderr $(cat "$tmp/err")"
[ "$(printf '%s\n' "$out" | wc -l)" -eq 4 ] || fail "broken catalog: the good files should still be listed: $out"

# Bad usage.
"$KPSIM" list --root "$tmp/nowhere" >/dev/null 2>&1; [ $? -eq 2 ] || fail "--root without a catalog: want exit 2"
"$KPSIM" list --bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown option: want exit 2"
echo ok
