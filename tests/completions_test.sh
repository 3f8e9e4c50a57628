#!/usr/bin/env bash
# Drives the generated bash completion of one tool with compgen as bash-completion would, for every
# option its --help lists (read here independently of the generator), and checks that the zsh and
# fish files parse and that fish offers the same options. Usage: completions_test.sh TOOL_BINARY DIR
set -u
bin=$1 dir=$2
tool=$(basename "$bin")
fail() { echo "FAIL completions $tool: $*" >&2; exit 1; }
file=$dir/bash/$tool
[ -f "$file" ] || fail "no $file (built by the completions target)"
help=$("$bin" --help) || fail "--help exited $?"
# shellcheck source=/dev/null
source "$file"
fn=$(complete -p "$tool" 2>/dev/null | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
[ -n "$fn" ] || fail "sourcing $file registers no completion function for $tool"

# complete WORDS...: COMPREPLY for the last word, one per line
complete_words() {
  COMP_WORDS=("$tool" "$@")
  COMP_CWORD=$#
  COMP_LINE="$tool $*"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  "$fn" "$tool" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
  printf '%s\n' "${COMPREPLY[@]}"
}

opts=$(printf '%s\n' "$help" | grep -oE '^  (-[A-Za-z0-9],)?--[A-Za-z0-9][A-Za-z0-9-]*' | tr ',' '\n' | sed 's/^ *//' | sort -u)
[ "$(wc -l <<<"$opts")" -ge 5 ] || fail "too few options read from --help: $opts"
n=0
for opt in $opts; do
  grep -qxF -- "$opt" <(complete_words "$opt") || fail "'$tool $opt<TAB>' does not offer $opt: $(complete_words "$opt" | tr '\n' ' ')"
  # a prefix of a long option offers it, and only options
  if [[ $opt == --* ]]; then
    got=$(complete_words "${opt:0:5}")
    grep -qxF -- "$opt" <<<"$got" || fail "'$tool ${opt:0:5}<TAB>' does not offer $opt: $got"
    ! grep -qv '^-' <<<"$got" || fail "'$tool ${opt:0:5}<TAB>' offers non-options: $got"
  fi
  n=$((n + 1))
done
# every long option offered by "--" is one of --help (nothing stale, nothing missing)
assert_same() { [ "$1" == "$2" ] || fail "$3: got '$1', want '$2'"; }
assert_same "$(complete_words -- "--" | sort | tr '\n' ' ')" "$(grep -- '^--' <<<"$opts" | sort | tr '\n' ' ')" "'$tool --<TAB>'"
[ -z "$(complete_words --no-such-option)" ] || fail "an unknown option completes to something"

# file options complete file names; other value options complete nothing (free text)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
touch "$tmp/rejects.jsonl" "$tmp/other.txt"
for opt in $(printf '%s\n' "$help" | grep -E '^  (-[A-Za-z0-9],)?--[a-z0-9-]+ [A-Z]' | grep -iE '\bfile\b' |
             grep -oE -- '--[a-z0-9-]+' | sed -n 1p); do
  assert_same "$(complete_words "$opt" "$tmp/rej")" "$tmp/rejects.jsonl" "'$tool $opt $tmp/rej<TAB>'"
done
vopt=$(printf '%s\n' "$help" | grep -E '^  (-[A-Za-z0-9],)?--[a-z0-9-]+ [A-Z]' | grep -viE '\bfile\b|^ {2,}-h' |
       grep -oE -- '--[a-z0-9-]+' | sed -n 1p)
[ -z "$vopt" ] || [ -z "$(cd "$tmp" && complete_words "$vopt" "")" ] || fail "value of $vopt completes to file names"

# an option whose --help type is {a,b,c} (sp::cli::choices) completes those values, in bash and fish
while read -r opt list; do
  [ -n "$opt" ] || continue
  want=$(tr ',' '\n' <<<"$list" | sort | tr '\n' ' ')
  assert_same "$(complete_words "$opt" "" | sort | tr '\n' ' ')" "$want" "'$tool $opt <TAB>'"
  assert_same "$(fish --no-config -c "source $dir/fish/$tool.fish; complete -C '$tool $opt '" | cut -f1 | sort | tr '\n' ' ')" \
    "$want" "fish '$tool $opt <TAB>'"
done < <(printf '%s\n' "$help" | sed -nE 's/^  (-[A-Za-z0-9],)?(--[a-z0-9-]+) \{([^}]*)\}.*/\2 \3/p')

# The options that take one of a few values (issue 27): each completes them (sp::cli::choices), so
# an enumerated option declared without it fails here.
case $tool in
  ch-insert) enums=("-f json,tsv,csv,values" "--format json,tsv,csv,values") ;;
  s3-put) enums=("-z gzip,zstd,none" "--compress gzip,zstd,none") ;;
  sensor-parse) enums=("-f json,tsv,csv,values" "-i auto,json,csv" "--input-format auto,json,csv") ;;
  *) enums=() ;;
esac
for e in "${enums[@]}"; do
  read -r opt list <<<"$e"
  assert_same "$(complete_words "$opt" "" | sort | tr '\n' ' ')" "$(tr ',' '\n' <<<"$list" | sort | tr '\n' ' ')" "'$tool $opt <TAB>' (its values)"
done

# zsh and fish: the files parse; fish offers the same long options
zsh -n "$dir/zsh/_$tool" || fail "zsh cannot parse $dir/zsh/_$tool"
fish -n "$dir/fish/$tool.fish" || fail "fish cannot parse $dir/fish/$tool.fish"
fish_opts=$(fish --no-config -c "source $dir/fish/$tool.fish; complete -C '$tool --'" | cut -f1 | sort | tr '\n' ' ')
assert_same "$fish_opts" "$(grep -- '^--' <<<"$opts" | sort | tr '\n' ' ')" "fish '$tool --<TAB>'"
echo "ok completions $tool: $n options"
