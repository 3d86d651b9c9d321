#!/usr/bin/env bash
# Bad scenario files (issue 12): every tests/data/bad_scenarios/*.textpb is
# malformed in one way and says on its first line what must be reported:
#
#   # expect: LINE:COLUMN PHRASE
#
# `kpsim validate FILE` must exit 2, print nothing on stdout, and print one
# line on stderr that starts with FILE:LINE:COLUMN: and contains PHRASE.
# Table-driven: adding a case is adding a file. At least 25 cases.
set -u
cd "$(dirname "$0")/../.."
dir=tests/data/bad_scenarios
fails=0; n=0
for f in "$dir"/*.textpb; do
  n=$((n + 1))
  first=$(head -n 1 "$f")
  if [[ ! "$first" =~ ^#\ expect:\ ([0-9]+):([0-9]+)\ (.+)$ ]]; then
    echo "FAIL: $f: first line must be '# expect: LINE:COLUMN PHRASE', got: $first"; fails=$((fails + 1)); continue
  fi
  pos="${BASH_REMATCH[1]}:${BASH_REMATCH[2]}"; phrase="${BASH_REMATCH[3]}"
  out=$("$KPSIM" validate "$f" 2>/tmp/kp_bad_err.$$); rc=$?
  err=$(cat /tmp/kp_bad_err.$$)
  if [ $rc -ne 2 ]; then
    echo "FAIL: $f: exit $rc, want 2 (stderr: $err)"; fails=$((fails + 1)); continue
  fi
  if [ -n "$out" ]; then
    echo "FAIL: $f: printed on stdout: $out"; fails=$((fails + 1)); continue
  fi
  if [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ]; then
    echo "FAIL: $f: want exactly one error line, got: $err"; fails=$((fails + 1)); continue
  fi
  case "$err" in
    "$f:$pos: "*) ;;
    *) echo "FAIL: $f: want position $f:$pos:, got: $err"; fails=$((fails + 1)); continue ;;
  esac
  case "$err" in
    *"$phrase"*) ;;
    *) echo "FAIL: $f: message lacks '$phrase': $err"; fails=$((fails + 1)); continue ;;
  esac
done
rm -f /tmp/kp_bad_err.$$
[ $n -ge 25 ] || { echo "FAIL: only $n bad scenario files, want at least 25"; exit 1; }
[ $fails -eq 0 ] || { echo "FAIL: $fails of $n bad scenario files"; exit 1; }
# Several files at once: each reported, good ones say ok, exit 2 overall.
out=$("$KPSIM" validate scenarios/catalog/happy_path_linger.textpb "$dir/no_producer.textpb" 2>/dev/null); rc=$?
[ $rc -eq 2 ] || { echo "FAIL: mixed files: exit $rc, want 2"; exit 1; }
[ "$out" = "scenarios/catalog/happy_path_linger.textpb: ok" ] || { echo "FAIL: mixed files: stdout '$out'"; exit 1; }
echo "ok: $n bad scenario files, each rejected at its line:column"
