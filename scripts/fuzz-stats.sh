#!/usr/bin/env bash
# Per target in a scripts/fuzz.sh log, one Markdown table row: seconds run, executions
# (libFuzzer's final `stat::number_of_executed_units`), the corpus at the end (entries/size, from
# the last status line) and the first finding (where it panicked, or libFuzzer's error).
#
#   scripts/fuzz-stats.sh target/fuzz/run-600.log
set -euo pipefail
awk '
/^== fuzzing / { t = $3; order[++n] = t }
/^Done [0-9]+ runs in/ { secs[t] = $5 }
/stat::number_of_executed_units/ { execs[t] = $2 }
/^#[0-9]+\t/ { for (i = 1; i <= NF; i++) if ($i == "corp:") corp[t] = $(i + 1) }
/^thread .* panicked at |^==[0-9]+== ERROR: libFuzzer/ {
  if (!found[t]) {
    line = $0
    sub(/^thread .* panicked at /, "panic at ", line)
    sub(/[^ ]*registry\/src\/[^\/]*\//, "", line)
    sub(/^==[0-9]+== ERROR: /, "", line)
    found[t] = line
  }
}
END {
  for (i = 1; i <= n; i++) {
    t = order[i]
    printf "| %s | %s | %s | %s | %s |\n", t, (t in secs ? secs[t] : "stopped"),
      (t in execs ? execs[t] : "-"), (t in corp ? corp[t] : "-"), (found[t] ? found[t] : "none")
  }
}' "$1"
